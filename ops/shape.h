#pragma once
// Shape ops: views (reshape and its relatives share storage with their input) and copying
// rearrangements (transpose, permute, expand, concat, stack, slicing, index selection, gather).
// Tensors are always contiguous row-major, so every op except the views copies into a fresh
// tensor. Dimensions may be negative (counted from the end) wherever a dimension is taken.
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace recgrad {

/// y = x viewed with `shape` (at most one entry -1, inferred from numel); shares x's storage.
/// x [...] -> shape, same numel.
Tensor reshape(const Tensor& x, const Shape& shape);

/// Merges dimensions start_dim..end_dim (inclusive) into one; a view of x.
/// x [2,3,4], start 1, end 2 -> [2,12];  a scalar flattens to [1].
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);

/// Drops dimension `dim`, which must have size 1; a view of x.  x [2,1,3], dim 1 -> [2,3]
Tensor squeeze(const Tensor& x, int64_t dim);

/// Drops every size-1 dimension; a view of x.  x [1,2,1,3] -> [2,3]
Tensor squeeze(const Tensor& x);

/// Inserts a size-1 dimension so that it ends up at `dim` (in [-(rank+1), rank]); a view of x.
/// x [2,3], dim 1 -> [2,1,3];  dim -1 -> [2,3,1]
Tensor unsqueeze(const Tensor& x, int64_t dim);

/// y = x with dimensions d0 and d1 swapped (copied).  x [2,3,4], 0, 2 -> [4,3,2]
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);

/// y[i_0, ..., i_{r-1}] = x[j] with j[dims[k]] = i_k: output dimension k is input dimension
/// dims[k] (copied).  x [2,3,4], dims {2,0,1} -> [4,2,3]
Tensor permute(const Tensor& x, const std::vector<int64_t>& dims);

/// x broadcast to `shape` (numpy rules: leading dimensions may be added, size-1 dimensions
/// repeated; -1 keeps x's size). x [3,1], shape {2,-1,4} -> [2,3,4]. Gradient sums back.
Tensor expand(const Tensor& x, const Shape& shape);

/// Joins tensors along `dim`; all other dimensions must agree.
/// [2,3] and [2,5], dim 1 -> [2,8]
Tensor concat(const std::vector<Tensor>& tensors, int64_t dim);

/// Joins equal-shaped tensors along a new dimension `dim` (in [-(rank+1), rank]).
/// n tensors [2,3], dim 1 -> [2,n,3]
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);

/// y = x[..., start : start+length, ...] along `dim`; start may be negative (from the end),
/// the range must lie inside the dimension.  x [5,3], dim 0, start 1, length 2 -> [2,3]
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);

/// y = x[..., start:end:step, ...] along `dim` with Python semantics: negative start/end count
/// from the end, both are clamped into the dimension, step > 0.
/// x [5,3], dim 0, 1, -1, 2 -> rows {1,3} -> [2,3]
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step = 1);

/// y = x with dimension `dim` replaced by the rows x[..., index[k], ...] (index 1-D, ids may
/// repeat). x [N,D], dim 0, index [n] -> [n,D]. Repeated ids sum their gradients in id order.
Tensor index_select(const Tensor& x, int64_t dim, const Ids& index);

/// PyTorch's gather: y[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and so on for other dims).
/// index has x's rank and index.size(d) <= x.size(d) for d != dim.  -> index.shape
Tensor gather(const Tensor& x, int64_t dim, const Ids& index);

namespace detail {

/// Positions of equal ids, grouped: for u < unique.size(), positions[starts[u] .. starts[u+1])
/// are the positions p with ids[p] == unique[u], ascending. unique is sorted. This is the fixed
/// order in which scatter-add backwards (index_select, embedding) sum repeated ids, so their
/// results do not depend on the thread count. Positions whose id equals `skip` are left out.
struct IdGroups {
  std::vector<int64_t> unique;
  std::vector<int64_t> starts;  // unique.size() + 1 entries
  std::vector<int64_t> positions;
};
IdGroups group_ids(const std::vector<int64_t>& ids, int64_t skip = -1);

/// out = x permuted (output dimension k is input dimension dims[k]); `dims` already
/// validated and non-negative, out already shaped.
void permute_into(const Tensor& x, const std::vector<int64_t>& dims, Tensor& out);

}  // namespace detail
}  // namespace recgrad
