#include "recsys/sampler.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include "autograd/error.h"
#include "autograd/parallel.h"
#include "recsys/user_sets.h"

namespace recgrad::recsys {
namespace {

// Uniform double in [0, 1) from the top 53 bits.
double unit_double(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

}  // namespace

NegativeSampler::NegativeSampler(const UserItems& positives, SamplerOptions opts,
                                 std::vector<int64_t> item_counts)
    : opts_(opts) {
  check_user_items(positives, "NegativeSampler: positives");
  positives_ = sorted_unique(positives);
  if (opts_.distribution != NegativeDistribution::kPopularity) return;

  RECGRAD_CHECK(std::isfinite(opts_.alpha) && opts_.alpha >= 0, "NegativeSampler: alpha must be ",
                "finite and >= 0, got ", opts_.alpha);
  const int64_t n = positives_.num_items;
  if (item_counts.empty()) {
    item_counts.assign(n, 0);
    for (int64_t item : positives.items) ++item_counts[item];
  }
  RECGRAD_CHECK(static_cast<int64_t>(item_counts.size()) == n,
                "NegativeSampler: ", item_counts.size(), " item counts for ", n, " items");
  weight_.resize(n);
  cum_.assign(n + 1, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    RECGRAD_CHECK(item_counts[i] >= 0, "NegativeSampler: negative count ", item_counts[i],
                  " for item ", i);
    // alpha = 0 means uniform, count 0 included (std::pow(0, 0) is 1 too; say it anyway).
    weight_[i] =
        opts_.alpha == 0 ? 1.0 : std::pow(static_cast<double>(item_counts[i]), opts_.alpha);
    cum_[i + 1] = cum_[i] + weight_[i];
  }
  // Gap g of user u holds items [a_g, b_g): a_0 = 0, a_g = P[g-1] + 1, b_g = P[g], b_|P| = n.
  const int64_t num_users = positives_.num_users();
  gap_cum_.resize(positives_.items.size() + 2 * num_users);
  detail::parallel_for(num_users, 512, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t* p = positives_.begin(u);
      const int64_t m = positives_.count(u);
      double* q = gap_cum_.data() + positives_.offsets[u] + 2 * u;
      q[0] = 0;
      for (int64_t g = 0; g <= m; ++g) {
        const int64_t lo = g == 0 ? 0 : p[g - 1] + 1, hi = g == m ? n : p[g];
        q[g + 1] = q[g] + (cum_[hi] - cum_[lo]);
      }
    }
  });
}

int64_t NegativeSampler::num_negatives(int64_t user) const {
  check_user(user);
  return positives_.num_items - positives_.count(user);
}

bool NegativeSampler::is_positive(int64_t user, int64_t item) const {
  check_user(user);
  return contains_sorted(positives_, user, item);
}

void NegativeSampler::check_user(int64_t user) const {
  RECGRAD_CHECK(user >= 0 && user < num_users(), "NegativeSampler: user ", user, " is outside [0, ",
                num_users(), ")");
}

int64_t NegativeSampler::nth_negative(int64_t user, uint64_t rank) const {
  // Count the positives P[j] with P[j] - j <= rank: they all lie below the answer.
  const int64_t* p = positives_.begin(user);
  int64_t lo = 0, hi = positives_.count(user);
  const auto r = static_cast<int64_t>(rank);
  while (lo < hi) {
    const int64_t mid = (lo + hi) / 2;
    if (p[mid] - mid <= r)
      lo = mid + 1;
    else
      hi = mid;
  }
  return r + lo;
}

int64_t NegativeSampler::popularity_draw(int64_t user, Generator& gen) const {
  const int64_t m = positives_.count(user);
  const int64_t* p = positives_.begin(user);
  const double* q = gap_cum_.data() + positives_.offsets[user] + 2 * user;
  const double total = q[m + 1];
  if (!(total > 0))  // only zero-weight items left: uniform over the complement (documented)
    return nth_negative(user, gen.next_below(positives_.num_items - m));
  const double t = unit_double(gen.next_u64()) * total;
  // Gap g with q[g] <= t < q[g+1]; such a gap has positive mass (q[g+1] > q[g] exactly).
  int64_t g = std::upper_bound(q, q + m + 2, t) - q - 1;
  if (g > m) {  // t rounded up to total: take the last gap with mass
    g = m;
    while (!(q[g + 1] > q[g])) --g;
  }
  const int64_t lo = g == 0 ? 0 : p[g - 1] + 1, hi = g == m ? positives_.num_items : p[g];
  // Inside the gap: the first x with cum_[x+1] > target, so cum_[x] <= target < cum_[x+1] and
  // w_x > 0. Rounding can push target past the gap; then take its last positive-weight item.
  const double target = cum_[lo] + (t - q[g]);
  int64_t x =
      std::upper_bound(cum_.data() + lo + 1, cum_.data() + hi + 1, target) - cum_.data() - 1;
  if (x >= hi) {
    x = hi - 1;
    while (x > lo && !(weight_[x] > 0)) --x;
  }
  return x;
}

