#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <ostream>

#include "autograd/generator.h"
#include "autograd/graph.h"

namespace recgrad {
namespace {

double project(const Tensor& y, const Tensor& r) {
  double acc = 0;
  for (int64_t i = 0; i < y.numel(); ++i)
    acc += static_cast<double>(y.data()[i]) * static_cast<double>(r.data()[i]);
  return acc;
}

std::string multi_index(const Shape& shape, int64_t flat) {
  std::vector<int64_t> idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return Shape(idx).str();
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const GradcheckResult& r) {
  return os << (r.ok ? "gradcheck passed" : r.message);
}

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& f,
                          const std::vector<Tensor>& inputs, GradcheckOptions opts) {
  std::vector<Tensor> xs;
  for (const Tensor& x : inputs) xs.push_back(x.clone().set_requires_grad(true));
  Generator gen(opts.seed);

  Tensor y = f(xs);
  const Tensor r = randn(y.shape(), gen);
  GradcheckResult result;
  if (!y.requires_grad()) {
    result.ok = false;
    result.message = "gradcheck: output " + y.shape().str() + " is not connected to any input";
    return result;
  }
  y.backward(r);

  for (size_t i = 0; i < xs.size(); ++i) {
    Tensor& x = xs[i];
    const Tensor analytic = x.grad();
    // Coordinates to check: all of them, or a fixed random sample on large inputs.
    std::vector<int64_t> coords(x.numel());
    std::iota(coords.begin(), coords.end(), 0);
    if (x.numel() > opts.max_coords) {
      for (int64_t j = 0; j < opts.max_coords; ++j)
        std::swap(coords[j], coords[j + gen.next_below(x.numel() - j)]);
      coords.resize(opts.max_coords);
    }
    for (int64_t c : coords) {
      float* p = x.data() + c;
      const float saved = *p;
      double plus, minus;
      {
        NoGradGuard no_grad;
        *p = saved + opts.eps;
        plus = project(f(xs), r);
        *p = saved - opts.eps;
        minus = project(f(xs), r);
        *p = saved;
      }
      const double numeric = (plus - minus) / (2.0 * opts.eps);
      const double got = analytic.defined() ? analytic.data()[c] : 0.0;
      if (!(std::abs(got - numeric) <= opts.atol + opts.rtol * std::abs(numeric))) {
        result.ok = false;
        result.message = detail::str_cat("gradcheck: input ", i, " of shape ", x.shape(),
                                         " at index ", multi_index(x.shape(), c), ": analytic ",
                                         got, " vs numeric ", numeric,
                                         analytic.defined() ? "" : " (no gradient reached it)");
        return result;
      }
    }
  }
  return result;
}

}  // namespace recgrad
