#include "recsys/synthetic.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "autograd/parallel.h"

namespace recgrad::recsys {
namespace {

constexpr int64_t kStartTime = 874724710;  // 1997-09-20, where ML-100K begins
constexpr int64_t kDay = 86400;
constexpr int kDrawTries = 64;

// Uniform in [0, 1) with 53 random bits (double, so cumulative sums over thousands of items
// keep their resolution).
double unit(Generator& g) { return static_cast<double>(g.next_u64() >> 11) * 0x1.0p-53; }

// A standard normal draw (Box-Muller; u1 is kept away from 0 so the log is finite).
double normal(Generator& g) {
  const double u1 = std::max(unit(g), 0x1.0p-60), u2 = unit(g);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// An index drawn with probability proportional to its weight; cdf holds inclusive prefix sums.
int64_t sample(const std::vector<double>& cdf, Generator& g) {
  const double x = unit(g) * cdf.back();
  const int64_t i = std::upper_bound(cdf.begin(), cdf.end(), x) - cdf.begin();
  return std::min<int64_t>(i, static_cast<int64_t>(cdf.size()) - 1);
}

// An index drawn from cdf whose taken[] is 0: rejection first (cheap while few are taken), then,
// so heavy users cannot stall, the first free index after a uniformly random start.
int64_t sample_free(const std::vector<double>& cdf, const std::vector<uint8_t>& taken, Generator& g) {
  for (int t = 0; t < kDrawTries; ++t) {
    const int64_t i = sample(cdf, g);
    if (!taken[i]) return i;
  }
  const int64_t n = static_cast<int64_t>(cdf.size());
  const int64_t start = static_cast<int64_t>(g.next_below(static_cast<uint64_t>(n)));
  for (int64_t k = 0; k < n; ++k)
    if (!taken[(start + k) % n]) return (start + k) % n;
  return -1;  // unreachable: validation keeps every user's length below num_items
}

void validate(const SyntheticOptions& o, int64_t cap) {
  RECGRAD_CHECK(o.num_users >= 1 && o.num_items >= 2, "synthetic: need >= 1 user and >= 2 items, got ",
                o.num_users, " users and ", o.num_items, " items");
  RECGRAD_CHECK(o.dim >= 1, "synthetic: dim must be >= 1, got ", o.dim);
  RECGRAD_CHECK(o.min_per_user >= 1, "synthetic: min_per_user must be >= 1, got ", o.min_per_user);
  RECGRAD_CHECK(o.max_user_share > 0 && o.max_user_share <= 1, "synthetic: max_user_share must be in (0, 1], got ",
                o.max_user_share);
  RECGRAD_CHECK(o.min_per_user <= cap, "synthetic: min_per_user ", o.min_per_user,
                " exceeds the per-user cap of ", cap, " items (max_user_share x num_items)");
  RECGRAD_CHECK(o.num_interactions >= o.num_users * o.min_per_user &&
                    o.num_interactions <= o.num_users * cap,
                "synthetic: num_interactions ", o.num_interactions, " must lie in [",
                o.num_users * o.min_per_user, ", ", o.num_users * cap, "] for ", o.num_users,
                " users with ", o.min_per_user, " to ", cap, " items each");
  RECGRAD_CHECK(o.num_successors >= 1 && o.num_successors < o.num_items,
                "synthetic: num_successors must be in [1, num_items), got ", o.num_successors);
  RECGRAD_CHECK(o.markov_window >= 1, "synthetic: markov_window must be >= 1, got ", o.markov_window);
  RECGRAD_CHECK(o.markov_prob >= 0 && o.markov_prob <= 1, "synthetic: markov_prob must be in [0, 1], got ",
                o.markov_prob);
  RECGRAD_CHECK(o.zipf_exponent >= 0 && o.successor_popularity >= 0 && o.length_sigma >= 0 &&
                    o.affinity_scale >= 0 && o.rating_noise >= 0,
                "synthetic: zipf_exponent, successor_popularity, length_sigma, affinity_scale and ",
                "rating_noise must be >= 0");
}

}  // namespace

double SyntheticTruth::affinity(int64_t user, int64_t item) const {
  double s = 0;
  for (int64_t d = 0; d < dim; ++d) s += double(user_factors[user * dim + d]) * item_factors[item * dim + d];
  return s / std::sqrt(static_cast<double>(dim));
}

InteractionDataset make_synthetic(const SyntheticOptions& o, SyntheticTruth* truth_out) {
  const int64_t U = o.num_users, I = o.num_items, D = o.dim, K = o.num_successors;
  const int64_t cap = std::max<int64_t>(1, static_cast<int64_t>(o.max_user_share * I));
  validate(o, std::min(cap, I - 1));
  const int64_t max_len = std::min(cap, I - 1);

  // Global structure from one sequential stream (small: a few thousand draws).
  Generator g(o.seed);
  SyntheticTruth t;
  t.dim = D;
  t.user_factors.resize(U * D);
  t.item_factors.resize(I * D);
  for (float& x : t.user_factors) x = static_cast<float>(normal(g));
  for (float& x : t.item_factors) x = static_cast<float>(normal(g));

  // Zipf popularity over a random ranking of the items.
  std::vector<int64_t> rank(I);
  for (int64_t i = 0; i < I; ++i) rank[i] = i;
  for (int64_t k = I - 1; k > 0; --k) std::swap(rank[k], rank[g.next_below(k + 1)]);
  std::vector<double> pop(I);
  double total = 0;
  for (int64_t i = 0; i < I; ++i) total += pop[i] = std::pow(rank[i] + 1.0, -o.zipf_exponent);
  t.log_popularity.resize(I);
  for (int64_t i = 0; i < I; ++i) t.log_popularity[i] = std::log(pop[i] / total);

  // Successors: K distinct items per item (never itself), drawn by popularity^exponent (below 1
  // they reach into the tail, so following them is not what a popularity baseline predicts).
  std::vector<double> succ_cdf(I);
  for (int64_t i = 0; i < I; ++i)
    succ_cdf[i] = (i ? succ_cdf[i - 1] : 0.0) + std::pow(pop[i], o.successor_popularity);
  t.successors.resize(I * K);
  std::vector<uint8_t> taken(I, 0);
  for (int64_t i = 0; i < I; ++i) {
    taken[i] = 1;
    for (int64_t k = 0; k < K; ++k) {
      const int64_t s = sample_free(succ_cdf, taken, g);
      t.successors[i * K + k] = s;
      taken[s] = 1;
    }
    taken[i] = 0;
    for (int64_t k = 0; k < K; ++k) taken[t.successors[i * K + k]] = 0;
  }

  // Per-user lengths: the minimum plus a log-normal share of the rest, capped, then the rounding
  // remainder handed out one row at a time in user order so the total is exact.
  std::vector<double> w(U);
  double w_sum = 0;
  for (double& x : w) w_sum += x = std::exp(o.length_sigma * normal(g));
  const int64_t extra = o.num_interactions - U * o.min_per_user;
  std::vector<int64_t> len(U);
  int64_t assigned = 0;
  for (int64_t u = 0; u < U; ++u) {
    const int64_t add = static_cast<int64_t>(static_cast<double>(extra) * w[u] / w_sum);
    assigned += len[u] = o.min_per_user + std::min(max_len - o.min_per_user, add);
  }
  while (assigned < o.num_interactions)
    for (int64_t u = 0; u < U && assigned < o.num_interactions; ++u)
      if (len[u] < max_len) ++len[u], ++assigned;
  std::vector<int64_t> offset(U + 1, 0);
  for (int64_t u = 0; u < U; ++u) offset[u + 1] = offset[u] + len[u];

  InteractionDataset out;
  out.name = "synthetic(seed=" + std::to_string(o.seed) + ")";
  for (int64_t u = 0; u < U; ++u) out.user_ids.intern(std::to_string(u + 1));
  for (int64_t i = 0; i < I; ++i) out.item_ids.intern(std::to_string(i + 1));
  const int64_t N = o.num_interactions;
  out.users.resize(N);
  out.items.resize(N);
  out.ratings.resize(N);
  out.timestamps.resize(N);

  // Users are independent given the global structure: each draws from its own stream keyed by
  // (seed, user) and writes only its own rows, so any thread count gives the same data.
  const uint64_t user_key = recgrad::detail::mix64(o.seed, 0x5eed5eedull);
  recgrad::detail::parallel_for(U, 16, [&](int64_t ub, int64_t ue) {
    std::vector<double> cdf(I);
    std::vector<uint8_t> seen(I);
    for (int64_t u = ub; u < ue; ++u) {
      Generator ug(recgrad::detail::mix64(user_key, static_cast<uint64_t>(u)));
      std::vector<double> aff(I);
      double top = -1e300;
      for (int64_t i = 0; i < I; ++i) {
        aff[i] = t.affinity(u, i);
        top = std::max(top, t.log_popularity[i] + o.affinity_scale * aff[i]);
      }
      double acc = 0;
      for (int64_t i = 0; i < I; ++i)
        cdf[i] = acc += std::exp(t.log_popularity[i] + o.affinity_scale * aff[i] - top);
      std::fill(seen.begin(), seen.end(), 0);
      int64_t time = kStartTime + static_cast<int64_t>(ug.next_below(200 * kDay));
      const int64_t b = offset[u];
      for (int64_t k = 0; k < len[u]; ++k) {
        int64_t item = -1;
        if (k > 0 && unit(ug) < o.markov_prob) {
          // Back j steps with probability ~2^-(j+1): the latest item matters most.
          int64_t j = 0;
          while (j + 1 < std::min(o.markov_window, k) && unit(ug) < 0.5) ++j;
          const int64_t* succ = t.successors.data() + out.items[b + k - 1 - j] * K;
          const int64_t start = static_cast<int64_t>(ug.next_below(K));
          for (int64_t s = 0; s < K && item < 0; ++s)
            if (!seen[succ[(start + s) % K]]) item = succ[(start + s) % K];
        }
        if (item < 0) item = sample_free(cdf, seen, ug);
        seen[item] = 1;
        const double r = std::round(o.rating_mean + o.rating_scale * aff[item] + o.rating_noise * normal(ug));
        out.users[b + k] = u;
        out.items[b + k] = item;
        out.ratings[b + k] = static_cast<float>(std::clamp(r, 1.0, 5.0));
        out.timestamps[b + k] = time;
        // Sessions: half the steps are minutes apart, the rest up to a week.
        time += 1 + static_cast<int64_t>(unit(ug) < 0.5 ? ug.next_below(600) : ug.next_below(7 * kDay));
      }
    }
  });
  if (truth_out) *truth_out = std::move(t);
  return out;
}

}  // namespace recgrad::recsys
