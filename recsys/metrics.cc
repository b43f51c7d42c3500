#include "recsys/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <unordered_map>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad::recsys {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The six @K metrics, in output order.
const char* const kAtK[] = {"HR", "Recall", "Precision", "NDCG", "MRR", "MAP"};
constexpr int64_t kNumAtK = 6;

// A candidate's position among the relevant scores t (sorted best first, all > -inf):
// p(s) = #{j : t_j > s}, the first j with t_j <= s. Masked candidates (-inf) and NaN get p = f,
// a slot no rank reads, so the counting loops need no branch on them.
inline float as_candidate(float s) { return s > kNegInf ? s : kNegInf; }

// Up to this many relevant items, p is counted directly, candidates in vector lanes: O(n·f/8)
// compares instead of a binary search per candidate, whose unpredictable branches made ranking
// 60% of evaluating 100K users x 1M items (benchmarks/eval_memory_bench) and 13% of a
// Mult-VAE run.
constexpr int64_t kCountedRelevant = 32;

// ++slot[p(s)] for every score, by counting (f <= kCountedRelevant).
void count_positions_small(const float* scores, int64_t n, const float* t, int64_t f,
                           int64_t* slot) {
  constexpr int64_t kBlock = 16;
  int64_t c = 0;
  for (; c + kBlock <= n; c += kBlock) {
    float s[kBlock];
    int32_t p[kBlock] = {};
    for (int64_t i = 0; i < kBlock; ++i) s[i] = as_candidate(scores[c + i]);
    for (int64_t j = 0; j < f; ++j)
      for (int64_t i = 0; i < kBlock; ++i) p[i] += t[j] > s[i];
    for (int64_t i = 0; i < kBlock; ++i) ++slot[p[i]];
  }
  for (; c < n; ++c) {
    const float s = as_candidate(scores[c]);
    int64_t p = 0;
    for (int64_t j = 0; j < f; ++j) p += t[j] > s;
    ++slot[p];
  }
}

// ++slot[p(s)] for every score, by a branch-free binary search (any f).
void count_positions_search(const float* scores, int64_t n, const float* t, int64_t f,
                            int64_t* slot) {
  for (int64_t c = 0; c < n; ++c) {
    const float s = as_candidate(scores[c]);
    const float* base = t;
    int64_t len = f;
    while (len > 1) {  // p lies in [base - t, base - t + len]
      const int64_t half = len / 2;
      base = base[half] > s ? base + half : base;
      len -= half;
    }
    ++slot[(base - t) + (*base > s ? 1 : 0)];
  }
}

}  // namespace

UserRanking ranking_from_list(const std::vector<int64_t>& ranked,
                              const std::vector<int64_t>& relevant) {
  std::vector<int64_t> rel(relevant);
  std::sort(rel.begin(), rel.end());
  rel.erase(std::unique(rel.begin(), rel.end()), rel.end());
  std::unordered_map<int64_t, int64_t> position;
  position.reserve(ranked.size());
  for (size_t i = 0; i < ranked.size(); ++i)
    RECGRAD_CHECK(position.emplace(ranked[i], static_cast<int64_t>(i)).second,
                  "ranking_from_list: item ", ranked[i], " appears twice in the ranked list");
  UserRanking out;
  out.num_relevant = static_cast<int64_t>(rel.size());
  out.num_candidates = static_cast<int64_t>(ranked.size());
  for (int64_t item : rel) {
    auto it = position.find(item);
    if (it != position.end()) out.ranks.push_back(it->second);
  }
  std::sort(out.ranks.begin(), out.ranks.end());
  return out;
}

UserRanking ranking_from_scores(const float* scores, int64_t n, const int64_t* relevant,
                                int64_t r) {
  for (int64_t j = 0; j < r; ++j)
    RECGRAD_CHECK(relevant[j] >= 0 && relevant[j] < n && (j == 0 || relevant[j] > relevant[j - 1]),
                  "ranking_from_scores: relevant items must be strictly increasing in [0, ", n,
                  "); got ", relevant[j], " at position ", j);
  // Relevant scores best first; NaN is a non-candidate like -inf.
  std::vector<float> t(r);
  for (int64_t j = 0; j < r; ++j) {
    const float s = scores[relevant[j]];
    t[j] = std::isnan(s) ? kNegInf : s;
  }
  std::sort(t.begin(), t.end(), std::greater<float>());
  const int64_t f = std::find(t.begin(), t.end(), kNegInf) - t.begin();  // relevant candidates

  // at_least[j] = #{candidates c (relevant ones included) : s_c >= t_j}. A candidate with score
  // s is >= t_j exactly for j >= p, p = the first index with t_p <= s: one count at p, then a
  // prefix sum. `s >= t` puts ties above the relevant item: the pessimistic rule.
  int64_t candidates = 0;
  std::vector<int64_t> at_least(f + 1, 0);
  if (f == 1) {  // the common leave-one-out case: two counts, vectorisable
    const float t0 = t[0];
    int64_t above = 0;
    for (int64_t c = 0; c < n; ++c) {
      candidates += scores[c] > kNegInf;  // false for NaN
      above += scores[c] >= t0;
    }
    at_least[0] = above;
  } else {
    for (int64_t c = 0; c < n; ++c) candidates += scores[c] > kNegInf;  // false for NaN
    if (f > 0) {
      if (f <= kCountedRelevant)
        count_positions_small(scores, n, t.data(), f, at_least.data());
      else
        count_positions_search(scores, n, t.data(), f, at_least.data());
      for (int64_t j = 1; j < f; ++j) at_least[j] += at_least[j - 1];
    }
  }
  UserRanking out;
  out.num_relevant = r;
  out.num_candidates = candidates;
  out.ranks.reserve(f);
  for (int64_t j = 0; j < f; ++j) {
    // Relevant items counted in at_least[j]: those with t_i >= t_j (j itself and ties after it).
    const int64_t relevant_at_least =
        std::upper_bound(t.begin(), t.begin() + f, t[j], std::greater<float>()) - t.begin();
    out.ranks.push_back(j + at_least[j] - relevant_at_least);
  }
  return out;
}

