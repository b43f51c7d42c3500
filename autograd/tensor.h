#pragma once
// The float32 Tensor: a handle to contiguous row-major storage shared between handles, a shape,
// and, when it takes part in autograd, either a gradient (leaves) or the graph node that
// produced it (results of ops).
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "autograd/shape.h"
#include "autograd/storage.h"

namespace recgrad {

class Generator;
class Node;
class Tensor;
struct TensorImpl;
struct RowSparseGrad;

/// Integer indices (item ids, class targets) with a shape: row-major like a Tensor.
struct Ids {
  std::vector<int64_t> values;
  Shape shape;
  /// No ids: shape [0].
  Ids() : shape{0} {}
  /// A 1-D list of ids: shape [n].
  Ids(std::vector<int64_t> v);  // NOLINT: implicit, ids read naturally as {3, 1, 4}
  Ids(std::initializer_list<int64_t> v);
  /// ids laid out with the given shape; the shape's numel must match.
  Ids(std::vector<int64_t> v, Shape s);
  int64_t numel() const { return static_cast<int64_t>(values.size()); }
};

/// A float32 tensor. Copying a Tensor copies the handle, not the data (like torch.Tensor).
class Tensor {
 public:
  /// An undefined tensor (no storage); `defined()` is false.
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  /// Uninitialised storage of the given shape.
  static Tensor empty(const Shape& shape);

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const;
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  /// Size of dimension `d` (negative counts from the end).
  int64_t size(int64_t d) const;
  int64_t numel() const;

  float* data();
  const float* data() const;
  /// The value of a tensor with one element.
  float item() const;
  /// Element at a multi-index, bounds-checked (for tests and debugging).
  float at(std::initializer_list<int64_t> index) const;
  std::vector<float> to_vector() const;

  /// A leaf that requires grad accumulates `.grad()` in backward().
  bool requires_grad() const;
  Tensor& set_requires_grad(bool on = true);
  bool is_leaf() const;
  /// The op that produced this tensor ("" for leaves), e.g. "matmul".
  std::string grad_fn_name() const;

  /// Dense accumulated gradient of a leaf (row-sparse parts are scattered into a dense
  /// tensor); undefined if nothing was accumulated.
  Tensor grad() const;
  /// True when the leaf's gradient so far is only row-sparse (e.g. an embedding table).
  bool has_sparse_grad() const;
  /// The coalesced row-sparse gradient (unique sorted rows). Requires has_sparse_grad().
  RowSparseGrad sparse_grad() const;
  /// Forgets the accumulated gradient (like PyTorch's set_to_none).
  void zero_grad();

  /// Backpropagates from a scalar: d(this)/d(this) = 1.
  void backward() const;
  /// Backpropagates `grad_output` (same shape as this). retain_graph keeps the graph for a
  /// second backward; otherwise it is freed as it is consumed.
  void backward(const Tensor& grad_output, bool retain_graph = false) const;

  /// Same storage, cut from the graph: no grad_fn, requires_grad false.
  Tensor detach() const;
  /// A copy with its own storage (not recorded in the graph).
  Tensor clone() const;
  /// True when both handles share one storage.
  bool shares_storage_with(const Tensor& other) const;

  std::string str() const;
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

/// A gradient that touches only some rows of a [rows, ...] tensor (an embedding table):
/// `values[k]` is the gradient of row `rows[k]`. Coalesced: rows unique and sorted.
struct RowSparseGrad {
  std::vector<int64_t> rows;
  Tensor values;  // [rows.size(), row shape...]
};

/// All zeros.  -> shape
Tensor zeros(const Shape& shape);
/// All ones.
Tensor ones(const Shape& shape);
/// Every element `value`.
Tensor full(const Shape& shape, float value);
/// A tensor holding `values` (row-major) with the given shape; shape defaults to [n].
Tensor tensor(std::vector<float> values, Shape shape = {});
/// A scalar (shape []).
Tensor scalar(float value);
/// 0, 1, ..., n-1 as floats.  -> [n]
Tensor arange(int64_t n);
/// Uniform in [lo, hi), from the generator.
Tensor uniform(const Shape& shape, float lo, float hi, Generator& gen);
/// Normal(mean, std), from the generator.
Tensor normal(const Shape& shape, float mean, float std, Generator& gen);
/// Standard normal, from the generator.
Tensor randn(const Shape& shape, Generator& gen);

/// The shared state behind Tensor handles. Internal to autograd and ops.
struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  bool requires_grad = false;      // meaningful for leaves only
  std::shared_ptr<Node> grad_fn;   // set for results of recorded ops
  // A leaf's accumulated gradient: a dense part and/or row-sparse parts.
  Tensor grad_dense;
  std::vector<RowSparseGrad> grad_sparse;
};

}  // namespace recgrad
