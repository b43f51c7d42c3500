#pragma once
// Module: the base of every layer and model. A module owns named parameters (trainable leaf
// tensors), named buffers (state that is saved but not trained, e.g. running statistics) and
// named submodules. Names are dotted into paths (`encoder.layers.0.weight`) which checkpoints
// and optimizers' parameter groups use: never positions.
//
// Forward functions are ordinary member functions with the signature each layer needs (there
// is no virtual forward): `Tensor Linear::forward(const Tensor& x) const`.
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"

namespace recgrad::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// Every parameter of this module and its submodules, depth-first in registration order.
  std::vector<Tensor> parameters() const;
  /// Parameters with dotted paths: "encoder.layers.0.weight".
  NamedTensors named_parameters() const;
  /// Buffers (saved, not trained) with dotted paths.
  NamedTensors named_buffers() const;
  /// Parameters then buffers: everything a checkpoint holds for this module.
  NamedTensors state() const;
  /// Direct submodules with their names.
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const {
    return children_;
  }
  /// Random streams the module draws from while training (dropout), with dotted paths:
  /// checkpoints save their positions so a resumed run draws exactly what it would have.
  std::vector<std::pair<std::string, Generator*>> named_generators() const;
  /// Total number of parameter elements.
  int64_t num_parameters() const;

  /// Training mode (dropout active) for this module and every submodule.
  void train(bool on = true);
  /// Evaluation mode: train(false).
  void eval() { train(false); }
  bool is_training() const { return training_; }

  /// Forgets the gradients of every parameter.
  void zero_grad();

  /// A readable tree: one line per module with its description and parameter count.
  std::string summary() const;
  /// One-line description of this module alone, e.g. "Linear(64 -> 32, bias)".
  virtual std::string describe() const { return "Module"; }

 protected:
  /// Registers a trainable parameter (marks it requires_grad) and returns the same handle.
  Tensor register_parameter(const std::string& name, Tensor value);
  /// Registers a buffer: saved in checkpoints, never trained.
  Tensor register_buffer(const std::string& name, Tensor value);
  /// Registers a random stream the module owns (its position is saved in checkpoints).
  void register_generator(const std::string& name, Generator* generator);
  /// Registers a submodule and returns it.
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    check_new_name(name);
    children_.emplace_back(name, module);
    return module;
  }
  /// Called when train()/eval() changes the mode (after the flag is set).
  virtual void on_mode_change() {}

 private:
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool params, NamedTensors& out) const;
  void summarize(const std::string& name, int depth, std::string& out) const;

  NamedTensors parameters_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, Generator*>> generators_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace recgrad::nn
