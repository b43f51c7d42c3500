#pragma once
// Multi-layer LSTM, batch-first, with PyTorch's parameters and equations (see nn/rnn.h for the
// parameter layout, the options and how right-padded sequences are handled).
//
// Layer k at step t, input x_t (layer 0: the input; layer k > 0: layer k−1's output h_t, after
// dropout in training), gates [i | f | g | o] in the rows of the weights:
//   i_t = σ(W_ii x_t + b_ii + W_hi h_{t−1} + b_hi)
//   f_t = σ(W_if x_t + b_if + W_hf h_{t−1} + b_hf)
//   g_t = tanh(W_ig x_t + b_ig + W_hg h_{t−1} + b_hg)
//   o_t = σ(W_io x_t + b_io + W_ho h_{t−1} + b_ho)
//   c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t,   h_t = o_t ⊙ tanh(c_t)
// and (h_t, c_t) = (h_{t−1}, c_{t−1}) at padded steps (t >= lengths[b]).
//
// Cost: one [B·T, in] x [in, 4H] matmul per layer for every step's input projection, then per
// step one [B, H] x [H, 4H] matmul and one fused gate op (ops/rnn_cell.h) on the state [h | c].
#include <cstdint>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/rnn.h"

namespace recgrad::nn {

/// LSTM results. L = num_layers.
struct LSTMOutput {
  Tensor output;  ///< [B,T,H]: the last layer's h_t; zero at padded steps
  Tensor h_n;     ///< [L,B,H]: each layer's h after each sequence's last valid step
  Tensor c_n;     ///< [L,B,H]: each layer's cell state at the same step
};

/// Multi-layer LSTM (PyTorch's nn.LSTM with batch_first = true, no projection).
///   x [B,T,input_size], h0 [L,B,H], c0 [L,B,H] (each zeros when undefined)
///   -> output [B,T,H], h_n [L,B,H], c_n [L,B,H]
class LSTM : public RNNBase {
 public:
  /// Parameters uniform in [−1/√H, 1/√H] from gen; the dropout stream is seeded from gen too.
  LSTM(int64_t input_size, int64_t hidden_size, Generator& gen, LSTMOptions opts = {});

  /// Every step of every sequence is valid.
  LSTMOutput forward(const Tensor& x, const Tensor& h0 = Tensor(), const Tensor& c0 = Tensor());
  /// Right-padded sequences: row b has lengths[b] valid steps, each length in [1, T].
  LSTMOutput forward(const Tensor& x, const std::vector<int64_t>& lengths,
                     const Tensor& h0 = Tensor(), const Tensor& c0 = Tensor());

 private:
  LSTMOutput run(const Tensor& x, const std::vector<int64_t>* lengths, const Tensor& h0,
                 const Tensor& c0);
};

}  // namespace recgrad::nn