RankingMetrics::RankingMetrics(std::vector<int64_t> ks) : ks_(std::move(ks)) {
  RECGRAD_CHECK(!ks_.empty(), "RankingMetrics: no cut-off K given");
  for (size_t i = 0; i < ks_.size(); ++i) {
    RECGRAD_CHECK(ks_[i] >= 1, "RankingMetrics: K must be >= 1, got ", ks_[i]);
    for (size_t j = 0; j < i; ++j)
      RECGRAD_CHECK(ks_[i] != ks_[j], "RankingMetrics: K = ", ks_[i], " is given twice");
  }
  for (const char* metric : kAtK)
    for (int64_t k : ks_) names_.push_back(std::string(metric) + "@" + std::to_string(k));
  names_.push_back("AUC");
}

void RankingMetrics::compute(const UserRanking& ranking, double* out) const {
  const std::vector<int64_t>& ranks = ranking.ranks;
  const auto num_k = static_cast<int64_t>(ks_.size());
  const int64_t big_r = ranking.num_relevant;
  for (int64_t ki = 0; ki < num_k; ++ki) {
    const int64_t k = ks_[ki];
    int64_t hits = 0;
    double dcg = 0, ap = 0;
    for (int64_t rank : ranks) {  // ascending: the hits are a prefix
      if (rank >= k) break;
      ++hits;
      dcg += 1.0 / std::log2(static_cast<double>(rank) + 2.0);
      ap += static_cast<double>(hits) / static_cast<double>(rank + 1);
    }
    const int64_t ideal_hits = std::min(big_r, k);
    double idcg = 0;
    for (int64_t i = 0; i < ideal_hits; ++i) idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
    double* o = out + ki;
    o[0 * num_k] = hits > 0 ? 1.0 : 0.0;
    o[1 * num_k] = big_r > 0 ? static_cast<double>(hits) / big_r : 0.0;
    o[2 * num_k] = static_cast<double>(hits) / static_cast<double>(k);
    o[3 * num_k] = idcg > 0 ? dcg / idcg : 0.0;
    o[4 * num_k] = hits > 0 ? 1.0 / static_cast<double>(ranks[0] + 1) : 0.0;
    o[5 * num_k] = ideal_hits > 0 ? ap / static_cast<double>(ideal_hits) : 0.0;
  }
  // AUC: the i-th relevant candidate (0-based) has ranks[i] - i non-relevant items above it.
  const int64_t negatives = ranking.num_candidates - static_cast<int64_t>(ranks.size());
  double auc = 0.5;
  if (negatives > 0 && big_r > 0) {
    double below = 0;
    for (size_t i = 0; i < ranks.size(); ++i)
      below += static_cast<double>(negatives - (ranks[i] - static_cast<int64_t>(i)));
    auc = below / (static_cast<double>(negatives) * static_cast<double>(big_r));
  }
  out[kNumAtK * num_k] = auc;
}

std::vector<double> RankingMetrics::compute(const UserRanking& ranking) const {
  std::vector<double> out(size());
  compute(ranking, out.data());
  return out;
}

RatingErrors rating_errors(const std::vector<float>& predicted, const std::vector<float>& actual) {
  RECGRAD_CHECK(predicted.size() == actual.size(), "rating_errors: ", predicted.size(),
                " predictions for ", actual.size(), " ratings");
  struct Sums {
    double sq = 0, abs = 0;
  };
  const auto n = static_cast<int64_t>(actual.size());
  const Sums s = detail::chunked_reduce(
      n, 1 << 14, Sums{},
      [&](int64_t b, int64_t e) {
        Sums part;
        for (int64_t i = b; i < e; ++i) {
          const double d = static_cast<double>(predicted[i]) - static_cast<double>(actual[i]);
          part.sq += d * d;
          part.abs += std::abs(d);
        }
        return part;
      },
      [](Sums a, const Sums& b) {
        a.sq += b.sq;
        a.abs += b.abs;
        return a;
      });
  RatingErrors out;
  out.count = n;
  if (n > 0) {
    out.rmse = std::sqrt(s.sq / static_cast<double>(n));
    out.mae = s.abs / static_cast<double>(n);
  }
  return out;
}

}  // namespace recgrad::recsys
