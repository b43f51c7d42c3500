#pragma once
// Optimizer: the base of SGD, Adam, AdamW, Adagrad and RMSProp. It owns named parameters split
// into groups (each with its own lr and weight decay) and per-parameter state keyed by the
// parameter's NAME, so a checkpoint written by one run loads into another whatever the order in
// which the parameters were collected.
//
//   AdamOptions o;
//   o.lr = 1e-3, o.weight_decay = 1e-5;
//   Adam opt(model.named_parameters(), o);
//   GroupOptions no_decay;
//   no_decay.weight_decay = 0;                       // same lr, no weight decay
//   opt.add_group("embeddings", [](const std::string& n) { return n.rfind("emb.", 0) == 0; },
//                 no_decay);
//   for (...) { loss.backward(); opt.step(); opt.zero_grad(); }
//
// A step visits every parameter that has a gradient; parameters without one (unused this step,
// frozen) are skipped entirely: their state and their per-parameter step count stay as they are
// (as in PyTorch). A row-sparse gradient (Tensor::has_sparse_grad(), e.g. from an embedding)
// goes to the optimizer's sparse update: Adam, AdamW, Adagrad and SGD without momentum update
// only the touched rows (see each header); the others densify it.
//
// Updates run in float32 with hyperparameter coefficients computed in double once per step,
// under NoGradGuard, in parallel over elements (dense) or touched rows (sparse). Each element is
// written by one task, so results do not depend on the thread count.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/parallel.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace recgrad::optim {

using nn::NamedTensors;

/// Parameters that share a learning rate and a weight decay.
struct ParamGroup {
  std::string name;
  NamedTensors params;
  double lr = 0;
  double weight_decay = 0;
  /// lr when the group was formed: the base value schedules scale (see schedule.h).
  double initial_lr = 0;
};

/// Hyperparameters of a new group; unset fields inherit the default group's values.
struct GroupOptions {
  std::optional<double> lr;
  std::optional<double> weight_decay;
};

/// An optimizer's state by name, for checkpoints.
///   tensors:  "<param>.<slot>", e.g. "encoder.weight.exp_avg" (shaped like the parameter), for
///             every parameter that has taken at least one step.
///   counters: "steps" (step() calls so far) and "<param>.step" (steps that updated <param>).
/// Hyperparameters (lr, betas, weight decay, groups) are not state: they come from the code
/// that builds the optimizer, and schedules recompute lr from steps().
struct OptimizerState {
  NamedTensors tensors;
  std::vector<std::pair<std::string, int64_t>> counters;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  /// One update of every parameter that has a gradient, then steps() += 1. With check_finite
  /// on, every gradient is scanned first and a NaN/inf throws NonFiniteError naming the
  /// parameter before any parameter changes.
  void step();
  /// Forgets the gradients of every parameter (Tensor::zero_grad).
  void zero_grad();

  /// Whether step() refuses non-finite gradients (off by default; the trainer turns it on).
  /// Costs one read of each gradient per step (of the touched rows, for row-sparse ones).
  void set_check_finite(bool on) { check_finite_ = on; }
  bool check_finite() const { return check_finite_; }

  /// lr of the default group (the first group).
  double lr() const { return groups_.front().lr; }
  /// Sets lr of every group (use group(name).lr for one group).
  void set_lr(double lr);
  /// step() calls so far (restored by load_state): the step index schedules read.
  int64_t steps() const { return steps_; }

  /// Moves the parameters whose name satisfies `select` out of their current group into a new
  /// group `name`. Throws when the name is taken or nothing matches (a typo would otherwise
  /// silently leave the parameters in the default group).
  ParamGroup& add_group(const std::string& name, const std::function<bool(const std::string&)>& select,
                        GroupOptions options = {});
  /// Same, with an explicit list of parameter names (each must exist).
  ParamGroup& add_group(const std::string& name, const std::vector<std::string>& param_names,
                        GroupOptions options = {});
  /// Groups in creation order; the first is "default" (it may become empty).
  const std::vector<ParamGroup>& groups() const { return groups_; }
  /// The group called `name`; throws when there is none.
  ParamGroup& group(const std::string& name);
  /// Every parameter, group by group.
  NamedTensors named_parameters() const;

  /// e.g. "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0)".
  virtual std::string describe() const = 0;

