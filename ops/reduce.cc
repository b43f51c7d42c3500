#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#ifdef __AVX__
#include <immintrin.h>
#endif

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/broadcast.h"

namespace recgrad {

namespace detail {

int64_t check_dim(const char* op, int64_t dim, const Shape& shape) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  RECGRAD_CHECK(dim >= -rank && dim < rank, op, ": dimension ", dim,
                " is out of range for a tensor of shape ", shape);
  return dim < 0 ? dim + rank : dim;
}

AxisView axis_view(const Shape& shape, int64_t dim) {
  AxisView v{1, shape[dim], 1};
  for (int64_t i = 0; i < dim; ++i) v.outer *= shape[i];
  for (size_t i = dim + 1; i < shape.size(); ++i) v.inner *= shape[i];
  return v;
}

Shape drop_dim(const Shape& shape, int64_t dim, bool keepdim) {
  Shape out = shape;
  if (keepdim) out[dim] = 1;
  else out.erase(out.begin() + dim);
  return out;
}

// Independent lanes, not one running max: a single chain cannot vectorise (its order is fixed)
// and ran at 4% of copy bandwidth at 100k classes. The order of a max does not change its value.
float max_of(const float* x, int64_t len) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  float m = kNegInf;
  int64_t j = 0;
#ifdef __AVX__
  // GCC leaves the portable loop below scalar (vmaxss). _mm256_max_ps(a, b) is a > b ? a : b
  // lane by lane, so a NaN in x leaves the lane alone as in the scalar loops; four accumulators
  // hide its latency.
  __m256 acc[4];
  for (__m256& a : acc) a = _mm256_set1_ps(kNegInf);
  for (; j + 32 <= len; j += 32)
    for (int a = 0; a < 4; ++a) acc[a] = _mm256_max_ps(_mm256_loadu_ps(x + j + 8 * a), acc[a]);
  for (; j + 8 <= len; j += 8) acc[0] = _mm256_max_ps(_mm256_loadu_ps(x + j), acc[0]);
  alignas(32) float lane[8];
  const __m256 pairs = _mm256_max_ps(_mm256_max_ps(acc[0], acc[1]), _mm256_max_ps(acc[2], acc[3]));
  _mm256_store_ps(lane, pairs);
  for (float v : lane) m = v > m ? v : m;
#else
  constexpr int kLanes = 8;
  float lane[kLanes];
  std::fill(lane, lane + kLanes, kNegInf);
  for (; j + kLanes <= len; j += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] = x[j + l] > lane[l] ? x[j + l] : lane[l];
  for (float v : lane) m = v > m ? v : m;
#endif
  for (; j < len; ++j) m = x[j] > m ? x[j] : m;
  return m;
}

}  // namespace detail

namespace {

// ---------------------------------------------------------------------------------------------
// Planning a reduction over a list of dims.

struct ReducePlan {
  std::vector<bool> reduced;  // per dim of the input
  Shape kept;                 // the input's shape with reduced dims set to 1
  Shape out;                  // `kept`, or without the reduced dims when !keepdim
  int64_t count = 1;          // elements summed into each output (Π of reduced sizes)
};

ReducePlan plan_reduce(const char* op, const Shape& shape, const std::vector<int64_t>& dims,
                       bool keepdim) {
  RECGRAD_CHECK(!dims.empty(), op, ": empty list of dims for a tensor of shape ", shape,
                " (call ", op, "(x) to reduce over every element)");
  ReducePlan p;
  p.reduced.assign(shape.size(), false);
  for (int64_t dim : dims) {
    const int64_t d = detail::check_dim(op, dim, shape);
    RECGRAD_CHECK(!p.reduced[d], op, ": dimension ", d, " appears more than once in dims ",
                  Shape(dims), " for a tensor of shape ", shape);
    p.reduced[d] = true;
  }
  p.kept = shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (!p.reduced[d]) {
      p.out.push_back(shape[d]);
    } else {
      p.count *= shape[d];
      p.kept[d] = 1;
      if (keepdim) p.out.push_back(1);
    }
  }
  return p;
}

