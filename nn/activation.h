#pragma once
// Activations as modules (no parameters), and an enum to choose one by value (MLP's option).
// Each forward is the op of the same name in ops/activation.h.
#include <string>

#include "autograd/tensor.h"
#include "nn/module.h"
#include "ops/activation.h"

namespace recgrad::nn {

/// An activation chosen by value.
enum class Activation { kIdentity, kRelu, kLeakyRelu, kGelu, kTanh, kSigmoid };

/// "Identity", "ReLU", "LeakyReLU", "GELU", "Tanh", "Sigmoid".
const char* activation_name(Activation a);

/// y = a(x) elementwise (leaky_relu with `leaky_slope`; gelu exact).  x [...] -> [...].
/// kIdentity returns x itself.
Tensor activate(Activation a, const Tensor& x, float leaky_slope = 0.01f);

/// y = max(x, 0).  x [...] -> [...]
class ReLU : public Module {
 public:
  Tensor forward(const Tensor& x) const { return relu(x); }
  std::string describe() const override { return "ReLU"; }
};

/// y = x for x > 0, slope·x otherwise.  x [...] -> [...]
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(float slope = 0.01f);
  Tensor forward(const Tensor& x) const { return leaky_relu(x, slope_); }
  std::string describe() const override;
  float slope() const { return slope_; }

 private:
  float slope_;
};

/// y = x·Φ(x) (or its tanh approximation).  x [...] -> [...]
class GELU : public Module {
 public:
  explicit GELU(GeluOptions opts = {}) : opts_(opts) {}
  Tensor forward(const Tensor& x) const { return gelu(x, opts_); }
  std::string describe() const override {
    return opts_.approximate_tanh ? "GELU(tanh)" : "GELU";
  }

 private:
  GeluOptions opts_;
};

/// y = tanh x.  x [...] -> [...]
class Tanh : public Module {
 public:
  Tensor forward(const Tensor& x) const { return tanh(x); }
  std::string describe() const override { return "Tanh"; }
};

/// y = 1/(1 + e^-x).  x [...] -> [...]
class Sigmoid : public Module {
 public:
  Tensor forward(const Tensor& x) const { return sigmoid(x); }
  std::string describe() const override { return "Sigmoid"; }
};

/// y = x (the same tensor).  x [...] -> [...]
class Identity : public Module {
 public:
  Tensor forward(const Tensor& x) const { return x; }
  std::string describe() const override { return "Identity"; }
};

}  // namespace recgrad::nn
