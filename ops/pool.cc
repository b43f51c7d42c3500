#include "ops/pool.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "autograd/graph.h"
#include "autograd/parallel.h"

namespace recgrad {
namespace {

// Pooling over planes; the 1-D ops are the case H = 1, kernel/stride 1 and padding 0 along h.
struct Geometry {
  int64_t planes, h, w;  // x viewed as [B·C, H, W]
  Size2d kernel, stride, padding;
  int64_t h_out, w_out;
  int64_t in_plane() const { return h * w; }
  int64_t out_plane() const { return h_out * w_out; }
  // The window of output (oh, ow), clipped to the real input: rows [r0, r1), columns [c0, c1).
  int64_t r0(int64_t oh) const { return std::max<int64_t>(0, oh * stride.h - padding.h); }
  int64_t r1(int64_t oh) const { return std::min(h, oh * stride.h - padding.h + kernel.h); }
  int64_t c0(int64_t ow) const { return std::max<int64_t>(0, ow * stride.w - padding.w); }
  int64_t c1(int64_t ow) const { return std::min(w, ow * stride.w - padding.w + kernel.w); }
};

// Checks x's rank and the hyperparameters, fills in the default stride, computes output sizes.
Geometry make_geometry(const char* op, const Tensor& x, Size2d kernel, Size2d stride,
                       Size2d padding, bool two_d) {
  auto param = [&](const Size2d& s) { return two_d ? detail::str_cat(s) : detail::str_cat(s.w); };
  RECGRAD_CHECK(x.dim() == (two_d ? 4 : 3), op, ": x ", x.shape(), " must be ",
                two_d ? "[B,C,H,W]" : "[B,C,L]");
  if (!two_d) {  // the height axis of a 1-D pool is a dummy of size 1
    kernel.h = 1;
    stride.h = 1;
    padding.h = 0;
  }
  RECGRAD_CHECK(kernel.h >= 1 && kernel.w >= 1, op, ": x ", x.shape(), ": kernel ",
                param(kernel), " must be >= 1");
  RECGRAD_CHECK(stride.h >= 0 && stride.w >= 0, op, ": x ", x.shape(), ": stride ",
                param(stride), " must be >= 1 (or 0 for the kernel size)");
  if (stride.h == 0) stride.h = kernel.h;
  if (stride.w == 0) stride.w = kernel.w;
  RECGRAD_CHECK(padding.h >= 0 && padding.w >= 0 && 2 * padding.h <= kernel.h &&
                    2 * padding.w <= kernel.w,
                op, ": x ", x.shape(), ": padding ", param(padding),
                " must lie between 0 and half the kernel ", param(kernel));
  const int64_t h = two_d ? x.size(2) : 1, w = x.size(-1);
  Geometry g{x.size(0) * x.size(1), h, w, kernel, stride, padding, 0, 0};
  g.h_out = detail::conv_output_size(h, kernel.h, stride.h, padding.h, 1);
  g.w_out = detail::conv_output_size(w, kernel.w, stride.w, padding.w, 1);
  RECGRAD_CHECK(g.h_out >= 1 && g.w_out >= 1, op, ": x ", x.shape(), ", kernel ", param(kernel),
                ", stride ", param(stride), ", padding ", param(padding), ": output size ",
                two_d ? detail::str_cat(Size2d{g.h_out, g.w_out}) : detail::str_cat(g.w_out),
                " < 1: the kernel is larger than the padded input");
  return g;
}

Shape out_shape(const Tensor& x, const Geometry& g) {
  Shape s = x.shape();
  s.back() = g.w_out;
  if (s.size() == 4) s[2] = g.h_out;
  return s;
}

// Grain in planes: a task should touch about kGrainCheap elements.
int64_t plane_grain(const Geometry& g) {
  const int64_t work = std::max<int64_t>(1, g.out_plane() * g.kernel.h * g.kernel.w);
  return std::max<int64_t>(1, detail::kGrainCheap / work);
}

Tensor max_pool(const char* op, const Tensor& x, const Geometry& g) {
  Tensor out = Tensor::empty(out_shape(x, g));
  // argmax[q] = position within its input plane (row·W + column) of output q's maximum; only
  // kept when backward will need it (not under NoGradGuard, nor for inputs without gradient).
  auto argmax = std::make_shared<std::vector<int64_t>>(
      grad_enabled() && x.requires_grad() ? static_cast<size_t>(out.numel()) : 0);
  {
    const float* src = x.data();
    float* dst = out.data();
    int64_t* arg = argmax->empty() ? nullptr : argmax->data();
    detail::parallel_for(g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        const float* plane = src + pl * g.in_plane();
        for (int64_t oh = 0; oh < g.h_out; ++oh)
          for (int64_t ow = 0; ow < g.w_out; ++ow) {
            // Row-major scan from the window's first real element; a later element wins only
            // if strictly larger (first max on ties), or if it is the first NaN. Selects, not
            // branches: on real data the comparison is a coin flip the predictor loses.
            const int64_t r0 = g.r0(oh), r1 = g.r1(oh), c0 = g.c0(ow), c1 = g.c1(ow);
            int64_t best = r0 * g.w + c0;
            float best_v = plane[best];
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t k = r * g.w + c0; k < r * g.w + c1; ++k) {
                const float v = plane[k];
                // v > best, or v is NaN; never once best is NaN (the first NaN stays).
                const bool take = !(v <= best_v) & (best_v == best_v);
                best_v = take ? v : best_v;
                best = take ? k : best;
              }
            const int64_t q = pl * g.out_plane() + oh * g.w_out + ow;
            dst[q] = best_v;
            if (arg) arg[q] = best;
          }
      }
    });
  }
  // dx[argmax[q]] += dy[q]: each task owns whole planes and adds in output order.
  return record(op, out, {x}, [g, argmax](const Tensor& dy, GradSink& sink) {
    if (!sink.wants(0)) return;
    const float* d = dy.data();
    const int64_t* arg = argmax->data();
    float* dx = sink.dense(0).data();
    detail::parallel_for(g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        float* plane = dx + pl * g.in_plane();
        for (int64_t q = pl * g.out_plane(); q < (pl + 1) * g.out_plane(); ++q)
          plane[arg[q]] += d[q];
      }
    });
  });
}

