#include "autograd/graph.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <numeric>
#include <unordered_set>
#include <utility>

#include "autograd/anomaly.h"
#include "autograd/parallel.h"
#include "autograd/profiler.h"

namespace recgrad {
namespace {

thread_local bool g_grad_enabled = true;
// Anomaly mode (anomaly.h). Kept here so record() and the engine pay one branch when it is off.
thread_local bool g_anomaly_mode = false;

bool needs_grad(const TensorImpl& t) { return t.grad_fn != nullptr || t.requires_grad; }

void check_grad_shape(const char* op, size_t i, const Shape& expected, const Shape& got) {
  if (expected.numel() != got.numel())
    throw UsageError(detail::str_cat(op, " backward: gradient for input ", i, " has shape ", got,
                                     ", expected ", expected));
}

}  // namespace

bool grad_enabled() { return g_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = previous_; }

bool anomaly_mode_enabled() { return g_anomaly_mode; }

AnomalyModeGuard::AnomalyModeGuard(bool enabled) : previous_(g_anomaly_mode) {
  g_anomaly_mode = enabled;
}
AnomalyModeGuard::~AnomalyModeGuard() { g_anomaly_mode = previous_; }

Node::Node(const char* op, std::vector<std::shared_ptr<TensorImpl>> inputs, BackwardFn backward,
           Shape out_shape)
    : op_(op), inputs_(std::move(inputs)), backward_(std::move(backward)),
      out_shape_(std::move(out_shape)) {}

Node::~Node() {
  // Destroying a chain recursively (impl -> node -> impl -> ...) would use stack proportional
  // to its length. Instead, unlink nodes that only this chain owns onto an explicit stack.
  std::vector<std::shared_ptr<TensorImpl>> stack = std::move(inputs_);
  backward_ = nullptr;  // captured inputs are still held by `stack`, so this stays shallow
  while (!stack.empty()) {
    std::shared_ptr<TensorImpl> impl = std::move(stack.back());
    stack.pop_back();
    if (impl.use_count() == 1 && impl->grad_fn && impl->grad_fn.use_count() == 1) {
      Node& next = *impl->grad_fn;
      for (auto& in : next.inputs_) stack.push_back(std::move(in));
      next.inputs_.clear();
      next.backward_ = nullptr;
    }
  }  // each impl dies here with a node that no longer owns anything
}

Tensor record(const char* op, Tensor out, const std::vector<Tensor>& inputs, BackwardFn backward) {
  if (g_anomaly_mode) detail::check_forward_anomaly(op, out, inputs);
  detail::ForwardMark profiled(op);  // one branch unless a Profiler is active
  if (!g_grad_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && needs_grad(*t.impl()));
  if (!any) return out;
  std::vector<std::shared_ptr<TensorImpl>> impls;
  impls.reserve(inputs.size());
  for (const Tensor& t : inputs) impls.push_back(t.impl_ptr());
  out.impl()->grad_fn =
      std::make_shared<Node>(op, std::move(impls), std::move(backward), out.shape());
  return out;
}

// ---------------------------------------------------------------------------------------------
// GradSink: routes a gradient either into the producing node's pending gradient (non-leaf) or
// into the leaf's accumulated .grad.

bool GradSink::wants(size_t i) const {
  const auto& in = node_->inputs_.at(i);
  return in && needs_grad(*in);
}

bool GradSink::aliases_grad_out(const Tensor& t) const {
  return grad_out_ && grad_out_->defined() && t.defined() &&
         t.impl()->storage == grad_out_->impl()->storage;
}

Tensor& GradSink::dense(size_t i) {
  TensorImpl& in = *node_->inputs_.at(i);
  Tensor& slot = in.grad_fn ? in.grad_fn->grad_ : in.grad_dense;
  if (!slot.defined()) slot = zeros(in.shape);
  // The caller writes into the slot; if it adopted the output gradient (same input used
  // twice by one op), writing would change what the closure is still reading.
  else if (aliases_grad_out(slot)) slot = slot.clone();
  return slot;
}

void GradSink::add(size_t i, Tensor g) {
  if (!wants(i)) return;
  TensorImpl& in = *node_->inputs_.at(i);
  check_grad_shape(node_->op(), i, in.shape, g.shape());
  Tensor& slot = in.grad_fn ? in.grad_fn->grad_ : in.grad_dense;
  if (!slot.defined()) {
    // The slot is later accumulated into in place, so it may adopt g's storage only when no
    // one else can see it. Holders the counts include: `g` itself; and, when g is (a reshape
    // of) the output gradient, the engine's handle, which dies when the closure returns.
    // Anything more (another slot that adopted it, a tensor the closure kept) forces a copy.
    const bool passed_through = aliases_grad_out(g);
    const long impl_holders =
        passed_through && g.impl() == grad_out_->impl() ? 2 : 1;  // g (+ the engine's handle)
    const long storage_holders =
        passed_through && g.impl() != grad_out_->impl() ? 2 : 1;  // g's impl (+ the engine's)
    const bool exclusive =
        g.impl_ptr().use_count() == impl_holders &&
        g.impl()->storage.use_count() == storage_holders &&
        (!passed_through || g.impl() == grad_out_->impl() ||
         grad_out_->impl_ptr().use_count() == 1);
    slot = exclusive ? std::move(g) : g.clone();
    if (slot.shape() != in.shape) {
      if (slot.impl_ptr().use_count() > 1) slot = Tensor(std::make_shared<TensorImpl>(*slot.impl()));
      slot.impl()->shape = in.shape;
    }
    return;
  }
  if (aliases_grad_out(slot)) {
    // The slot adopted the output gradient earlier in this closure (an input used twice):
    // sum out of place so the gradient the closure reads stays intact.
    Tensor sum = slot.clone();
    detail::add_into(sum, g);
    slot = std::move(sum);
    return;
  }
  detail::add_into(slot, g);
}

void GradSink::add_sparse(size_t i, RowSparseGrad g) {
  if (!wants(i)) return;
  TensorImpl& in = *node_->inputs_.at(i);
  auto& parts = in.grad_fn ? in.grad_fn->sparse_grad_ : in.grad_sparse;
  parts.push_back(std::move(g));
}

// ---------------------------------------------------------------------------------------------
// The engine.

class Engine {
 public:
  static void run(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
    detail::PassMark profiled_pass;  // one branch unless a Profiler is active
    TensorImpl& r = *root.impl();
    if (!r.grad_fn) {  // a leaf: its gradient is the output gradient itself
      if (r.grad_dense.defined()) detail::add_into(r.grad_dense, grad_output);
      else r.grad_dense = grad_output.clone();
      return;
    }
    const bool anomaly = g_anomaly_mode;  // read once: the pass runs on this thread
    if (anomaly) check_output_gradient(grad_output);
    const std::vector<std::shared_ptr<Node>> order = topological_order(r.grad_fn);
    order.front()->grad_ = grad_output.clone();
    std::vector<size_t> sparse_parts_before;
    for (const auto& node : order) {
      Tensor g = take_gradient(*node);
      if (g.defined()) {
        GradSink sink(node.get(), &g);
        if (anomaly) sparse_parts_before = sparse_part_counts(*node);
        detail::BackwardMark profiled(node->op());
        node->backward_(g, sink);
        if (anomaly) check_input_gradients(*node, sparse_parts_before);
      }
      if (!retain_graph) {
        // Free what backward needed; `order` keeps every node alive until the loop ends.
        node->backward_ = nullptr;
        node->inputs_.clear();
        node->released_ = true;
      }
    }
  }

