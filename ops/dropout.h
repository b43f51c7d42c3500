#pragma once
// Inverted dropout with a counter-based mask: one 64-bit key is drawn from the generator and
// element i is kept iff a 32-bit hash of (key, i) is at least p·2^32 (ops/dropout_mask.h), so the
// mask is the same at any thread count and backward can regenerate it instead of storing it.
#include "autograd/generator.h"
#include "autograd/tensor.h"

namespace recgrad {

/// y = x·m/(1-p), m_i ~ Bernoulli(1-p) drawn from gen.  x [...] -> [...].  dx = g·m/(1-p).
/// p must lie in [0,1). With training == false or p == 0 it returns x itself (same tensor, no
/// graph node) and does not advance gen.
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

}  // namespace recgrad
