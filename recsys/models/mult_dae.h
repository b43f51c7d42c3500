#pragma once
// Mult-DAE: a denoising autoencoder of users' item rows with a multinomial likelihood.
//   Liang, Krishnan, Hoffman, Jebara. "Variational Autoencoders for Collaborative Filtering."
//   WWW 2018 (the paper's non-variational model).
//
//   x_u  the user's 0/1 row [n_items];  x̃ = dropout(x_u / ‖x_u‖₂, p)    (training only)
//   logits = W₄ tanh(W₃ tanh(W₂ tanh(W₁x̃ + b₁) + b₂) + b₃) + b₄       [I -> 600 -> 200 -> 600 -> I]
//   loss  -Σᵢ xᵤᵢ log softmax(logits)ᵢ, averaged over the batch, + λ Σ ‖W‖²
//
// Defaults: the architecture of Mult-VAE (600 -> 200, tanh), input dropout 0.5, Adam lr 1e-3,
// batch 500 users, weights Xavier-uniform and biases N(0, 0.001²); the L2 penalty on weights
// (not biases) of the authors' notebook, 2·(0.01 / batch) = 4e-5 as Adam's coupled weight decay.
// Dropout masks come from per-batch keys (recsys/model_utils.h). Scores are the logits of the
// given history rows without dropout (fold-in).
#include <memory>
#include <optional>
#include <vector>

#include "nn/mlp.h"
#include "ops/csr.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct MultDaeConfig {
  std::vector<int64_t> hidden = {600};  ///< encoder hidden sizes (the decoder mirrors them)
  int64_t latent = 200;                 ///< the bottleneck
  float dropout = 0.5f;                 ///< input dropout p, in [0, 1)
  /// weight_decay applies to weight matrices only; biases are not decayed.
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/4e-5, /*batch_size=*/500, /*seed=*/0};
};

class MultDae : public Recommender {
 public:
  MultDae(const MultDaeConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "multdae"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  /// Adam with two groups: weights (cfg weight decay) and biases (none).
  std::unique_ptr<optim::Optimizer> make_optimizer() override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  /// Multinomial negative log-likelihood of batch `index` (dropout from the batch's key).
  Tensor loss(int64_t index) override;
  /// Logits of the users' history rows.  -> [B, num_items]
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

 private:
  // Logits of 0/1 rows (CSR: only their non-zeros are read), with input dropout from
  // `dropout_key` when `noisy`.  rows CSR [B, n] -> [B, n]
  Tensor forward(CsrMatrix rows, bool noisy, uint64_t dropout_key);

  MultDaeConfig config_;
  int64_t num_items_;
  std::shared_ptr<nn::MLP> encoder_, decoder_;
  std::optional<UserRowLoader> loader_;
  int64_t epoch_ = 0;
};

}  // namespace recgrad::recsys
