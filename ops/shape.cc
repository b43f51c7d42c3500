#include "ops/shape.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/broadcast.h"

namespace recgrad {
namespace {

// A dimension index for `op` on a tensor of `shape`, with `rank` valid positions (rank of the
// shape, or one more where a dimension is inserted); the message names the shape.
int64_t checked_dim(int64_t dim, int64_t rank, const char* op, const Shape& shape) {
  RECGRAD_CHECK(rank > 0, op, ": a scalar (shape []) has no dimension ", dim);
  RECGRAD_CHECK(dim >= -rank && dim < rank, op, ": dimension ", dim, " is out of range for shape ",
                shape, " (valid: ", -rank, " to ", rank - 1, ")");
  return dim < 0 ? dim + rank : dim;
}

int64_t prod(const Shape& s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i) n *= s[i];
  return n;
}

// "[1,2]": a flat position in `shape` as a multi-index, for error messages.
std::string position_in(const Shape& shape, int64_t flat) {
  Shape idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return idx.str();
}

// ---------------------------------------------------------------------------------------------
// Copy kernels

// dst[o·dst_stride + j] = src[o·src_stride + j] (or +=) for o < outer, j < len: the blocks that
// concat, narrow and their backwards move. Split over all outer·len elements, so one huge block
// and many tiny ones both spread across threads.
template <bool kAdd>
void copy_blocks(const float* src, int64_t src_stride, float* dst, int64_t dst_stride,
                 int64_t outer, int64_t len) {
  if (len <= 0) return;
  detail::parallel_for(outer * len, detail::kGrainCheap, [&](int64_t b, int64_t e) {
    int64_t o = b / len, j = b % len;
    while (b < e) {
      const int64_t run = std::min(len - j, e - b);
      const float* s = src + o * src_stride + j;
      float* d = dst + o * dst_stride + j;
      if (kAdd) {
        for (int64_t i = 0; i < run; ++i) d[i] += s[i];
      } else {
        std::memcpy(d, s, sizeof(float) * run);
      }
      b += run;
      ++o;
      j = 0;
    }
  });
}

// dst (contiguous, `shape`) [i] = src[Σ_k i_k · strides[k]]: a strided read, written in output
// order (each task owns whole output rows, so writes never overlap). Serves permute (strides
// permuted) and expand (stride 0 along broadcast dimensions).
void gather_strided(const float* src, const Shape& shape, const std::vector<int64_t>& strides,
                    float* dst) {
  const int64_t n = shape.numel();
  if (n == 0) return;
  if (shape.empty()) {
    dst[0] = src[0];
    return;
  }
  const int64_t rank = static_cast<int64_t>(shape.size());
  const int64_t inner = shape.back(), is = strides.back();
  detail::parallel_for(n / inner, detail::items_per_task(inner), [&](int64_t lo, int64_t hi) {
    // Decode the first row's multi-index once, then step it like an odometer.
    std::vector<int64_t> idx(rank - 1);
    int64_t off = 0, rem = lo;
    for (int64_t k = rank - 2; k >= 0; --k) {
      idx[k] = rem % shape[k];
      rem /= shape[k];
      off += idx[k] * strides[k];
    }
    for (int64_t row = lo; row < hi; ++row) {
      float* o = dst + row * inner;
      const float* s = src + off;
      if (is == 1)
        std::memcpy(o, s, sizeof(float) * inner);
      else if (is == 0)
        std::fill(o, o + inner, s[0]);
      else
        for (int64_t j = 0; j < inner; ++j) o[j] = s[j * is];
      for (int64_t k = rank - 2; k >= 0; --k) {
        off += strides[k];
        if (++idx[k] < shape[k]) break;
        off -= strides[k] * shape[k];
        idx[k] = 0;
      }
    }
  });
}

// [B,R,C] -> [B,C,R]. Reading a column of a row-major matrix touches one cache line per
// element; 32x32 tiles keep both the rows read and the rows written in L1. Each task owns one
// output tile, so writes never overlap; consecutive tasks walk along an output row band.
void batched_transpose(const float* src, float* dst, int64_t batch, int64_t rows, int64_t cols) {
  constexpr int64_t kTile = 32;
  const int64_t row_tiles = (rows + kTile - 1) / kTile, col_tiles = (cols + kTile - 1) / kTile;
  detail::parallel_for(
      batch * col_tiles * row_tiles, detail::kGrainCheap / (kTile * kTile),
      [&](int64_t lo, int64_t hi) {
        for (int64_t t = lo; t < hi; ++t) {
          const int64_t b = t / (col_tiles * row_tiles);
          const int64_t c0 = (t / row_tiles % col_tiles) * kTile, r0 = (t % row_tiles) * kTile;
          const int64_t c1 = std::min(cols, c0 + kTile), r1 = std::min(rows, r0 + kTile);
          const float* s = src + b * rows * cols;
          float* d = dst + b * rows * cols;
          for (int64_t c = c0; c < c1; ++c)
            for (int64_t r = r0; r < r1; ++r) d[c * rows + r] = s[r * cols + c];
        }
      });
}

// ---------------------------------------------------------------------------------------------
// Views

// A new handle on x's storage with another shape of the same numel: how views are made.
Tensor alias(const Tensor& x, const Shape& shape) {
  Tensor v = x.detach();
  v.impl()->shape = shape;
  return v;
}

// x viewed as `shape`, recorded as `op`; the gradient is the output gradient viewed back.
Tensor view_op(const char* op, const Tensor& x, const Shape& shape) {
  return record(op, alias(x, shape), {x}, [in_shape = x.shape()](const Tensor& dy, GradSink& g) {
    g.add(0, alias(dy, in_shape));
  });
}

// ---------------------------------------------------------------------------------------------
// Copying rearrangements

Tensor permute_op(const char* op, const Tensor& x, const std::vector<int64_t>& dims) {
  Shape out_shape(dims.size());
  std::vector<int64_t> inverse(dims.size());
  for (size_t k = 0; k < dims.size(); ++k) {
    out_shape[k] = x.shape()[dims[k]];
    inverse[dims[k]] = static_cast<int64_t>(k);
  }
  Tensor out = Tensor::empty(out_shape);
  detail::permute_into(x, dims, out);
  // y = permute(x, dims)  =>  dx = permute(dy, dims⁻¹).
  return record(op, out, {x}, [inverse, in_shape = x.shape()](const Tensor& dy, GradSink& g) {
    if (!g.wants(0)) return;
    Tensor dx = Tensor::empty(in_shape);
    detail::permute_into(dy, inverse, dx);
    g.add(0, dx);
  });
}

// Writes each tensor's elements into its slot of `out_shape` along a joining dimension, where
// `outer` is the product of the dimensions before it: tensor i is `outer` blocks of
// numel_i / outer elements, laid side by side. Serves concat and stack (whose inputs are viewed
// with a size-1 joining dimension).
Tensor join(const char* op, const std::vector<Tensor>& tensors, int64_t outer,
            const Shape& out_shape) {
  Tensor out = Tensor::empty(out_shape);
  const int64_t row = outer > 0 ? out.numel() / outer : 0;  // one outer block of the output
  std::vector<int64_t> chunk, offset;
  std::vector<Shape> shapes;
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    chunk.push_back(outer > 0 ? t.numel() / outer : 0);
    offset.push_back(at);
    shapes.push_back(t.shape());
    copy_blocks<false>(t.data(), chunk.back(), out.data() + at, row, outer, chunk.back());
    at += chunk.back();
  }
  return record(
      op, out, tensors, [chunk, offset, shapes, outer, row](const Tensor& dy, GradSink& g) {
        for (size_t i = 0; i < shapes.size(); ++i) {
          if (!g.wants(i)) continue;
          Tensor dx = Tensor::empty(shapes[i]);
          copy_blocks<false>(dy.data() + offset[i], row, dx.data(), chunk[i], outer, chunk[i]);
          g.add(i, dx);
        }
      });
}

