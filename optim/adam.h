#pragma once
// Adam (Kingma & Ba, 2015) and AdamW (Loshchilov & Hutter, 2019), following torch.optim.Adam
// and torch.optim.AdamW (amsgrad off). Per parameter p with gradient g, at its step t = 1, 2, ...:
//
//   Adam:   g ← g + λ·p                       (weight_decay λ: L2, folded into the gradient)
//   AdamW:  p ← p·(1 − lr·λ)                  (decoupled decay, before the update)
//   m ← β₁·m + (1 − β₁)·g                     (slot "exp_avg")
//   v ← β₂·v + (1 − β₂)·g²                    (slot "exp_avg_sq")
//   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
//
// The bias corrections are computed in double once per step; the update runs in float32.
//
// Row-sparse gradients (embedding tables) are applied lazily, like torch.optim.SparseAdam:
//  - only the touched rows of p, m and v change; untouched rows keep their values bit for bit
//    (their moments are NOT decayed, unlike a dense step with a zero gradient there);
//  - t is the parameter's step count (steps in which the parameter had a gradient), shared by
//    all rows: a row touched for the first time at t = 100 gets bias corrections for t = 100;
//  - weight decay is lazy too: Adam's L2 term and AdamW's decay reach touched rows only
//    (SparseAdam has no weight decay; we apply it where the gradient is);
//  - the cost is O(touched rows · row width), in parallel over rows.
// When every row is touched, a sparse step equals the dense step bit for bit.
#include "optim/optimizer.h"

namespace recgrad::optim {

/// Hyperparameters of Adam (PyTorch's defaults).
struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;       ///< β₁ in [0, 1)
  double beta2 = 0.999;     ///< β₂ in [0, 1)
  double eps = 1e-8;        ///< ε >= 0, added after the bias-corrected square root
  double weight_decay = 0;  ///< λ: L2 (Adam)
};

/// AdamW's options: as Adam's, with PyTorch's default decoupled weight decay 1e-2.
struct AdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;  ///< λ: decoupled, p ← p·(1 − lr·λ)
};

/// Adam with L2 weight decay. State slots: "exp_avg", "exp_avg_sq".
class Adam : public Optimizer {
 public:
  Adam(const NamedTensors& params, AdamOptions options = {});
  std::string describe() const override;
  const AdamOptions& options() const { return options_; }

 protected:
  Adam(const char* kind, const NamedTensors& params, AdamOptions options, bool decoupled);
  void update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) override;
  void update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st,
                     const ParamGroup& group) override;

 private:
  AdamOptions options_;
  bool decoupled_;  // AdamW
};

/// Adam with decoupled weight decay. State slots: "exp_avg", "exp_avg_sq".
class AdamW : public Adam {
 public:
  AdamW(const NamedTensors& params, AdamWOptions options = {});
};

}  // namespace recgrad::optim
