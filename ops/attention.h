#pragma once
// The masked softmax at the heart of attention, fused: scaling, the causal and key-padding
// masks, the softmax and its backward in one pass per query row, instead of a scale, a
// masked_fill(-inf) and a softmax (three [N, Lq, Lk] tensors written and read, and -inf
// arithmetic to keep away from NaN). A query row whose keys are all masked (a padded query
// attending to padded keys only) gives zeros, and a zero gradient, never NaN.
#include "autograd/generator.h"
#include "autograd/tensor.h"

namespace recgrad {

/// Attention weights over the allowed keys:
///   y[n,i,j] = exp(scale·s[n,i,j] − m) / Σ_{j' allowed} exp(scale·s[n,i,j'] − m)   (j allowed)
///   y[n,i,j] = 0                                                              (j masked)
/// with m the row's max over allowed keys; a row with no allowed key (or only -inf scores
/// there) is all zeros.
///   scores [..., Lq, Lk] (rank >= 2; the leading dims are N = Π matrices of Lq x Lk)
///   key_padding [B, Lk], nonzero = padded key, or undefined for none. N must be a multiple of
///     B; matrix n belongs to batch row n / (N/B), i.e. the leading dims are laid out [B, h, ...]
///     as attention heads are ([B·h, Lq, Lk]). key_padding gets no gradient.
///   causal: key j is allowed for query i only when j <= i (top-left aligned, as PyTorch's
///     is_causal; for self-attention Lq = Lk).
/// -> scores' shape.  Backward: ds = scale · y ⊙ (g − Σⱼ gⱼyⱼ), which is 0 at masked keys and on
/// fully masked rows (y = 0 there). Each row is computed serially in a fixed order, rows in
/// parallel: bit-identical at any thread count.
Tensor masked_softmax(const Tensor& scores, const Tensor& key_padding, bool causal,
                      float scale = 1.f);

/// dropout(masked_softmax(scores, key_padding, causal, scale), p, training, gen) (ops/dropout.h)
/// in one pass per query row: the same values, gradients and draws from gen, bit for bit, but
/// the mask is applied only at the allowed keys (the weights elsewhere are 0 either way), and
/// no [N, Lq, Lk] pass of its own runs forward or backward. Causal self-attention's weights are
/// half zeros, which the separate dropout reads and writes. With training == false or p == 0
/// it is masked_softmax (gen is not advanced).
Tensor masked_softmax_dropout(const Tensor& scores, const Tensor& key_padding, bool causal,
                              float scale, float p, bool training, Generator& gen);

}  // namespace recgrad