// Re-labels a freshly computed tensor (same numel): reduce kernels work in the `kept` layout.
Tensor with_shape(Tensor t, const Shape& shape) {
  t.impl()->shape = shape;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Deterministic sums.

// Fixed chunk of a whole-tensor sum: the chunks, not the threads, fix the order of additions.
constexpr int64_t kSumChunk = 1 << 16;

// Σ term(k) over [0, n): bit-identical at any thread count.
template <typename Term>
double sum_all(int64_t n, const Term& term) {
  return detail::chunked_reduce(
      n, kSumChunk, 0.0, [&](int64_t b, int64_t e) { return detail::lane_sum(b, e, term); },
      std::plus<double>());
}

// Σ over the reduced dims of x, returned in the `kept` layout. Runs of adjacent reduced dims
// (size-1 dims between them do not break a run) collapse into one middle axis of an
// [outer, R, inner] view, summed by sum_middle_axis, one run at a time from the outside in.
// A reduction over everything takes the chunked whole-tensor sum instead, which splits one
// long sum across threads.
Tensor sum_kept(const Tensor& x, const std::vector<bool>& reduced) {
  Shape cur = x.shape();
  const size_t rank = cur.size();
  std::vector<bool> in_run(rank);
  int64_t count = 1;
  for (size_t d = 0; d < rank; ++d) {
    in_run[d] = reduced[d] || cur[d] == 1;
    if (reduced[d]) count *= cur[d];
  }
  if (count == x.numel() && count > 0) {
    const float* px = x.data();
    Tensor all = scalar(static_cast<float>(sum_all(x.numel(), [px](int64_t k) { return px[k]; })));
    return with_shape(all, Shape(std::vector<int64_t>(rank, 1)));
  }
  Tensor result;
  const float* src = x.data();
  for (size_t d = 0; d < rank;) {
    if (!reduced[d]) {
      ++d;
      continue;
    }
    size_t e = d;
    int64_t outer = 1, r = 1, inner = 1;
    while (e < rank && in_run[e]) r *= cur[e++];
    for (size_t i = 0; i < d; ++i) outer *= cur[i];
    for (size_t i = e; i < rank; ++i) inner *= cur[i];
    for (size_t i = d; i < e; ++i) cur[i] = 1;
    if (r != 1) {  // a run of size-1 dims needs no work
      Tensor next = Tensor::empty(cur);
      detail::sum_middle_axis(src, next.data(), outer, r, inner);
      result = next;
      src = result.data();
    }
    d = e;
  }
  if (!result.defined()) result = x.clone();
  return with_shape(result, cur);
}

void scale_in_place(Tensor& t, float s) {
  float* p = t.data();
  detail::parallel_for(t.numel(), detail::kGrainCheap, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) p[i] *= s;
  });
}

// ---------------------------------------------------------------------------------------------
// Broadcasting a reduced tensor (laid out as `kept`) back over the input: the backward of every
// reduction over dims. The input's shape is coalesced into segments of adjacent dims that are
// all reduced or all kept (size-1 dims dropped); a reduced segment has stride 0 in the reduced
// tensor. The last segment is walked as a tight loop with stride 0 or 1.

struct ExpandView {
  std::vector<int64_t> size, stride;  // per segment; stride in the reduced tensor
  int64_t numel = 1;
};

ExpandView expand_view(const Shape& shape, const std::vector<bool>& reduced) {
  ExpandView v;
  std::vector<bool> seg_reduced;
  for (size_t d = 0; d < shape.size(); ++d) {
    v.numel *= shape[d];
    if (shape[d] == 1) continue;
    if (!seg_reduced.empty() && seg_reduced.back() == reduced[d]) {
      v.size.back() *= shape[d];
    } else {
      v.size.push_back(shape[d]);
      seg_reduced.push_back(reduced[d]);
    }
  }
  if (v.size.empty()) {
    v.size.push_back(1);
    seg_reduced.push_back(true);
  }
  v.stride.assign(v.size.size(), 0);
  int64_t s = 1;
  for (size_t i = v.size.size(); i-- > 0;) {
    if (seg_reduced[i]) continue;
    v.stride[i] = s;
    s *= v.size[i];
  }
  return v;
}

// row(x_offset, r_offset, r_stride, len) for each run of `len` consecutive input elements
// starting at x_offset, whose reduced elements start at r_offset with stride r_stride (0 or 1).
template <typename Row>
void for_each_expand_row(const ExpandView& v, int64_t grain, const Row& row) {
  if (v.numel == 0) return;
  const int64_t len = v.size.back(), r_stride = v.stride.back();
  const int64_t rows = v.numel / len;
  const int64_t segs = static_cast<int64_t>(v.size.size());
  detail::parallel_for(rows, std::max<int64_t>(1, grain / len), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t rem = r, off = 0;
      for (int64_t s = segs - 2; s >= 0; --s) {
        off += (rem % v.size[s]) * v.stride[s];
        rem /= v.size[s];
      }
      row(r * len, off, r_stride, len);
    }
  });
}

