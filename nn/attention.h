#pragma once
// Multi-head scaled dot-product attention (Vaswani et al. 2017), as PyTorch's
// nn.MultiheadAttention with batch_first = true:
//
//   Q = query·W_qᵀ + b_q,  K = key·W_kᵀ + b_k,  V = value·W_vᵀ + b_v        [B, L, d]
//   split d into h heads of d_head = d/h:  [B, L, d] -> [B, L, h, d_head] -> [B·h, L, d_head]
//   A = masked_softmax(Q·Kᵀ, mask, scale = 1/√d_head)                     [B·h, Lq, Lk]
//   O = dropout(A)·V -> merge heads [B, Lq, d];  y = O·W_oᵀ + b_o
//
// Heads are separated by a reshape (a view) and a permute (a copy, skipped when h = 1); Q·Kᵀ is
// one batched sgemm with K's transpose as a BLAS flag, and the scale, masks and softmax are one
// fused op (ops/attention.h), so a query with every key masked gives a zero row, never NaN.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace recgrad::nn {

struct MultiHeadAttentionOptions {
  float dropout = 0.f;  ///< p of the dropout on the attention weights A (training only), [0, 1)
  bool bias = true;     ///< the four projections have biases
};

/// Which keys each query may attend to.
struct AttentionMask {
  bool causal = false;  ///< query i attends to keys j <= i only (self-attention over a sequence)
  Tensor key_padding;   ///< [B, Lk], nonzero = padded key (never attended to); undefined = none
};

/// [B, L] key-padding mask, 1 where ids[b, l] == padding_id (e.g. item 0 padding the left of a
/// SASRec history).  ids [B, L] -> [B, L]
Tensor key_padding_mask(const Ids& ids, int64_t padding_id);

/// [B, L] key-padding mask for right-padded sequences: 1 at l >= lengths[b].  -> [B, max_len]
Tensor key_padding_from_lengths(const std::vector<int64_t>& lengths, int64_t max_len);

/// y = MHA(query, key, value).  query [B,Lq,d], key and value [B,Lk,d] -> [B,Lq,d].
/// Submodules "q_proj", "k_proj", "v_proj", "out_proj" (Linear d -> d, parameters
/// "q_proj.weight", "q_proj.bias", ...) and, when dropout > 0, "dropout".
/// Initialised as PyTorch: W_q, W_k, W_v ~ U(±√(6/(4d))) (xavier_uniform of the packed
/// [3d, d] in_proj_weight), W_o as nn.Linear's default, all biases 0.
class MultiHeadAttention : public Module {
 public:
  /// d_model > 0, num_heads > 0 dividing d_model.
  MultiHeadAttention(int64_t d_model, int64_t num_heads, Generator& gen,
                     MultiHeadAttentionOptions opts = {});
  /// query [B,Lq,d], key [B,Lk,d], value [B,Lk,d] -> [B,Lq,d]. A query row whose keys are all
  /// masked gets attention weights 0, so its output is out_proj's bias b_o.
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value,
                 const AttentionMask& mask = {});
  /// Self-attention: forward(x, x, x, mask).  x [B,L,d] -> [B,L,d]
  Tensor forward(const Tensor& x, const AttentionMask& mask = {});
  /// "MultiHeadAttention(d_model=64, heads=2, dropout=0.1, bias)"
  std::string describe() const override;

  int64_t d_model() const { return d_model_; }
  int64_t num_heads() const { return num_heads_; }
  int64_t head_dim() const { return d_model_ / num_heads_; }

 private:
  // [B, L, d] -> [B·h, L, d_head]: a view, then a copy when h > 1.
  Tensor split_heads(const Tensor& x) const;
  // [B·h, L, d_head] -> [B, L, d].
  Tensor merge_heads(const Tensor& x, int64_t batch) const;

  int64_t d_model_, num_heads_;
  MultiHeadAttentionOptions opts_;
  std::shared_ptr<Linear> q_proj_, k_proj_, v_proj_, out_proj_;
  std::shared_ptr<Dropout> dropout_;  // null when opts_.dropout == 0
};

}  // namespace recgrad::nn