int64_t NegativeSampler::draw(int64_t user, Generator& gen) const {
  if (opts_.distribution == NegativeDistribution::kPopularity) return popularity_draw(user, gen);
  return nth_negative(user, gen.next_below(positives_.num_items - positives_.count(user)));
}

int64_t NegativeSampler::sample(int64_t user, Generator& gen) const {
  RECGRAD_CHECK(num_negatives(user) > 0, "NegativeSampler: user ", user,
                " has interacted with all ", num_items(), " items; no negative to draw");
  return draw(user, gen);
}

std::vector<int64_t> NegativeSampler::sample_distinct(int64_t user, int64_t k,
                                                      Generator& gen) const {
  RECGRAD_CHECK(k >= 0, "NegativeSampler: number of negatives must be >= 0, got ", k);
  const int64_t available = num_negatives(user);
  std::vector<int64_t> out;
  if (k >= available) {  // all of them, no randomness needed
    out.reserve(available);
    for (int64_t r = 0; r < available; ++r) out.push_back(nth_negative(user, r));
    return out;
  }
  out.reserve(k);
  if (opts_.distribution == NegativeDistribution::kUniform) {
    // Floyd: one draw per pick, never a retry, uniform over k-subsets of the complement ranks.
    // The chosen ranks stay sorted (binary search, small moves): cheaper than hashing for the
    // k of a few hundred used in evaluation.
    std::vector<int64_t> chosen;
    chosen.reserve(k);
    for (int64_t j = available - k; j < available; ++j) {
      const auto t = static_cast<int64_t>(gen.next_below(j + 1));
      const auto at = std::lower_bound(chosen.begin(), chosen.end(), t);
      if (at != chosen.end() && *at == t) {
        chosen.push_back(j);  // every earlier pick is < j
      } else {
        chosen.insert(at, t);
      }
    }
    for (int64_t rank : chosen) out.push_back(nth_negative(user, rank));
  } else {
    // Efraimidis-Spirakis: the k smallest E_i / w_i (E_i ~ Exp(1)) are a weighted sample
    // without replacement. Zero-weight items get key +inf and come last, ordered by E_i.
    struct Key {
      double key, e;
      int64_t item;
    };
    std::vector<Key> keys;
    keys.reserve(available);
    const int64_t* p = positives_.begin(user);
    const int64_t* p_end = positives_.end(user);
    for (int64_t x = 0; x < positives_.num_items; ++x) {
      if (p != p_end && *p == x) {
        ++p;
        continue;
      }
      const double e = -std::log1p(-unit_double(gen.next_u64()));
      const double w = weight_[x];
      keys.push_back({w > 0 ? e / w : HUGE_VAL, e, x});
    }
    auto less = [](const Key& a, const Key& b) {
      if (a.key != b.key) return a.key < b.key;
      if (a.e != b.e) return a.e < b.e;
      return a.item < b.item;
    };
    std::nth_element(keys.begin(), keys.begin() + (k - 1), keys.end(), less);
    for (int64_t i = 0; i < k; ++i) out.push_back(keys[i].item);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Ids NegativeSampler::sample_batch(const std::vector<int64_t>& users, int64_t k,
                                  uint64_t key) const {
  RECGRAD_CHECK(k >= 0, "NegativeSampler: number of negatives must be >= 0, got ", k);
  for (int64_t u : users)
    RECGRAD_CHECK(num_negatives(u) > 0 || k == 0, "NegativeSampler: user ", u,
                  " has interacted with all ", num_items(), " items; no negative to draw");
  const auto b_size = static_cast<int64_t>(users.size());
  std::vector<int64_t> out(b_size * k);
  detail::parallel_for(b_size, std::max<int64_t>(1, 4096 / (k + 1)), [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      Generator gen(detail::mix64(key, row));
      for (int64_t i = 0; i < k; ++i) out[row * k + i] = draw(users[row], gen);
    }
  });
  return Ids(std::move(out), {b_size, k});
}

}  // namespace recgrad::recsys
