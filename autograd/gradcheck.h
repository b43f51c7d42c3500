#pragma once
// Finite-difference gradient checking: recgrad's tests run it on every op and layer, and it is
// public so you can check the backward of an op you write yourself:
//
//   Tensor cube(const Tensor& x) {                      // y = x³, dy/dx = 3x²
//     Tensor out = mul(mul(x, x), x).detach();          // any forward, outside the graph
//     return record("cube", out, {x}, [x](const Tensor& g, GradSink& s) {
//       s.add(0, mul(g, mul(mul(x, x), 3.f)));
//     });
//   }
//   GradcheckResult r = gradcheck([](const std::vector<Tensor>& in) { return cube(in[0]); },
//                                 {randn({4, 3}, gen)});
//   if (!r) std::cerr << r << "\n";                     // names the input, index and values
//
// The output is reduced to a scalar L = Σ y·R with a fixed random projection R (a plain sum
// would give every output the same weight and miss transposed or permuted gradients). The
// analytic gradient is backward(R); the numeric one is (L(x+eps) - L(x-eps)) / 2eps per
// coordinate, with L accumulated in double. Large inputs are checked on a random sample of
// coordinates. Keep inputs away from kinks (relu at 0, abs at 0, clamp bounds) in the test.
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"

namespace recgrad {

struct GradcheckOptions {
  float eps = 5e-3f;             ///< perturbation (float32 ops: smaller eps drowns in rounding)
  double atol = 1e-2;            ///< pass when |analytic - numeric| <= atol + rtol·|numeric|
  double rtol = 1e-2;
  int64_t max_coords = 48;       ///< coordinates checked per input (all when the input is smaller)
  uint64_t seed = 1234;          ///< for the projection and the sampled coordinates
};

struct GradcheckResult {
  bool ok = true;
  std::string message;  ///< on failure: input, index, analytic and numeric values
  explicit operator bool() const { return ok; }
};

std::ostream& operator<<(std::ostream& os, const GradcheckResult& r);

/// Checks the gradients of f with respect to every input. The inputs are copied and marked
/// requires_grad; f must be deterministic (fix dropout seeds inside f).
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions opts = {});

}  // namespace recgrad
