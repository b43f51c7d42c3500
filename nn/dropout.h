#pragma once
// Dropout as a module: holds p and its own random stream, active only in training mode.
#include <string>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace recgrad::nn {

/// y = x·m/(1-p), m_i ~ Bernoulli(1-p), in training mode; y = x (the same tensor) in eval mode
/// or when p = 0.  x [...] -> [...].  See ops/dropout.h for the counter-based mask.
/// The module owns a Generator seeded from one draw of the constructor's generator, so two
/// modules built from the same generator state drop the same elements, call for call.
class Dropout : public Module {
 public:
  /// p in [0, 1).
  Dropout(float p, Generator& gen);
  /// Advances the module's generator by one draw per call in training mode (p > 0).
  Tensor forward(const Tensor& x);
  /// "Dropout(p=0.1)"
  std::string describe() const override;

  float p() const { return p_; }
  /// The module's stream (its state() can be saved to resume a run exactly).
  Generator& generator() { return gen_; }

 private:
  float p_;
  Generator gen_;
};

}  // namespace recgrad::nn