// y = x[..., start + k·step, ...] for k < len along dimension d (already in range).
Tensor strided_rows(const char* op, const Tensor& x, int64_t d, int64_t start, int64_t len,
                    int64_t step) {
  const Shape& xs = x.shape();
  const int64_t outer = prod(xs, 0, d), size = xs[d], inner = prod(xs, d + 1, xs.size());
  Shape out_shape = xs;
  out_shape[d] = len;
  Tensor out = Tensor::empty(out_shape);
  // x viewed as [outer, size, inner], y as [outer, len, inner]; row r of y is (r / len, r % len).
  auto for_each_row = [=](const auto& body) {
    detail::parallel_for(outer * len, detail::items_per_task(inner), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r)
        body(r * inner, ((r / len) * size + start + (r % len) * step) * inner);
    });
  };
  if (step == 1) {
    copy_blocks<false>(x.data() + start * inner, size * inner, out.data(), len * inner, outer,
                       len * inner);
  } else {
    const float* px = x.data();
    float* py = out.data();
    for_each_row([&](int64_t y_off, int64_t x_off) {
      std::memcpy(py + y_off, px + x_off, sizeof(float) * inner);
    });
  }
  // The selected rows are distinct, so the scatter back into dx runs in parallel.
  return record(
      op, out, {x},
      [for_each_row, outer, size, inner, start, len, step](const Tensor& dy, GradSink& g) {
        if (!g.wants(0)) return;
        float* dx = g.dense(0).data();
        const float* pdy = dy.data();
        if (step == 1) {
          copy_blocks<true>(pdy, len * inner, dx + start * inner, size * inner, outer, len * inner);
          return;
        }
        for_each_row([&](int64_t y_off, int64_t x_off) {
          for (int64_t j = 0; j < inner; ++j) dx[x_off + j] += pdy[y_off + j];
        });
      });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// detail