// dx = scale · g broadcast over the reduced dims.
Tensor expand_scaled(const Tensor& g, const Shape& shape, const std::vector<bool>& reduced,
                     float scale) {
  Tensor dx = Tensor::empty(shape);
  float* pd = dx.data();
  const float* pg = g.data();
  for_each_expand_row(expand_view(shape, reduced), detail::kGrainCheap,
                      [&](int64_t xo, int64_t ro, int64_t rs, int64_t len) {
                        float* o = pd + xo;
                        if (rs == 0) {
                          const float v = pg[ro] * scale;
                          for (int64_t k = 0; k < len; ++k) o[k] = v;
                        } else {
                          const float* gr = pg + ro;
                          for (int64_t k = 0; k < len; ++k) o[k] = gr[k] * scale;
                        }
                      });
  return dx;
}

// ---------------------------------------------------------------------------------------------
// Extrema. NaN ranks above every number for max and below for min (it propagates, as in
// PyTorch); ties keep the first index since only a strictly better value replaces the best.

struct Above {
  static bool better(float v, float best) { return v > best || (v != v && best == best); }
  static float pick(float a, float b) { return b > a ? b : a; }  // ignores a NaN b
};
struct Below {
  static bool better(float v, float best) { return v < best || (v != v && best == best); }
  static float pick(float a, float b) { return b < a ? b : a; }
};

struct Found {
  float value;
  int64_t index;
};

// The first extremal element of p[0, n), n > 0. Instead of a branch per element, one branchless
// pass (independent lanes, which vectorise) finds the extreme value and whether a NaN is
// present; a second pass stops at the first element equal to it (or the first NaN).
template <typename Cmp>
Found first_extreme(const float* p, int64_t n) {
  constexpr int kLanes = 8;
  float m[kLanes];
  int nan[kLanes] = {};
  std::fill(m, m + kLanes, p[0]);
  int64_t k = 0;
  for (; k + kLanes <= n; k += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      m[l] = Cmp::pick(m[l], p[k + l]);
      nan[l] |= p[k + l] != p[k + l];
    }
  float best = m[0];
  bool any_nan = false;
  for (int l = 0; l < kLanes; ++l) {
    best = Cmp::pick(best, m[l]);
    any_nan = any_nan || nan[l];
  }
  for (; k < n; ++k) {
    best = Cmp::pick(best, p[k]);
    any_nan = any_nan || p[k] != p[k];
  }
  int64_t at = 0;
  if (any_nan) {
    while (p[at] == p[at]) ++at;
  } else {
    while (p[at] != best) ++at;
  }
  return {p[at], at};
}

// values[o, i], index[o, i] = extremum of x[o, :, i] and its first position.
template <typename Cmp>
void extreme_along(const float* x, float* values, int64_t* index, const detail::AxisView& v) {
  const int64_t n = v.n, inner = v.inner;
  if (inner == 1) {  // contiguous rows
    detail::parallel_for(v.outer, std::max<int64_t>(1, detail::kGrainCheap / n),
                         [&](int64_t lo, int64_t hi) {
                           for (int64_t o = lo; o < hi; ++o) {
                             const Found f = first_extreme<Cmp>(x + o * n, n);
                             values[o] = f.value;
                             index[o] = f.index;
                           }
                         });
    return;
  }
  // Compare whole rows of an inner block at a time (vectorisable), updating per-column bests.
  constexpr int64_t kBlock = 512;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  detail::parallel_for(
      v.outer * blocks, std::max<int64_t>(1, detail::kGrainCheap / (n * kBlock)),
      [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
          const int64_t o = t / blocks, j0 = (t % blocks) * kBlock;
          const int64_t len = std::min(kBlock, inner - j0);
          float* best = values + o * inner + j0;
          int64_t* at = index + o * inner + j0;
          const float* first = x + o * n * inner + j0;
          for (int64_t j = 0; j < len; ++j) {
            best[j] = first[j];
            at[j] = 0;
          }
          for (int64_t k = 1; k < n; ++k) {
            const float* row = first + k * inner;
            for (int64_t j = 0; j < len; ++j) {
              const bool b = Cmp::better(row[j], best[j]);
              best[j] = b ? row[j] : best[j];
              at[j] = b ? k : at[j];
            }
          }
        }
      });
}

