#pragma once
// Vectorisable float math and the loop helpers that let GCC vectorise elementwise kernels.
//
// Why not plain loops and <cmath>: GCC 12 at -O2 (our -c opt build) vectorises with the "very
// cheap" cost model, which refuses loops of unknown trip count and loops that would need a
// runtime aliasing check, so `for (i < n) y[i] = a[i] + b[i]` stays scalar. map_range feeds
// fixed blocks of kSimdBlock elements to a function with __restrict parameters, which it does
// vectorise. glibc's expf and logf are scalar calls (~4 ns each here); fast_exp and fast_log
// below are inline and branch-free (~0.5 ns per element on one AVX2 core).
//
// Writing kernels for these helpers: with -ftrapping-math (the default) GCC will not
// if-convert `c ? x * y : z`: it sinks the multiply into a branch, which stops vectorisation.
// Choose between computed values with detail::select (a bitwise blend); a `?:` whose arms are
// plain values (inputs, constants, negations) is fine.
#include <cstdint>
#include <cstring>

#include "autograd/parallel.h"
#include "autograd/tensor.h"

namespace recgrad::detail {

inline float bits_to_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

inline uint32_t float_to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

/// c ? a : b as a bitwise blend of two values both already computed (see the note above).
inline float select(bool c, float a, float b) {
  const uint32_t m = c ? ~0u : 0u;
  return bits_to_float((float_to_bits(a) & m) | (float_to_bits(b) & ~m));
}

/// e^x within 1.08 ulp of the exact value (checked on every float in [-110, 90]), subnormal
/// results included; exactly 0 below x ≈ -103.97, +inf above
/// ln(FLT_MAX) ≈ 88.72; NaN in -> NaN out.
inline float fast_exp(float x) {
  // Clamped so that n below stays in [-150, 128]: the result is then already 0 or inf. Blends,
  // not `?:` (see the note above); NaN fails both tests and propagates through the arithmetic.
  const float xc = select(x < -104.f, -104.f, select(x > 89.f, 89.f, x));
  // e^x = 2^n · e^r with n = round(x·log2 e) and r = x - n·ln 2 in [-ln2/2, ln2/2]; ln 2 is
  // split Cody-Waite style (a head exact in float times any n here, plus a tail).
  constexpr float kLog2e = 1.44269504088896341f;
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.f;  // 1.5·2^23: adding it rounds to an integer
  const float t = xc * kLog2e + kRound;
  const float nf = t - kRound;
  const int32_t n = static_cast<int32_t>(float_to_bits(t) - float_to_bits(kRound));  // t's low bits
  const float r = (xc - nf * kLn2Hi) - nf * kLn2Lo;
  // e^r ≈ 1 + r + r²·q(r), q a degree-4 Chebyshev fit of (e^r - 1 - r)/r² on the interval
  // (relative error 1e-8, well under float's 6e-8 half-ulp).
  float q = 1.392617612e-3f;
  q = q * r + 8.363173075e-3f;
  q = q * r + 4.166655466e-2f;
  q = q * r + 1.666657703e-1f;
  q = q * r + 0.5f;
  const float p = q * (r * r) + r + 1.f;
  // 2^n as 2^n1·2^n2, each factor a normal float for n in [-150, 128]: the product rounds once
  // into the subnormal range, or overflows to inf, as e^x itself does.
  const int32_t n1 = n >> 1, n2 = n - n1;
  const float s1 = bits_to_float(static_cast<uint32_t>(n1 + 127) << 23);
  const float s2 = bits_to_float(static_cast<uint32_t>(n2 + 127) << 23);
  return p * s1 * s2;
}

/// ln x within 0.87 ulp of the exact value (checked on every float), subnormal inputs
/// included; ln 0 = -inf, ln(+inf) = +inf, negative or NaN -> NaN.
inline float fast_log(float x) {
  constexpr float kMinNormal = 1.17549435e-38f;
  constexpr float kInf = __builtin_inff();
  // Subnormals are scaled by 2^23 into the normal range first.
  const bool sub = x < kMinNormal;
  const float xs = select(sub, x * 8388608.f, x);
  const uint32_t b = float_to_bits(xs);
  // x = 2^e·m with m in [√½, √2): ln x = e·ln 2 + ln m, ln m from a polynomial in f = m - 1.
  int32_t e = static_cast<int32_t>(b >> 23) - 127 - (sub ? 23 : 0);
  float m = bits_to_float((b & 0x007fffffu) | 0x3f800000u);  // [1, 2)
  const bool high = m > 1.41421356f;
  m = select(high, 0.5f * m, m);
  e += high ? 1 : 0;
  const float f = m - 1.f;
  const float z = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  const float ef = static_cast<float>(e);
  const float y = f * z * p - 0.5f * z + ef * -2.12194440e-4f;
  const float r = (f + y) + ef * 0.693359375f;
  // Zero, negatives, inf and NaN: a blend of plain values (x itself is the answer for +inf).
  const float special = x == 0.f ? -kInf : (x > 0.f ? x : __builtin_nanf(""));
  return select((x > 0.f) & (x < kInf), r, special);
}

/// ln(1 + x) for x in [0, 1], within 1.2 ulp: u = 1 + x rounds, and (x - (u - 1))/u restores
/// what the rounding lost (all of x when x < 2^-24).
inline float fast_log1p_unit(float x) {
  const float u = 1.f + x;
  return fast_log(u) + (x - (u - 1.f)) / u;
}

/// 1 / (1 + e^-x) within 2.5 ulp; saturates cleanly to 0 and 1 (e^-x overflowing to inf gives
/// exactly 0).
inline float fast_sigmoid(float x) { return 1.f / (1.f + fast_exp(-x)); }

/// tanh x within 1.4 ulp: an odd polynomial near 0 (where 1 - 2/(e^2x + 1) would cancel), and
/// 1 - 2/(e^{2|x|} + 1) with x's sign elsewhere (e^{2|x|} = inf gives exactly ±1).
inline float fast_tanh(float x) {
  const float ax = x < 0.f ? -x : x;
  const float z = x * x;
  // Cephes tanhf, |x| < 0.625.
  float p = -5.70498872745e-3f;
  p = p * z + 2.06390887954e-2f;
  p = p * z - 5.37397155531e-2f;
  p = p * z + 1.33314422036e-1f;
  p = p * z - 3.33332819422e-1f;
  const float small = x + x * z * p;
  const float big_abs = 1.f - 2.f / (fast_exp(2.f * ax) + 1.f);
  const float big = bits_to_float(float_to_bits(big_abs) | (float_to_bits(x) & 0x80000000u));
  return select(ax < 0.625f, small, big);
}

/// erfc z for z >= 0: Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7 in exact
/// arithmetic). In float the rounding of z² dominates the tail: relative error <= 4e-6 up to
/// z = 8, ~2e-6 up to z = 3.
inline float fast_erfc_nonneg(float z) {
  const float t = 1.f / (1.f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  return t * fast_exp(p - z * z);
}

/// Φ(x) = P(N(0,1) <= x) = erfc(-x/√2)/2, accurate in relative terms in both tails.
inline float fast_normal_cdf(float x) {
  constexpr float kInvSqrt2 = 0.70710678118654752f;
  const float ax = x < 0.f ? -x : x;
  const float half_tail = 0.5f * fast_erfc_nonneg(ax * kInvSqrt2);  // P(N > |x|)
  return select(x < 0.f, half_tail, 1.f - half_tail);
}

// ---------------------------------------------------------------------------------------------
// Loops that GCC vectorises at -O2.

/// Elements per vectorised block (two AVX2 vectors, one AVX-512 vector).
constexpr int64_t kSimdBlock = 16;

template <typename F, typename... In>
inline void map_block(float* __restrict y, const F& f, const In* __restrict... in) {
  for (int64_t j = 0; j < kSimdBlock; ++j) y[j] = f(in[j]...);
}

/// y[i] = f(in[i]...) for i in [0, n), serially; y must not overlap any input.
template <typename F, typename... In>
inline void map_range(float* y, int64_t n, const F& f, const In*... in) {
  const int64_t full = n - n % kSimdBlock;
  for (int64_t i = 0; i < full; i += kSimdBlock) map_block(y + i, f, (in + i)...);
  for (int64_t i = full; i < n; ++i) y[i] = f(in[i]...);
}

/// y[i] = f(in[i]...) for i in [0, n) across the arena, in tasks of at least `grain` elements.
template <typename F, typename... In>
void parallel_map(float* y, int64_t n, int64_t grain, const F& f, const In*... in) {
  parallel_for(n, grain, [&](int64_t b, int64_t e) { map_range(y + b, e - b, f, (in + b)...); });
}

/// A fresh tensor y[i] = f(x[i]).
template <typename F>
Tensor map_tensor(const Tensor& x, int64_t grain, const F& f) {
  Tensor y = Tensor::empty(x.shape());
  parallel_map(y.data(), y.numel(), grain, f, x.data());
  return y;
}

/// A fresh tensor y[i] = f(a[i], b[i]) shaped like a; b has a's numel (e.g. the gradient and a
/// saved input in a backward).
template <typename F>
Tensor map_tensors(const Tensor& a, const Tensor& b, int64_t grain, const F& f) {
  Tensor y = Tensor::empty(a.shape());
  parallel_map(y.data(), y.numel(), grain, f, a.data(), b.data());
  return y;
}

/// A fresh tensor y[i] = f(a[i], b[i], c[i]) shaped like a; b and c have a's numel.
template <typename F>
Tensor map_tensors(const Tensor& a, const Tensor& b, const Tensor& c, int64_t grain, const F& f) {
  Tensor y = Tensor::empty(a.shape());
  parallel_map(y.data(), y.numel(), grain, f, a.data(), b.data(), c.data());
  return y;
}

}  // namespace recgrad::detail
