#pragma once
// Shared by the optimizer tests: fake ops that deliver a chosen gradient, a bit-exact tensor
// comparison, and the "steps against a double reference" check of the SGD, Adam, Adagrad and
// RMSProp tests.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include "autograd/graph.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace recgrad::testing {

/// Delivers `g` as the gradient of leaf `p` through a fake op, so the test controls it exactly.
inline void set_grad(const Tensor& p, const Tensor& g) {
  record("fake_grad", scalar(0.f), {p}, [g](const Tensor&, GradSink& s) { s.add(0, g.clone()); })
      .backward();
}

/// A fake embedding lookup: one row-sparse part per entry of `parts`, as an op would send them.
inline void set_sparse_grad(const Tensor& p, std::vector<RowSparseGrad> parts) {
  record("fake_lookup", scalar(0.f), {p}, [parts](const Tensor&, GradSink& s) {
    for (const RowSparseGrad& part : parts)
      s.add_sparse(0, RowSparseGrad{part.rows, part.values.clone()});
  }).backward();
}

/// Same shape and the same float bits in every element.
inline bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

/// The reference tests' parameter starts at kP0 (shape [2,3]); its gradient at step t (0-based)
/// is g = 0.5·p + (t + 1)·c, a function of the current parameter so that an error in one step
/// shows up in the next.
inline const std::vector<double> kC{0.3, -1.2, 2.0, -0.7, 0.05, 1.5};
inline const std::vector<double> kP0{1.0, -2.0, 0.5, 3.0, -0.25, 0.0};

/// Element i's gradient at step t (0-based) when the parameter's value is p.
inline double grad_of(double p, int t, size_t i) { return 0.5 * p + (t + 1) * kC[i]; }

/// Steps an optimizer on w = kP0 [2,3] with the gradient grad_of, `steps` times, and after step
/// t checks every element against reference(t) (the parameter after t steps, computed in double)
/// to a relative 1e-5. make_optimizer(const nn::NamedTensors&) returns the optimizer by value.
template <typename MakeOptimizer, typename Reference>
void check_steps(const MakeOptimizer& make_optimizer, const Reference& reference, int steps) {
  const size_t n = kP0.size();
  Tensor p = tensor({kP0.begin(), kP0.end()}, {2, 3}).set_requires_grad();
  auto opt = make_optimizer(nn::NamedTensors{{"w", p}});
  for (int t = 0; t < steps; ++t) {
    std::vector<float> g(n);
    for (size_t i = 0; i < n; ++i) g[i] = static_cast<float>(grad_of(p.data()[i], t, i));
    set_grad(p, tensor(g, {2, 3}));
    opt.step();
    opt.zero_grad();
    const std::vector<double> want = reference(t + 1);
    for (size_t i = 0; i < n; ++i)
      CHECK_MESSAGE(std::abs(p.data()[i] - want[i]) <= 1e-5 * (1 + std::abs(want[i])), "step ",
                    t + 1, " element ", i, ": ", p.data()[i], " vs ", want[i]);
  }
}

}  // namespace recgrad::testing
