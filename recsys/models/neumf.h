#pragma once
// Neural collaborative filtering: GMF, MLP and their fusion NeuMF.
//   He, Liao, Zhang, Nie, Hu, Chua. "Neural Collaborative Filtering." WWW 2017.
//
//   GMF    φ_g = p_u^G ⊙ q_i^G                                      [f]
//   MLP    φ_m = ReLU(… ReLU(W_1·[p_u^M ; q_i^M] + b_1) …)           [f]  (tower layers[0] -> … -> f)
//   NeuMF  ŷ_ui = σ(hᵀ·[φ_g ; φ_m] + b)     (GMF alone: hᵀ·φ_g + b;  MLP alone: hᵀ·φ_m + b)
//
// The two towers have separate embeddings (GMF: f wide; MLP: layers[0]/2 wide each). Trained
// pointwise with binary cross-entropy on each training interaction (label 1) and k sampled
// items the user never interacted with (label 0), as in the paper (PointwiseLoader).
//
// Defaults are the paper's (and its reference code's): predictive factors f = 8, MLP layers
// [64, 32, 16, 8] (layers[0] is the concatenated embedding size; `--dim f` gives
// [8f, 4f, 2f, f]), k = 4 negatives, Adam lr 1e-3, no regularisation, 20 epochs, batch 256 rows
// counting the negatives as the reference code does (256 / (1+k) = 51 positives with their k
// negatives each: 255 rows).
// Embeddings start at N(0, 0.01²) as in the reference code; the Linear layers at PyTorch's
// default (U(±1/√fan_in)) rather than Keras' lecun_uniform (U(±√(3/fan_in))).
//
// Pretraining (§3.4.1): train `gmf` and `mlp` (registered as models of their own; same f and
// layers), then initialise NeuMF from them with init_from_pretrained / load_pretrained: the
// embeddings and MLP layers are copied, and the output layer becomes h = [α·h_GMF ; (1-α)·h_MLP],
// b = α·b_GMF + (1-α)·b_MLP with α = 0.5. A pretrained NeuMF is then fine-tuned with plain SGD
// (make_optimizer), because Adam's moments of the pretrained towers were not saved - as the
// paper does. From the command line:
//   recgrad train --model gmf --save gmf.ckpt;  recgrad train --model mlp --save mlp.ckpt
//   recgrad train --model neumf --pretrained gmf.ckpt,mlp.ckpt
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/linear.h"
#include "nn/mlp.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

/// Which towers a model has: the GMF and MLP instantiations of NCF, or their fusion.
enum class NcfVariant { kGmf, kMlp, kNeuMf };

struct NeuMfConfig {
  NcfVariant variant = NcfVariant::kNeuMf;
  int64_t factors = 8;                         ///< f: GMF embedding size, last MLP layer
  std::vector<int64_t> layers = {64, 32, 16, 8};  ///< MLP tower; layers[0] even, last = f
  int64_t num_negatives = 4;                   ///< k sampled negatives per positive
  /// Row-sparse embedding gradients, which Adam applies lazily (only rows in the batch move).
  /// false: dense gradients, so Adam moves every row at every step on its momentum, as the
  /// reference code's (Keras) Adam does.
  bool sparse_embedding_grads = true;
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/0, /*batch_size=*/256, /*seed=*/0};

  /// The paper's tower for predictive factors f: [8f, 4f, 2f, f].
  static std::vector<int64_t> tower(int64_t f) { return {8 * f, 4 * f, 2 * f, f}; }
};

class NeuMf : public Recommender {
 public:
  /// Parameters: "gmf_user_embedding" [U, f], "gmf_item_embedding" [N, f] (GMF, NeuMF);
  /// "mlp_user_embedding" [U, layers[0]/2], "mlp_item_embedding" [N, layers[0]/2], the MLP
  /// "mlp.0.weight" ... (MLP, NeuMF); "output.weight" [1, f or 2f], "output.bias" [1].
  NeuMf(const NeuMfConfig& config, int64_t num_users, int64_t num_items);
  /// "gmf", "mlp" or "neumf".
  std::string name() const override;
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  /// Adam (lr, weight decay of the config); plain SGD with the same lr after pretraining.
  std::unique_ptr<optim::Optimizer> make_optimizer() override;
  int64_t start_epoch(int64_t epoch) override;
  /// Rows (positives and negatives) in batch `index`.
  int64_t batch_examples(int64_t index) const override;
  /// Mean BCE of the batch's logits against its 1/0 labels.
  Tensor loss(int64_t index) override;
  /// Logits [n] of the pairs (users[k], items[k]): the training forward.
  Tensor logits(const Ids& users, const Ids& items);
  /// Logits [B, num_items] of `users` against every item (σ is monotone, so ranking needs no
  /// sigmoid). Computes W_1·[p;q] as W_1ᵘ·p + W_1ⁱ·q so the first layer runs once per user and
  /// once per item, not once per pair.
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;
  /// Logits [n] of the pairs alone (the sampled and fixed protocols' ~100 candidates per user):
  /// the MLP tower's layers above the first cost per pair, so scoring every item does ~37x the
  /// work on the NCF protocol (3,706 items against 100 candidates).
  Tensor score_pairs(const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                     const UserItems& history) override;

  /// NCF §3.4.1: copies the towers of a trained GMF and MLP (same sizes) into this NeuMF and sets
  /// the output layer to [α·h_GMF ; (1-α)·h_MLP], α·b_GMF + (1-α)·b_MLP. Marks the model
  /// pretrained (make_optimizer then gives SGD). Throws recgrad::Error on mismatched models.
  void init_from_pretrained(const NeuMf& gmf, const NeuMf& mlp, float alpha = 0.5f);
  /// True after init_from_pretrained.
  bool pretrained() const { return pretrained_; }

  const NeuMfConfig& config() const { return config_; }
  int64_t num_users() const { return num_users_; }
  int64_t num_items() const { return num_items_; }

 private:
  bool has_gmf() const { return config_.variant != NcfVariant::kMlp; }
  bool has_mlp() const { return config_.variant != NcfVariant::kGmf; }
  // batch_size counts rows, as the paper's: batch_size / (1 + k) positives with their negatives.
  int64_t positives_per_batch() const {
    return std::max<int64_t>(1, train_.batch_size / (1 + config_.num_negatives));
  }
  // Logits [b, N] of a chunk of users (score() splits large batches to bound memory).
  Tensor score_chunk(const Ids& users);

  NeuMfConfig config_;
  int64_t num_users_, num_items_;
  Tensor gmf_users_, gmf_items_;  // [U, f], [N, f]
  Tensor mlp_users_, mlp_items_;  // [U, e], [N, e], e = layers[0] / 2
  std::shared_ptr<nn::MLP> mlp_;
  std::shared_ptr<nn::Linear> output_;
  std::optional<PointwiseLoader> loader_;
  bool pretrained_ = false;
};

/// Loads GMF and MLP checkpoints (written by `recgrad train --model gmf|mlp --save`, or
/// optim::save of NeuMf models built with neumf's sizes) and calls
/// neumf.init_from_pretrained(gmf, mlp, alpha). Throws recgrad::Error naming the file on a
/// missing, corrupt or mismatched checkpoint.
void load_pretrained(NeuMf& neumf, const std::string& gmf_checkpoint,
                     const std::string& mlp_checkpoint, float alpha = 0.5f);

}  // namespace recgrad::recsys
