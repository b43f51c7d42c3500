#pragma once
// A fully connected layer over the fused linear op (ops/linear.h).
#include <cstdint>
#include <string>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace recgrad::nn {

struct LinearOptions {
  bool bias = true;  ///< add a learned bias b [out]
};

/// y = x·Wᵀ + b.  x [..., in] -> y [..., out];  W [out,in], b [out].
/// Initialised as PyTorch's nn.Linear: W ~ kaiming_uniform(a = √5) = U(-1/√in, 1/√in),
/// b ~ U(-1/√in, 1/√in). Parameters: "weight", "bias" (when opts.bias).
class Linear : public Module {
 public:
  Linear(int64_t in, int64_t out, Generator& gen, LinearOptions opts = {});
  /// y = x·Wᵀ + b.  x [..., in] -> [..., out]
  Tensor forward(const Tensor& x) const;
  /// "Linear(64 -> 32, bias)"
  std::string describe() const override;

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  /// W [out, in] (the registered parameter's handle).
  const Tensor& weight() const { return weight_; }
  /// b [out], undefined when built without bias.
  const Tensor& bias() const { return bias_; }

 private:
  int64_t in_, out_;
  Tensor weight_, bias_;
};

}  // namespace recgrad::nn
