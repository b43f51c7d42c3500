#pragma once
// Ranking metrics @K, AUC, and rating errors.
//
// A user's ranking is reduced to where its relevant items landed: their 0-based ranks among the
// candidates (UserRanking). Every ranking metric depends only on those ranks, so a ranked list
// (ranking_from_list) and a row of scores (ranking_from_scores) go through one code path.
//
// Tie rule (pessimistic): a relevant item ranks BELOW every non-relevant item with an equal
// score. A model that scores everything alike gets the worst metrics, not a lucky order by item
// id. The order among tied relevant items does not matter: every order gives the same ranks.
// Non-candidates: items scoring -inf (masked) or NaN are not ranked; a relevant item among
// them is a miss (it counts in |relevant| but is never hit).
//
// Definitions, with R = |relevant|, r_1 < r_2 < ... the ranks of the relevant candidates, and
// hits = #{j : r_j < K}:
//   HR@K        = 1 if hits > 0 else 0
//   Recall@K    = hits / R
//   Precision@K = hits / K      (K even when fewer than K candidates exist)
//   NDCG@K      = sum_{r_j < K} 1/log2(r_j + 2)  /  sum_{i < min(R, K)} 1/log2(i + 2)
//   MRR@K       = 1 / (r_1 + 1) if r_1 < K else 0
//   MAP@K       = sum_{r_j < K} (j / (r_j + 1))  /  min(R, K)        (j counts from 1)
//   AUC         = mean over relevant items of the fraction of non-relevant candidates ranked
//                 below it (a miss scores 0); 0.5 when there is no non-relevant candidate.
#include <cstdint>
#include <string>
#include <vector>

namespace recgrad::recsys {

/// Where one user's relevant items landed among the candidates.
struct UserRanking {
  std::vector<int64_t>
      ranks;                 ///< 0-based ranks of the relevant items that are candidates, ascending
  int64_t num_relevant = 0;  ///< R, misses included
  int64_t num_candidates = 0;  ///< items ranked (relevant and non-relevant)
};

/// Ranks from a ranked list (best first; items unique): a relevant item's rank is its position,
/// one absent from the list is a miss; the list is the whole candidate set.
UserRanking ranking_from_list(const std::vector<int64_t>& ranked,
                              const std::vector<int64_t>& relevant);

/// Ranks from scores of items 0..n-1 with the pessimistic tie rule. `relevant` [r]: item ids,
/// strictly increasing, in [0, n). Items scoring -inf or NaN are not candidates. One pass, O(n log
/// r).
UserRanking ranking_from_scores(const float* scores, int64_t n, const int64_t* relevant, int64_t r);

/// The per-user metrics for a set of cut-offs, in a fixed order (see names()).
class RankingMetrics {
 public:
  /// ks: cut-offs, each >= 1, no duplicates, e.g. {5, 10, 20} (kept in the given order).
  explicit RankingMetrics(std::vector<int64_t> ks);
  /// The cut-offs, in the given order.
  const std::vector<int64_t>& ks() const { return ks_; }
  /// "HR@5", "HR@10", ..., "Recall@..", "Precision@..", "NDCG@..", "MRR@..", "MAP@..", "AUC".
  const std::vector<std::string>& names() const { return names_; }
  /// Values per user: 6 per K, plus AUC.
  int64_t size() const { return static_cast<int64_t>(names_.size()); }
  /// One user's values in names() order.  out [size()]
  void compute(const UserRanking& ranking, double* out) const;
  std::vector<double> compute(const UserRanking& ranking) const;

 private:
  std::vector<int64_t> ks_;
  std::vector<std::string> names_;
};

/// Rating prediction errors: RMSE = sqrt(mean (p - y)^2), MAE = mean |p - y|.
struct RatingErrors {
  double rmse = 0;
  double mae = 0;
  int64_t count = 0;
};

/// RMSE and MAE of predictions [n] against ratings [n] (summed in double, in a fixed order).
RatingErrors rating_errors(const std::vector<float>& predicted, const std::vector<float>& actual);

}  // namespace recgrad::recsys