namespace detail {

namespace {

// The groups from keys sorted by (id, position), each packed as id << pos_bits | position.
IdGroups groups_from_packed(const std::vector<uint64_t>& keys, int pos_bits) {
  const uint64_t pos_mask = (uint64_t{1} << pos_bits) - 1;
  IdGroups g;
  g.positions.resize(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    g.positions[k] = static_cast<int64_t>(keys[k] & pos_mask);
    const int64_t id = static_cast<int64_t>(keys[k] >> pos_bits);
    if (k == 0 || (keys[k] >> pos_bits) != (keys[k - 1] >> pos_bits)) {
      g.unique.push_back(id);
      g.starts.push_back(static_cast<int64_t>(k));
    }
  }
  g.starts.push_back(static_cast<int64_t>(keys.size()));
  return g;
}

// Sorts keys whose set bits are all below `bits` by LSD radix sort, 11 bits per pass: linear
// in the keys, where a comparison sort of (id, position) pairs was a quarter of an embedding's
// forward+backward at 64K ids (benchmarks/ops_bench). Keys are unique, so the order is the
// sorted order, as any sort gives.
void radix_sort(std::vector<uint64_t>& keys, int bits) {
  constexpr int kDigit = 11;
  constexpr size_t kBuckets = size_t{1} << kDigit;
  std::vector<uint64_t> tmp(keys.size());
  std::vector<size_t> count(kBuckets);
  for (int shift = 0; shift < bits; shift += kDigit) {
    std::fill(count.begin(), count.end(), 0);
    for (uint64_t k : keys) ++count[(k >> shift) & (kBuckets - 1)];
    size_t sum = 0;
    for (size_t& c : count) sum += std::exchange(c, sum);
    for (uint64_t k : keys) tmp[count[(k >> shift) & (kBuckets - 1)]++] = k;
    keys.swap(tmp);
  }
}

}  // namespace

IdGroups group_ids(const std::vector<int64_t>& ids, int64_t skip) {
  // Fast path: non-negative ids and positions packed into one 64-bit key (id, then position),
  // radix-sorted. Embedding tables and index_select sources always fit.
  int pos_bits = 1;
  while ((size_t{1} << pos_bits) < ids.size()) ++pos_bits;
  bool non_negative = true;
  int64_t max_id = 0;
  for (int64_t id : ids) {
    if (id == skip) continue;
    non_negative = non_negative && id >= 0;
    max_id = std::max(max_id, id);
  }
  int id_bits = 0;
  while (id_bits < 63 && (max_id >> id_bits) != 0) ++id_bits;
  if (non_negative && id_bits + pos_bits <= 64) {
    std::vector<uint64_t> keys;
    keys.reserve(ids.size());
    for (size_t p = 0; p < ids.size(); ++p)
      if (ids[p] != skip) keys.push_back(static_cast<uint64_t>(ids[p]) << pos_bits | p);
    radix_sort(keys, id_bits + pos_bits);
    return groups_from_packed(keys, pos_bits);
  }
  std::vector<std::pair<int64_t, int64_t>> pairs;  // (id, position)
  pairs.reserve(ids.size());
  for (size_t p = 0; p < ids.size(); ++p)
    if (ids[p] != skip) pairs.emplace_back(ids[p], static_cast<int64_t>(p));
  // (id, position) keys are unique, so the sorted order is the same however the sort runs.
  if (pairs.size() > (size_t{1} << 16) && num_threads() > 1)
    parallel_sort(pairs.begin(), pairs.end());
  else
    std::sort(pairs.begin(), pairs.end());
  IdGroups g;
  g.positions.resize(pairs.size());
  for (size_t k = 0; k < pairs.size(); ++k) {
    g.positions[k] = pairs[k].second;
    if (k == 0 || pairs[k].first != pairs[k - 1].first) {
      g.unique.push_back(pairs[k].first);
      g.starts.push_back(static_cast<int64_t>(k));
    }
  }
  g.starts.push_back(static_cast<int64_t>(pairs.size()));
  return g;
}

void permute_into(const Tensor& x, const std::vector<int64_t>& dims, Tensor& out) {
  const Shape& xs = x.shape();
  if (x.numel() == 0) return;
  // Reduce to a canonical permutation first: size-1 dimensions do not move data, and output
  // dimensions that are consecutive input dimensions move as one. [B,1,R,C] -> [B,1,C,R] becomes
  // a batched transpose, [A,B,C] -> [C,A,B] a plain 2-D transpose of [A·B, C].
  std::vector<int64_t> renumber(xs.size(), -1);
  Shape kept;
  for (size_t d = 0; d < xs.size(); ++d)
    if (xs[d] != 1) {
      renumber[d] = static_cast<int64_t>(kept.size());
      kept.push_back(xs[d]);
    }
  std::vector<int64_t> first;  // per group, in output order: its first (kept) input dimension
  Shape group_size;
  int64_t prev = -2;
  for (int64_t d : dims) {
    const int64_t k = renumber[d];
    if (k < 0) continue;
    if (k == prev + 1) {
      group_size.back() *= kept[k];
    } else {
      first.push_back(k);
      group_size.push_back(kept[k]);
    }
    prev = k;
  }
  const size_t n_groups = first.size();
  std::vector<int64_t> input_order(n_groups);  // groups sorted by where they sit in x
  std::iota(input_order.begin(), input_order.end(), 0);
  std::sort(input_order.begin(), input_order.end(),
            [&](int64_t a, int64_t b) { return first[a] < first[b]; });
  std::vector<int64_t> perm(n_groups);  // output group k is reduced input dimension perm[k]
  Shape in_shape(n_groups);
  for (size_t i = 0; i < n_groups; ++i) {
    perm[input_order[i]] = static_cast<int64_t>(i);
    in_shape[i] = group_size[input_order[i]];
  }

  const float* src = x.data();
  float* dst = out.data();
  if (n_groups <= 1) {  // the data does not move
    copy_blocks<false>(src, 0, dst, 0, 1, x.numel());
    return;
  }
  const size_t g = n_groups;
  bool leading_fixed =
      perm[g - 2] == static_cast<int64_t>(g - 1) && perm[g - 1] == static_cast<int64_t>(g - 2);
  for (size_t k = 0; k + 2 < g; ++k)
    leading_fixed = leading_fixed && perm[k] == static_cast<int64_t>(k);
  if (leading_fixed) {
    batched_transpose(src, dst, prod(in_shape, 0, g - 2), in_shape[g - 2], in_shape[g - 1]);
    return;
  }
  const std::vector<int64_t> in_strides = contiguous_strides(in_shape);
  Shape reduced_out(g);
  std::vector<int64_t> strides(g);
  for (size_t k = 0; k < g; ++k) {
    reduced_out[k] = in_shape[perm[k]];
    strides[k] = in_strides[perm[k]];
  }
  gather_strided(src, reduced_out, strides, dst);
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Views

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape out = shape;
  int64_t inferred = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      RECGRAD_CHECK(inferred < 0, "reshape: ", x.shape(), " to ", shape, ": more than one -1");
      inferred = static_cast<int64_t>(i);
    } else {
      RECGRAD_CHECK(shape[i] >= 0, "reshape: ", x.shape(), " to ", shape, ": negative size");
      known *= shape[i];
    }
  }
  if (inferred >= 0) {
    RECGRAD_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot view ", x.shape(), " (",
                  x.numel(), " elements) as ", shape);
    out[inferred] = x.numel() / known;
  }
  RECGRAD_CHECK(out.numel() == x.numel(), "reshape: cannot view ", x.shape(), " (", x.numel(),
                " elements) as ", shape, " (", out.numel(), " elements)");
  return view_op("reshape", x, out);
}

