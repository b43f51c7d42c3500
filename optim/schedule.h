#pragma once
// Learning-rate schedules and gradient clipping.
//
// A Schedule is a pure function lr(step, base_lr): no hidden state, so a run resumed from a
// checkpoint gets the same lr by passing the restored optimizer's steps(). apply() sets each
// group's lr from that group's initial_lr (its lr when formed), so groups keep their ratios:
//
//   Schedule sched = linear_warmup(100, cosine_lr(10'000, /*min_lr=*/1e-5));
//   for (...) {
//     sched.apply(opt, opt.steps());   // lr for the step about to be taken (0-based)
//     loss.backward();
//     clip_grad_norm(opt.named_parameters(), 5.0);
//     opt.step(); opt.zero_grad();
//   }
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "optim/optimizer.h"

namespace recgrad::optim {

/// lr as a function of the 0-based step index and the group's base lr.
class Schedule {
 public:
  using Fn = std::function<double(int64_t step, double base_lr)>;
  Schedule(std::string description, Fn fn);

  /// The lr at `step` (>= 0) for a group whose base lr is `base_lr`.
  double operator()(int64_t step, double base_lr) const;
  /// For every group: lr = (*this)(step, group.initial_lr).
  void apply(Optimizer& opt, int64_t step) const;
  /// e.g. "linear_warmup(100, then cosine_lr(10000, min_lr=1e-05))".
  const std::string& describe() const { return description_; }

 private:
  std::string description_;
  Fn fn_;
};

/// lr = base.
Schedule constant_lr();
/// lr = base · γ^⌊step / step_size⌋  (torch StepLR).  step_size >= 1, γ >= 0.
Schedule step_lr(int64_t step_size, double gamma);
/// lr = base · γ^step  (torch ExponentialLR).  γ >= 0.
Schedule exponential_lr(double gamma);
/// lr = min_lr + (base − min_lr)·(1 + cos(π·min(step, T)/T))/2  (torch CosineAnnealingLR,
/// closed form): base at step 0, min_lr from step T = total_steps (>= 1) on.
Schedule cosine_lr(int64_t total_steps, double min_lr = 0);
/// lr = base·(step + 1)/W for step < W = warmup_steps (so the first step does not waste an lr of
/// 0, and step W − 1 reaches base), then `then`(step − W, base): warmup and the following
/// schedule's own clock starts at 0 when warmup ends.  W >= 1.
Schedule linear_warmup(int64_t warmup_steps, Schedule then = constant_lr());

/// Scales every gradient by max_norm / (‖g‖ + 1e-6) when the global L2 norm
/// ‖g‖ = √(Σ over params of Σ g²) exceeds max_norm (torch.nn.utils.clip_grad_norm_), and returns
/// ‖g‖ before clipping. Dense and row-sparse gradients both count (a sparse gradient's rows are
/// coalesced first, so duplicates sum before squaring); parameters without a gradient are
/// skipped, and a tensor listed twice counts once. Sums run in double over fixed chunks, so the norm does not depend on the thread
/// count. Dense gradients are scaled in place; sparse parts are replaced by scaled copies
/// (O(touched rows)), since their values may be shared with the op that produced them.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);
/// Same, over named parameters (e.g. Optimizer::named_parameters()).
double clip_grad_norm(const NamedTensors& params, double max_norm);

/// The global L2 norm of the gradients, as clip_grad_norm computes it, without clipping.
double grad_norm(const std::vector<Tensor>& params);

}  // namespace recgrad::optim
