#pragma once
// Mult-VAE: a variational autoencoder of users' item rows with a multinomial likelihood.
//   Liang, Krishnan, Hoffman, Jebara. "Variational Autoencoders for Collaborative Filtering."
//   WWW 2018.
//
//   x_u  the user's 0/1 row [n_items];  x̃ = dropout(x_u / ‖x_u‖₂, p)    (training only)
//   encoder  h = tanh(W₁x̃ + b₁) [600];  [μ, log σ²] = W₂h + b₂  [2·200]
//   z = μ + ε·σ, ε ~ N(0, s²I)   (training, s = noise_std; at scoring time z = μ)
//   decoder  logits = W₄ tanh(W₃z + b₃) + b₄  [n_items];  π = softmax(logits)
//   loss  -Σᵢ xᵤᵢ log πᵢ  +  β·KL(N(μ, σ²) ‖ N(0, I)),  averaged over the batch
//   β = min(anneal_cap, updates / total_anneal_steps): KL annealing.
//
// Defaults are the paper's: [I -> 600 -> 200 -> 600 -> I], tanh, input dropout 0.5, Adam lr
// 1e-3, batch 500 users, β capped at 0.2, no weight decay; weights Xavier-uniform, biases
// N(0, 0.001²) (the authors' notebook). The paper anneals over 200,000 updates on ML-20M
// (~230 batches an epoch); that does not scale to small data, so by default β reaches its cap
// after anneal_epochs epochs' worth of updates (the registry sets 80% of the training epochs).
// The update counter is a buffer, so checkpoints (and --resume) keep the schedule; dropout and
// ε come from per-batch keys (recsys/model_utils.h), so a resumed run draws what a straight one
// would. Scores are the decoder's logits at z = μ, conditioned on the given history (fold-in).
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nn/mlp.h"
#include "ops/csr.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct MultVaeConfig {
  std::vector<int64_t> hidden = {600};  ///< encoder hidden sizes (the decoder mirrors them)
  int64_t latent = 200;                 ///< size of z
  float dropout = 0.5f;                 ///< input dropout p, in [0, 1)
  /// Standard deviation of ε in training: 1 is the paper's VAE; RecBole draws ε ~ N(0, 0.01²),
  /// which leaves z close to μ (a denoising autoencoder with a KL penalty on μ and σ).
  float noise_std = 1.f;
  double anneal_cap = 0.2;              ///< the largest β
  /// Updates over which β rises linearly to anneal_cap; 0: anneal_epochs epochs of updates.
  int64_t total_anneal_steps = 0;
  int64_t anneal_epochs = 80;  ///< used when total_anneal_steps is 0
  /// kInteraction: RecBole's batching (a batch of training interactions, each read as its
  /// user's row), where batch_size counts interactions.
  UserRowsPer rows_per = UserRowsPer::kUser;
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/0, /*batch_size=*/500, /*seed=*/0};
};

class MultVae : public Recommender {
 public:
  MultVae(const MultVaeConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "multvae"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  /// -ELBO of batch `index` with the current β (dropout and ε drawn from the batch's key).
  Tensor loss(int64_t index) override;
  /// The default step, then one more annealing update.
  double train_step(int64_t index, optim::Optimizer& opt) override;
  /// Decoder logits at z = μ of the users' history rows.  -> [B, num_items]
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  /// β of the next update: min(anneal_cap, updates / total_anneal_steps).
  double beta() const;
  /// Updates taken so far (the annealing counter).
  int64_t updates() const;
  /// The total_anneal_steps in use (resolved at attach() when the config has 0).
  int64_t total_anneal_steps() const { return total_anneal_steps_; }

 private:
  // (μ, log σ²) of 0/1 rows (CSR: only their non-zeros are read), with input dropout from
  // `dropout_key` when `noisy`.  rows CSR [B, num_items] -> two [B, latent]
  std::pair<Tensor, Tensor> encode(CsrMatrix rows, bool noisy, uint64_t dropout_key);

  MultVaeConfig config_;
  int64_t num_items_;
  std::shared_ptr<nn::MLP> encoder_, decoder_;
  Tensor updates_;  // buffer [1]: annealing updates so far (a float: exact up to 2^24)
  int64_t total_anneal_steps_ = 0;
  std::optional<UserRowLoader> loader_;
  int64_t epoch_ = 0;
};

}  // namespace recgrad::recsys