Tensor flatten(const Tensor& x, int64_t start_dim, int64_t end_dim) {
  const Shape& xs = x.shape();
  if (xs.empty()) return view_op("flatten", x, {1});
  const int64_t rank = x.dim();
  const int64_t s = checked_dim(start_dim, rank, "flatten", xs);
  const int64_t e = checked_dim(end_dim, rank, "flatten", xs);
  RECGRAD_CHECK(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim,
                " in shape ", xs);
  Shape out(xs.begin(), xs.begin() + s);
  out.push_back(prod(xs, s, e + 1));
  out.insert(out.end(), xs.begin() + e + 1, xs.end());
  return view_op("flatten", x, out);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  const Shape& xs = x.shape();
  const int64_t d = checked_dim(dim, x.dim(), "squeeze", xs);
  // Unlike PyTorch (which silently returns x), squeezing a dimension that is not 1 is an error:
  // it almost always means the shape is not what the caller thinks.
  RECGRAD_CHECK(xs[d] == 1, "squeeze: dimension ", dim, " of shape ", xs, " has size ", xs[d],
                ", not 1");
  Shape out = xs;
  out.erase(out.begin() + d);
  return view_op("squeeze", x, out);
}

Tensor squeeze(const Tensor& x) {
  Shape out;
  for (int64_t s : x.shape())
    if (s != 1) out.push_back(s);
  return view_op("squeeze", x, out);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  const int64_t d = checked_dim(dim, x.dim() + 1, "unsqueeze", x.shape());
  Shape out = x.shape();
  out.insert(out.begin() + d, 1);
  return view_op("unsqueeze", x, out);
}