 private:
  // Nodes reachable from `root`, each before all nodes it feeds into (reverse post-order of an
  // iterative depth-first search: no recursion, so 100k-node chains are fine).
  static std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
    std::vector<std::shared_ptr<Node>> post;
    std::unordered_set<Node*> seen{root.get()};
    std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (node->released_)
        throw UsageError(detail::str_cat(
            "backward: the graph through '", node->op(),
            "' was already freed by an earlier backward(); pass retain_graph=true to the first "
            "backward to run backward twice"));
      if (next < node->inputs_.size()) {
        const auto& in = node->inputs_[next++];
        if (in && in->grad_fn && seen.insert(in->grad_fn.get()).second)
          stack.emplace_back(in->grad_fn, 0);
      } else {
        post.push_back(std::move(node));
        stack.pop_back();
      }
    }
    std::reverse(post.begin(), post.end());
    return post;
  }

  // Anomaly mode: the gradient handed to backward() must be finite.
  static void check_output_gradient(const Tensor& grad_output) {
    const int64_t at = detail::first_non_finite(grad_output.data(), grad_output.numel());
    if (at >= 0)
      throw NonFiniteError(detail::str_cat(
          "anomaly mode: the gradient passed to backward() holds ",
          detail::value_str(grad_output.data()[at]), " at ",
          detail::index_str(grad_output.shape(), at)));
  }

  // Row-sparse parts each input's slot holds before a backward closure runs: the parts it adds
  // come after these.
  static std::vector<size_t> sparse_part_counts(const Node& node) {
    std::vector<size_t> counts(node.inputs_.size(), 0);
    for (size_t i = 0; i < node.inputs_.size(); ++i) {
      const auto& in = node.inputs_[i];
      if (in) counts[i] = (in->grad_fn ? in->grad_fn->sparse_grad_ : in->grad_sparse).size();
    }
    return counts;
  }

  // Anomaly mode: after `node`'s backward, the gradient slots of its inputs must be finite. Each
  // slot was finite after its previous contributor ran (or the pass would have stopped there),
  // so a non-finite value now was made by this node.
  static void check_input_gradients(const Node& node, const std::vector<size_t>& sparse_before) {
    for (size_t i = 0; i < node.inputs_.size(); ++i) {
      const auto& in = node.inputs_[i];
      if (!in || !needs_grad(*in)) continue;
      const Tensor& dense = in->grad_fn ? in->grad_fn->grad_ : in->grad_dense;
      if (dense.defined()) {
        const int64_t at = detail::first_non_finite(dense.data(), dense.numel());
        if (at >= 0) throw backward_anomaly(node, i, dense.data()[at], at);
      }
      const auto& parts = in->grad_fn ? in->grad_fn->sparse_grad_ : in->grad_sparse;
      for (size_t k = sparse_before[i]; k < parts.size(); ++k) {
        const RowSparseGrad& part = parts[k];
        const int64_t at = detail::first_non_finite(part.values.data(), part.values.numel());
        if (at < 0) continue;
        const int64_t width = part.values.numel() / std::max<int64_t>(1, part.values.size(0));
        throw backward_anomaly(node, i, part.values.data()[at],
                               part.rows[at / width] * width + at % width);
      }
    }
  }

  static NonFiniteError backward_anomaly(const Node& node, size_t input, float value, int64_t at) {
    const TensorImpl& in = *node.inputs_[input];
    std::string shapes;
    for (size_t i = 0; i < node.inputs_.size(); ++i)
      shapes += (i ? ", " : "") + (node.inputs_[i] ? node.inputs_[i]->shape.str() : "undefined");
    return NonFiniteError(detail::str_cat(
        "anomaly mode: the backward of '", node.op(), "' (output ", node.out_shape_, ", inputs ",
        shapes, ") produced ", detail::value_str(value), " in the gradient of input ", input, " ",
        in.shape, " at ", detail::index_str(in.shape, at), " from a finite output gradient"));
  }

  // The node's output gradient with any row-sparse parts folded in; resets the node's slots.
  static Tensor take_gradient(Node& node) {
    Tensor g = std::move(node.grad_);
    node.grad_ = Tensor();
    if (!node.sparse_grad_.empty()) {
      if (!g.defined()) g = zeros(node.out_shape_);
      for (const RowSparseGrad& part : node.sparse_grad_) detail::scatter_rows_into(g, part);
      node.sparse_grad_.clear();
    }
    return g;
  }
};

