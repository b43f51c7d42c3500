#include "optim/schedule.h"

#include <cmath>
#include <set>
#include <sstream>

#include "autograd/error.h"
#include "autograd/parallel.h"
#include "ops/reduce.h"

namespace recgrad::optim {

namespace {

std::string num(double x) {
  std::ostringstream os;
  os << x;
  return os.str();
}

}  // namespace

Schedule::Schedule(std::string description, Fn fn)
    : description_(std::move(description)), fn_(std::move(fn)) {}

double Schedule::operator()(int64_t step, double base_lr) const {
  RECGRAD_CHECK(step >= 0, description_, ": step ", step, " is negative");
  return fn_(step, base_lr);
}

void Schedule::apply(Optimizer& opt, int64_t step) const {
  // Compute every lr first so a throwing schedule leaves the optimizer as it was.
  std::vector<double> lrs;
  for (const ParamGroup& g : opt.groups()) lrs.push_back((*this)(step, g.initial_lr));
  size_t k = 0;
  for (const ParamGroup& g : opt.groups()) opt.group(g.name).lr = lrs[k++];
}

Schedule constant_lr() {
  return Schedule("constant_lr", [](int64_t, double base) { return base; });
}

Schedule step_lr(int64_t step_size, double gamma) {
  RECGRAD_CHECK(step_size >= 1, "step_lr: step_size = ", step_size, " must be >= 1");
  RECGRAD_CHECK(std::isfinite(gamma) && gamma >= 0, "step_lr: gamma = ", gamma, " must be >= 0");
  return Schedule("step_lr(" + std::to_string(step_size) + ", gamma=" + num(gamma) + ")",
                  [step_size, gamma](int64_t step, double base) {
                    return base * std::pow(gamma, static_cast<double>(step / step_size));
                  });
}

Schedule exponential_lr(double gamma) {
  RECGRAD_CHECK(std::isfinite(gamma) && gamma >= 0, "exponential_lr: gamma = ", gamma,
                " must be >= 0");
  return Schedule("exponential_lr(gamma=" + num(gamma) + ")", [gamma](int64_t step, double base) {
    return base * std::pow(gamma, static_cast<double>(step));
  });
}

Schedule cosine_lr(int64_t total_steps, double min_lr) {
  RECGRAD_CHECK(total_steps >= 1, "cosine_lr: total_steps = ", total_steps, " must be >= 1");
  RECGRAD_CHECK(std::isfinite(min_lr) && min_lr >= 0, "cosine_lr: min_lr = ", min_lr,
                " must be >= 0");
  return Schedule("cosine_lr(" + std::to_string(total_steps) + ", min_lr=" + num(min_lr) + ")",
                  [total_steps, min_lr](int64_t step, double base) {
                    const double pi = std::acos(-1.0);
                    const double frac =
                        static_cast<double>(std::min(step, total_steps)) / static_cast<double>(total_steps);
                    return min_lr + (base - min_lr) * (1 + std::cos(pi * frac)) / 2;
                  });
}

Schedule linear_warmup(int64_t warmup_steps, Schedule then) {
  RECGRAD_CHECK(warmup_steps >= 1, "linear_warmup: warmup_steps = ", warmup_steps, " must be >= 1");
  const std::string description =
      "linear_warmup(" + std::to_string(warmup_steps) + ", then " + then.describe() + ")";
  return Schedule(description, [warmup_steps, then = std::move(then)](int64_t step, double base) {
    if (step < warmup_steps)
      return base * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
    return then(step - warmup_steps, base);
  });
}

// ---------------------------------------------------------------------------------------------
// Gradient clipping

namespace {

// Σ x² over n floats in double, over fixed chunks (deterministic at any thread count).
double sum_squares(const float* x, int64_t n) {
  return recgrad::detail::chunked_reduce(
      n, recgrad::detail::kGrainCheap, 0.0,
      [x](int64_t b, int64_t e) {
        return recgrad::detail::lane_sum(b, e, [x](int64_t k) {
          const double v = x[k];
          return v * v;
        });
      },
      [](double a, double b) { return a + b; });
}

void scale_in_place(float* x, int64_t n, float s) {
  recgrad::detail::parallel_for(n, recgrad::detail::kGrainCheap, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[i] *= s;
  });
}

// The defined tensors of `params`, each once (a tied weight listed twice counts once and is
// scaled once), in the order given.
std::vector<Tensor> unique_defined(const std::vector<Tensor>& params) {
  std::vector<Tensor> out;
  std::set<const TensorImpl*> seen;
  for (const Tensor& p : params)
    if (p.defined() && seen.insert(p.impl()).second) out.push_back(p);
  return out;
}

}  // namespace

double grad_norm(const std::vector<Tensor>& params) {
  double total = 0;  // summed over parameters in the order given
  for (const Tensor& p : unique_defined(params)) {
    if (p.has_sparse_grad()) {
      const RowSparseGrad g = detail::coalesced_sparse_grad(p);
      total += sum_squares(g.values.data(), g.values.numel());
    } else if (Tensor g = p.grad(); g.defined()) {  // dense, or dense + sparse parts densified
      total += sum_squares(g.data(), g.numel());
    }
  }
  return std::sqrt(total);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  RECGRAD_CHECK(std::isfinite(max_norm) && max_norm > 0, "clip_grad_norm: max_norm = ", max_norm,
                " must be finite and > 0");
  const double norm = grad_norm(params);
  const double coef = max_norm / (norm + 1e-6);
  if (!(coef < 1)) return norm;  // within bounds, or a non-finite norm: leave gradients alone
  const float s = static_cast<float>(coef);
  for (const Tensor& p : unique_defined(params)) {
    TensorImpl& t = *p.impl();
    // The accumulated dense gradient belongs to the leaf alone (autograd copies shared buffers
    // before adopting them), so it is scaled in place.
    if (t.grad_dense.defined()) scale_in_place(t.grad_dense.data(), t.grad_dense.numel(), s);
    for (RowSparseGrad& part : t.grad_sparse) {
      Tensor scaled = part.values.clone();
      scale_in_place(scaled.data(), scaled.numel(), s);
      part.values = scaled;
    }
  }
  return norm;
}

double clip_grad_norm(const NamedTensors& params, double max_norm) {
  std::vector<Tensor> tensors;
  for (const auto& [name, t] : params) tensors.push_back(t);
  return clip_grad_norm(tensors, max_norm);
}

}  // namespace recgrad::optim