// ---------------------------------------------------------------------------------------------
// Copies

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  const int64_t a = checked_dim(d0, x.dim(), "transpose", x.shape());
  const int64_t b = checked_dim(d1, x.dim(), "transpose", x.shape());
  std::vector<int64_t> dims(x.dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[a], dims[b]);
  return permute_op("transpose", x, dims);
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const int64_t rank = x.dim();
  RECGRAD_CHECK(static_cast<int64_t>(dims.size()) == rank, "permute: dims ", Shape(dims),
                " do not match the rank of shape ", x.shape());
  std::vector<int64_t> norm(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (size_t k = 0; k < dims.size(); ++k) {
    norm[k] = checked_dim(dims[k], rank, "permute", x.shape());
    RECGRAD_CHECK(!seen[norm[k]], "permute: dims ", Shape(dims), " repeat dimension ", dims[k],
                  " of shape ", x.shape());
    seen[norm[k]] = true;
  }
  return permute_op("permute", x, norm);
}

Tensor expand(const Tensor& x, const Shape& shape) {
  const Shape& xs = x.shape();
  RECGRAD_CHECK(shape.size() >= xs.size(), "expand: shape ", xs, " cannot be expanded to ", shape,
                ": fewer dimensions");
  const size_t lead = shape.size() - xs.size();
  Shape out = shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (d < lead) {
      RECGRAD_CHECK(shape[d] >= 0, "expand: shape ", xs, " cannot be expanded to ", shape,
                    ": dimension ", d,
                    " is new, so its size must be given (-1 keeps an existing one)");
      continue;
    }
    const int64_t have = xs[d - lead];
    if (shape[d] == -1) out[d] = have;
    RECGRAD_CHECK(out[d] >= 0 && (have == out[d] || have == 1), "expand: shape ", xs,
                  " cannot be expanded to ", shape, " (dimension ", d, ": ", have, " vs ", shape[d],
                  ")");
  }
  Tensor y = Tensor::empty(out);
  gather_strided(x.data(), out, detail::broadcast_strides(xs, out), y.data());
  // The adjoint of broadcasting: sum the gradient over the repeated dimensions.
  return record("expand", y, {x}, [in_shape = xs](const Tensor& dy, GradSink& g) {
    if (g.wants(0)) g.add(0, detail::sum_to_shape(dy, in_shape));
  });
}

