#pragma once
// A seeded synthetic dataset with the structure recommenders exploit, so every model can be
// tested and compared without downloading anything (the default dataset of the CLI and tests):
//
// - latent factors: user u and item i have vectors p_u, q_i ~ N(0, I) of size `dim`; the
//   affinity a(u,i) = p_u·q_i / sqrt(dim) is ~N(0,1) and drives both choices and ratings;
// - popularity skew: items get random ranks r_i and weights (r_i + 1)^-zipf_exponent;
// - sequential dynamics: every item has `num_successors` successors, drawn with weight
//   popularity^successor_popularity (damped, so they reach into the tail); with probability
//   `markov_prob` a user's next item is an unseen successor (uniformly) of one of the recent
//   `markov_window` items (the most recent twice as likely as the one before), otherwise it is
//   drawn from  P(i | u) ∝ popularity_i · exp(affinity_scale · a(u,i)).
//
// So MF-style models beat popularity through the factors and sequence models beat MF through the
// successors: with the defaults (seed 42), ranking each user's last item among all unseen items,
// HR@10 is 0.048 for popularity, 0.159 for the true preference and 0.264 for preference +
// successors (tests/recsys/synthetic_test.cc); the top 10% of items hold 32% of the rows (ML-100K:
// 43%; the factors alone, without the Zipf weights, give 22%).
//
// Why these defaults: the factors must be learnable from ~100 rows per user. With dim 8, Zipf 1.3
// and affinity scale 2.5, popularity drowned the factors and BPR-MF (`recgrad train --model bpr
// --epochs 30 --batch 256`) only tied Pop. With dim 4, Zipf 1.0 and scale 3.5 it reaches NDCG@10
// 0.207 vs Pop's 0.103 on `--split ratio` and 0.047 vs 0.024 leave-one-out (data seed 0; 1.5x to
// 2x at seeds 1, 7 and 42), as on MovieLens-100K, where BPR-MF clearly beats Pop too. Half the
// choices still follow successors, which MF cannot predict: that caps its leave-one-out gain and
// leaves room for sequence models.
//
// Users never repeat an item. Timestamps increase strictly per user. Ratings are
// round(rating_mean + rating_scale·a(u,i) + rating_noise·ε) clipped to 1..5. Raw ids are the
// 1-based integers "1".."num_users" and "1".."num_items", interned in order (dense = raw - 1),
// and all items are interned even if nobody chose them. Rows are grouped by user, in time order.
//
// Defaults are MovieLens-100K-sized: 1,000 users, 1,700 items, 100,000 interactions (at least 20
// per user, heavy-tailed like ML-100K's). The same options give bit-identical data at any
// thread count: each user draws from its own stream keyed by (seed, user).
#include <cstdint>
#include <vector>

#include "recsys/dataset.h"

namespace recgrad::recsys {

/// Size, seed and structure of the synthetic data. Validated by make_synthetic.
struct SyntheticOptions {
  int64_t num_users = 1000;           ///< users, all with rows
  int64_t num_items = 1700;           ///< catalogue size (a rarely chosen item may have no rows)
  int64_t num_interactions = 100000;  ///< exact total number of rows
  int64_t min_per_user = 20;          ///< every user has at least this many rows
  double max_user_share = 0.4;        ///< no user has more than this fraction of the items
  double length_sigma = 1.0;          ///< log-normal spread of per-user lengths above the minimum
  int64_t dim = 4;                    ///< latent factor size
  double zipf_exponent = 1.0;         ///< popularity weight (rank + 1)^-exponent
  double affinity_scale = 3.5;        ///< strength of the factors in the preference draw
  double markov_prob = 0.5;           ///< chance that the next item is a successor of a recent one
  int64_t num_successors = 10;        ///< successors per item
  double successor_popularity = 0.5;  ///< successors drawn with weight popularity^this
  int64_t markov_window = 3;          ///< recent items whose successors may follow
  double rating_mean = 3.0;           ///< rating at affinity 0, before rounding
  double rating_scale = 0.9;          ///< rating change per unit of affinity
  double rating_noise = 0.6;          ///< standard deviation of the rating noise
  uint64_t seed = 42;                 ///< the whole dataset is a function of the options
};

/// The generating parameters, for tests that check the data carries the intended signal.
struct SyntheticTruth {
  int64_t dim = 0;
  std::vector<float> user_factors;        ///< [num_users, dim]
  std::vector<float> item_factors;        ///< [num_items, dim]
  std::vector<double> log_popularity;     ///< [num_items], log of the normalised Zipf weight
  std::vector<int64_t> successors;        ///< [num_items, num_successors]

  /// a(u,i) = p_u·q_i / sqrt(dim), the affinity of user u for item i (dense ids).
  double affinity(int64_t user, int64_t item) const;
};

/// Generates the dataset described above; fills `truth` when given. Named "synthetic(seed=S)".
InteractionDataset make_synthetic(const SyntheticOptions& options = {}, SyntheticTruth* truth = nullptr);

}  // namespace recgrad::recsys
