#pragma once
// Reductions: sum, mean, var, max/min (with their indices) and argmax/argmin.
//
// Dimension lists may hold negative dims (counted from the end); a dim out of range or given
// twice throws. With keepdim=false the reduced dims are dropped; with keepdim=true they stay
// as size 1, so the result broadcasts back against the input. Every result is deterministic:
// each output element is accumulated in a fixed order that does not depend on the thread
// count. (logsumexp lives with softmax in ops/softmax.h: it shares its stable kernels.)
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace recgrad {

/// s = Σᵢ xᵢ over every element.  x any shape -> []
Tensor sum(const Tensor& x);
/// y = Σ over `dims`.  x [.., n_d, ..] -> x's shape without dims (or with 1s when keepdim)
Tensor sum(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

/// m = Σᵢ xᵢ / N over every element.  x any shape -> []
Tensor mean(const Tensor& x);
/// y = Σ over `dims` / Π n_d.  shapes as sum(x, dims, keepdim)
Tensor mean(const Tensor& x, const std::vector<int64_t>& dims, bool keepdim = false);

/// v = Σᵢ (xᵢ - x̄)² / (N - 1) over every element (unbiased).  x any shape -> []
Tensor var(const Tensor& x);
/// v = Σ (x - x̄)² / (N - ddof) over `dims`, ddof = 1 when unbiased, else 0; N = Π n_d.
/// shapes as sum(x, dims, keepdim). Throws when N - ddof <= 0.
Tensor var(const Tensor& x, const std::vector<int64_t>& dims, bool unbiased = true,
           bool keepdim = false);

/// Values and positions of extrema along one dim; both have the reduced shape.
struct MaxResult {
  Tensor values;
  Ids indices;  ///< position along `dim` of the first extremal element
};

/// (maxᵣ x[.., r, ..], argmaxᵣ) along `dim`.  x [.., n, ..] -> [.., ..] (or [.., 1, ..])
/// The gradient goes to the first maximal element; NaN counts as the largest value.
MaxResult max_with_indices(const Tensor& x, int64_t dim, bool keepdim = false);
/// maxᵣ x[.., r, ..] along `dim`; the values of max_with_indices.
Tensor max(const Tensor& x, int64_t dim, bool keepdim = false);
/// The largest element (the first one on ties).  x any shape, numel > 0 -> []
Tensor max(const Tensor& x);

/// (minᵣ x[.., r, ..], argminᵣ) along `dim`; as max_with_indices with NaN the smallest value.
MaxResult min_with_indices(const Tensor& x, int64_t dim, bool keepdim = false);
/// minᵣ x[.., r, ..] along `dim`.
Tensor min(const Tensor& x, int64_t dim, bool keepdim = false);
/// The smallest element (the first one on ties).  x any shape, numel > 0 -> []
Tensor min(const Tensor& x);

/// First position of the maximum along `dim` (not differentiable).  x [.., n, ..] -> ids [.., ..]
Ids argmax(const Tensor& x, int64_t dim, bool keepdim = false);
/// First position of the minimum along `dim` (not differentiable).
Ids argmin(const Tensor& x, int64_t dim, bool keepdim = false);

namespace detail {

/// `dim` mapped into [0, rank), or an Error naming the op, the dim and the shape.
int64_t check_dim(const char* op, int64_t dim, const Shape& shape);

/// A tensor viewed as [outer, n, inner] around one dim: element (o, r, i) sits at
/// (o·n + r)·inner + i.
struct AxisView {
  int64_t outer, n, inner;
};
AxisView axis_view(const Shape& shape, int64_t dim);

/// `shape` with `dim` removed, or set to 1 when keepdim.
Shape drop_dim(const Shape& shape, int64_t dim, bool keepdim);

/// max(x[0, n)), NaNs skipped; -inf when n = 0 or every element is NaN or -inf. Vectorised:
/// the row max of softmax and the cross-entropies.
float max_of(const float* x, int64_t n);

/// Σ term(k) for k in [b, e), accumulated in double: 8 independent lanes (so the compiler can
/// keep them in vector registers) folded in lane order. A fixed function of b and e, so any
/// caller that fixes its chunk boundaries is deterministic.
template <typename Term>
double lane_sum(int64_t b, int64_t e, const Term& term) {
  constexpr int kLanes = 8;
  double acc[kLanes] = {};
  int64_t k = b;
  for (; k + kLanes <= e; k += kLanes)
    for (int l = 0; l < kLanes; ++l) acc[l] += static_cast<double>(term(k + l));
  double s = 0;
  for (int l = 0; l < kLanes; ++l) s += acc[l];
  for (; k < e; ++k) s += static_cast<double>(term(k));
  return s;
}

}  // namespace detail
}  // namespace recgrad
