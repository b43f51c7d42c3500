#pragma once
// Parameter initializers, each drawing from an explicit Generator (same seed -> same values at
// any thread count: fills are counter-based, see autograd/generator.h). The formulas are
// PyTorch's torch.nn.init, so a model initialised here starts from the same distributions as
// its PyTorch reference:
//
//   fans of a shape [out, in, k...]:  fan_in = in·Πk,  fan_out = out·Πk   (rank >= 2)
//   gain(linear|sigmoid) = 1, gain(tanh) = 5/3, gain(relu) = √2,
//   gain(leaky_relu, a) = √(2/(1 + a²)), gain(selu) = 3/4
//   xavier_uniform:   U(-b, b),  b = gain·√(6/(fan_in + fan_out))
//   xavier_normal:    N(0, σ²),  σ = gain·√(2/(fan_in + fan_out))
//   kaiming_uniform:  U(-b, b),  b = √3·gain/√fan   (fan = fan_in or fan_out by mode)
//   kaiming_normal:   N(0, σ²),  σ = gain/√fan
//
// nn.Linear's default (kaiming_uniform with a = √5, leaky_relu gain) gives b = 1/√fan_in.
#include <cstdint>

#include "autograd/generator.h"
#include "autograd/tensor.h"

namespace recgrad::nn::init {

/// The nonlinearity a layer's output goes through; it sets the gain that keeps activations'
/// variance steady from layer to layer.
enum class Nonlinearity { kLinear, kSigmoid, kTanh, kRelu, kLeakyRelu, kSelu };

/// PyTorch's calculate_gain: 1 (linear, sigmoid), 5/3 (tanh), √2 (relu),
/// √(2/(1 + slope²)) (leaky_relu with negative slope `param`), 3/4 (selu).
float calculate_gain(Nonlinearity nonlinearity, float param = 0.01f);

/// Fan-in and fan-out of a weight shape.
struct Fans {
  int64_t fan_in, fan_out;
};
/// shape [out, in, k...] (rank >= 2) -> {in·Πk, out·Πk}. Throws for rank < 2.
Fans compute_fans(const Shape& shape);

/// Which fan kaiming scales by: fan_in preserves the forward variance, fan_out the backward's.
enum class FanMode { kFanIn, kFanOut };

struct KaimingOptions {
  float a = 0.f;  ///< negative slope, used when nonlinearity is kLeakyRelu
  FanMode mode = FanMode::kFanIn;
  Nonlinearity nonlinearity = Nonlinearity::kLeakyRelu;  ///< PyTorch's default (with a = 0: relu)
};

/// U(lo, hi) elementwise.  -> shape. Requires lo <= hi.
Tensor uniform(const Shape& shape, float lo, float hi, Generator& gen);
/// N(mean, std²) elementwise.  -> shape. Requires std >= 0.
Tensor normal(const Shape& shape, float mean, float std, Generator& gen);
/// N(mean, std²) restricted to [mean - cutoff·std, mean + cutoff·std]: a draw outside is
/// redrawn (from a fresh counter-based draw for that element, so the result is deterministic
/// and parallel). The kept values are exactly a truncated normal; their std is ≈ 0.88·std for
/// cutoff 2 (as TensorFlow's truncated_normal, and PyTorch's trunc_normal_ with a, b = ∓2·std).
Tensor truncated_normal(const Shape& shape, float mean, float std, Generator& gen,
                        float cutoff = 2.f);
/// All zeros.
Tensor zeros(const Shape& shape);
/// All ones.
Tensor ones(const Shape& shape);
/// Every element `value`.
Tensor constant(const Shape& shape, float value);

/// U(-b, b), b = gain·√(6/(fan_in + fan_out)) (Glorot & Bengio 2010).  shape rank >= 2
Tensor xavier_uniform(const Shape& shape, Generator& gen, float gain = 1.f);
/// N(0, σ²), σ = gain·√(2/(fan_in + fan_out)).  shape rank >= 2
Tensor xavier_normal(const Shape& shape, Generator& gen, float gain = 1.f);
/// U(-b, b), b = √3·gain(nonlinearity, a)/√fan (He et al. 2015).  shape rank >= 2
Tensor kaiming_uniform(const Shape& shape, Generator& gen, KaimingOptions opts = {});
/// N(0, σ²), σ = gain(nonlinearity, a)/√fan.  shape rank >= 2
Tensor kaiming_normal(const Shape& shape, Generator& gen, KaimingOptions opts = {});

}  // namespace recgrad::nn::init
