#pragma once
// Multi-layer GRU, batch-first, with PyTorch's parameters and equations (see nn/rnn.h for the
// parameter layout, the options and how right-padded sequences are handled).
//
// Layer k at step t, input x_t (layer 0: the input; layer k > 0: layer k−1's output h_t, after
// dropout in training), gates [r | z | n] in the rows of the weights:
//   r_t = σ(W_ir x_t + b_ir + W_hr h_{t−1} + b_hr)
//   z_t = σ(W_iz x_t + b_iz + W_hz h_{t−1} + b_hz)
//   n_t = tanh(W_in x_t + b_in + r_t ⊙ (W_hn h_{t−1} + b_hn))
//   h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}
// and h_t = h_{t−1} at padded steps (t >= lengths[b]).
//
// Cost: one [B·T, in] x [in, 3H] matmul per layer for every step's input projection, then per
// step one [B, H] x [H, 3H] matmul and one fused gate op (ops/rnn_cell.h).
#include <cstdint>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/rnn.h"

namespace recgrad::nn {

/// GRU results. L = num_layers.
struct GRUOutput {
  Tensor output;  ///< [B,T,H]: the last layer's h_t; zero at padded steps
  Tensor h_n;     ///< [L,B,H]: each layer's state after each sequence's last valid step
};

/// Multi-layer GRU (PyTorch's nn.GRU with batch_first = true).
///   x [B,T,input_size], h0 [L,B,H] (zeros when undefined) -> output [B,T,H], h_n [L,B,H]
class GRU : public RNNBase {
 public:
  /// Parameters uniform in [−1/√H, 1/√H] from gen; the dropout stream is seeded from gen too.
  GRU(int64_t input_size, int64_t hidden_size, Generator& gen, GRUOptions opts = {});

  /// Every step of every sequence is valid.
  GRUOutput forward(const Tensor& x, const Tensor& h0 = Tensor());
  /// Right-padded sequences: row b has lengths[b] valid steps, each length in [1, T].
  GRUOutput forward(const Tensor& x, const std::vector<int64_t>& lengths,
                    const Tensor& h0 = Tensor());

 private:
  GRUOutput run(const Tensor& x, const std::vector<int64_t>* lengths, const Tensor& h0);
};

}  // namespace recgrad::nn
