#pragma once
// Kernels shared by broadcasting ops: a binary elementwise loop over numpy-broadcast operands,
// and its adjoint, summing a gradient back down to an operand's shape.
#include <cstdint>
#include <vector>

#include "autograd/parallel.h"
#include "autograd/tensor.h"
#include "ops/fast_math.h"

namespace recgrad::detail {

/// Strides (in elements) of `shape` viewed inside the broadcast shape `out`: 0 along dimensions
/// that are broadcast (missing or size 1 where `out` is larger).
std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out);

/// out[i] = f(a[ia], b[ib]) with numpy broadcasting; `out` already has the broadcast shape and
/// must not overlap a or b (the loops are vectorised over __restrict pointers).
/// The innermost dimension runs as a tight loop with stride 0 or 1 per operand.
template <typename F>
void broadcast_binary(const Tensor& a, const Tensor& b, Tensor& out, int64_t grain, F f) {
  const float* pa = a.data();
  const float* pb = b.data();
  float* po = out.data();
  const int64_t n = out.numel();
  // Contiguous runs go through map_range (ops/fast_math.h): plain loops stay scalar at -O2.
  if (a.shape() == b.shape()) {  // the common case: no index arithmetic at all
    parallel_map(po, n, grain, f, pa, pb);
    return;
  }
  if (b.numel() == 1 && a.numel() == n) {
    const float s = pb[0];
    parallel_map(po, n, grain, [&](float x) { return f(x, s); }, pa);
    return;
  }
  if (a.numel() == 1 && b.numel() == n) {
    const float s = pa[0];
    parallel_map(po, n, grain, [&](float y) { return f(s, y); }, pb);
    return;
  }
  const Shape& os = out.shape();
  const int64_t rank = static_cast<int64_t>(os.size());
  const std::vector<int64_t> sa = broadcast_strides(a.shape(), os);
  const std::vector<int64_t> sb = broadcast_strides(b.shape(), os);
  const int64_t inner = os.back();
  const int64_t ia = sa.back(), ib = sb.back();
  const int64_t rows = n / std::max<int64_t>(inner, 1);
  parallel_for(rows, std::max<int64_t>(1, grain / std::max<int64_t>(inner, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t r = lo; r < hi; ++r) {
                   // Offsets of this row in a and b from its multi-index over the outer dims.
                   int64_t rem = r, oa = 0, ob = 0;
                   for (int64_t d = rank - 2; d >= 0; --d) {
                     const int64_t idx = rem % os[d];
                     rem /= os[d];
                     oa += idx * sa[d];
                     ob += idx * sb[d];
                   }
                   float* o = po + r * inner;
                   const float* ra = pa + oa;
                   const float* rb = pb + ob;
                   // Innermost strides are 1 or 0 (broadcast): four contiguous cases.
                   if (ia && ib) {
                     map_range(o, inner, f, ra, rb);
                   } else if (ia) {
                     const float s = rb[0];
                     map_range(o, inner, [&](float x) { return f(x, s); }, ra);
                   } else if (ib) {
                     const float s = ra[0];
                     map_range(o, inner, [&](float y) { return f(s, y); }, rb);
                   } else {
                     const float v = f(ra[0], rb[0]);
                     for (int64_t j = 0; j < inner; ++j) o[j] = v;
                   }
                 }
               });
}

/// y[o, i] = sum_r x[o, r, i]: the sum over the middle axis of x viewed as [outer, R, inner],
/// each output summed in r order (deterministic at any thread count).
void sum_middle_axis(const float* x, float* y, int64_t outer, int64_t r, int64_t inner);

/// Sums `grad` (shaped like a broadcast result) down to `shape`, which broadcasts to
/// grad.shape(): the adjoint of broadcasting. Returns grad itself when the shapes match.
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);

}  // namespace recgrad::detail
