#pragma once
// Layer normalisation over the last dimension, with a fused forward and backward: one pass
// computes each row's mean and 1/std (saved for backward), backward computes dx, dweight and
// dbias in one pass over the rows (Ba, Kiros & Hinton 2016).
#include "autograd/tensor.h"

namespace recgrad {

/// y = (x - μ)·ρ ⊙ w + b per row, μ = mean of the row, ρ = 1/√(var + eps) with the biased
/// variance (÷D), as PyTorch.  x [..., D], weight [D] or undefined (1), bias [D] or undefined
/// (0) -> [..., D].
/// Backward, with x̂ = (x - μ)·ρ and ĝ = dy ⊙ w:
///   dx = ρ·(ĝ - mean(ĝ) - x̂·mean(ĝ ⊙ x̂)),  dweight = Σ_rows dy ⊙ x̂,  dbias = Σ_rows dy.
/// Rows run in parallel; dweight and dbias are summed over fixed row chunks combined in order
/// (bit-identical at any thread count).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

}  // namespace recgrad
