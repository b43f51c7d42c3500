#include "nn/lstm.h"

#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/rnn_cell.h"
#include "ops/shape.h"

namespace recgrad::nn {

LSTM::LSTM(int64_t input_size, int64_t hidden_size, Generator& gen, LSTMOptions opts)
    : RNNBase("LSTM", 4, input_size, hidden_size, gen, opts) {}

LSTMOutput LSTM::forward(const Tensor& x, const Tensor& h0, const Tensor& c0) {
  return run(x, nullptr, h0, c0);
}

LSTMOutput LSTM::forward(const Tensor& x, const std::vector<int64_t>& lengths, const Tensor& h0,
                         const Tensor& c0) {
  return run(x, &lengths, h0, c0);
}

LSTMOutput LSTM::run(const Tensor& x, const std::vector<int64_t>* lengths, const Tensor& h0,
                     const Tensor& c0) {
  const Steps s = check_input(x, lengths);
  const int64_t B = s.batch, T = s.steps, H = hidden_size_;
  std::vector<Tensor> h_n, c_n;
  // Padded inputs become zeros, so that whatever they hold (even NaN) stays out of the
  // projection's gradient for W_ih.
  Tensor input = s.padded.defined() ? masked_fill(x, s.padded, 0.f) : x;
  for (int64_t l = 0; l < opts_.num_layers; ++l) {
    const LayerParams& p = layers_[l];
    if (l > 0) input = dropout_between_layers(input);
    const Tensor xp = project_inputs(l, input);  // [B,T,4H]
    // The state travels as one tensor [h | c]; h is narrowed out for the hidden projection.
    // (An if, not `?:`: when layer_state throws from a braced list inside a conditional
    // expression, GCC 12's ASan reports a false stack-use-after-scope; clang's does not.)
    Tensor state;
    if (h0.defined() || c0.defined()) {
      Tensor h_init = h0.defined() ? layer_state("h0", h0, l, B) : zeros({B, H});
      Tensor c_init = c0.defined() ? layer_state("c0", c0, l, B) : zeros({B, H});
      state = concat({h_init, c_init}, 1);
    } else {
      state = zeros({B, 2 * H});
    }
    Tensor h = narrow(state, 1, 0, H);
    std::vector<Tensor> outs(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      if (t >= s.active) {  // every row padded from here on: the state stays, outputs are zero
        outs[t] = zeros({B, H});
        continue;
      }
      state = lstm_cell_gates(xp, t, matmul(h, p.w_hh, false, true), p.b_hh, state, s.masks[t]);
      h = narrow(state, 1, 0, H);
      outs[t] = h;
    }
    h_n.push_back(h);
    c_n.push_back(narrow(state, 1, H, H));
    input = stack(outs, 1);  // [B,T,H]
    if (s.padded.defined()) input = masked_fill(input, s.padded, 0.f);
  }
  return {input, stack(h_n, 0), stack(c_n, 0)};
}

}  // namespace recgrad::nn
