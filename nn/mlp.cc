#include "nn/mlp.h"

#include "autograd/error.h"

namespace recgrad::nn {
namespace {

std::string sizes_str(const std::vector<int64_t>& sizes) {
  std::string s;
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? " -> " : "") + std::to_string(sizes[i]);
  return s;
}

}  // namespace

MLP::MLP(const std::vector<int64_t>& sizes, Generator& gen, MLPOptions opts)
    : sizes_(sizes), opts_(opts) {
  RECGRAD_CHECK(sizes.size() >= 2, "MLP(", sizes_str(sizes),
                "): needs at least an input and an output size");
  for (int64_t s : sizes)
    RECGRAD_CHECK(s > 0, "MLP(", sizes_str(sizes), "): every size must be positive");
  RECGRAD_CHECK(opts.dropout >= 0.f && opts.dropout < 1.f, "MLP(", sizes_str(sizes),
                "): dropout p = ", opts.dropout, " must lie in [0, 1)");
  LinearOptions lo;
  lo.bias = opts.bias;
  for (size_t i = 0; i + 1 < sizes.size(); ++i)
    layers_.push_back(register_module(std::to_string(i),
                                      std::make_shared<Linear>(sizes[i], sizes[i + 1], gen, lo)));
  if (opts.dropout > 0.f) dropout_ = register_module("dropout", std::make_shared<Dropout>(opts.dropout, gen));
}

Tensor MLP::forward(const Tensor& x) {
  RECGRAD_CHECK(x.dim() >= 1 && x.size(-1) == sizes_.front(), describe(), ": input ", x.shape(),
                ": expected the last dimension to be ", sizes_.front());
  Tensor h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i]->forward(h);
    const bool last = i + 1 == layers_.size();
    if (!last || opts_.final_activation) h = activate(opts_.activation, h, opts_.leaky_slope);
    if (!last && dropout_) h = dropout_->forward(h);
  }
  return h;
}

std::string MLP::describe() const {
  std::string s = "MLP(" + sizes_str(sizes_) + ", " + activation_name(opts_.activation);
  if (opts_.final_activation) s += " (also on the output)";
  if (dropout_) s += detail::str_cat(", dropout=", opts_.dropout);
  if (!opts_.bias) s += ", no bias";
  return s + ")";
}

}  // namespace recgrad::nn
