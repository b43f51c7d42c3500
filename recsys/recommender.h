#pragma once
// The interface every recommender implements, and what the trainer, evaluator and CLI rely on.
//
// A model is an nn::Module (named parameters, checkpoints) that
//   - is attached to its training data once (it builds its loaders and statistics),
//   - trains batch by batch (train_step: loss -> backward -> optimizer step by default; GANs
//     and closed-form models override),
//   - scores a batch of users against every item, given the interaction history to condition
//     on (training items for validation; training + validation items for the test), so
//     sequence models never see the evaluated item or anything after it.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/module.h"
#include "optim/optimizer.h"
#include "recsys/dataset.h"
#include "recsys/topk.h"

namespace recgrad::recsys {

/// The training data a model is attached to.
struct TrainingData {
  const InteractionDataset* interactions = nullptr;  ///< training rows (ratings when present)
  const UserItems* history = nullptr;                ///< per-user training items, in time order
  int64_t num_users = 0;
  int64_t num_items = 0;
};

/// Hyperparameters every trainable model shares (each model's own config adds the rest).
struct TrainConfig {
  double lr = 1e-3;              ///< Adam's learning rate
  double weight_decay = 0;       ///< L2 on dense parameters
  int64_t batch_size = 256;
  uint64_t seed = 0;             ///< parameters, shuffling and negatives
};

class Recommender : public nn::Module {
 public:
  /// The registry name: "bpr", "neumf", ...
  virtual std::string name() const = 0;

  /// Builds data-dependent state (loaders, counts). Called once before training and after a
  /// checkpoint is loaded; must not change parameters.
  virtual void attach(const TrainingData& data) = 0;

  /// Closed-form or count-based models (Pop, ItemKNN, EASE) fit here and have no epochs.
  virtual bool is_iterative() const { return true; }
  /// Fits a non-iterative model on the attached data.
  virtual void fit() {}

  /// The optimizer the model trains with (default: Adam over all parameters, cfg lr/decay).
  virtual std::unique_ptr<optim::Optimizer> make_optimizer();

  /// Prepares epoch `epoch` (reshuffles, draws negatives) and returns its number of batches.
  virtual int64_t start_epoch(int64_t epoch) = 0;
  /// Training examples in batch `index` of the current epoch (for examples/s).
  virtual int64_t batch_examples(int64_t index) const = 0;
  /// The training loss of batch `index` of the current epoch: a scalar with a graph.
  virtual Tensor loss(int64_t index) = 0;
  /// One optimisation step on batch `index`; returns the loss value. Default: zero_grad, loss,
  /// backward, step; when opt.check_finite() a non-finite loss throws NonFiniteError before
  /// backward (overrides should do the same with check_finite_loss; the trainer also checks
  /// the value returned).
  virtual double train_step(int64_t index, optim::Optimizer& opt);

  /// Scores [B, num_items] of `users` against every item, conditioned on `history` (fresh
  /// tensor; called under NoGradGuard, in eval mode).
  virtual Tensor score(const std::vector<int64_t>& users, const UserItems& history) = 0;
  /// Scores [n] of the pairs (users[k], items[k]), as score() would give them, conditioned on
  /// `history` (called under NoGradGuard, in eval mode). The sampled and fixed protocols rank
  /// ~100 candidates per user through this. Default: score() of the distinct users, read at
  /// the pairs; a model whose cost grows with each item scored (NeuMF's MLP tower) overrides
  /// it to score the pairs alone.
  virtual Tensor score_pairs(const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                             const UserItems& history);

  /// True for rating-prediction models (BiasedMF, AutoRec): evaluated by RMSE/MAE.
  virtual bool predicts_ratings() const { return false; }
  /// Predicted ratings [n] of (users[k], items[k]) pairs (rating models only).
  virtual Tensor predict(const std::vector<int64_t>& users, const std::vector<int64_t>& items);

  /// The top-k unseen items of each user: `seen` items are excluded, ties go to the smaller
  /// item id. One rule for every model. Runs in eval mode under NoGradGuard; on a model already
  /// in eval mode it changes nothing, so threads may share the model (docs/threads.md;
  /// CI runs tests/recsys/concurrent_scoring_test.cc under TSan). Users are scored in chunks of
  /// at most max_batch_scores scores (128 MiB by default, as EvalOptions); another budget may
  /// round scores differently in the last bit (BLAS blocks a product by its shape).
  TopK recommend(const std::vector<int64_t>& users, int64_t k, const UserItems& history,
                 const UserItems& seen, int64_t max_batch_scores = int64_t{1} << 25);

  /// The shared hyperparameters.
  const TrainConfig& train_config() const { return train_; }

 protected:
  explicit Recommender(TrainConfig train) : train_(train) {}
  /// Throws NonFiniteError naming `loss` when opt.check_finite() and it is not finite. Called
  /// before backward, so a non-finite loss whose gradients happen to be finite (an inf from an
  /// overflow) still leaves the parameters untouched; step() then checks the gradients.
  static void check_finite_loss(const optim::Optimizer& opt, double loss);
  TrainConfig train_;
};

}  // namespace recgrad::recsys
