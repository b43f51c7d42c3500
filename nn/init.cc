#include "nn/init.h"

#include <cmath>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad::nn::init {
namespace {

// The fan kaiming scales by; a zero fan (an empty dimension) would divide by zero.
float kaiming_std(const char* op, const Shape& shape, const KaimingOptions& opts) {
  const Fans fans = compute_fans(shape);
  const int64_t fan = opts.mode == FanMode::kFanIn ? fans.fan_in : fans.fan_out;
  RECGRAD_CHECK(fan > 0, op, ": shape ", shape, " has a zero fan");
  return calculate_gain(opts.nonlinearity, opts.a) / std::sqrt(static_cast<float>(fan));
}

int64_t fan_sum(const char* op, const Shape& shape) {
  const Fans fans = compute_fans(shape);
  RECGRAD_CHECK(fans.fan_in + fans.fan_out > 0, op, ": shape ", shape, " has zero fans");
  return fans.fan_in + fans.fan_out;
}

}  // namespace

float calculate_gain(Nonlinearity nonlinearity, float param) {
  switch (nonlinearity) {
    case Nonlinearity::kLinear:
    case Nonlinearity::kSigmoid:
      return 1.f;
    case Nonlinearity::kTanh:
      return 5.f / 3.f;
    case Nonlinearity::kRelu:
      return std::sqrt(2.f);
    case Nonlinearity::kLeakyRelu:
      return std::sqrt(2.f / (1.f + param * param));
    case Nonlinearity::kSelu:
      return 0.75f;
  }
  return 1.f;
}

Fans compute_fans(const Shape& shape) {
  RECGRAD_CHECK(shape.size() >= 2, "init: fans need a weight of rank >= 2 ([out, in, ...]), got ",
                shape);
  int64_t receptive = 1;
  for (size_t d = 2; d < shape.size(); ++d) receptive *= shape[d];
  return {shape[1] * receptive, shape[0] * receptive};
}

Tensor uniform(const Shape& shape, float lo, float hi, Generator& gen) {
  RECGRAD_CHECK(lo <= hi, "init::uniform: bounds [", lo, ", ", hi, ") for shape ", shape,
                ": lo must not exceed hi");
  return recgrad::uniform(shape, lo, hi, gen);
}

Tensor normal(const Shape& shape, float mean, float std, Generator& gen) {
  RECGRAD_CHECK(std >= 0.f, "init::normal: std ", std, " for shape ", shape, " is negative");
  return recgrad::normal(shape, mean, std, gen);
}

Tensor truncated_normal(const Shape& shape, float mean, float std, Generator& gen, float cutoff) {
  RECGRAD_CHECK(std >= 0.f, "init::truncated_normal: std ", std, " for shape ", shape,
                " is negative");
  RECGRAD_CHECK(cutoff > 0.f, "init::truncated_normal: cutoff ", cutoff, " for shape ", shape,
                " must be positive (samples are kept within mean ± cutoff·std)");
  Tensor t = Tensor::empty(shape);
  const uint64_t key = gen.next_u64();
  const int64_t n = t.numel();
  float* d = t.data();
  // Element i's k-th attempt is a standard normal from mix64(key, k·n + i): each element's
  // sequence of attempts is fixed, so rejection does not depend on which thread runs it.
  // A draw is rejected with probability 4.6% (cutoff 2), so 64 rejections in a row essentially
  // never happen (p ≈ 1e-86); should they, the element takes the mean.
  detail::parallel_for(n, detail::kGrainExpensive, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      double z = 0.0;
      for (int attempt = 0; attempt < 64; ++attempt) {
        const uint64_t bits = detail::mix64(key, static_cast<uint64_t>(attempt) * n + i);
        // Box-Muller from two 32-bit halves of one hash, as recgrad::normal.
        const double u1 = (static_cast<double>(bits >> 32) + 1.0) / 4294967297.0;  // (0, 1]
        const double u2 = static_cast<double>(bits & 0xffffffffu) / 4294967296.0;
        const double draw = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        if (std::abs(draw) <= cutoff) {
          z = draw;
          break;
        }
      }
      d[i] = mean + std * static_cast<float>(z);
    }
  });
  return t;
}

Tensor zeros(const Shape& shape) { return recgrad::zeros(shape); }
Tensor ones(const Shape& shape) { return recgrad::ones(shape); }
Tensor constant(const Shape& shape, float value) { return recgrad::full(shape, value); }

Tensor xavier_uniform(const Shape& shape, Generator& gen, float gain) {
  const float bound =
      gain * std::sqrt(6.f / static_cast<float>(fan_sum("init::xavier_uniform", shape)));
  return recgrad::uniform(shape, -bound, bound, gen);
}

Tensor xavier_normal(const Shape& shape, Generator& gen, float gain) {
  const float std = gain * std::sqrt(2.f / static_cast<float>(fan_sum("init::xavier_normal", shape)));
  return recgrad::normal(shape, 0.f, std, gen);
}

Tensor kaiming_uniform(const Shape& shape, Generator& gen, KaimingOptions opts) {
  // U(-b, b) has variance b²/3, so b = √3·σ gives the same variance as kaiming_normal.
  const float bound = std::sqrt(3.f) * kaiming_std("init::kaiming_uniform", shape, opts);
  return recgrad::uniform(shape, -bound, bound, gen);
}

Tensor kaiming_normal(const Shape& shape, Generator& gen, KaimingOptions opts) {
  return recgrad::normal(shape, 0.f, kaiming_std("init::kaiming_normal", shape, opts), gen);
}

}  // namespace recgrad::nn::init
