#include "ops/activation.h"

#include <cmath>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/fast_math.h"

namespace recgrad {
namespace {

using detail::fast_exp;
using detail::fast_sigmoid;
using detail::map_tensor;
using detail::map_tensors;
using detail::select;

// Grains: the fast_math kernels cost ~2 cycles per element vectorised (the "cheap" grain);
// tanh, gelu and softplus two to four times that.
using detail::kGrainCheap;
using detail::kGrainExpensive;

constexpr float kSqrt2OverPi = 0.79788456080286536f;  // √(2/π)
constexpr float kInvSqrt2Pi = 0.39894228040143268f;   // 1/√(2π)
constexpr float kGeluCubic = 0.044715f;

// gelu's tanh form as x·σ(2u), u = √(2/π)(x + 0.044715x³): 0.5(1 + tanh u) = σ(2u) has no
// cancellation for large negative x.
inline float gelu_tanh_gate(float x) {
  return fast_sigmoid(2.f * kSqrt2OverPi * (x + kGeluCubic * x * x * x));
}

}  // namespace

Tensor sigmoid(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [](float v) { return fast_sigmoid(v); });
  return record("sigmoid", out, {x}, [y = out.detach()](const Tensor& g, GradSink& s) {
    s.add(0,
          map_tensors(g, y, kGrainCheap, [](float gv, float yv) { return gv * yv * (1.f - yv); }));
  });
}

Tensor tanh(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainExpensive, [](float v) { return detail::fast_tanh(v); });
  return record("tanh", out, {x}, [y = out.detach()](const Tensor& g, GradSink& s) {
    s.add(0,
          map_tensors(g, y, kGrainCheap, [](float gv, float yv) { return gv * (1.f - yv * yv); }));
  });
}

Tensor relu(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [](float v) { return v < 0.f ? 0.f : v; });
  return record("relu", out, {x}, [x](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, x, kGrainCheap, [](float gv, float v) { return v > 0.f ? gv : 0.f; }));
  });
}

Tensor leaky_relu(const Tensor& x, float slope) {
  Tensor out =
      map_tensor(x, kGrainCheap, [slope](float v) { return select(v > 0.f, v, slope * v); });
  return record("leaky_relu", out, {x}, [x, slope](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, x, kGrainCheap,
                         [slope](float gv, float v) { return select(v > 0.f, gv, slope * gv); }));
  });
}

Tensor gelu(const Tensor& x, GeluOptions opts) {
  if (opts.approximate_tanh) {
    Tensor out = map_tensor(x, kGrainExpensive, [](float v) { return v * gelu_tanh_gate(v); });
    return record("gelu_tanh", out, {x}, [x](const Tensor& g, GradSink& s) {
      // d/dx x·σ(2u) = σ + x·σ(1-σ)·2u',  u' = √(2/π)(1 + 3·0.044715x²)
      s.add(0, map_tensors(g, x, kGrainExpensive, [](float gv, float v) {
              const float sg = gelu_tanh_gate(v);
              const float du = 2.f * kSqrt2OverPi * (1.f + 3.f * kGeluCubic * v * v);
              return gv * (sg + v * sg * (1.f - sg) * du);
            }));
    });
  }
  Tensor out =
      map_tensor(x, kGrainExpensive, [](float v) { return v * detail::fast_normal_cdf(v); });
  return record("gelu", out, {x}, [x](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, x, kGrainExpensive, [](float gv, float v) {
            const float pdf = kInvSqrt2Pi * fast_exp(-0.5f * v * v);
            return gv * (detail::fast_normal_cdf(v) + v * pdf);
          }));
  });
}

Tensor softplus(const Tensor& x) {
  // e^-|x| is in (0, 1], so it never overflows, and ln(1 + e^-|x|) keeps its full value where
  // softplus ≈ e^x is tiny.
  Tensor out = map_tensor(x, kGrainExpensive, [](float v) {
    return (v > 0.f ? v : 0.f) + detail::fast_log1p_unit(fast_exp(-std::fabs(v)));
  });
  return record("softplus", out, {x}, [x](const Tensor& g, GradSink& s) {
    s.add(0,
          map_tensors(g, x, kGrainCheap, [](float gv, float v) { return gv * fast_sigmoid(v); }));
  });
}

}  // namespace recgrad
