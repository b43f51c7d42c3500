#include "autograd/dot.h"

#include <sstream>
#include <unordered_map>

#include "autograd/error.h"
#include "autograd/graph.h"

namespace recgrad {
namespace {

// A DOT string literal: quotes and backslashes escaped (any parameter name is safe), line
// breaks as DOT's \n.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

class DotWriter {
 public:
  explicit DotWriter(const std::vector<std::pair<std::string, Tensor>>& names) {
    for (const auto& [name, t] : names)
      if (t.defined()) names_.emplace(t.impl(), name);
  }

  std::string write(const Tensor& output) {
    RECGRAD_CHECK(output.defined(), "to_dot: the output tensor is undefined");
    body_ << "digraph recgrad {\n"
          << "  node [fontname=\"Helvetica\", fontsize=10];\n";
    const std::shared_ptr<Node>& root = output.impl()->grad_fn;
    if (!root) {
      leaf_id(*output.impl());
    } else {
      op_id(root.get(), /*is_output=*/true);
      walk(root.get());
    }
    body_ << "}\n";
    return body_.str();
  }

 private:
  // Depth-first over nodes with an explicit stack (graphs of unrolled RNNs are deep); each node
  // is declared when first reached and its edges written when it is popped, in input order.
  void walk(Node* root) {
    std::vector<Node*> stack{root};
    while (!stack.empty()) {
      Node* node = stack.back();
      stack.pop_back();
      if (node->released())
        throw UsageError(detail::str_cat(
            "to_dot: the graph through '", node->op(),
            "' was freed by backward(); call to_dot before backward, or backward with "
            "retain_graph=true"));
      const std::string to = op_ids_.at(node);
      for (const auto& in : node->inputs()) {
        if (!in) continue;  // an optional input (e.g. no bias) that was not given
        std::string from;
        if (in->grad_fn) {
          const bool fresh = op_ids_.count(in->grad_fn.get()) == 0;
          from = op_id(in->grad_fn.get(), /*is_output=*/false);
          if (fresh) stack.push_back(in->grad_fn.get());
        } else {
          from = leaf_id(*in);
        }
        body_ << "  " << from << " -> " << to << ";\n";
      }
    }
  }

  std::string op_id(Node* node, bool is_output) {
    auto it = op_ids_.find(node);
    if (it != op_ids_.end()) return it->second;
    const std::string id = "n" + std::to_string(next_id_++);
    op_ids_.emplace(node, id);
    body_ << "  " << id << " [shape=box, label="
          << quoted(detail::str_cat(node->op(), "\n", node->out_shape())) << ", "
          << (is_output ? "peripheries=2" : "peripheries=1") << "];\n";
    return id;
  }

  std::string leaf_id(const TensorImpl& leaf) {
    auto it = leaf_ids_.find(&leaf);
    if (it != leaf_ids_.end()) return it->second;
    const std::string id = "n" + std::to_string(next_id_++);
    leaf_ids_.emplace(&leaf, id);
    auto name = names_.find(&leaf);
    std::string label = name != names_.end() ? name->second + "\n" : "";
    label += detail::str_cat(leaf.shape);
    body_ << "  " << id << " [shape=ellipse, label=" << quoted(label) << ", "
          << (leaf.requires_grad ? "style=filled, fillcolor=\"#cfe2ff\"" : "style=dashed")
          << "];\n";
    return id;
  }

  std::unordered_map<const TensorImpl*, std::string> names_;
  std::unordered_map<const Node*, std::string> op_ids_;
  std::unordered_map<const TensorImpl*, std::string> leaf_ids_;
  int next_id_ = 0;
  std::ostringstream body_;
};

}  // namespace

std::string to_dot(const Tensor& output,
                   const std::vector<std::pair<std::string, Tensor>>& names) {
  return DotWriter(names).write(output);
}

}  // namespace recgrad
