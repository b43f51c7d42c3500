#pragma once
// SASRec: self-attentive sequential recommendation.
//   Wang-Cheng Kang, Julian McAuley. "Self-Attentive Sequential Recommendation." ICDM 2018.
//
// A user's history, left-padded to max_len with the id num_items (recsys/batches.h), becomes
//
//   x_l = E[s_l]·√d + P[max_len - L + l]   item embedding (shared with the output) + learned
//   x   = dropout(x) ⊙ keep                position of slot l; keep = 0 at padded slots
//   x   ← Block_b(x), b = 1..num_blocks    causal self-attention + FFN (d -> d -> d, ReLU), in
//                                          residual branches with layer norms (SasRecBlock);
//                                          padded keys never attended, padded rows zeroed
//   h   = LayerNorm(x) ⊙ keep                                      [B, L, d]
//   r_{l,i} = ⟨h_l, E_i⟩                   relevance of item i as the item after slot l
//
// Positions count from the right end of the max_len window: slot l of a window of L <= max_len
// slots gets P[max_len - L + l], so the newest item always has position max_len - 1 (as in the
// reference code, whose windows are always max_len long). Training predicts the next item at
// every non-padded slot; scoring a user takes h at the last slot of the latest max_len items of
// the history it is given, so it never sees the evaluated item or anything after it. The
// padding row E[num_items] is zero, is multiplied away before the first block, and gets no
// gradient (the Embedding's padding_idx); padded slots are left out of every loss.
//
// Losses (SasRecLoss):
//   kBce            the paper's: per non-padded slot, -log σ(r_pos) - log(1 - σ(r_neg)) with one
//                   negative the user never interacted with (SequenceLoader, num_negatives 1),
//                   averaged over the slots;
//   kCrossEntropy   softmax cross-entropy over all num_items items at every non-padded slot;
//   kSampledSoftmax softmax over the target and num_sampled negatives drawn uniformly per batch
//                   and shared by all slots (a negative equal to the slot's target is masked).
// The last two are much stronger than the paper's BCE (e.g. Klenitskiy & Vasilev, RecSys 2023).
//
// Defaults are the paper's for MovieLens-1M: d = 50, 2 blocks, 1 head, max_len 200, dropout 0.2,
// Adam lr 1e-3 with β₂ = 0.98, batch 128, no L2; 200 epochs in the reference code. As there,
// every matrix (embeddings, projections, FFN) starts xavier-uniform and every bias at 0.
// The attention has an output projection, which the reference TensorFlow code lacks (as
// torch.nn.MultiheadAttention in its PyTorch port). The block layout is a choice (SasRecBlock):
// textbook pre-LN by default (keys normalised too, the residual stream bypassing the norms), or
// the reference code's, which normalises only the queries and adds each branch to its
// normalised input (nn::TransformerEncoderBlockOptions::normalized_residual).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/positional_embedding.h"
#include "nn/transformer.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

/// SASRec's training objective (see the file comment).
enum class SasRecLoss {
  kBce,            ///< the paper's: one sampled negative per position, binary cross-entropy
  kCrossEntropy,   ///< softmax over all items at every position
  kSampledSoftmax  ///< softmax over the target and num_sampled shared uniform negatives
};

/// How a block wires its layer norms and residuals (see nn/transformer.h).
enum class SasRecBlock {
  kPreLn,     ///< x + drop(MHA(LN(x))), then + drop(FFN(LN(·))): textbook pre-LN
  kReference  ///< the reference code's: q = LN(x); q + MHA(q, x, x), then z + drop(FFN(z))
};

struct SasRecConfig {
  int64_t dim = 50;         ///< d: item/position embedding and hidden size
  int64_t num_blocks = 2;   ///< self-attention blocks
  int64_t num_heads = 1;    ///< attention heads (dividing dim)
  int64_t max_len = 200;    ///< latest items kept per sequence (the paper: 200 on ML-1M, else 50)
  float dropout = 0.2f;     ///< embeddings, attention weights, FFN, residual branches (ML-1M: 0.2)
  SasRecLoss loss = SasRecLoss::kBce;
  SasRecBlock block = SasRecBlock::kPreLn;
  int64_t num_sampled = 256;  ///< kSampledSoftmax: shared uniform negatives per batch
  double beta2 = 0.98;        ///< Adam's β₂ (the reference code's)
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/0, /*batch_size=*/128, /*seed=*/0};
};

/// "bce", "ce", "sampled_softmax".
const char* sasrec_loss_name(SasRecLoss loss);

/// The loss called `name` (one of sasrec_loss_name's); throws recgrad::Error listing them.
SasRecLoss parse_sasrec_loss(const std::string& name);

/// "pre_ln", "reference".
const char* sasrec_block_name(SasRecBlock block);

/// The block layout called `name` (one of sasrec_block_name's); throws recgrad::Error listing them.
SasRecBlock parse_sasrec_block(const std::string& name);

/// Causal self-attention over a user's latest items; r = h_last · Eᵀ.  See the file comment.
/// Parameters "item_embedding.weight" [num_items + 1, d], "position_embedding.weight"
/// [max_len, d], "block<b>.*" (nn::TransformerEncoderBlock), "final_norm.*".
class SasRec : public Recommender {
 public:
  SasRec(const SasRecConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "sasrec"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  /// Adam(lr, β₁ = 0.9, β₂ = config.beta2, weight_decay) over every parameter.
  std::unique_ptr<optim::Optimizer> make_optimizer() override;
  int64_t start_epoch(int64_t epoch) override;
  /// Sequences (users) in the batch.
  int64_t batch_examples(int64_t index) const override;
  Tensor loss(int64_t index) override;
  /// scores [B, num_items] = h_{L-1} · E[0:num_items]ᵀ over last_items(history, users, max_len).
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  /// Hidden states h of left-padded sequences (see the file comment); rows at padded slots are
  /// 0, slot l has position max_len - L + l.  seqs [B, L] with ids in [0, num_items]
  /// (num_items = padding), 1 <= L <= max_len -> [B, L, d]
  Tensor encode(const Ids& seqs);
  /// The configured loss of one batch: mean over its non-padded slots. shared_negatives [K]
  /// (item ids) are used by kSampledSoftmax only; the batch's negatives by kBce only.
  ///   inputs, targets [B, L]; negatives [B, L, 1] for kBce -> []
  Tensor sequence_loss(const SequenceBatch& batch, const Ids& shared_negatives = {});

  const SasRecConfig& config() const { return config_; }
  int64_t num_items() const { return num_items_; }
  /// E [num_items + 1, d]; row num_items is the padding row.
  const Tensor& item_embedding() const { return items_->weight(); }

 private:
  // Flat indices b·L + l of the slots whose target is not padding.  targets [B, L] -> [n]
  Ids target_slots(const Ids& targets) const;
  // E[0:num_items]: the output table (the padding row never scores).  -> [num_items, d]
  Tensor output_table() const;

  SasRecConfig config_;
  int64_t num_users_, num_items_;
  std::shared_ptr<nn::Embedding> items_;
  std::shared_ptr<nn::LearnedPositionalEmbedding> positions_;
  std::shared_ptr<nn::Dropout> emb_dropout_;  // null when dropout == 0
  std::vector<std::shared_ptr<nn::TransformerEncoderBlock>> blocks_;
  std::shared_ptr<nn::LayerNorm> final_norm_;
  std::optional<SequenceLoader> loader_;
};

}  // namespace recgrad::recsys