Tensor concat(const std::vector<Tensor>& tensors, int64_t dim) {
  RECGRAD_CHECK(!tensors.empty(), "concat: no tensors to join");
  const Shape& s0 = tensors[0].shape();
  const int64_t d = checked_dim(dim, static_cast<int64_t>(s0.size()), "concat", s0);
  Shape out = s0;
  out[d] = 0;
  for (const Tensor& t : tensors) {
    const Shape& s = t.shape();
    bool same = s.size() == s0.size();
    for (size_t i = 0; same && i < s.size(); ++i)
      same = static_cast<int64_t>(i) == d || s[i] == s0[i];
    RECGRAD_CHECK(same, "concat: shapes ", s0, " and ", s, " differ outside dimension ", d);
    out[d] += s[d];
  }
  return join("concat", tensors, prod(s0, 0, d), out);
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
  RECGRAD_CHECK(!tensors.empty(), "stack: no tensors to stack");
  const Shape& s0 = tensors[0].shape();
  for (const Tensor& t : tensors)
    RECGRAD_CHECK(t.shape() == s0, "stack: shapes ", s0, " and ", t.shape(), " differ");
  const int64_t d = checked_dim(dim, static_cast<int64_t>(s0.size()) + 1, "stack", s0);
  Shape out = s0;
  out.insert(out.begin() + d, static_cast<int64_t>(tensors.size()));
  return join("stack", tensors, prod(s0, 0, d), out);
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  const int64_t d = checked_dim(dim, x.dim(), "narrow", x.shape());
  const int64_t size = x.shape()[d];
  const int64_t s = start < 0 ? start + size : start;
  RECGRAD_CHECK(s >= 0 && s <= size && length >= 0 && s + length <= size, "narrow: start ", start,
                " and length ", length, " do not fit dimension ", d, " of shape ", x.shape(),
                " (size ", size, ")");
  return strided_rows("narrow", x, d, s, length, 1);
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end, int64_t step) {
  const int64_t d = checked_dim(dim, x.dim(), "slice", x.shape());
  RECGRAD_CHECK(step > 0, "slice: step ", step, " must be positive (shape ", x.shape(), ")");
  const int64_t size = x.shape()[d];
  auto clamp = [size](int64_t i) {
    return std::min(std::max(i < 0 ? i + size : i, int64_t{0}), size);
  };
  const int64_t s = clamp(start), e = clamp(end);
  const int64_t len = e > s ? (e - s + step - 1) / step : 0;
  return strided_rows("slice", x, d, s, len, step);
}

Tensor index_select(const Tensor& x, int64_t dim, const Ids& index) {
  const Shape& xs = x.shape();
  const int64_t d = checked_dim(dim, x.dim(), "index_select", xs);
  RECGRAD_CHECK(index.shape.size() == 1, "index_select: index must be 1-D, got shape ",
                index.shape);
  const int64_t size = xs[d], n = index.numel();
  for (int64_t k = 0; k < n; ++k) {
    const int64_t id = index.values[k];
    RECGRAD_CHECK(id >= 0 && id < size, "index_select: id ", id, " at position ", k,
                  " is out of range [0, ", size, ") for dimension ", d, " of shape ", xs);
  }
  const int64_t outer = prod(xs, 0, d), inner = prod(xs, d + 1, xs.size());
  Shape out_shape = xs;
  out_shape[d] = n;
  Tensor out = Tensor::empty(out_shape);
  {
    const float* px = x.data();
    float* py = out.data();
    const int64_t* ids = index.values.data();
    detail::parallel_for(outer * n, detail::items_per_task(inner), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r)
        std::memcpy(py + r * inner, px + ((r / n) * size + ids[r % n]) * inner,
                    sizeof(float) * inner);
    });
  }
  // dx[o, id] += Σ dy[o, k] over positions k holding id. Grouping positions by id lets each task
  // own whole rows of dx and sum repeated ids in position order: no races, and the same bits at
  // any thread count.
  return record("index_select", out, {x},
                [ids = index.values, outer, size, inner, n](const Tensor& dy, GradSink& g) {
                  if (!g.wants(0)) return;
                  const detail::IdGroups groups = detail::group_ids(ids);
                  const int64_t n_unique = static_cast<int64_t>(groups.unique.size());
                  float* dx = g.dense(0).data();
                  const float* pdy = dy.data();
                  const int64_t per_task =
                      inner * std::max<int64_t>(1, n / std::max<int64_t>(n_unique, 1));
                  detail::parallel_for(
                      outer * n_unique, detail::items_per_task(per_task),
                      [&](int64_t lo, int64_t hi) {
                        for (int64_t t = lo; t < hi; ++t) {
                          const int64_t o = t / n_unique, u = t % n_unique;
                          float* dst = dx + (o * size + groups.unique[u]) * inner;
                          for (int64_t q = groups.starts[u]; q < groups.starts[u + 1]; ++q) {
                            const float* src = pdy + (o * n + groups.positions[q]) * inner;
                            for (int64_t j = 0; j < inner; ++j) dst[j] += src[j];
                          }
                        }
                      });
                });
}

