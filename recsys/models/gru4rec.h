#pragma once
// GRU4Rec: a recurrent network over each user's item sequence, predicting the next item at
// every position.
//   Hidasi, Karatzoglou, Baltrunas, Tikk. "Session-based Recommendations with Recurrent Neural
//   Networks." ICLR 2016.
//   Hidasi, Karatzoglou. "Recurrent Neural Networks with Top-k Gains for Session-based
//   Recommendations." CIKM 2018 (BPR-max, many shared negatives).
//
//   e_t = dropout(E[s_t])                       E [num_items + 1, emb] (last row: padding)
//   h_t = GRU(e_t, h_{t−1}),  h_0 = 0           [B, T, hidden]
//   y_t(i) = Wy_i·dropout(h_t) + by_i           the score of item i as s_{t+1}
//
// Sequences come from SequenceLoader: each user's last max_len + 1 training items, as inputs
// s_0..s_{n−2} and targets s_1..s_{n−1}, LEFT-padded with num_items. The GRU carries its state
// through padded steps only at the END of a row (nn/rnn.h), so every row is shifted to the left
// (right-padded) before the GRU, with its length: padded positions then neither enter the state
// nor produce an output, get no loss and send no gradient (the padding row of E is also never
// looked up with a gradient). Output at position t depends only on s_0..s_t.
//
// Losses (Gru4RecLoss):
//   kCrossEntropy  softmax over all items at every valid position (default; exact, and the
//                  strongest on catalogues up to ~10^5 items);
//   kBprMax        CIKM 2018's BPR-max over K negatives shared by the whole batch:
//                  −log Σ_j s_j σ(y_i − y_j) + λ Σ_j s_j y_j², s = softmax over the negatives;
//   kSampledSoftmax softmax over the target and the K shared negatives, with log-Q correction.
// The shared negatives are drawn with replacement ∝ count^alpha (the paper's popularity-based
// sampling; the batch's other targets are not added as negatives), and a negative equal to a
// row's target is masked out for that row.
//
// Scoring a user runs the GRU over the last max_len items of the history it is given (training
// items for validation, training + validation for the test) and scores every item from the last
// state: never the evaluated item or anything after it.
//
// Defaults: hidden 100, item embedding 100, one layer, dropout 0.0 on the embeddings and 0.25
// on the GRU outputs, Adam lr 3e-3, batch 64 sequences of max_len 50, cross-entropy, 20 epochs;
// 2048 shared negatives at alpha 0.75 and λ = 1 for the sampled losses. Wy and E start uniform
// in ±√(6/(rows + cols)) and by at 0 (GRU4Rec's initialisation); the GRU as PyTorch's.
// Batch and lr are ours: an epoch is one sequence per user (the paper's session-parallel
// batches update once per time step instead), so batches of 256 make only 4 updates an epoch
// on the 1,000-user synthetic set; 64 sequences at lr 3e-3 reach their best validation within
// 6-12 epochs there (tests/recsys/models/gru4rec_learning_test.cc).
#include <memory>
#include <optional>
#include <vector>

#include "nn/dropout.h"
#include "nn/gru.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

/// GRU4Rec's training losses.
enum class Gru4RecLoss { kCrossEntropy, kBprMax, kSampledSoftmax };

/// GRU4Rec's hyperparameters (hidden 100 as in the paper; see the file comment for the rest).
struct Gru4RecConfig {
  int64_t hidden = 100;          ///< GRU state size
  int64_t embedding = 100;       ///< item input embedding size
  int64_t num_layers = 1;        ///< stacked GRU layers
  float dropout_embed = 0.f;     ///< on the input embeddings
  float dropout_hidden = 0.25f;  ///< on the GRU outputs (and between layers)
  int64_t max_len = 50;          ///< positions per training sequence and for scoring
  Gru4RecLoss loss = Gru4RecLoss::kCrossEntropy;
  int64_t num_negatives = 2048;  ///< K shared negatives per batch (sampled losses)
  double sample_alpha = 0.75;    ///< negatives drawn ∝ count^alpha (0: uniform)
  float bpreg = 1.f;             ///< λ of BPR-max's score regularisation
  /// Score with the input embeddings (Wy = E without its padding row, no separate Wy; GRU4Rec's
  /// constrained_embedding). Requires embedding == hidden.
  bool constrained_embedding = false;
  TrainConfig train{/*lr=*/3e-3, /*weight_decay=*/0, /*batch_size=*/64, /*seed=*/0};
};

/// BPR-max (Hidasi & Karatzoglou, CIKM 2018) per row r, over the negatives j not excluded:
///   l_r = −log Σ_j s_rj σ(pos_r − neg_rj) + bpreg · Σ_j s_rj neg_rj²,  s_r = softmax_j(neg_rj)
/// (excluded negatives get weight 0 and no gradient), averaged over rows.
/// pos [n], neg [n, K], excluded [n, K] of 0/1 -> []
Tensor bpr_max_loss(const Tensor& pos, const Tensor& neg, const Tensor& excluded, float bpreg);

/// Parses "ce", "bpr_max" or "sampled_softmax" (or the hyphenated spellings); throws
/// recgrad::Error naming the choices.
Gru4RecLoss parse_gru4rec_loss(const std::string& name);

/// GRU4Rec: scores [B, num_items] = Wy·h_last + by, h the GRU state over the user's history.
class Gru4Rec : public Recommender {
 public:
  Gru4Rec(const Gru4RecConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "gru4rec"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  /// The configured loss, averaged over the batch's valid (non-padded) positions.
  Tensor loss(int64_t index) override;
  /// scores [B, num_items] = Wy·h + by from the state after the last max_len history items.
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  /// The GRU outputs at every position of left-padded sequences (padding = num_items), in the
  /// same layout: inputs [B, T] -> [B, T, hidden], zero at padded positions. Row b's output at
  /// position t depends only on its items up to t.
  Tensor encode(const Ids& inputs);

  const Gru4RecConfig& config() const { return config_; }

 private:
  /// Wy [num_items, hidden]: its own parameter, or E's item rows when constrained.
  Tensor output_items() const;

  Gru4RecConfig config_;
  int64_t num_items_;
  Tensor items_;  // E [num_items + 1, emb], last row: padding
  Tensor out_items_,
      out_bias_;  // Wy [num_items, hidden] (undefined when constrained), by [num_items, 1]
  std::shared_ptr<nn::Dropout> dropout_embed_, dropout_hidden_;
  std::shared_ptr<nn::GRU> gru_;
  std::optional<SequenceLoader> loader_;
  std::vector<double> sample_cum_;  // cumulative count^alpha, num_items + 1 entries
};

}  // namespace recgrad::recsys
