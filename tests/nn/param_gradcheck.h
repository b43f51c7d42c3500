#pragma once
// Gradient checks of a module's parameters (tests only). recgrad::gradcheck perturbs copies of
// its inputs, which a module's own parameters cannot be; this perturbs the parameters in place
// (restoring each value) and compares with the gradient backward left on them, reducing the
// output with a fixed random projection exactly as gradcheck does.
#include <cmath>
#include <functional>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "nn/module.h"

namespace recgrad::testing {

/// Checks d(Σ f()·R)/dθ for every parameter θ of `m` (sampled coordinates on large ones) by
/// central differences. f must be deterministic and build its output from m's parameters.
inline GradcheckResult gradcheck_parameters(nn::Module& m, const std::function<Tensor()>& f,
                                            GradcheckOptions opts = {}) {
  GradcheckResult result;
  Generator gen(opts.seed);
  m.zero_grad();
  const Tensor y = f();
  const Tensor r = randn(y.shape(), gen);
  auto project = [&](const Tensor& out) {
    double acc = 0;
    for (int64_t i = 0; i < out.numel(); ++i)
      acc += static_cast<double>(out.data()[i]) * static_cast<double>(r.data()[i]);
    return acc;
  };
  y.backward(r);
  for (auto& [name, p] : m.named_parameters()) {
    const Tensor analytic = p.grad();
    std::vector<int64_t> coords(p.numel());
    std::iota(coords.begin(), coords.end(), 0);
    if (p.numel() > opts.max_coords) {
      for (int64_t j = 0; j < opts.max_coords; ++j)
        std::swap(coords[j], coords[j + gen.next_below(p.numel() - j)]);
      coords.resize(opts.max_coords);
    }
    Tensor handle = p;
    for (int64_t c : coords) {
      float* v = handle.data() + c;
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
        result.message = detail::str_cat("gradcheck_parameters: parameter '", name, "' ",
                                         p.shape(), " at flat index ", c, ": analytic ", got,
                                         " vs numeric ", numeric);
        return result;
      }
    }
  }
  m.zero_grad();
  return result;
}

}  // namespace recgrad::testing