template <typename Cmp>
MaxResult extreme_with_indices(const char* op, const Tensor& x, int64_t dim, bool keepdim,
                               bool track) {
  const int64_t d = detail::check_dim(op, dim, x.shape());
  RECGRAD_CHECK(x.shape()[d] > 0, op, ": cannot reduce dimension ", d, " of size 0 in shape ",
                x.shape());
  const detail::AxisView v = detail::axis_view(x.shape(), d);
  const Shape out_shape = detail::drop_dim(x.shape(), d, keepdim);
  Tensor values = Tensor::empty(out_shape);
  std::vector<int64_t> index(static_cast<size_t>(v.outer * v.inner));
  extreme_along<Cmp>(x.data(), values.data(), index.data(), v);
  Ids ids(std::move(index), out_shape);
  if (!track) return {values, std::move(ids)};
  // The gradient of each output goes to the one input element it was taken from.
  auto at = std::make_shared<const std::vector<int64_t>>(ids.values);
  values = record(op, values, {x}, [at, v](const Tensor& grad_out, GradSink& g) {
    if (!g.wants(0)) return;
    float* dx = g.dense(0).data();
    const float* go = grad_out.data();
    const int64_t* idx = at->data();
    detail::parallel_for(v.outer * v.inner, detail::kGrainCheap, [&](int64_t lo, int64_t hi) {
      for (int64_t e = lo; e < hi; ++e) {
        const int64_t o = e / v.inner, i = e % v.inner;
        dx[(o * v.n + idx[e]) * v.inner + i] += go[e];
      }
    });
  });
  return {values, std::move(ids)};
}

template <typename Cmp>
Tensor extreme_all(const char* op, const Tensor& x) {
  RECGRAD_CHECK(x.numel() > 0, op, ": tensor of shape ", x.shape(), " has no elements");
  const float* px = x.data();
  const Found best = detail::chunked_reduce(
      x.numel(), detail::kGrainCheap, Found{px[0], 0},
      [&](int64_t b, int64_t e) {
        const Found f = first_extreme<Cmp>(px + b, e - b);
        return Found{f.value, b + f.index};
      },
      // Chunks arrive in order, so keeping `acc` on ties keeps the first position.
      [](const Found& acc, const Found& part) {
        return Cmp::better(part.value, acc.value) ? part : acc;
      });
  Tensor out = scalar(best.value);
  const int64_t at = best.index;
  return record(op, out, {x}, [at](const Tensor& grad_out, GradSink& g) {
    if (g.wants(0)) g.dense(0).data()[at] += grad_out.data()[0];
  });
}

// ---------------------------------------------------------------------------------------------
// var over one run of adjacent reduced dims, fused: x viewed as [outer, R, inner], each output
// takes the mean and then the squared deviations of its R elements in double, with no
// temporary the size of x.

// Whether the reduced dims form one run (size-1 dims between them do not break it); sets the
// [outer, R, inner] view if so.
bool single_run(const Shape& shape, const std::vector<bool>& reduced, detail::AxisView* v) {
  const auto first = std::find(reduced.begin(), reduced.end(), true) - reduced.begin();
  const auto last = reduced.rend() - std::find(reduced.rbegin(), reduced.rend(), true) - 1;
  *v = {1, 1, 1};
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < first) v->outer *= shape[d];
    else if (d > last) v->inner *= shape[d];
    else if (reduced[d] || shape[d] == 1) v->n *= shape[d];
    else return false;
  }
  return true;
}

