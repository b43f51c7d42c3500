#include "ops/linear.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/blas.h"
#include "ops/column_reduce.h"

namespace recgrad {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  RECGRAD_CHECK(weight.defined() && weight.dim() == 2, "linear: weight ",
                weight.defined() ? weight.shape().str() : "(undefined)",
                " must be 2-D [out, in]");
  RECGRAD_CHECK(x.dim() >= 1, "linear: input ", x.shape(), " x weight ", weight.shape(),
                ": the input needs a last dimension of size in = ", weight.size(1));
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  RECGRAD_CHECK(x.size(-1) == in_f, "linear: input ", x.shape(), " x weight ", weight.shape(),
                ": the input's last dimension ", x.size(-1), " differs from in_features ", in_f);
  RECGRAD_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == out_f), "linear: bias ",
                bias.defined() ? bias.shape().str() : "", " does not match weight ",
                weight.shape(), ": expected [", out_f, "]");
  int64_t m = 1;  // rows of x: every leading dimension
  for (int64_t dd = 0; dd + 1 < x.dim(); ++dd) m *= x.size(dd);
  Shape out_shape = x.shape();
  out_shape.back() = out_f;
  Tensor out = Tensor::empty(out_shape);
  {
    float* po = out.data();
    float beta = 0.f;
    if (!bias.defined() && in_f == 0) std::fill(po, po + out.numel(), 0.f);  // an empty sum
    if (bias.defined()) {
      // Every row of y starts as b and sgemm adds x·Wᵀ onto it (beta = 1): the bias costs one
      // write pass, not a separate read-modify-write pass after the product.
      const float* pb = bias.data();
      detail::parallel_for(m, std::max<int64_t>(1, detail::kGrainCheap / std::max<int64_t>(out_f, 1)),
                           [&](int64_t lo, int64_t hi) {
                             for (int64_t r = lo; r < hi; ++r)
                               std::memcpy(po + r * out_f, pb, sizeof(float) * out_f);
                           });
      beta = 1.f;
    }
    // y[m,out] = x[m,in]·W[out,in]ᵀ: W enters transposed through the flag.
    if (m > 0 && out_f > 0 && in_f > 0)
      detail::sgemm(false, true, m, out_f, in_f, 1.f, x.data(), in_f, weight.data(), in_f, beta,
                    po, out_f);
  }

  return record("linear", out, {x, weight, bias},
                [x, weight, m, in_f, out_f](const Tensor& dy, GradSink& g) {
                  const float* pdy = dy.data();
                  if (m == 0 || out_f == 0) return;
                  // dx[m,in] += dy[m,out]·W[out,in]
                  if (g.wants(0) && in_f > 0)
                    detail::sgemm(false, false, m, in_f, out_f, 1.f, pdy, out_f, weight.data(),
                                  in_f, 1.f, g.dense(0).data(), in_f);
                  // dW[out,in] += dy[m,out]ᵀ·x[m,in]: dy enters transposed through the flag.
                  if (g.wants(1) && in_f > 0)
                    detail::sgemm(true, false, out_f, in_f, m, 1.f, pdy, out_f, x.data(), in_f,
                                  1.f, g.dense(1).data(), in_f);
                  // db[out] += Σ_rows dy: rows in fixed chunks, partial sums in double
                  // combined in chunk order.
                  if (g.wants(2)) {
                    const std::vector<double> total = detail::column_reduce(
                        m, out_f, out_f, [&](int64_t r0, int64_t r1, double* acc) {
                          for (int64_t r = r0; r < r1; ++r)
                            detail::add_row(acc, pdy + r * out_f, out_f);
                        });
                    float* db = g.dense(2).data();
                    for (int64_t j = 0; j < out_f; ++j) db[j] += static_cast<float>(total[j]);
                  }
                });
}

}  // namespace recgrad