namespace detail {

void run_backward(const Tensor& root, const Tensor& grad_output, bool retain_graph) {
  RECGRAD_CHECK(root.defined(), "backward: called on an undefined tensor");
  if (!needs_grad(*root.impl()))
    throw UsageError("backward: tensor of shape " + root.shape().str() +
                     " does not require grad (no input had requires_grad, or it was computed "
                     "under NoGradGuard)");
  RECGRAD_CHECK(grad_output.shape() == root.shape(), "backward: gradient of shape ",
                grad_output.shape(), " does not match output of shape ", root.shape());
  Engine::run(root, grad_output, retain_graph);
}

void add_into(Tensor& dst, const Tensor& src) {
  RECGRAD_CHECK(dst.numel() == src.numel(), "add_into: ", dst.shape(), " += ", src.shape());
  float* d = dst.data();
  const float* s = src.data();
  parallel_for(dst.numel(), kGrainCheap, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) d[i] += s[i];
  });
}

void scatter_rows_into(Tensor& dst, const RowSparseGrad& g) {
  const int64_t width = dst.shape().empty() ? 1 : dst.numel() / dst.shape()[0];
  float* d = dst.data();
  const float* v = g.values.data();
  // Rows of one coalesced part are unique, so rows can be written in parallel.
  parallel_for(static_cast<int64_t>(g.rows.size()), std::max<int64_t>(1, kGrainCheap / width),
               [&](int64_t b, int64_t e) {
                 for (int64_t k = b; k < e; ++k) {
                   float* row = d + g.rows[k] * width;
                   const float* src = v + k * width;
                   for (int64_t j = 0; j < width; ++j) row[j] += src[j];
                 }
               });
}