void var_run(const float* x, float* mean, float* out, const detail::AxisView& v, int64_t denom) {
  const int64_t n = v.n, inner = v.inner;
  const double nd = static_cast<double>(n), dd = static_cast<double>(denom);
  if (inner == 1) {
    detail::parallel_for(v.outer, std::max<int64_t>(1, detail::kGrainCheap / n),
                         [&](int64_t lo, int64_t hi) {
                           for (int64_t o = lo; o < hi; ++o) {
                             const float* row = x + o * n;
                             const double m =
                                 detail::lane_sum(0, n, [row](int64_t k) { return row[k]; }) / nd;
                             const double ss = detail::lane_sum(0, n, [row, m](int64_t k) {
                               const double dev = row[k] - m;
                               return dev * dev;
                             });
                             mean[o] = static_cast<float>(m);
                             out[o] = static_cast<float>(ss / dd);
                           }
                         });
    return;
  }
  constexpr int64_t kBlock = 256;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  detail::parallel_for(
      v.outer * blocks, std::max<int64_t>(1, detail::kGrainCheap / (n * kBlock)),
      [&](int64_t lo, int64_t hi) {
        double m[kBlock], ss[kBlock];
        for (int64_t t = lo; t < hi; ++t) {
          const int64_t o = t / blocks, j0 = (t % blocks) * kBlock;
          const int64_t len = std::min(kBlock, inner - j0);
          const float* first = x + o * n * inner + j0;
          for (int64_t j = 0; j < len; ++j) m[j] = ss[j] = 0;
          for (int64_t r = 0; r < n; ++r) {
            const float* row = first + r * inner;
            for (int64_t j = 0; j < len; ++j) m[j] += row[j];
          }
          for (int64_t j = 0; j < len; ++j) m[j] /= nd;
          for (int64_t r = 0; r < n; ++r) {
            const float* row = first + r * inner;
            for (int64_t j = 0; j < len; ++j) {
              const double dev = row[j] - m[j];
              ss[j] += dev * dev;
            }
          }
          for (int64_t j = 0; j < len; ++j) {
            mean[o * inner + j0 + j] = static_cast<float>(m[j]);
            out[o * inner + j0 + j] = static_cast<float>(ss[j] / dd);
          }
        }
      });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// sum and mean

Tensor sum(const Tensor& x) {
  const float* px = x.data();
  Tensor out = scalar(static_cast<float>(sum_all(x.numel(), [px](int64_t k) { return px[k]; })));
  const Shape shape = x.shape();
  return record("sum", out, {x}, [shape](const Tensor& grad_out, GradSink& g) {
    if (g.wants(0)) g.add(0, full(shape, grad_out.data()[0]));
  });
}

Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = plan_reduce("sum", x.shape(), dims, keepdim);
  Tensor out = with_shape(sum_kept(x, p.reduced), p.out);
  const Shape shape = x.shape();
  // dx = g broadcast back over the reduced dims.
  return record("sum", out, {x}, [shape, p](const Tensor& grad_out, GradSink& g) {
    if (g.wants(0)) g.add(0, expand_scaled(grad_out, shape, p.reduced, 1.f));
  });
}

Tensor mean(const Tensor& x) {
  const float* px = x.data();
  const int64_t n = x.numel();
  const double total = sum_all(n, [px](int64_t k) { return px[k]; });
  Tensor out = scalar(static_cast<float>(total / static_cast<double>(n)));
  const Shape shape = x.shape();
  return record("mean", out, {x}, [shape, n](const Tensor& grad_out, GradSink& g) {
    if (g.wants(0)) g.add(0, full(shape, grad_out.data()[0] / static_cast<float>(n)));
  });
}

Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim) {
  const ReducePlan p = plan_reduce("mean", x.shape(), dims, keepdim);
  Tensor out = with_shape(sum_kept(x, p.reduced), p.out);
  const float inv = 1.f / static_cast<float>(p.count);
  scale_in_place(out, inv);
  const Shape shape = x.shape();
  // dx = g / N broadcast back over the reduced dims.
  return record("mean", out, {x}, [shape, p, inv](const Tensor& grad_out, GradSink& g) {
    if (g.wants(0)) g.add(0, expand_scaled(grad_out, shape, p.reduced, inv));
  });
}

// ---------------------------------------------------------------------------------------------
// var: two passes (the mean, then squared deviations from it), which stays accurate when the
// mean is large against the spread, unlike E[x²] - E[x]².

