#include "ops/conv.h"

#include <algorithm>
#include <ostream>
#include <utility>
#include <vector>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/blas.h"
#include "ops/reduce.h"

namespace recgrad {

std::ostream& operator<<(std::ostream& os, const Size2d& s) {
  return os << '(' << s.h << ',' << s.w << ')';
}

namespace detail {

int64_t conv_output_size(int64_t n, int64_t kernel, int64_t stride, int64_t padding,
                         int64_t dilation) {
  const int64_t span = n + 2 * padding - dilation * (kernel - 1) - 1;
  // Floor division: C++ truncates toward zero, which would turn -1/2 into 0 (one output).
  const int64_t q = span >= 0 ? span / stride : -((-span + stride - 1) / stride);
  return q + 1;
}

}  // namespace detail

namespace {

// A convolution over 2-D planes; conv1d is the case H = 1, KH = 1 (stride, padding and
// dilation 1, 0, 1 along h).
struct Geometry {
  int64_t batch, c_in, h, w;  // x [B, C_in, H, W]
  int64_t c_out, kh, kw;      // weight [C_out, C_in, KH, KW]
  Size2d stride, padding, dilation;
  int64_t h_out, w_out;
  int64_t taps() const { return c_in * kh * kw; }         // rows of cols, columns of W
  int64_t positions() const { return h_out * w_out; }     // output positions per entry
  int64_t columns() const { return batch * positions(); }  // columns of cols and Y
};

// fn(a, b) for the flat units u in [lo, hi) of an [n_a, n_b] grid (u = a·n_b + b), in order.
// Counters instead of a division per unit: units can be as small as 3 elements (Caser).
template <typename Fn>
void for_each_unit(int64_t lo, int64_t hi, int64_t n_b, const Fn& fn) {
  int64_t a = lo / n_b, b = lo % n_b;
  for (int64_t u = lo; u < hi; ++u) {
    fn(a, b);
    if (++b == n_b) {
      b = 0;
      ++a;
    }
  }
}

// One kernel tap along one axis: input position = o·stride + off for output position o, and
// [lo, hi) the outputs for which that lies inside the input (outside it the tap reads padding).
struct Tap {
  int64_t off, lo, hi;
};

// The taps along an axis of n_in inputs and n_out outputs, off = k·dilation - padding.
std::vector<Tap> axis_taps(int64_t kernel, int64_t n_in, int64_t n_out, int64_t stride,
                           int64_t padding, int64_t dilation) {
  std::vector<Tap> taps(static_cast<size_t>(kernel));
  for (int64_t k = 0; k < kernel; ++k) {
    const int64_t off = k * dilation - padding;
    // o·s + off >= 0  <=>  o >= ceil(-off / s);   o·s + off <= n_in - 1  <=>  o <= floor(...).
    const int64_t lo = std::min(n_out, off >= 0 ? int64_t{0} : (-off + stride - 1) / stride);
    const int64_t hi =
        std::min(n_out, n_in - 1 - off < 0 ? int64_t{0} : (n_in - 1 - off) / stride + 1);
    taps[k] = {off, lo, std::max(lo, hi)};
  }
  return taps;
}

// Output rows shorter than this are copied with the batch entry as the innermost loop.
constexpr int64_t kShortRow = 8;

// Batch entries handled together by one im2col/col2im task: as many input planes as fit in
// ~16 KB, so that the planes stay in L1 while each of the channel's tap rows reads them, and
// the entry-innermost loop order below has a run of entries to loop over.
int64_t batch_block(const Geometry& g) {
  const int64_t plane_bytes = std::max<int64_t>(1, g.h * g.w) * int64_t{sizeof(float)};
  return std::max<int64_t>(1, std::min(g.batch, (int64_t{16} << 10) / plane_bytes));
}

// Runs fn(c, b_begin, b_end) over (input channel, block of batch entries) units in parallel;
// each unit owns the (b, c) planes of its entries.
template <typename Fn>
void for_each_plane_block(const Geometry& g, const Fn& fn) {
  const int64_t block = batch_block(g), n_blocks = (g.batch + block - 1) / block;
  const int64_t work = std::max<int64_t>(1, block * g.kh * g.kw * g.positions());
  detail::parallel_for(g.c_in * n_blocks, std::max<int64_t>(1, detail::kGrainCheap / work),
                       [&](int64_t lo, int64_t hi) {
                         for_each_unit(lo, hi, n_blocks, [&](int64_t c, int64_t blk) {
                           fn(c, blk * block, std::min(g.batch, (blk + 1) * block));
                         });
                       });
}

// cols[(c,i,j), (b,oh,ow)] = x[b, c, oh·sh - ph + i·dh, ow·sw - pw + j·dw], or 0 in padding.
// A task owns (channel, block of batch entries) units and writes their segments of every tap
// row of that channel: disjoint across tasks. Two loop orders: with long output rows the
// copy runs along ow (contiguous for stride 1, vectorised); with short ones (Caser's
// horizontal filters span the whole width, so W_out = 1) the batch entry is innermost, since
// a loop per (tap, entry, row) spends ~20 instructions on each one-element run (Caser's
// [512,1,5,50] under [16,1,3,50]: im2col took 10x the product that way, ~2x now).
void im2col(const Geometry& g, const float* x, float* cols) {
  const int64_t n_cols = g.columns(), p = g.positions(), wo = g.w_out, sh = g.stride.h;
  const int64_t sw = g.stride.w, w = g.w, plane_size = g.h * g.w;
  const int64_t batch_stride = g.c_in * plane_size;
  const std::vector<Tap> th = axis_taps(g.kh, g.h, g.h_out, sh, g.padding.h, g.dilation.h);
  const std::vector<Tap> tw = axis_taps(g.kw, g.w, g.w_out, sw, g.padding.w, g.dilation.w);
  const bool entry_inner = wo < kShortRow;
  for_each_plane_block(g, [&](int64_t c, int64_t b0, int64_t b1) {
    float* row = cols + c * g.kh * g.kw * n_cols;  // tap row (c, 0, 0)
    const float* planes = x + c * plane_size;      // plane (b, c) at planes + b·batch_stride
    for (const Tap& ti : th) {
      for (const Tap& tj : tw) {
        if (entry_inner) {
          // Zero the block's segment where the tap reads padding, then copy the rest.
          if (ti.lo > 0 || ti.hi < g.h_out || tj.lo > 0 || tj.hi < wo)
            std::fill(row + b0 * p, row + b1 * p, 0.f);
          for (int64_t oh = ti.lo; oh < ti.hi; ++oh)
            for (int64_t ow = tj.lo; ow < tj.hi; ++ow) {
              const float* src = planes + (oh * sh + ti.off) * w + tj.off + ow * sw;
              float* dst = row + oh * wo + ow;
              for (int64_t b = b0; b < b1; ++b) dst[b * p] = src[b * batch_stride];
            }
        } else {
          for (int64_t b = b0; b < b1; ++b) {
            const float* plane = planes + b * batch_stride;
            float* dst = row + b * p;
            std::fill(dst, dst + ti.lo * wo, 0.f);
            for (int64_t oh = ti.lo; oh < ti.hi; ++oh) {
              // Output (oh, ow) reads input base + ow·sw (>= 0 for ow in [tj.lo, tj.hi)).
              const int64_t base = (oh * sh + ti.off) * w + tj.off;
              float* out = dst + oh * wo;
              for (int64_t ow = 0; ow < tj.lo; ++ow) out[ow] = 0.f;
              for (int64_t ow = tj.lo; ow < tj.hi; ++ow) out[ow] = plane[base + ow * sw];
              for (int64_t ow = tj.hi; ow < wo; ++ow) out[ow] = 0.f;
            }
            std::fill(dst + ti.hi * wo, dst + p, 0.f);
          }
        }
        row += n_cols;  // next tap row
      }
    }
  });
}

// dx[b, c, ...] += the column entries im2col copied out of it: the adjoint of im2col, with the
// same split and loop orders. Each (b, c) plane of dx belongs to one task, and every element
// of it receives its contributions in the order (i, j, oh, ow) in both loop orders (the entry
// loop only picks the plane), so the sums are the same at any thread count.
void col2im_add(const Geometry& g, const float* dcols, float* dx) {
  const int64_t n_cols = g.columns(), p = g.positions(), wo = g.w_out, sh = g.stride.h;
  const int64_t sw = g.stride.w, w = g.w, plane_size = g.h * g.w;
  const int64_t batch_stride = g.c_in * plane_size;
  const std::vector<Tap> th = axis_taps(g.kh, g.h, g.h_out, sh, g.padding.h, g.dilation.h);
  const std::vector<Tap> tw = axis_taps(g.kw, g.w, g.w_out, sw, g.padding.w, g.dilation.w);
  const bool entry_inner = wo < kShortRow;
  for_each_plane_block(g, [&](int64_t c, int64_t b0, int64_t b1) {
    const float* row = dcols + c * g.kh * g.kw * n_cols;  // tap row (c, 0, 0)
    float* planes = dx + c * plane_size;  // plane (b, c) at planes + b·batch_stride
    for (const Tap& ti : th) {
      for (const Tap& tj : tw) {
        if (entry_inner) {
          for (int64_t oh = ti.lo; oh < ti.hi; ++oh)
            for (int64_t ow = tj.lo; ow < tj.hi; ++ow) {
              float* dst = planes + (oh * sh + ti.off) * w + tj.off + ow * sw;
              const float* src = row + oh * wo + ow;
              for (int64_t b = b0; b < b1; ++b) dst[b * batch_stride] += src[b * p];
            }
        } else {
          for (int64_t b = b0; b < b1; ++b) {
            float* plane = planes + b * batch_stride;
            const float* src = row + b * p;
            for (int64_t oh = ti.lo; oh < ti.hi; ++oh) {
              const int64_t base = (oh * sh + ti.off) * w + tj.off;
              const float* in = src + oh * wo;
              for (int64_t ow = tj.lo; ow < tj.hi; ++ow) plane[base + ow * sw] += in[ow];
            }
          }
        }
        row += n_cols;  // next tap row
      }
    }
  });
}

// The convolution shared by conv1d and conv2d; x, weight, bias already checked against g.
Tensor convolve(const char* op, const Geometry& g, const Tensor& x, const Tensor& weight,
                const Tensor& bias, const Shape& out_shape) {
  const int64_t taps = g.taps(), n_cols = g.columns(), p = g.positions(), c_out = g.c_out;
  const int64_t grain = std::max<int64_t>(1, detail::kGrainCheap / std::max<int64_t>(p, 1));
  Tensor out = Tensor::empty(out_shape);
  if (n_cols > 0) {
    Tensor cols = Tensor::empty({taps, n_cols});
    im2col(g, x.data(), cols.data());
    // Y [C_out, B·P] = W [C_out, taps] · cols [taps, B·P]: one product for the whole batch.
    Tensor prod = Tensor::empty({c_out, n_cols});
    detail::sgemm(false, false, c_out, n_cols, taps, 1.f, weight.data(), taps, cols.data(),
                  n_cols, 0.f, prod.data(), n_cols);
    // y[b, o, :] = Y[o, b·P : (b+1)·P] + bias[o]: the permute to [B, C_out, P] adds the bias.
    const float* y = prod.data();
    const float* pb = bias.defined() ? bias.data() : nullptr;
    float* dst = out.data();
    detail::parallel_for(g.batch * c_out, grain, [&](int64_t lo, int64_t hi) {
      for_each_unit(lo, hi, c_out, [&](int64_t b, int64_t o) {
        const float* src = y + o * n_cols + b * p;
        const float add = pb ? pb[o] : 0.f;
        float* d = dst + (b * c_out + o) * p;
        for (int64_t k = 0; k < p; ++k) d[k] = src[k] + add;
      });
    });
  }

  std::vector<Tensor> inputs{x, weight};
  if (bias.defined()) inputs.push_back(bias);
  return record(op, out, inputs, [g, x, weight, has_bias = bias.defined(), grain](
                                     const Tensor& dy, GradSink& sink) {
    const int64_t taps = g.taps(), n_cols = g.columns(), p = g.positions(), c_out = g.c_out;
    if (n_cols == 0) {  // an empty batch: zero gradients, as PyTorch gives
      for (size_t i = 0; i < (has_bias ? 3u : 2u); ++i)
        if (sink.wants(i)) sink.dense(i);
      return;
    }
    // dY [C_out, B·P]: dy [B, C_out, P] with its first two axes swapped, so that both products
    // below read it as one matrix.
    Tensor dyt = Tensor::empty({c_out, n_cols});
    {
      const float* src = dy.data();
      float* d = dyt.data();
      detail::parallel_for(g.batch * c_out, grain, [&](int64_t lo, int64_t hi) {
        for_each_unit(lo, hi, c_out, [&](int64_t b, int64_t o) {
          const float* from = src + (b * c_out + o) * p;
          float* to = d + o * n_cols + b * p;
          for (int64_t k = 0; k < p; ++k) to[k] = from[k];
        });
      });
    }
    if (has_bias && sink.wants(2)) {
      // dbias[o] += Σ_k dY[o, k]: one output per task, summed in double in a fixed order.
      float* db = sink.dense(2).data();
      const float* d = dyt.data();
      detail::parallel_for(c_out, std::max<int64_t>(1, detail::kGrainCheap / n_cols),
                           [&](int64_t lo, int64_t hi) {
                             for (int64_t o = lo; o < hi; ++o)
                               db[o] += static_cast<float>(detail::lane_sum(
                                   0, n_cols, [&](int64_t k) { return d[o * n_cols + k]; }));
                           });
    }
    if (!sink.wants(0) && !sink.wants(1)) return;
    // One [taps, B·P] buffer: first the recomputed columns for dW, then dcols for dx.
    Tensor cols = Tensor::empty({taps, n_cols});
    if (sink.wants(1)) {
      im2col(g, x.data(), cols.data());
      // dW [C_out, taps] += dY [C_out, B·P] · colsᵀ: cols enters transposed by flag; beta = 1
      // accumulates into the gradient buffer.
      detail::sgemm(false, true, c_out, taps, n_cols, 1.f, dyt.data(), n_cols, cols.data(),
                    n_cols, 1.f, sink.dense(1).data(), taps);
    }
    if (sink.wants(0)) {
      // dcols [taps, B·P] = Wᵀ · dY: W enters transposed by flag.
      detail::sgemm(true, false, taps, n_cols, c_out, 1.f, weight.data(), taps, dyt.data(),
                    n_cols, 0.f, cols.data(), n_cols);
      col2im_add(g, cols.data(), sink.dense(0).data());
    }
  });
}

std::string shapes(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  return detail::str_cat("x ", x.shape(), ", weight ", weight.shape(),
                         bias.defined() ? detail::str_cat(", bias ", bias.shape()) : "");
}

// Checks what conv1d and conv2d share: channels, bias, hyperparameters, output sizes (dims
// already checked). `two_d` says whether the height axis is real (conv2d), for messages.
Geometry make_geometry(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                       int64_t h, int64_t w, int64_t kh, int64_t kw, Size2d stride,
                       Size2d padding, Size2d dilation, bool two_d) {
  const std::string what = shapes(x, weight, bias);
  const int64_t c_in = x.size(1), c_out = weight.size(0);
  RECGRAD_CHECK(c_out >= 1 && weight.size(1) >= 1 && kh >= 1 && kw >= 1, op, ": ", what,
                ": weight must have at least one output channel, input channel and tap");
  RECGRAD_CHECK(weight.size(1) == c_in, op, ": ", what, ": x has ", c_in,
                " input channels but weight expects ", weight.size(1));
  RECGRAD_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == c_out), op, ": ", what,
                ": bias must have shape [", c_out, "] (one per output channel)");
  auto param = [&](const Size2d& s) {
    return two_d ? detail::str_cat(s) : detail::str_cat(s.w);
  };
  RECGRAD_CHECK(stride.h >= 1 && stride.w >= 1, op, ": ", what, ": stride ", param(stride),
                " must be >= 1");
  RECGRAD_CHECK(padding.h >= 0 && padding.w >= 0, op, ": ", what, ": padding ", param(padding),
                " must be >= 0");
  RECGRAD_CHECK(dilation.h >= 1 && dilation.w >= 1, op, ": ", what, ": dilation ",
                param(dilation), " must be >= 1");
  Geometry g{x.size(0), c_in, h, w, c_out, kh, kw, stride, padding, dilation, 0, 0};
  g.h_out = detail::conv_output_size(h, kh, stride.h, padding.h, dilation.h);
  g.w_out = detail::conv_output_size(w, kw, stride.w, padding.w, dilation.w);
  RECGRAD_CHECK(g.h_out >= 1 && g.w_out >= 1, op, ": ", what, ", stride ", param(stride),
                ", padding ", param(padding), ", dilation ", param(dilation), ": output size ",
                two_d ? detail::str_cat(Size2d{g.h_out, g.w_out}) : detail::str_cat(g.w_out),
                " < 1: the dilated kernel is larger than the padded input");
  return g;
}

}  // namespace

Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation) {
  RECGRAD_CHECK(x.dim() == 3 && weight.dim() == 3, "conv1d: ", shapes(x, weight, bias),
                ": x must be [B,C_in,L] and weight [C_out,C_in,K]");
  const Geometry g = make_geometry("conv1d", x, weight, bias, 1, x.size(2), 1, weight.size(2),
                                   {1, stride}, {0, padding}, {1, dilation}, false);
  return convolve("conv1d", g, x, weight, bias, {g.batch, g.c_out, g.w_out});
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2d stride,
              Size2d padding, Size2d dilation) {
  RECGRAD_CHECK(x.dim() == 4 && weight.dim() == 4, "conv2d: ", shapes(x, weight, bias),
                ": x must be [B,C_in,H,W] and weight [C_out,C_in,KH,KW]");
  const Geometry g = make_geometry("conv2d", x, weight, bias, x.size(2), x.size(3),
                                   weight.size(2), weight.size(3), stride, padding, dilation, true);
  return convolve("conv2d", g, x, weight, bias, {g.batch, g.c_out, g.h_out, g.w_out});
}

}  // namespace recgrad