  /// The state by parameter name. Like Module::state(), the tensors are the live handles (no
  /// copy: a checkpoint writes them at once); clone them to keep a snapshot across steps.
  OptimizerState state() const;
  /// Throws what load_state would throw for `s`, changing nothing: names that match no
  /// parameter or slot ("unexpected"), a parameter with a step count but no slot tensor or the
  /// reverse ("missing"), shape mismatches, duplicates, negative counts, no "steps" counter.
  void check_state(const OptimizerState& s) const;
  /// Replaces the whole state by `s` (after check_state); parameters absent from `s` start
  /// fresh. Adopts the tensors of `s` without copying: pass clones if `s` stays in use.
  void load_state(const OptimizerState& s);

 protected:
  /// State of one parameter: the steps that updated it, and one tensor per slot name.
  struct ParamState {
    int64_t step = 0;
    std::vector<Tensor> slots;
  };

  /// `kind` names the optimizer in messages ("Adam"); `slot_names` its per-parameter tensors.
  /// A tensor listed twice (a tied weight) is updated once, under its first name; an empty
  /// list, undefined tensors, empty and duplicate names are rejected.
  Optimizer(const char* kind, const NamedTensors& params, double lr, double weight_decay,
            std::vector<std::string> slot_names);

  /// Initial value of slot `slot` for parameter `p` (zeros unless overridden).
  virtual Tensor init_slot(size_t slot, const Tensor& p) const;
  /// Dense update of `p` by gradient `g` (same shape); `st.step` already counts this step.
  virtual void update_dense(Tensor& p, const Tensor& g, ParamState& st, const ParamGroup& group) = 0;
  /// Row-sparse update: `g.rows` unique and sorted, `g.values` [rows, row shape...]. The
  /// default densifies `g` and calls update_dense (right for optimizers whose state decays
  /// every row every step, where a lazy update would change the math).
  virtual void update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st,
                             const ParamGroup& group);

  /// Throws naming the optimizer unless lo <= value (and value < hi when hi is given).
  void check_option(const char* option, double value, double lo,
                    std::optional<double> hi = std::nullopt) const;
  const char* kind() const { return kind_; }

 private:
  void check_group_options(const std::string& group, double lr, double weight_decay) const;
  ParamGroup& form_group(const std::string& name, const std::vector<bool>& take, GroupOptions options);
  const Tensor* find_param(const std::string& name) const;
  void check_gradients_finite() const;

  const char* kind_;
  std::vector<std::string> slot_names_;
  std::vector<ParamGroup> groups_;
  std::map<std::string, ParamState> state_;  // by parameter name
  int64_t steps_ = 0;
  bool check_finite_ = false;
};

}  // namespace recgrad::optim

// Internals shared between files; every package keeps them in recgrad::detail (a nested
// `detail` would hide recgrad::detail from code in the package).
namespace recgrad::detail {

/// The leaf's row-sparse gradient, coalesced (rows strictly increasing, duplicates summed).
/// Tensor::sparse_grad() already coalesces; this re-checks, since one op adding a single
/// unsorted part is passed through by autograd as it came.
RowSparseGrad coalesced_sparse_grad(const Tensor& p);

/// Elements per row of a [rows, ...] tensor (1 for rank <= 1).
inline int64_t row_width(const Tensor& p) {
  return p.dim() == 0 || p.size(0) == 0 ? 1 : p.numel() / p.size(0);
}

/// body(p_off, g_off, n) over a dense update: contiguous spans of all elements (the same
/// offset in parameter, gradient and state), in parallel; `grain` is elements per task.
template <typename Body>
void for_dense_spans(int64_t numel, int64_t grain, const Body& body) {
  recgrad::detail::parallel_for(numel, grain, [&](int64_t b, int64_t e) { body(b, b, e - b); });
}

/// body(p_off, g_off, n) over a sparse update: for each touched row k, the row's span in the
/// parameter and its state (rows[k]·width) and in the gradient values (k·width). Parallel over
/// rows, which are unique, so tasks write disjoint memory; O(touched rows), never O(table).
template <typename Body>
void for_sparse_rows(const RowSparseGrad& g, int64_t width, int64_t grain, const Body& body) {
  const int64_t n = static_cast<int64_t>(g.rows.size());
  recgrad::detail::parallel_for(n, std::max<int64_t>(1, grain / width), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) body(g.rows[k] * width, k * width, width);
  });
}

}  // namespace recgrad::detail

