#include "ops/layer_norm.h"

#include <cmath>
#include <utility>
#include <vector>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/column_reduce.h"
#include "ops/reduce.h"

namespace recgrad {
namespace {

void check_affine(const char* name, const Tensor& t, const Tensor& x, int64_t d) {
  RECGRAD_CHECK(!t.defined() || (t.dim() == 1 && t.size(0) == d), "layer_norm: ", name, " ",
                t.shape(), " does not match input ", x.shape(), ": expected [", d, "]");
}

// Rows per task: a row costs ~4 passes over D elements.
int64_t row_grain(int64_t d) { return detail::items_per_task(d, detail::kGrainExpensive); }

}  // namespace

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps) {
  RECGRAD_CHECK(x.dim() >= 1 && x.size(-1) >= 1, "layer_norm: input ", x.shape(),
                " must have a non-empty last dimension to normalise over");
  RECGRAD_CHECK(eps >= 0.f, "layer_norm: eps ", eps, " for input ", x.shape(), " is negative");
  const int64_t d = x.size(-1), rows = x.numel() / d;
  check_affine("weight", weight, x, d);
  check_affine("bias", bias, x, d);

  // mean and rstd per row are saved: backward needs x̂ and ρ, and recomputing them from x
  // costs two more passes over the input.
  std::vector<float> mean(static_cast<size_t>(rows)), rstd(static_cast<size_t>(rows));
  Tensor out = Tensor::empty(x.shape());
  {
    const float* px = x.data();
    const float* pw = weight.defined() ? weight.data() : nullptr;
    const float* pb = bias.defined() ? bias.data() : nullptr;
    float* po = out.data();
    detail::parallel_for(rows, row_grain(d), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const float* xr = px + r * d;
        // Two passes (mean, then Σ(x - μ)²) in double: the one-pass E[x²] - μ² form loses
        // every digit when |μ| ≫ std.
        const double mu = detail::lane_sum(0, d, [&](int64_t j) { return xr[j]; }) / d;
        const double var = detail::lane_sum(0, d, [&](int64_t j) {
                             const double c = xr[j] - mu;
                             return c * c;
                           }) / d;
        const float m = static_cast<float>(mu);
        const float s = static_cast<float>(1.0 / std::sqrt(var + eps));
        mean[r] = m;
        rstd[r] = s;
        float* yr = po + r * d;
        for (int64_t j = 0; j < d; ++j) yr[j] = (xr[j] - m) * s;
        if (pw)
          for (int64_t j = 0; j < d; ++j) yr[j] *= pw[j];
        if (pb)
          for (int64_t j = 0; j < d; ++j) yr[j] += pb[j];
      }
    });
  }

  // Backward in one pass over the rows: each row's dx from two row sums, and the row's
  // contribution to dweight (dy ⊙ x̂) and dbias (dy) into its chunk's accumulator.
  return record(
      "layer_norm", out, {x, weight, bias},
      [x, weight, d, rows, mean = std::move(mean), rstd = std::move(rstd)](const Tensor& dy,
                                                                           GradSink& g) {
        const bool want_x = g.wants(0), want_w = g.wants(1), want_b = g.wants(2);
        const float* px = x.data();
        const float* pw = weight.defined() ? weight.data() : nullptr;
        const float* pdy = dy.data();
        Tensor dx;
        float* pdx = nullptr;
        if (want_x) {
          dx = Tensor::empty(x.shape());
          pdx = dx.data();
        }
        // Accumulator layout per chunk: [0, d) dweight, [d, 2d) dbias.
        const int64_t n_acc = (want_w || want_b) ? 2 * d : 0;
        const float inv_d = 1.f / static_cast<float>(d);
        auto body = [&](int64_t r0, int64_t r1, double* acc) {
          std::vector<float> xhat(static_cast<size_t>(d)), ghat(static_cast<size_t>(d));
          for (int64_t r = r0; r < r1; ++r) {
            const float* xr = px + r * d;
            const float* gr = pdy + r * d;
            const float m = mean[r], s = rstd[r];
            for (int64_t j = 0; j < d; ++j) xhat[j] = (xr[j] - m) * s;
            if (want_w)
              for (int64_t j = 0; j < d; ++j) acc[j] += static_cast<double>(gr[j]) * xhat[j];
            if (want_b)
              for (int64_t j = 0; j < d; ++j) acc[d + j] += gr[j];
            if (!want_x) continue;
            if (pw)
              for (int64_t j = 0; j < d; ++j) ghat[j] = gr[j] * pw[j];
            else
              for (int64_t j = 0; j < d; ++j) ghat[j] = gr[j];
            const float* gh = ghat.data();
            const float* xh = xhat.data();
            const float a =
                static_cast<float>(detail::lane_sum(0, d, [&](int64_t j) { return gh[j]; })) *
                inv_d;
            const float c = static_cast<float>(detail::lane_sum(0, d, [&](int64_t j) {
                              return static_cast<double>(gh[j]) * xh[j];
                            })) *
                            inv_d;
            float* dr = pdx + r * d;
            for (int64_t j = 0; j < d; ++j) dr[j] = s * (gh[j] - a - xh[j] * c);
          }
        };
        if (n_acc > 0) {
          const std::vector<double> total = detail::column_reduce(rows, d, n_acc, body);
          if (want_w) {
            float* dw = g.dense(1).data();
            for (int64_t j = 0; j < d; ++j) dw[j] += static_cast<float>(total[j]);
          }
          if (want_b) {
            float* db = g.dense(2).data();
            for (int64_t j = 0; j < d; ++j) db[j] += static_cast<float>(total[d + j]);
          }
        } else {
          // Only dx: rows are independent, no accumulators needed.
          detail::parallel_for(rows, row_grain(d),
                               [&](int64_t lo, int64_t hi) { body(lo, hi, nullptr); });
        }
        if (want_x) g.add(0, std::move(dx));
      });
}

}  // namespace recgrad