Tensor var(const Tensor& x) {
  const int64_t n = x.numel();
  RECGRAD_CHECK(n > 1, "var: unbiased variance of a tensor of shape ", x.shape(),
                " needs at least 2 elements");
  const float* px = x.data();
  const double mu = sum_all(n, [px](int64_t k) { return px[k]; }) / static_cast<double>(n);
  const double ss = sum_all(n, [px, mu](int64_t k) {
    const double dev = static_cast<double>(px[k]) - mu;
    return dev * dev;
  });
  Tensor out = scalar(static_cast<float>(ss / static_cast<double>(n - 1)));
  const float m = static_cast<float>(mu);
  // dx = 2 (x - x̄) / (N - 1) · g  (the x̄ term's own gradient sums to zero).
  return record("var", out, {x}, [x, m, n](const Tensor& grad_out, GradSink& g) {
    if (!g.wants(0)) return;
    const float c = 2.f * grad_out.data()[0] / static_cast<float>(n - 1);
    Tensor dx = Tensor::empty(x.shape());
    const float* px = x.data();
    float* pd = dx.data();
    detail::parallel_for(n, detail::kGrainCheap, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) pd[i] = c * (px[i] - m);
    });
    g.add(0, dx);
  });
}

Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased, bool keepdim) {
  const ReducePlan p = plan_reduce("var", x.shape(), dims, keepdim);
  const int64_t denom = p.count - (unbiased ? 1 : 0);
  RECGRAD_CHECK(denom > 0, "var: ", unbiased ? "unbiased " : "", "variance over dims ",
                Shape(dims), " of a tensor of shape ", x.shape(), " needs at least ",
                unbiased ? 2 : 1, " elements per output, got ", p.count);
  Tensor mu = Tensor::empty(p.kept), out = Tensor::empty(p.out);
  detail::AxisView run;
  if (single_run(x.shape(), p.reduced, &run)) {
    var_run(x.data(), mu.data(), out.data(), run, denom);
  } else {
    // Separate runs of dims (e.g. {0, 2}): the mean, the squared deviations and their sum as
    // three kernels, each reducing one run at a time.
    mu = sum_kept(x, p.reduced);
    scale_in_place(mu, 1.f / static_cast<float>(p.count));
    Tensor dev2 = Tensor::empty(x.shape());
    const float* px = x.data();
    const float* pm = mu.data();
    float* pd = dev2.data();
    for_each_expand_row(expand_view(x.shape(), p.reduced), detail::kGrainCheap,
                        [&](int64_t xo, int64_t ro, int64_t rs, int64_t len) {
                          const float* xr = px + xo;
                          float* o = pd + xo;
                          if (rs == 0) {
                            const float m = pm[ro];
                            for (int64_t k = 0; k < len; ++k) o[k] = (xr[k] - m) * (xr[k] - m);
                          } else {
                            const float* mr = pm + ro;
                            for (int64_t k = 0; k < len; ++k)
                              o[k] = (xr[k] - mr[k]) * (xr[k] - mr[k]);
                          }
                        });
    out = with_shape(sum_kept(dev2, p.reduced), p.out);
    scale_in_place(out, 1.f / static_cast<float>(denom));
  }
  const ExpandView view = expand_view(x.shape(), p.reduced);
  // dx = 2 (x - x̄) / (N - ddof) · g, with x̄ and g broadcast back over the reduced dims.
  const float c = 2.f / static_cast<float>(denom);
  return record("var", out, {x}, [x, mu, view, c](const Tensor& grad_out, GradSink& g) {
    if (!g.wants(0)) return;
    Tensor dx = Tensor::empty(x.shape());
    const float* px = x.data();
    const float* pm = mu.data();
    const float* pg = grad_out.data();
    float* pd = dx.data();
    for_each_expand_row(view, detail::kGrainCheap, [&](int64_t xo, int64_t ro, int64_t rs, int64_t len) {
      const float* xr = px + xo;
      float* o = pd + xo;
      if (rs == 0) {
        const float m = pm[ro], s = c * pg[ro];
        for (int64_t k = 0; k < len; ++k) o[k] = s * (xr[k] - m);
      } else {
        const float* mr = pm + ro;
        const float* gr = pg + ro;
        for (int64_t k = 0; k < len; ++k) o[k] = c * gr[k] * (xr[k] - mr[k]);
      }
    });
    g.add(0, dx);
  });
}

// ---------------------------------------------------------------------------------------------
// max, min, argmax, argmin

MaxResult max_with_indices(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_with_indices<Above>("max", x, dim, keepdim, /*track=*/true);
}
Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  return max_with_indices(x, dim, keepdim).values;
}
Tensor max(const Tensor& x) { return extreme_all<Above>("max", x); }

MaxResult min_with_indices(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_with_indices<Below>("min", x, dim, keepdim, /*track=*/true);
}
Tensor min(const Tensor& x, int64_t dim, bool keepdim) {
  return min_with_indices(x, dim, keepdim).values;
}
Tensor min(const Tensor& x) { return extreme_all<Below>("min", x); }

Ids argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_with_indices<Above>("argmax", x, dim, keepdim, /*track=*/false).indices;
}
Ids argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return extreme_with_indices<Below>("argmin", x, dim, keepdim, /*track=*/false).indices;
}

}  // namespace recgrad
