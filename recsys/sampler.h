#pragma once
// Negative sampling: items a user has not interacted with, drawn uniformly or by popularity.
//
// No rejection loop. Each draw maps random bits straight onto the user's complement (the items
// not in its sorted positive list P), so a user who has seen all but 2 items costs the same as
// a user who has seen 2:
//   uniform:    r ~ U{0 .. n-|P|-1}, and the r-th non-positive item is r + #{j : P[j] - j <= r}
//               (P[j] - j counts the non-positives below P[j]; it never decreases), found by
//               binary search over P.  O(log |P|).
//   popularity: weights w_i = count_i^alpha. The complement is the |P|+1 gaps between positives;
//               a per-user prefix sum of gap masses picks the gap, a global prefix sum of
//               weights picks the item inside it.  O(log |P| + log n), exact.
// Determinism: a draw uses only the Generator passed in; batch draws give row b its own stream
// Generator(mix64(key, b)), so results do not depend on the thread count.
#include <cstdint>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "recsys/dataset.h"

namespace recgrad::recsys {

/// How negatives are distributed over a user's non-positive items.
enum class NegativeDistribution {
  kUniform,     ///< every non-positive item equally likely
  kPopularity,  ///< P(item) ∝ count(item)^alpha among the user's non-positive items
};

/// Options of a NegativeSampler.
struct SamplerOptions {
  NegativeDistribution distribution = NegativeDistribution::kUniform;
  /// Popularity exponent: 1 = proportional to counts, 0.75 as in word2vec, 0 = uniform. Items
  /// with count 0 are never drawn when alpha > 0, unless a user has no other negative left
  /// (then that user's draws fall back to uniform over its non-positive items).
  double alpha = 1.0;
};

/// Draws items outside each user's positives. Keeps its own sorted copy of the positives.
class NegativeSampler {
 public:
  /// positives: each user's items (any order, duplicates allowed), never drawn for that user.
  /// item_counts: popularity counts per item [num_items]; empty = counted from `positives`
  /// (one per interaction). Throws recgrad::Error on malformed lists, counts or alpha.
  explicit NegativeSampler(const UserItems& positives, SamplerOptions opts = {},
                           std::vector<int64_t> item_counts = {});

  /// Users of the positives lists.
  int64_t num_users() const { return positives_.num_users(); }
  /// Items drawn from: ids in [0, num_items).
  int64_t num_items() const { return positives_.num_items; }
  /// Items `user` has not interacted with: num_items - |distinct positives|.
  int64_t num_negatives(int64_t user) const;
  /// Whether `item` is one of `user`'s positives (binary search).
  bool is_positive(int64_t user, int64_t item) const;
  /// The options it was built with.
  const SamplerOptions& options() const { return opts_; }

  /// One negative of `user` (with replacement across calls). Throws recgrad::Error if the
  /// user is out of range or has interacted with every item.
  int64_t sample(int64_t user, Generator& gen) const;
  /// `k` distinct negatives of `user`, sorted ascending; all of them when fewer than k exist.
  /// Uniform: Floyd's algorithm over complement ranks, O(k log |P|). Popularity: weighted
  /// sampling without replacement (Efraimidis-Spirakis keys), O(n).
  std::vector<int64_t> sample_distinct(int64_t user, int64_t k, Generator& gen) const;
  /// k negatives (with replacement) for each user.  users [B] -> [B, k]; row b is drawn from
  /// Generator(detail::mix64(key, b)), rows in parallel.
  Ids sample_batch(const std::vector<int64_t>& users, int64_t k, uint64_t key) const;

 private:
  void check_user(int64_t user) const;
  int64_t nth_negative(int64_t user, uint64_t rank) const;  // rank-th non-positive, ascending
  int64_t popularity_draw(int64_t user, Generator& gen) const;
  int64_t draw(int64_t user, Generator& gen) const;  // no checks: the hot path

  SamplerOptions opts_;
  UserItems positives_;          // sorted and unique per user
  std::vector<double> weight_;   // popularity: w_i
  std::vector<double> cum_;      // popularity: cum_[x] = w_0 + ... + w_{x-1}, n+1 entries
  std::vector<double> gap_cum_;  // popularity: user u's |P|+2 gap-mass prefix sums start at
                                 // positives_.offsets[u] + 2u
};

}  // namespace recgrad::recsys
