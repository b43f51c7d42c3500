#pragma once
// Caser: convolutional sequence embedding.
//   Tang, Wang. "Personalized Top-N Sequential Recommendation via Convolutional Sequence
//   Embedding." WSDM 2018 (and the authors' caser_pytorch).
//
// The last L items a user interacted with, embedded, form an L x d "image" E [B, 1, L, d]:
//   horizontal filters  for h = 1..L: n_h filters [h x d], ReLU, max over the L-h+1 positions
//                       -> o_h [B, n_h·L]      (union-level and point-level patterns)
//   vertical filters    n_v filters [L x 1], no activation
//                       -> o_v [B, n_v·d]      (weighted sums of the L embeddings)
//   z = ReLU(W1·dropout([o_v, o_h]) + b1)      [B, d]
//   x = [z, P_u]                               [B, 2d]   (P: user embedding)
//   y(i) = W2_i·x + b2_i                       the score of item i as one of the next T items
// Trained on sliding windows (L inputs, the T items that follow, k sampled negatives: see
// WindowLoader) with binary cross-entropy: −mean log σ(y(targets)) − mean log(1 − σ(y(negs))).
//
// Padding: a history shorter than L is left-padded with the id num_items. Its embedding row is
// zero, never receives a gradient (padding_idx), and the padded rows of E are also masked to
// zero, so whatever the padding row holds cannot reach the output. Scoring uses the last L
// items of the history it is given (training items for validation, training + validation for
// the test), never the evaluated item.
//
// Defaults are the paper's (and caser_pytorch's): d = 50, L = 5, T = 3, n_v = 4, n_h = 16,
// dropout 0.5, ReLU for convolutions and the fully connected layer, 3 negatives per window,
// Adam lr 1e-3 with L2 1e-6, batch 512. Embeddings start at N(0, (1/d)²), W2 at
// N(0, (1/2d)²), b2 at 0, as in caser_pytorch.
#include <memory>
#include <optional>
#include <vector>

#include "nn/conv.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

/// Caser's hyperparameters (the paper's defaults).
struct CaserConfig {
  int64_t dim = 50;           ///< d: item, user and latent size
  int64_t window = 5;         ///< L: items in the image
  int64_t targets = 3;        ///< T: next items predicted per window
  int64_t n_v = 4;            ///< vertical filters
  int64_t n_h = 16;           ///< horizontal filters per height 1..L
  float dropout = 0.5f;       ///< on the concatenated convolution features
  int64_t num_negatives = 3;  ///< sampled negatives per window
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/1e-6, /*batch_size=*/512, /*seed=*/0};
};

/// Caser: scores [B, num_items] = W2·[z(last L items), P_u] + b2, trained on windows with BCE.
class Caser : public Recommender {
 public:
  Caser(const CaserConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "caser"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  /// BCE of the window's T targets (label 1) and k negatives (label 0).
  Tensor loss(int64_t index) override;
  /// scores [B, num_items] = x·W2ᵀ + b2, x from the last L items of each user's history.
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  /// x = [z, P_u] of users [B] and their windows inputs [B, L] (padding = num_items) -> [B, 2d].
  Tensor encode(const Ids& users, const Ids& inputs);

  const CaserConfig& config() const { return config_; }

 private:
  CaserConfig config_;
  int64_t num_items_;
  Tensor users_, items_;         // P [num_users, d], Q [num_items + 1, d] (last row: padding)
  Tensor out_items_, out_bias_;  // W2 [num_items, 2d], b2 [num_items, 1]
  std::shared_ptr<nn::Conv2d> vertical_;
  std::vector<std::shared_ptr<nn::Conv2d>> horizontal_;  // heights 1..L
  std::shared_ptr<nn::Dropout> dropout_;
  std::shared_ptr<nn::Linear> fc_;
  std::optional<WindowLoader> loader_;
};

}  // namespace recgrad::recsys
