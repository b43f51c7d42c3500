#pragma once
// A multi-layer perceptron: Linear layers with an activation and dropout between them.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/activation.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/module.h"

namespace recgrad::nn {

struct MLPOptions {
  Activation activation = Activation::kRelu;
  float leaky_slope = 0.01f;      ///< slope of kLeakyRelu
  float dropout = 0.f;            ///< p of the dropout after each hidden activation, in [0, 1)
  bool final_activation = false;  ///< also apply the activation to the output layer
  bool bias = true;               ///< every Linear has a bias
};

/// sizes {s0, s1, ..., sk}:  h ← dropout(act(Linear(s_{i-1} -> s_i)(h))) for the hidden layers
/// i < k, then y = Linear(s_{k-1} -> s_k)(h), followed by act when final_activation (never by
/// dropout).  x [..., s0] -> [..., sk].
/// Submodules: the Linear layers "0", "1", ... (parameters "0.weight", "0.bias", ...) and,
/// when dropout > 0, one "dropout" module shared by every hidden layer.
class MLP : public Module {
 public:
  /// sizes: at least two, all positive. Linear layers are initialised in order from gen, then
  /// the dropout module's stream is drawn from it.
  MLP(const std::vector<int64_t>& sizes, Generator& gen, MLPOptions opts = {});
  /// x [..., s0] -> [..., sk]. Dropout is active only in training mode.
  Tensor forward(const Tensor& x);
  /// "MLP(64 -> 32 -> 1, ReLU, dropout=0.1)"
  std::string describe() const override;

  const std::vector<int64_t>& sizes() const { return sizes_; }
  /// The Linear layers in order.
  const std::vector<std::shared_ptr<Linear>>& layers() const { return layers_; }
  /// The dropout module, or null when built with dropout = 0.
  const std::shared_ptr<Dropout>& dropout_layer() const { return dropout_; }

 private:
  std::vector<int64_t> sizes_;
  MLPOptions opts_;
  std::vector<std::shared_ptr<Linear>> layers_;
  std::shared_ptr<Dropout> dropout_;  // null when opts_.dropout == 0
};

}  // namespace recgrad::nn
