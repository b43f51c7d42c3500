#pragma once
// Activation functions, elementwise: x [..] -> x's shape. The exponential-based ones run on the
// vectorised fast_exp (ops/fast_math.h) and are stable for any |x|.
#include "autograd/tensor.h"

namespace recgrad {

/// σ(x) = 1/(1 + e^-x).  dσ/dx = σ(1-σ) (from the saved output).
Tensor sigmoid(const Tensor& x);
/// tanh x.  d/dx = 1 - tanh² (from the saved output).
Tensor tanh(const Tensor& x);
/// max(x, 0); NaN propagates.  d/dx = 1 for x > 0, else 0.
Tensor relu(const Tensor& x);
/// x for x > 0, slope·x otherwise.  d/dx = 1 or slope.
Tensor leaky_relu(const Tensor& x, float slope = 0.01f);

struct GeluOptions {
  /// 0.5x(1 + tanh(√(2/π)(x + 0.044715x³))) instead of the exact x·Φ(x) (as PyTorch's
  /// approximate="tanh").
  bool approximate_tanh = false;
};
/// x·Φ(x), Φ the standard normal CDF.  d/dx = Φ(x) + x·φ(x).
Tensor gelu(const Tensor& x, GeluOptions opts = {});

/// ln(1 + e^x), computed as max(x, 0) + ln(1 + e^-|x|) so it neither overflows nor loses x.
/// d/dx = σ(x).
Tensor softplus(const Tensor& x);

}  // namespace recgrad