Tensor gather(const Tensor& x, int64_t dim, const Ids& index) {
  const Shape& xs = x.shape();
  const Shape& is = index.shape;
  RECGRAD_CHECK(is.size() == xs.size(), "gather: index of shape ", is,
                " must have the rank of x of shape ", xs);
  const int64_t d = checked_dim(dim, x.dim(), "gather", xs);
  for (size_t i = 0; i < xs.size(); ++i)
    RECGRAD_CHECK(static_cast<int64_t>(i) == d || is[i] <= xs[i], "gather: index shape ", is,
                  " is larger than x shape ", xs, " in dimension ", i);
  const int64_t size = xs[d];
  for (int64_t p = 0; p < index.numel(); ++p) {
    const int64_t id = index.values[p];
    RECGRAD_CHECK(id >= 0 && id < size, "gather: id ", id, " at position ", position_in(is, p),
                  " is out of range [0, ", size, ") for dimension ", d, " of x of shape ", xs);
  }
  // Index positions are (o, k, i) over [outer, n, inner] of the index shape; each reads
  // x[x_outer[o] + id·x_step + x_inner[i]]. Offsets are tabulated because the index may be
  // smaller than x in the other dimensions.
  const int64_t outer = prod(is, 0, d), n = is[d], inner = prod(is, d + 1, is.size());
  const std::vector<int64_t> xstr = contiguous_strides(xs);
  const int64_t x_step = xstr[d];
  std::vector<int64_t> x_outer(outer), x_inner(inner);
  for (int64_t o = 0; o < outer; ++o) {
    int64_t rem = o, off = 0;
    for (int64_t k = d - 1; k >= 0; --k) {
      off += (rem % is[k]) * xstr[k];
      rem /= is[k];
    }
    x_outer[o] = off;
  }
  for (int64_t i = 0; i < inner; ++i) {
    int64_t rem = i, off = 0;
    for (int64_t k = x.dim() - 1; k > d; --k) {
      off += (rem % is[k]) * xstr[k];
      rem /= is[k];
    }
    x_inner[i] = off;
  }
  Tensor out = Tensor::empty(is);
  {
    const float* px = x.data();
    float* py = out.data();
    const int64_t* ids = index.values.data();
    detail::parallel_for(outer * n, detail::items_per_task(inner), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t base = x_outer[r / n];
        for (int64_t i = 0; i < inner; ++i)
          py[r * inner + i] = px[base + ids[r * inner + i] * x_step + x_inner[i]];
      }
    });
  }
  // dx[x_outer[o] + id·x_step + x_inner[i]] += dy[o, k, i]. Targets of different (o, i) never
  // meet, so a task owns an (o, block of i) pair and walks k in order: repeated ids are summed
  // in position order, race-free and identically at any thread count.
  return record(
      "gather", out, {x},
      [ids = index.values, x_outer, x_inner, outer, n, inner, x_step](const Tensor& dy,
                                                                      GradSink& g) {
        if (!g.wants(0)) return;
        float* dx = g.dense(0).data();
        const float* pdy = dy.data();
        constexpr int64_t kBlock = 256;
        const int64_t blocks = (inner + kBlock - 1) / kBlock;
        detail::parallel_for(
            outer * blocks, detail::items_per_task(kBlock * std::max<int64_t>(n, 1)),
            [&](int64_t lo, int64_t hi) {
              for (int64_t t = lo; t < hi; ++t) {
                const int64_t o = t / blocks, i0 = (t % blocks) * kBlock;
                const int64_t i1 = std::min(inner, i0 + kBlock);
                for (int64_t k = 0; k < n; ++k) {
                  const int64_t r = (o * n + k) * inner;
                  for (int64_t i = i0; i < i1; ++i)
                    dx[x_outer[o] + ids[r + i] * x_step + x_inner[i]] += pdy[r + i];
                }
              }
            });
      });
}

}  // namespace recgrad