Tensor avg_pool(const char* op, const Tensor& x, const Geometry& g) {
  Tensor out = Tensor::empty(out_shape(x, g));
  // count_include_pad: every window divides by the full kernel area (with ceil_mode off no
  // window reaches past the padding, so this is PyTorch's divisor too).
  const float scale = 1.f / static_cast<float>(g.kernel.h * g.kernel.w);
  {
    const float* src = x.data();
    float* dst = out.data();
    detail::parallel_for(g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        const float* plane = src + pl * g.in_plane();
        for (int64_t oh = 0; oh < g.h_out; ++oh)
          for (int64_t ow = 0; ow < g.w_out; ++ow) {
            const int64_t r0 = g.r0(oh), r1 = g.r1(oh), c0 = g.c0(ow), c1 = g.c1(ow);
            float s = 0.f;
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t c = c0; c < c1; ++c) s += plane[r * g.w + c];
            dst[pl * g.out_plane() + oh * g.w_out + ow] = s * scale;
          }
      }
    });
  }
  // dx[window(q)] += dy[q] / area: each task owns whole planes and adds in output order.
  return record(op, out, {x}, [g, scale](const Tensor& dy, GradSink& sink) {
    if (!sink.wants(0)) return;
    const float* d = dy.data();
    float* dx = sink.dense(0).data();
    detail::parallel_for(g.planes, plane_grain(g), [&](int64_t lo, int64_t hi) {
      for (int64_t pl = lo; pl < hi; ++pl) {
        float* plane = dx + pl * g.in_plane();
        for (int64_t oh = 0; oh < g.h_out; ++oh)
          for (int64_t ow = 0; ow < g.w_out; ++ow) {
            const float v = d[pl * g.out_plane() + oh * g.w_out + ow] * scale;
            const int64_t r0 = g.r0(oh), r1 = g.r1(oh), c0 = g.c0(ow), c1 = g.c1(ow);
            for (int64_t r = r0; r < r1; ++r)
              for (int64_t c = c0; c < c1; ++c) plane[r * g.w + c] += v;
          }
      }
    });
  });
}

}  // namespace

Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return max_pool("max_pool1d", x,
                  make_geometry("max_pool1d", x, {1, kernel}, {1, stride}, {0, padding}, false));
}

Tensor max_pool2d(const Tensor& x, Size2d kernel, Size2d stride, Size2d padding) {
  return max_pool("max_pool2d", x, make_geometry("max_pool2d", x, kernel, stride, padding, true));
}

Tensor avg_pool1d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  return avg_pool("avg_pool1d", x,
                  make_geometry("avg_pool1d", x, {1, kernel}, {1, stride}, {0, padding}, false));
}

Tensor avg_pool2d(const Tensor& x, Size2d kernel, Size2d stride, Size2d padding) {
  return avg_pool("avg_pool2d", x, make_geometry("avg_pool2d", x, kernel, stride, padding, true));
}

}  // namespace recgrad
