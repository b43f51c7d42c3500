#pragma once
// The transformer encoder block (Vaswani et al. 2017), as PyTorch's nn.TransformerEncoderLayer
// with batch_first = true, in both layer-norm placements:
//
//   pre-LN  (norm_first):  x ← x + drop(MHA(LN₁(x), mask));   y = x + drop(FFN(LN₂(x)))
//   post-LN:               x ← LN₁(x + drop(MHA(x, mask)));   y = LN₂(x + drop(FFN(x)))
//   FFN(h) = linear2(drop(act(linear1(h))))                    d -> d_ff -> d
//
// Pre-LN (GPT-2) trains stably without warmup; post-LN is the original (BERT4Rec). A third
// layout, normalized_residual, is the one of SASRec's reference code (Kang & McAuley): only the
// queries are normalised, and each branch is added to its normalised input, not to x:
//
//   normalized residual:   q = LN₁(x);  x ← q + MHA(q, x, x, mask);  y = z + drop(FFN(z)),
//                          z = LN₂(x)
//
// There the attention output has no dropout of its own (its weights still do), as in the
// reference code and its PyTorch port; the stream restarts from a normalised vector twice per
// block, so its scale never grows with depth.
//
// Padded positions: key padding keeps padded keys out of every valid position's attention, so
// valid outputs never depend on padded inputs. The outputs AT padded positions are not
// meaningful (a padded query still attends to the valid keys, or to nothing under a causal mask
// over left padding, giving just the biases). By default they are left as computed (PyTorch's
// behaviour) and the caller masks them where it matters; with zero_padded_outputs the block
// multiplies its output by (1 − key_padding), as SASRec does after every block with its
// timeline mask. Then padded positions output exactly 0 and their inputs get no gradient.
#include <cstdint>
#include <memory>
#include <string>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/activation.h"
#include "nn/attention.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace recgrad::nn {

struct TransformerEncoderBlockOptions {
  int64_t d_model = 64;     ///< model width d (> 0)
  int64_t num_heads = 2;    ///< attention heads (> 0, dividing d_model)
  int64_t d_ff = 256;       ///< feed-forward hidden width (> 0)
  float dropout = 0.1f;     ///< p for the attention weights, the FFN hidden layer and both
                            ///< residual branches, [0, 1)
  Activation activation = Activation::kRelu;  ///< FFN activation: kRelu or kGelu
  bool norm_first = false;  ///< pre-LN (true) or post-LN (false, PyTorch's default)
  bool normalized_residual = false;  ///< with norm_first: SASRec's reference layout (see above)
  float layer_norm_eps = 1e-5f;
  bool zero_padded_outputs = false;  ///< multiply the output by (1 − mask.key_padding)
};

/// One encoder block: self-attention and a feed-forward network, each in a residual branch
/// with a layer norm (see the file comment).  x [B,L,d] -> [B,L,d].
/// Submodules "self_attn" (MultiHeadAttention, dropout on its weights), "linear1" (d -> d_ff),
/// "linear2" (d_ff -> d), "norm1", "norm2" (LayerNorm(d)) and, when dropout > 0, "dropout"
/// (one stream shared by the FFN and the residual branches). Drawn from gen in the order
/// linear1, linear2, self_attn (its dropout stream last), dropout: the parameters do not depend
/// on the dropout p.
class TransformerEncoderBlock : public Module {
 public:
  TransformerEncoderBlock(TransformerEncoderBlockOptions opts, Generator& gen);
  /// x [B,L,d] -> [B,L,d]. mask.key_padding, when given, is [B,L].
  Tensor forward(const Tensor& x, const AttentionMask& mask = {});
  /// "TransformerEncoderBlock(d_model=64, heads=2, d_ff=256, ReLU, pre-LN, dropout=0.1)"
  std::string describe() const override;

  const TransformerEncoderBlockOptions& options() const { return opts_; }
  MultiHeadAttention& self_attn() { return *self_attn_; }

 private:
  Tensor feed_forward(const Tensor& h);
  Tensor drop(const Tensor& h);

  TransformerEncoderBlockOptions opts_;
  std::shared_ptr<MultiHeadAttention> self_attn_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<LayerNorm> norm1_, norm2_;
  std::shared_ptr<Dropout> dropout_;  // null when opts_.dropout == 0
};

}  // namespace recgrad::nn
