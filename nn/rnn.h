#pragma once
// What GRU and LSTM share: options, parameters in PyTorch's layout and names, input and length
// checks, the all-steps input projection and dropout between layers.
//
// Batches are batch-first, x [B, T, in]. Sequences of different lengths are right-padded: row b
// holds its lengths[b] valid steps at t = 0 .. lengths[b]-1 and padding after them (any values,
// NaN included: padded inputs are replaced by zeros before the projection). At a padded step
// the state is carried over unchanged, the output is zero and nothing flows back to the padded
// input, so the final state of row b is its state after step lengths[b]-1. Without lengths every
// step of every row is valid.
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/module.h"

namespace recgrad::nn {

/// Options of GRU and LSTM (PyTorch's defaults).
struct RNNOptions {
  int64_t num_layers = 1;  ///< stacked layers; layer k > 0 reads layer k−1's outputs
  bool bias = true;        ///< bias_ih_l{k} and bias_hh_l{k}
  float dropout = 0.f;     ///< on every layer's outputs but the last's, in training; [0, 1)
};
using GRUOptions = RNNOptions;
using LSTMOptions = RNNOptions;

/// out[b] = outputs[b, lengths[b] − 1]: each sequence's output at its last valid step.
/// outputs [B,T,H], lengths B entries in [1, T] -> [B,H]
Tensor last_valid_output(const Tensor& outputs, const std::vector<int64_t>& lengths);

/// The base of GRU (3 gates) and LSTM (4 gates). Parameters per layer k, registered in this
/// order with PyTorch's names, each uniform in [−1/√H, 1/√H] (PyTorch's default):
///   weight_ih_l{k} [G·H, in_k] (in_0 = input_size, in_k = H after),  weight_hh_l{k} [G·H, H],
///   bias_ih_l{k} [G·H],  bias_hh_l{k} [G·H]   (G = gates; rows grouped by gate).
class RNNBase : public Module {
 public:
  /// Features per input step (the `in` of x [B,T,in]).
  int64_t input_size() const { return input_size_; }
  /// H: features of the state and of each output step.
  int64_t hidden_size() const { return hidden_size_; }
  /// L: stacked layers.
  int64_t num_layers() const { return opts_.num_layers; }
  /// "GRU(4 -> 8, 2 layers, bias, dropout 0.1)"
  std::string describe() const override;

 protected:
  RNNBase(const char* kind, int64_t gates, int64_t input_size, int64_t hidden_size,
          Generator& gen, RNNOptions opts);

  /// One layer's registered parameters (handles shared with named_parameters()).
  struct LayerParams {
    Tensor w_ih, w_hh, b_ih, b_hh;  // biases undefined when !opts.bias
  };

  /// Validated batch geometry with the masks the steps need.
  struct Steps {
    int64_t batch = 0, steps = 0;
    int64_t active = 0;         ///< steps up to the longest sequence (later steps are all padding)
    std::vector<Tensor> masks;  ///< per step: [B] 1 valid / 0 padded; undefined if all valid
    Tensor padded;              ///< [B,T,1] 1 at padded steps; undefined without padding
  };

  /// Checks x [B,T,input_size] and the lengths (null: all T) and builds the masks.
  Steps check_input(const Tensor& x, const std::vector<int64_t>* lengths) const;
  /// Checks an initial state `name` against [num_layers, B, H]; returns layer k's [B,H] part.
  Tensor layer_state(const char* name, const Tensor& state, int64_t layer, int64_t batch) const;
  /// xp = x·W_ihᵀ + b_ih for every step in one matmul.  x [B,T,in_k] -> [B,T,G·H]
  Tensor project_inputs(int64_t layer, const Tensor& x) const;
  /// Dropout on a layer's outputs before the next layer (identity in eval or with p = 0).
  Tensor dropout_between_layers(const Tensor& x);

  const char* kind_;
  int64_t gates_, input_size_, hidden_size_;
  RNNOptions opts_;
  std::vector<LayerParams> layers_;
  Generator dropout_gen_;  ///< seeded from the constructor's generator
};

}  // namespace recgrad::nn
