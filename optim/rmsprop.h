#pragma once
// RMSProp (Hinton, 2012; centered: Graves, 2013), following torch.optim.RMSprop. Per parameter
// p with gradient g, at each of its steps:
//
//   g ← g + λ·p                                  (weight_decay λ: L2)
//   a ← α·a + (1 − α)·g²                         (slot "square_avg")
//   centered:  ḡ ← α·ḡ + (1 − α)·g               (slot "grad_avg")
//              d = √(a − ḡ²) + ε
//   otherwise: d = √a + ε
//   μ > 0:     b ← μ·b + g / d,  p ← p − lr·b    (slot "momentum_buffer", starting at 0)
//   otherwise: p ← p − lr·g / d
//
// Row-sparse gradients are densified and the dense formula applied: a decays on every row at
// every step, so a lazy update would change the math (and the step is O(table) either way).
#include "optim/optimizer.h"

namespace recgrad::optim {

/// Hyperparameters of RMSProp (PyTorch's defaults).
struct RMSPropOptions {
  double lr = 1e-2;
  double alpha = 0.99;      ///< α in [0, 1): smoothing of the squared gradient
  double eps = 1e-8;        ///< ε, added after the square root
  double weight_decay = 0;  ///< λ: L2
  double momentum = 0;      ///< μ >= 0
  bool centered = false;    ///< normalise by the variance estimate a − ḡ² instead of a
};

/// RMSProp. State slots: "square_avg", then "momentum_buffer" (μ > 0), then "grad_avg"
/// (centered).
class RMSProp : public Optimizer {
 public:
  RMSProp(const NamedTensors& params, RMSPropOptions options = {});
  std::string describe() const override;
  const RMSPropOptions& options() const { return options_; }

 protected:
  void update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) override;

 private:
  RMSPropOptions options_;
};

}  // namespace recgrad::optim
