#include "ops/softmax.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/fast_math.h"
#include "ops/reduce.h"

namespace recgrad {
namespace {

// Every exp in this file goes through here, so a vectorised exp can replace std::exp in one
// place.
inline float exp_f(float v) { return detail::fast_exp(v); }

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// The shift applied before exp: the slice max, except when that is ±inf (all -inf, or a +inf
// present), where shifting would turn -inf - -inf or inf - inf into NaN.
float shift_of(float m) { return std::isinf(m) ? 0.f : m; }

// ---------------------------------------------------------------------------------------------
// Contiguous slices (dim is the last one after viewing x as [outer, n, inner] with inner = 1).
// A slice is processed in fixed chunks of kChunk elements whose partial results combine in
// chunk order. With par=true the chunks run across threads (one huge row), otherwise in turn
// inside one task (many rows): the arithmetic, and so every bit of the result, is the same.

constexpr int64_t kChunk = 1 << 14;

template <typename T, typename ChunkFn, typename Combine>
T fold(int64_t n, bool par, T init, const ChunkFn& chunk, const Combine& combine) {
  if (par) return detail::chunked_reduce(n, kChunk, init, chunk, combine);
  T acc = init;
  for (int64_t b = 0; b < n; b += kChunk) acc = combine(acc, chunk(b, std::min(n, b + kChunk)));
  return acc;
}

template <typename Body>
void each(int64_t n, bool par, int64_t grain, const Body& body) {
  if (par) detail::parallel_for(n, grain, body);
  else body(int64_t{0}, n);
}

// body(r, par) for each of `rows` slices of n elements: rows in parallel when there are enough
// of them to share out, otherwise one slice at a time with its chunks in parallel.
template <typename Body>
void for_each_slice(int64_t rows, int64_t n, int64_t grain, const Body& body) {
  if (rows >= 2 * num_threads() || n <= kChunk) {
    detail::parallel_for(rows, std::max<int64_t>(1, grain / n), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) body(r, false);
    });
  } else {
    for (int64_t r = 0; r < rows; ++r) body(r, true);
  }
}

float slice_max(const float* x, int64_t n, bool par) {
  // Max is exact, so chunks combined in any order give the same value.
  auto chunk = [x](int64_t b, int64_t e) { return detail::max_of(x + b, e - b); };
  return fold(n, par, kNegInf, chunk, [](float a, float b) { return b > a ? b : a; });
}

// The shift of a slice and Σ exp(x - shift); also stores the exps in `exps` when given.
struct Stats {
  float shift;
  double sum;
};

Stats slice_stats(const float* x, float* exps, int64_t n, bool par) {
  const float shift = shift_of(slice_max(x, n, par));
  const double sum = fold(
      n, par, 0.0,
      [&](int64_t b, int64_t e) {
        if (exps == nullptr)
          return detail::lane_sum(b, e, [&](int64_t k) { return exp_f(x[k] - shift); });
        return detail::lane_sum(b, e, [&](int64_t k) { return exps[k] = exp_f(x[k] - shift); });
      },
      std::plus<double>());
  return {shift, sum};
}

// ---------------------------------------------------------------------------------------------
// Strided slices (inner > 1): a task takes a block of up to kBlock adjacent columns of one outer
// index and walks the n rows of that block, keeping per-column statistics; each column still
// accumulates over r in order.

constexpr int64_t kBlock = 256;

// body(base, len): the block starting at element `base` (row r = 0), `len` columns wide.
template <typename Body>
void for_each_block(const detail::AxisView& v, int64_t grain, const Body& body) {
  const int64_t blocks = (v.inner + kBlock - 1) / kBlock;
  detail::parallel_for(v.outer * blocks, std::max<int64_t>(1, grain / (v.n * kBlock)),
                       [&](int64_t lo, int64_t hi) {
                         for (int64_t t = lo; t < hi; ++t) {
                           const int64_t o = t / blocks, j0 = (t % blocks) * kBlock;
                           body(o * v.n * v.inner + j0, o * v.inner + j0,
                                std::min(kBlock, v.inner - j0));
                         }
                       });
}

