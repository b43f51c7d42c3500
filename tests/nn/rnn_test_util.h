#pragma once
// Test helpers shared by the GRU and LSTM tests: named parameter access, deterministic values,
// and gradcheck's method applied to a module's own parameters.
#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "autograd/tensor.h"
#include "nn/module.h"
#include "ops/shape.h"

namespace recgrad::rnn_test {

/// The module's parameter called `name` (a shared handle: writes are visible to the module).
inline Tensor param(const nn::Module& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p;
  throw std::runtime_error("no parameter " + name);
}

/// Fills every parameter with small distinct values from a fixed formula (no RNG involved), so
/// a reference can be written against known weights.
inline void set_known_parameters(nn::Module& m) {
  int64_t k = 0;
  for (auto& [name, p] : m.named_parameters()) {
    for (int64_t i = 0; i < p.numel(); ++i, ++k)
      p.data()[i] = 0.07f * static_cast<float>((k * 37 + 11) % 23) - 0.75f;
  }
}

/// Output and final states flattened into one vector, so one check covers all of them.
inline Tensor flat_concat(const std::vector<Tensor>& ts) {
  std::vector<Tensor> flat;
  for (const Tensor& t : ts) flat.push_back(reshape(t, {-1}));
  return concat(flat, 0);
}

/// Gradcheck's method for a module's own parameters: L = Σ f()·R with a fixed random R; the
/// analytic gradient comes from backward(R), the numeric one from central differences of L
/// (accumulated in double) on every coordinate of every parameter.
inline GradcheckResult check_parameter_grads(nn::Module& m, const std::function<Tensor()>& f,
                                             GradcheckOptions opts = {}) {
  Generator gen(opts.seed);
  m.zero_grad();
  const Tensor y = f();
  const Tensor r = randn(y.shape(), gen);
  y.backward(r);
  auto project = [&](const Tensor& out) {
    double acc = 0;
    for (int64_t i = 0; i < out.numel(); ++i)
      acc += static_cast<double>(out.data()[i]) * static_cast<double>(r.data()[i]);
    return acc;
  };
  GradcheckResult result;
  for (auto& [name, p] : m.named_parameters()) {
    const Tensor analytic = p.grad();
    for (int64_t c = 0; c < p.numel(); ++c) {
      float* v = p.data() + c;
      const float saved = *v;
      double plus, minus;
      {
        NoGradGuard no_grad;
        *v = saved + opts.eps;
        plus = project(f());
        *v = saved - opts.eps;
        minus = project(f());
        *v = saved;
      }
      const double numeric = (plus - minus) / (2.0 * opts.eps);
      const double got = analytic.defined() ? analytic.data()[c] : 0.0;
      if (!(std::abs(got - numeric) <= opts.atol + opts.rtol * std::abs(numeric))) {
        result.ok = false;
        result.message = detail::str_cat("parameter ", name, " at flat index ", c,
                                         ": analytic ", got, " vs numeric ", numeric);
        m.zero_grad();
        return result;
      }
    }
  }
  m.zero_grad();
  return result;
}

/// Bitwise equality of two tensors (shape and every float's bits via ==, NaN never equal).
inline bool same(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape()) return false;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!(a.data()[i] == b.data()[i])) return false;
  return true;
}

/// Largest |a − b| against a reference in double.
inline double max_abs_diff(const Tensor& a, const std::vector<double>& ref) {
  double worst = a.numel() == static_cast<int64_t>(ref.size()) ? 0.0 : INFINITY;
  for (int64_t i = 0; i < a.numel() && i < static_cast<int64_t>(ref.size()); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(a.data()[i]) - ref[i]));
  return worst;
}

}  // namespace recgrad::rnn_test