RowSparseGrad coalesce(const std::vector<RowSparseGrad>& parts, const Shape& table_shape) {
  const int64_t width = table_shape.numel() / std::max<int64_t>(1, table_shape[0]);
  const auto& first = parts[0].rows;
  const bool strictly_increasing =
      std::adjacent_find(first.begin(), first.end(), std::greater_equal<int64_t>()) == first.end();
  if (parts.size() == 1 && strictly_increasing) return parts[0];
  // Stable sort of every (row, source) pair by row: equal rows keep arrival order, so sums
  // are taken in a fixed order whatever the thread count.
  std::vector<std::pair<int64_t, const float*>> entries;
  for (const RowSparseGrad& p : parts)
    for (size_t k = 0; k < p.rows.size(); ++k)
      entries.emplace_back(p.rows[k], p.values.data() + static_cast<int64_t>(k) * width);
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  RowSparseGrad out;
  std::vector<size_t> starts;
  for (size_t k = 0; k < entries.size(); ++k)
    if (k == 0 || entries[k].first != entries[k - 1].first) {
      starts.push_back(k);
      out.rows.push_back(entries[k].first);
    }
  starts.push_back(entries.size());
  Shape vshape = table_shape;
  vshape[0] = static_cast<int64_t>(out.rows.size());
  out.values = Tensor::empty(vshape);
  float* v = out.values.data();
  parallel_for(static_cast<int64_t>(out.rows.size()), std::max<int64_t>(1, kGrainCheap / width),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   float* dst = v + r * width;
                   std::memcpy(dst, entries[starts[r]].second, sizeof(float) * width);
                   for (size_t k = starts[r] + 1; k < starts[r + 1]; ++k)
                     for (int64_t j = 0; j < width; ++j) dst[j] += entries[k].second[j];
                 }
               });
  return out;
}

}  // namespace detail
}  // namespace recgrad
