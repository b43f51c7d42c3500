#pragma once
// Elementwise arithmetic and math with numpy broadcasting: operands are aligned at the right
// and dimensions of size 1 (or missing) stretch to match. Each gradient is summed back down to
// its operand's shape. Activations (sigmoid, relu, gelu, ...) are in ops/activation.h.
#include "autograd/tensor.h"

namespace recgrad {

// ----- Binary, broadcasting: a [..] and b [..] -> broadcast shape -----------------------------

/// a + b.
Tensor add(const Tensor& a, const Tensor& b);
/// a - b.
Tensor sub(const Tensor& a, const Tensor& b);
/// a · b.
Tensor mul(const Tensor& a, const Tensor& b);
/// a / b.
Tensor div(const Tensor& a, const Tensor& b);
/// a^b.  d/da = b·a^(b-1) (0 where b = 0);  d/db = a^b·ln a, defined for a > 0 and taken as 0
/// where a = 0.
Tensor pow(const Tensor& a, const Tensor& b);
/// max(a, b); NaN in either propagates. On ties the gradient goes to a.
Tensor maximum(const Tensor& a, const Tensor& b);
/// min(a, b); NaN in either propagates. On ties the gradient goes to a.
Tensor minimum(const Tensor& a, const Tensor& b);

// ----- With a float: x [..] -> x's shape -------------------------------------------------------

/// x + s.
Tensor add(const Tensor& x, float s);
/// x - s.
Tensor sub(const Tensor& x, float s);
/// s - x.
Tensor sub(float s, const Tensor& x);
/// x · s.
Tensor mul(const Tensor& x, float s);
/// x / s.
Tensor div(const Tensor& x, float s);
/// s / x.
Tensor div(float s, const Tensor& x);
/// x^p.  d/dx = p·x^(p-1) (0 when p = 0). p = 2, 3, 0.5, -0.5, -1, -2 use exact shortcuts.
Tensor pow(const Tensor& x, float p);

/// Broadcasting arithmetic operators (add, sub, mul, div) and negation.
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& x, float s);
Tensor operator+(float s, const Tensor& x);
Tensor operator-(const Tensor& x, float s);
Tensor operator-(float s, const Tensor& x);
Tensor operator*(const Tensor& x, float s);
Tensor operator*(float s, const Tensor& x);
Tensor operator/(const Tensor& x, float s);
Tensor operator/(float s, const Tensor& x);
Tensor operator-(const Tensor& x);

// ----- Unary: x [..] -> x's shape --------------------------------------------------------------

/// -x.
Tensor neg(const Tensor& x);
/// e^x (vectorised, ~1 ulp; see ops/fast_math.h).  d/dx = e^x (from the saved output).
Tensor exp(const Tensor& x);
/// ln x (vectorised, < 1 ulp; see ops/fast_math.h).  d/dx = 1/x.
Tensor log(const Tensor& x);
/// √x.  d/dx = 1/(2√x).
Tensor sqrt(const Tensor& x);
/// 1/√x.  d/dx = -1/(2·x^1.5).
Tensor rsqrt(const Tensor& x);
/// |x|.  d/dx = sign(x), 0 at 0.
Tensor abs(const Tensor& x);
/// x².  d/dx = 2x.
Tensor square(const Tensor& x);
/// 1/x.  d/dx = -1/x².
Tensor reciprocal(const Tensor& x);
/// min(max(x, lo), hi); requires lo <= hi. Gradient 1 strictly inside (lo, hi), 0 elsewhere
/// (the bounds included). NaN propagates.
Tensor clamp(const Tensor& x, float lo, float hi);

// ----- Selection -------------------------------------------------------------------------------

/// cond ≠ 0 ? a : b, elementwise, cond, a and b all broadcast to one shape. cond is a float
/// mask and gets no gradient; a gets the gradient where cond ≠ 0, b elsewhere.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
/// mask ≠ 0 ? value : x.  mask broadcasts to x [..] -> x's shape; gradient 0 where filled.
Tensor masked_fill(const Tensor& x, const Tensor& mask, float value);

}  // namespace recgrad
