#pragma once
// Fused per-step gate math of GRU and LSTM cells (PyTorch's gate layouts and equations), with a
// hand-written backward. The matrix products stay outside, so that a layer projects the inputs
// of every time step with one matmul and the hidden state with one matmul per step:
//
//   xp = x·W_ihᵀ + b_ih   all steps at once:  [B,T,G·H]   (G = 3 for GRU, 4 for LSTM)
//   hh = h·W_hhᵀ          one step:           [B,G·H]
//
// and the op adds b_hh itself (GRU needs W_hn·h + b_hn apart from the input part). Taking the
// whole xp plus a step index, rather than a per-step slice, lets backward add its rows straight
// into xp's gradient buffer: slicing xp per step would cost a [B,T,G·H] gradient per step.
//
// Masks: row b with mask[b] == 0 is a padded step. Its state passes through unchanged, it sends
// no gradient to xp, hh or b_hh, and its state's gradient passes through unchanged. The choice is
// a select, not m·h' + (1-m)·h, so NaN or inf computed from padded inputs cannot leak into the
// state. An undefined mask means every row is valid.
#include <cstdint>

#include "autograd/tensor.h"

namespace recgrad {

/// One GRU step, gates [r | z | n] along the last dim of xp, hh and b_hh:
///   r = σ(xp_r + hh_r + b_hr),   z = σ(xp_z + hh_z + b_hz),
///   n = tanh(xp_n + r ⊙ (hh_n + b_hn)),   h' = (1 − z) ⊙ n + z ⊙ h,
///   out[b] = mask[b] ≠ 0 ? h'[b] : h[b].
/// xp [B,T,3H] (step t is read) or [B,3H] (t = 0); hh [B,3H]; b_hh [3H] or undefined (no
/// bias); h [B,H]; mask [B] of 0/1 or undefined -> [B,H]. mask gets no gradient.
Tensor gru_cell_gates(const Tensor& xp, int64_t t, const Tensor& hh, const Tensor& b_hh,
                      const Tensor& h, const Tensor& mask = Tensor());

/// One LSTM step on the state s = [h | c], gates [i | f | g | o] along the last dim of xp, hh
/// and b_hh (a = xp + hh + b_hh):
///   i = σ(a_i),  f = σ(a_f),  g = tanh(a_g),  o = σ(a_o),
///   c' = f ⊙ c + i ⊙ g,   h' = o ⊙ tanh(c'),
///   out[b] = mask[b] ≠ 0 ? [h'[b] | c'[b]] : s[b].
/// xp [B,T,4H] (step t is read) or [B,4H] (t = 0); hh [B,4H]; b_hh [4H] or undefined; s [B,2H];
/// mask [B] of 0/1 or undefined -> [B,2H]. mask gets no gradient.
Tensor lstm_cell_gates(const Tensor& xp, int64_t t, const Tensor& hh, const Tensor& b_hh,
                       const Tensor& s, const Tensor& mask = Tensor());

}  // namespace recgrad
