#pragma once
// The dynamic graph. An op computes its output, then `record`s a node holding its inputs and a
// backward closure; backward() walks nodes in reverse topological order, calling each closure
// with the gradient of the node's output and a GradSink through which it adds the gradients of
// its inputs.
//
// Rules for op authors:
//  - Capture what backward needs by value (inputs, sizes). Capture the op's own output only as
//    `out.detach()`: the output owns the node, so capturing it whole would form a cycle.
//  - Add into the sink, never overwrite: an input used twice receives two contributions.
#include <functional>
#include <memory>
#include <vector>

#include "autograd/tensor.h"

namespace recgrad {

/// Where a backward closure delivers the gradients of its node's inputs.
class GradSink {
 public:
  /// Whether input `i` needs a gradient (skip the work otherwise).
  bool wants(size_t i) const;
  /// A zero-initialised buffer shaped like input `i`, to accumulate into (e.g. sgemm beta=1).
  Tensor& dense(size_t i);
  /// Adds `g` (shaped like input `i`) to its gradient. When no gradient has arrived yet, g's
  /// storage is adopted instead of copied if nothing else can see it: a fresh result, or the
  /// node's own output gradient passed straight through (add, reshape), which the engine drops
  /// once the closure returns. While the closure runs, that output gradient is never written
  /// through a slot that adopted it (such a slot is re-allocated before it is accumulated into).
  void add(size_t i, Tensor g);
  /// Adds a row-sparse gradient to input `i` (a [rows, ...] table).
  void add_sparse(size_t i, RowSparseGrad g);

 private:
  friend class Engine;
  GradSink(Node* node, const Tensor* grad_out) : node_(node), grad_out_(grad_out) {}
  // True when `t` shares the storage of the output gradient the running closure reads.
  bool aliases_grad_out(const Tensor& t) const;
  Node* node_;
  const Tensor* grad_out_;  // the engine's handle to the closure's output gradient
};

using BackwardFn = std::function<void(const Tensor& grad_out, GradSink& sink)>;

/// Attaches a node named `op` to `out` when grad mode is on and some input requires grad;
/// otherwise returns `out` untouched. Returns `out`.
Tensor record(const char* op, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward);

/// Whether ops currently record nodes (false inside a NoGradGuard). Per thread.
bool grad_enabled();

/// Turns graph recording off for its lifetime on this thread (inference, optimizer updates).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

/// A recorded op: its inputs and how to send its output's gradient back to them.
/// Internal to the engine; op authors use `record` and `GradSink`.
class Node {
 public:
  Node(const char* op, std::vector<std::shared_ptr<TensorImpl>> inputs, BackwardFn backward,
       Shape out_shape);
  ~Node();  // iterative, so dropping a 100k-node chain does not overflow the stack
  const char* op() const { return op_; }
  /// The node's inputs in the order the op recorded them (null for an undefined input);
  /// empty once backward() has freed the node.
  const std::vector<std::shared_ptr<TensorImpl>>& inputs() const { return inputs_; }
  /// Shape of the tensor this node produced.
  const Shape& out_shape() const { return out_shape_; }
  /// True once a backward() without retain_graph has freed the node.
  bool released() const { return released_; }

 private:
  friend class Engine;
  friend class GradSink;
  const char* op_;
  std::vector<std::shared_ptr<TensorImpl>> inputs_;
  BackwardFn backward_;
  Shape out_shape_;
  bool released_ = false;
  // Gradient of this node's output, gathered during one backward pass.
  Tensor grad_;
  std::vector<RowSparseGrad> sparse_grad_;
};

namespace detail {
/// Runs backward from `root` with the given output gradient.
void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph);
/// Sums row-sparse parts into one coalesced gradient (rows unique, sorted); duplicate rows are
/// summed in the order the parts arrived, so the result is deterministic.
RowSparseGrad coalesce(const std::vector<RowSparseGrad>& parts, const Shape& table_shape);
/// dst += src, elementwise over equal numel.
void add_into(Tensor& dst, const Tensor& src);
/// dst[rows] += values.
void scatter_rows_into(Tensor& dst, const RowSparseGrad& g);
}  // namespace detail

}  // namespace recgrad
