#pragma once
// Layer normalisation as a module, over the fused op in ops/layer_norm.h.
#include <cstdint>
#include <string>

#include "autograd/tensor.h"
#include "nn/module.h"

namespace recgrad::nn {

struct LayerNormOptions {
  float eps = 1e-5f;   ///< added to the variance (>= 0)
  bool affine = true;  ///< learn a per-feature scale "weight" [D] (init 1) and shift "bias" [D] (init 0)
};

/// y = (x - μ)/√(var + eps) ⊙ w + b over the last dimension (biased var).  x [..., D] -> [..., D].
/// Deterministic initialisation (w = 1, b = 0), so no generator is taken.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, LayerNormOptions opts = {});
  /// x [..., D] -> [..., D]
  Tensor forward(const Tensor& x) const;
  /// "LayerNorm(64, eps=1e-05, affine)"
  std::string describe() const override;

  int64_t dim() const { return dim_; }
  /// w [D], undefined without affine.
  const Tensor& weight() const { return weight_; }
  /// b [D], undefined without affine.
  const Tensor& bias() const { return bias_; }

 private:
  int64_t dim_;
  LayerNormOptions opts_;
  Tensor weight_, bias_;
};

}  // namespace recgrad::nn
