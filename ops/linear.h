#pragma once
// The affine map of a fully connected layer, fused: one sgemm with the weight transposed by a
// BLAS flag (never copied), the bias broadcast over rows, and a backward of two sgemms plus a
// deterministic column sum for the bias.
#include "autograd/tensor.h"

namespace recgrad {

/// y = x·Wᵀ + b.  x [..., in], weight [out, in], bias [out] or undefined -> [..., out].
/// Backward: dx = dy·W,  dW = dyᵀ·x (rows of x flattened),  db = Σ_rows dy (fixed row chunks
/// summed in order: bit-identical at any thread count).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias);

}  // namespace recgrad
