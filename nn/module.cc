#include "nn/module.h"

#include <algorithm>

#include "autograd/error.h"

namespace recgrad::nn {

void Module::check_new_name(const std::string& name) const {
  RECGRAD_CHECK(!name.empty(), describe(), ": empty name for a parameter, buffer or submodule");
  RECGRAD_CHECK(name.find('.') == std::string::npos, describe(), ": name '", name,
                "' contains '.', which separates path components");
  auto taken = [&](const auto& list) {
    return std::any_of(list.begin(), list.end(), [&](const auto& e) { return e.first == name; });
  };
  RECGRAD_CHECK(!taken(parameters_) && !taken(buffers_) && !taken(children_) && !taken(generators_),
                describe(),
                ": name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  check_new_name(name);
  RECGRAD_CHECK(value.defined() && value.is_leaf(), describe(), ": parameter '", name,
                "' must be a defined leaf tensor");
  value.set_requires_grad(true);
  parameters_.emplace_back(name, value);
  return value;
}

Tensor Module::register_buffer(const std::string& name, Tensor value) {
  check_new_name(name);
  RECGRAD_CHECK(value.defined(), describe(), ": buffer '", name, "' is undefined");
  buffers_.emplace_back(name, value);
  return value;
}

void Module::register_generator(const std::string& name, Generator* generator) {
  check_new_name(name);
  RECGRAD_CHECK(generator != nullptr, describe(), ": generator '", name, "' is null");
  generators_.emplace_back(name, generator);
}

std::vector<std::pair<std::string, Generator*>> Module::named_generators() const {
  std::vector<std::pair<std::string, Generator*>> out = generators_;
  for (const auto& [name, child] : children_)
    for (auto& [path, g] : child->named_generators()) out.emplace_back(name + "." + path, g);
  return out;
}

void Module::collect(const std::string& prefix, bool params, NamedTensors& out) const {
  for (const auto& [name, t] : params ? parameters_ : buffers_) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

NamedTensors Module::state() const {
  NamedTensors out = named_parameters();
  for (auto& b : named_buffers()) out.push_back(std::move(b));
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const Tensor& t : parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  on_mode_change();
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad() {
  for (Tensor& t : parameters()) t.zero_grad();
}

void Module::summarize(const std::string& name, int depth, std::string& out) const {
  const std::string indent(2 * static_cast<size_t>(depth), ' ');
  out += indent + (name.empty() ? "" : name + ": ") + describe() + "  [" +
         std::to_string(num_parameters()) + " parameters]\n";
  for (const auto& [child_name, child] : children_) child->summarize(child_name, depth + 1, out);
}

std::string Module::summary() const {
  std::string out;
  summarize("", 0, out);
  return out;
}

}  // namespace recgrad::nn
