#include "optim/adam.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {

// torch.optim.Adam / AdamW in double.
std::vector<double> reference(const AdamOptions& o, bool decoupled, int steps) {
  std::vector<double> p = kP0, m(p.size()), v(p.size());
  for (int t = 1; t <= steps; ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      double g = grad_of(p[i], t - 1, i);
      if (decoupled) p[i] *= 1 - o.lr * o.weight_decay;
      else g += o.weight_decay * p[i];
      m[i] = o.beta1 * m[i] + (1 - o.beta1) * g;
      v[i] = o.beta2 * v[i] + (1 - o.beta2) * g * g;
      const double bc1 = 1 - std::pow(o.beta1, t), bc2 = 1 - std::pow(o.beta2, t);
      p[i] -= o.lr / bc1 * m[i] / (std::sqrt(v[i]) / std::sqrt(bc2) + o.eps);
    }
  return p;
}

template <typename Opt, typename Options>
void check_three_steps(const Options& options, const AdamOptions& as_adam, bool decoupled) {
  check_steps([&](const nn::NamedTensors& params) { return Opt(params, options); },
              [&](int steps) { return reference(as_adam, decoupled, steps); }, 3);
}

}  // namespace

TEST_CASE("adam: three steps with L2 weight decay match a double reference") {
  AdamOptions o;
  o.lr = 0.1, o.beta1 = 0.8, o.beta2 = 0.95, o.eps = 1e-6, o.weight_decay = 0.1;
  check_three_steps<Adam>(o, o, false);
  AdamOptions plain;  // PyTorch's defaults
  plain.lr = 0.01;
  check_three_steps<Adam>(plain, plain, false);
}

TEST_CASE("adamw: three steps with decoupled weight decay match a double reference") {
  AdamWOptions o;
  o.lr = 0.1, o.beta1 = 0.8, o.beta2 = 0.95, o.eps = 1e-6, o.weight_decay = 0.3;
  check_three_steps<AdamW>(o, AdamOptions{o.lr, o.beta1, o.beta2, o.eps, o.weight_decay}, true);
}

TEST_CASE("adam: bias correction makes the first step move every element by about lr") {
  // At t = 1: m̂ = g, v̂ = g², so the step is lr·g/(|g| + ε) ≈ lr·sign(g) whatever |g| is.
  Tensor p = zeros({4}).set_requires_grad();
  AdamOptions o;
  o.lr = 0.01;
  Adam opt({{"w", p}}, o);
  set_grad(p, tensor({1e-3f, -5.f, 200.f, -0.5f}));
  opt.step();
  const std::vector<float> want{-0.01f, 0.01f, -0.01f, 0.01f};
  for (size_t i = 0; i < 4; ++i) CHECK(p.data()[i] == doctest::Approx(want[i]).epsilon(1e-4));
}

TEST_CASE("adamw: decoupled decay shrinks a parameter with a zero gradient by 1 - lr·λ") {
  Tensor p = tensor({2.f, -4.f}).set_requires_grad();
  AdamWOptions o;
  o.lr = 0.1, o.weight_decay = 0.5;
  AdamW opt({{"w", p}}, o);
  set_grad(p, zeros({2}));
  opt.step();
  // m = v = 0, so only the decay acts: p·(1 − 0.05). Adam's L2 would instead move p by ≈ lr.
  CHECK(p.data()[0] == doctest::Approx(1.9f));
  CHECK(p.data()[1] == doctest::Approx(-3.8f));
  CHECK(opt.describe().rfind("AdamW(lr=0.1", 0) == 0);
}

TEST_CASE("adam: betas outside [0, 1) and a negative eps are rejected") {
  Tensor p = zeros({2}).set_requires_grad();
  AdamOptions o;
  o.beta1 = 1;
  CHECK_THROWS_WITH_AS(Adam({{"w", p}}, o), doctest::Contains("Adam: beta1 = 1 is outside [0, 1)"),
                       Error);
  AdamWOptions w;
  w.eps = -1;
  CHECK_THROWS_WITH_AS(AdamW({{"w", p}}, w), doctest::Contains("AdamW: eps = -1"), Error);
}
