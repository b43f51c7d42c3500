#pragma once
// Learned absolute position embeddings (as in SASRec and BERT4Rec): one trainable vector per
// position 0..max_len-1.
#include <cstdint>
#include <string>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace recgrad::nn {

struct PositionalEmbeddingOptions {
  /// P ~ N(0, init_std²). 1 is nn.Embedding's default (SASRec's reference code); BERT-style
  /// models use 0.02.
  float init_std = 1.f;
};

/// y[..., l, :] = x[..., l, :] + P[l, :] for positions l = 0..L-1.  x [..., L, d] -> same shape;
/// P [max_len, d] ("weight"). The gradient of P is dense, nonzero on rows < L.
class LearnedPositionalEmbedding : public Module {
 public:
  LearnedPositionalEmbedding(int64_t max_len, int64_t dim, Generator& gen,
                             PositionalEmbeddingOptions opts = {});
  /// x + P[0:L].  x [..., L, d] (rank >= 2, L <= max_len) -> same shape
  Tensor forward(const Tensor& x) const;
  /// P[0:L] (differentiable).  -> [L, d], L in [0, max_len]
  Tensor positions(int64_t length) const;
  /// "LearnedPositionalEmbedding(200 x 64)"
  std::string describe() const override;

  int64_t max_len() const { return max_len_; }
  int64_t dim() const { return dim_; }
  /// P [max_len, d].
  const Tensor& weight() const { return weight_; }

 private:
  int64_t max_len_, dim_;
  Tensor weight_;
};

}  // namespace recgrad::nn
