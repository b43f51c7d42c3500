#pragma once
// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
// following torch.optim.SGD exactly. Per parameter p with gradient g, at its step t = 1, 2, ...:
//
//   g ← g + λ·p                                   (weight_decay λ > 0)
//   if μ > 0 (momentum):
//     b ← g                       at t = 1        (the buffer starts as the gradient itself)
//     b ← μ·b + (1 − τ)·g         at t > 1        (dampening τ)
//     g ← g + μ·b   if nesterov,  else  g ← b
//   p ← p − lr·g
//
// Row-sparse gradients (embeddings):
//  - without momentum, only the touched rows are updated, by the same formula (weight decay
//    included, applied to touched rows only: a lazy L2). O(touched rows).
//  - with momentum the gradient is densified and the dense formula applied: the buffer of
//    every row decays every step, so a lazy version would change the math, and the update is
//    O(table) whatever we do. Use Adam/Adagrad (lazy) for large tables.
#include "optim/optimizer.h"

namespace recgrad::optim {

/// Hyperparameters of SGD (PyTorch's defaults).
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;      ///< μ >= 0 (0: plain SGD, no state)
  double dampening = 0;     ///< τ; must be 0 with nesterov
  double weight_decay = 0;  ///< λ, L2 added to the gradient
  bool nesterov = false;    ///< needs momentum > 0 and dampening = 0
};

/// p ← p − lr·(momentum-filtered g + λ·p).  State slot: "momentum_buffer" (when momentum > 0).
class SGD : public Optimizer {
 public:
  SGD(const NamedTensors& params, SGDOptions options = {});
  std::string describe() const override;
  const SGDOptions& options() const { return options_; }

 protected:
  void update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) override;
  void update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st,
                     const ParamGroup& group) override;

 private:
  SGDOptions options_;
};

}  // namespace recgrad::optim