// Per-column shift and Σ exp(x - shift) over the n rows of a block; stores exps when given.
void block_stats(const float* x, float* exps, int64_t n, int64_t inner, int64_t len,
                 float* shift, double* sum) {
  for (int64_t j = 0; j < len; ++j) shift[j] = kNegInf;
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * inner;
    for (int64_t j = 0; j < len; ++j) shift[j] = xr[j] > shift[j] ? xr[j] : shift[j];
  }
  for (int64_t j = 0; j < len; ++j) {
    shift[j] = shift_of(shift[j]);
    sum[j] = 0;
  }
  for (int64_t r = 0; r < n; ++r) {
    const float* xr = x + r * inner;
    float* er = exps ? exps + r * inner : nullptr;
    for (int64_t j = 0; j < len; ++j) {
      const float e = exp_f(xr[j] - shift[j]);
      if (er) er[j] = e;
      sum[j] += e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// softmax and log_softmax share one forward and one backward, switched by `log`.

void softmax_forward(const float* x, float* y, const detail::AxisView& v, bool log) {
  if (v.inner == 1) {
    const int64_t n = v.n;
    for_each_slice(v.outer, n, detail::kGrainExpensive, [&](int64_t r, bool par) {
      const float* xr = x + r * n;
      float* yr = y + r * n;
      const Stats s = slice_stats(xr, log ? nullptr : yr, n, par);
      if (!log) {
        const float inv = static_cast<float>(1.0 / s.sum);
        each(n, par, detail::kGrainCheap, [&](int64_t b, int64_t e) {
          for (int64_t k = b; k < e; ++k) yr[k] *= inv;
        });
      } else {
        const float shift = s.shift, lse = static_cast<float>(std::log(s.sum));
        each(n, par, detail::kGrainCheap, [&](int64_t b, int64_t e) {
          for (int64_t k = b; k < e; ++k) yr[k] = (xr[k] - shift) - lse;
        });
      }
    });
    return;
  }
  for_each_block(v, detail::kGrainExpensive, [&](int64_t base, int64_t, int64_t len) {
    float shift[kBlock], scale[kBlock];
    double sum[kBlock];
    const float* xb = x + base;
    float* yb = y + base;
    block_stats(xb, log ? nullptr : yb, v.n, v.inner, len, shift, sum);
    if (!log) {
      for (int64_t j = 0; j < len; ++j) scale[j] = static_cast<float>(1.0 / sum[j]);
      for (int64_t r = 0; r < v.n; ++r) {
        float* yr = yb + r * v.inner;
        for (int64_t j = 0; j < len; ++j) yr[j] *= scale[j];
      }
    } else {
      for (int64_t j = 0; j < len; ++j) scale[j] = static_cast<float>(std::log(sum[j]));
      for (int64_t r = 0; r < v.n; ++r) {
        const float* xr = xb + r * v.inner;
        float* yr = yb + r * v.inner;
        for (int64_t j = 0; j < len; ++j) yr[j] = (xr[j] - shift[j]) - scale[j];
      }
    }
  });
}

// softmax:     dx = y ⊙ (g - Σ g·y)
// log_softmax: dx = g - exp(y) · Σ g
void softmax_backward(const float* y, const float* g, float* dx, const detail::AxisView& v,
                      bool log) {
  if (v.inner == 1) {
    const int64_t n = v.n;
    for_each_slice(v.outer, n, detail::kGrainExpensive, [&](int64_t r, bool par) {
      const float* yr = y + r * n;
      const float* gr = g + r * n;
      float* dr = dx + r * n;
      const double total = fold(
          n, par, 0.0,
          [&](int64_t b, int64_t e) {
            if (log) return detail::lane_sum(b, e, [&](int64_t k) { return gr[k]; });
            return detail::lane_sum(
                b, e, [&](int64_t k) { return static_cast<double>(gr[k]) * yr[k]; });
          },
          std::plus<double>());
      const float t = static_cast<float>(total);
      // map_range rather than plain loops: GCC left the log_softmax one scalar (its exp), which
      // made log_softmax's backward 4x slower than softmax's (benchmarks/ops_bench).
      if (!log) {
        each(n, par, detail::kGrainCheap, [&](int64_t b, int64_t e) {
          detail::map_range(
              dr + b, e - b, [t](float yv, float gv) { return yv * (gv - t); }, yr + b, gr + b);
        });
      } else {
        each(n, par, detail::kGrainExpensive, [&](int64_t b, int64_t e) {
          detail::map_range(
              dr + b, e - b, [t](float gv, float yv) { return gv - exp_f(yv) * t; }, gr + b,
              yr + b);
        });
      }
    });
    return;
  }
  for_each_block(v, detail::kGrainExpensive, [&](int64_t base, int64_t, int64_t len) {
    double acc[kBlock];
    float t[kBlock];
    const float* yb = y + base;
    const float* gb = g + base;
    float* db = dx + base;
    for (int64_t j = 0; j < len; ++j) acc[j] = 0;
    for (int64_t r = 0; r < v.n; ++r) {
      const float* yr = yb + r * v.inner;
      const float* gr = gb + r * v.inner;
      if (log) {
        for (int64_t j = 0; j < len; ++j) acc[j] += gr[j];
      } else {
        for (int64_t j = 0; j < len; ++j) acc[j] += static_cast<double>(gr[j]) * yr[j];
      }
    }
    for (int64_t j = 0; j < len; ++j) t[j] = static_cast<float>(acc[j]);
    for (int64_t r = 0; r < v.n; ++r) {
      const float* yr = yb + r * v.inner;
      const float* gr = gb + r * v.inner;
      float* dr = db + r * v.inner;
      if (log) {
        for (int64_t j = 0; j < len; ++j) dr[j] = gr[j] - exp_f(yr[j]) * t[j];
      } else {
        for (int64_t j = 0; j < len; ++j) dr[j] = yr[j] * (gr[j] - t[j]);
      }
    }
  });
}

Tensor softmax_op(const char* op, const Tensor& x, int64_t dim, bool log) {
  const int64_t d = detail::check_dim(op, dim, x.shape());
  const detail::AxisView v = detail::axis_view(x.shape(), d);
  Tensor out = Tensor::empty(x.shape());
  if (out.numel() > 0) softmax_forward(x.data(), out.data(), v, log);
  // Backward needs only the output (y, or log y), captured detached.
  return record(op, out, {x}, [y = out.detach(), v, log](const Tensor& grad_out, GradSink& g) {
    if (!g.wants(0)) return;
    Tensor dx = Tensor::empty(y.shape());
    if (dx.numel() > 0) softmax_backward(y.data(), grad_out.data(), dx.data(), v, log);
    g.add(0, dx);
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_op("softmax", x, dim, false); }

Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_op("log_softmax", x, dim, true);
}

Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim) {
  const int64_t d = detail::check_dim("logsumexp", dim, x.shape());
  const detail::AxisView v = detail::axis_view(x.shape(), d);
  Tensor out = Tensor::empty(detail::drop_dim(x.shape(), d, keepdim));
  const float* px = x.data();
  float* po = out.data();
  // shift + log Σ exp(x - shift), added in double so a large shift keeps the small log term.
  auto combine = [](float shift, double sum) {
    return static_cast<float>(static_cast<double>(shift) + std::log(sum));
  };
  if (out.numel() > 0 && v.n == 0) {
    std::fill(po, po + out.numel(), kNegInf);  // log of an empty sum
  } else if (out.numel() > 0 && v.inner == 1) {
    for_each_slice(v.outer, v.n, detail::kGrainExpensive, [&](int64_t r, bool par) {
      const Stats s = slice_stats(px + r * v.n, nullptr, v.n, par);
      po[r] = combine(s.shift, s.sum);
    });
  } else if (out.numel() > 0) {
    for_each_block(v, detail::kGrainExpensive, [&](int64_t base, int64_t obase, int64_t len) {
      float shift[kBlock];
      double sum[kBlock];
      block_stats(px + base, nullptr, v.n, v.inner, len, shift, sum);
      for (int64_t j = 0; j < len; ++j) po[obase + j] = combine(shift[j], sum[j]);
    });
  }
  // dx = exp(x - y) · g = softmax(x) · g, with y and g broadcast along dim.
  return record("logsumexp", out, {x}, [x, y = out.detach(), v](const Tensor& grad_out, GradSink& g) {
    if (!g.wants(0) || x.numel() == 0) return;
    Tensor dx = Tensor::empty(x.shape());
    const float* px = x.data();
    const float* py = y.data();
    const float* pg = grad_out.data();
    float* pd = dx.data();
    if (v.inner == 1) {
      for_each_slice(v.outer, v.n, detail::kGrainExpensive, [&](int64_t r, bool par) {
        const float* xr = px + r * v.n;
        float* dr = pd + r * v.n;
        const float yr = py[r], gr = pg[r];
        each(v.n, par, detail::kGrainExpensive, [&](int64_t b, int64_t e) {
          for (int64_t k = b; k < e; ++k) dr[k] = exp_f(xr[k] - yr) * gr;
        });
      });
    } else {
      for_each_block(v, detail::kGrainExpensive, [&](int64_t base, int64_t obase, int64_t len) {
        for (int64_t r = 0; r < v.n; ++r) {
          const float* xr = px + base + r * v.inner;
          float* dr = pd + base + r * v.inner;
          for (int64_t j = 0; j < len; ++j) dr[j] = exp_f(xr[j] - py[obase + j]) * pg[obase + j];
        }
      });
    }
    g.add(0, dx);
  });
}

}  // namespace recgrad
