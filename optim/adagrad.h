#pragma once
// Adagrad (Duchi et al., 2011), following torch.optim.Adagrad. Per parameter p with gradient
// g, at its step t = 1, 2, ...:
//
//   g ← g + λ·p                                  (weight_decay λ: L2)
//   clr = lr / (1 + (t − 1)·lr_decay)
//   s ← s + g²                                   (slot "sum", starting at initial_accumulator_value)
//   p ← p − clr · g / (√s + ε)
//
// Row-sparse gradients are applied lazily: only touched rows of p and s change (untouched rows
// keep their values bit for bit), clr uses the parameter's step count t, and the L2 term is
// added on touched rows only (PyTorch refuses weight decay with sparse gradients; we apply it
// where the gradient is). Since Adagrad's state does not decay, the lazy update is exactly the
// dense update restricted to the rows whose gradient is non-zero (apart from L2). O(touched rows).
#include "optim/optimizer.h"

namespace recgrad::optim {

/// Hyperparameters of Adagrad (PyTorch's defaults).
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;                   ///< clr = lr / (1 + (t − 1)·lr_decay)
  double weight_decay = 0;               ///< λ: L2
  double initial_accumulator_value = 0;  ///< s at the first step
  double eps = 1e-10;                    ///< ε, added after the square root
};

/// Adagrad. State slot: "sum".
class Adagrad : public Optimizer {
 public:
  Adagrad(const NamedTensors& params, AdagradOptions options = {});
  std::string describe() const override;
  const AdagradOptions& options() const { return options_; }

 protected:
  Tensor init_slot(size_t slot, const Tensor& p) const override;
  void update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) override;
  void update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st,
                     const ParamGroup& group) override;

 private:
  AdagradOptions options_;
};

}  // namespace recgrad::optim
