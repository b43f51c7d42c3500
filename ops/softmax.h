#pragma once
// softmax, log_softmax and logsumexp along one dim: numerically stable (each slice is shifted
// by its max, so inputs like ±1000 neither overflow nor underflow to NaN) with fused
// backwards. Work is split over slices (rows of 3,706 or 100K classes for a batch of 256), and
// within a slice when there are few huge ones; each slice's sums have a fixed order, so
// results are bit-identical at any thread count.
#include <cstdint>

#include "autograd/tensor.h"

namespace recgrad {

/// yᵢ = exp(xᵢ - m) / Σⱼ exp(xⱼ - m) along `dim`, m = maxⱼ xⱼ.  x any shape -> same shape
/// Backward: dx = y ⊙ (g - Σⱼ gⱼyⱼ).
Tensor softmax(const Tensor& x, int64_t dim);

/// yᵢ = xᵢ - m - log Σⱼ exp(xⱼ - m) along `dim`.  x any shape -> same shape
/// Backward: dx = g - exp(y) · Σⱼ gⱼ.
Tensor log_softmax(const Tensor& x, int64_t dim);

/// y = m + log Σᵣ exp(x[.., r, ..] - m) along `dim`.  x [.., n, ..] -> [.., ..] (or [.., 1, ..])
/// Backward: dx = softmax(x, dim) · g. A slice of all -inf gives -inf.
Tensor logsumexp(const Tensor& x, int64_t dim, bool keepdim = false);

}  // namespace recgrad
