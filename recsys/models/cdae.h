#pragma once
// CDAE: a denoising autoencoder of users' item rows with a per-user input node.
//   Wu, DuBois, Zheng, Ester. "Collaborative Denoising Auto-Encoders for Top-N Recommender
//   Systems." WSDM 2016.
//
//   y_u  the user's 0/1 row [n_items];  ỹ = dropout(y_u, q)  (kept entries scaled by 1/(1-q))
//   z_u = h(Wᵀỹ + V_u + b)       [K]   V_u: the user node, a learned vector per user
//   ŷ_u = σ(W'z_u + b')          [n_items]
//   loss  Σᵢ BCE(ŷ_ui, y_ui) over the full row, averaged over the users of the batch,
//         + weight decay λ on every parameter (the paper's λ/2 Σ ‖·‖², as Adam's L2; 0 by
//         default: it changed nothing measurable here)
//
// Defaults: K = 50, sigmoid outputs with the logistic (cross-entropy) loss, corruption q = 0.5
// (the paper sweeps q in [0, 1]), Adam lr 3e-3 (the paper uses AdaGrad), batch 64 users, 40
// epochs. The hidden units are ReLU (RecBole's default) rather than the paper's sigmoid: with
// sigmoid h, Adam stalls at the popularity solution on both our data sets (ML-100K, ratio split:
// NDCG@10 0.135 vs Pop's 0.133, for K = 50 and 100 alike), while ReLU (or the paper's identity
// h) learns (0.297). Every item of a row is a target: the paper samples negatives to save time
// on large catalogues, but a dense row of a few thousand items costs no more than sampling
// here, and gives each negative a gradient every epoch. Corruption masks come from per-batch
// keys (recsys/model_utils.h). Scores are the output logits of the given history rows,
// uncorrupted, with the user's node (fold-in).
#include <memory>
#include <optional>

#include "nn/activation.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct CdaeConfig {
  int64_t hidden = 50;      ///< K
  float corruption = 0.5f;  ///< dropout q of the input, in [0, 1)
  bool user_node = true;    ///< false: no V_u (the paper's DAE ablation)
  nn::Activation hidden_activation = nn::Activation::kRelu;  ///< h(·); the paper's is kSigmoid
  TrainConfig train{/*lr=*/3e-3, /*weight_decay=*/0, /*batch_size=*/64, /*seed=*/0};
};

class Cdae : public Recommender {
 public:
  Cdae(const CdaeConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "cdae"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  /// Cross-entropy of batch `index`'s rows (corruption from the batch's key).
  Tensor loss(int64_t index) override;
  /// Output logits of the users' history rows.  -> [B, num_items]
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

 private:
  // Output logits of 0/1 rows of `users`, corrupted from `key` when `noisy`.  [B, n] -> [B, n]
  Tensor forward(const Ids& users, const Tensor& rows, bool noisy, uint64_t key);

  CdaeConfig config_;
  int64_t num_users_, num_items_;
  std::shared_ptr<nn::Linear> encoder_, decoder_;  // W [K, n] with b, W' [n, K] with b'
  std::shared_ptr<nn::Embedding> user_nodes_;      // V [num_users, K]
  std::optional<UserRowLoader> loader_;
  int64_t epoch_ = 0;
};

}  // namespace recgrad::recsys
