#include "optim/adam.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/graph.h"

using namespace recgrad;
using namespace recgrad::optim;

namespace {

void set_grad(const Tensor& p, const Tensor& g) {
  record("fake_grad", scalar(0.f), {p}, [g](const Tensor&, GradSink& s) { s.add(0, g.clone()); })
      .backward();
}

// The test's gradient at step t: g = 0.5·p + (t + 1)·c (depends on p, so errors propagate).
const std::vector<double> kC{0.3, -1.2, 2.0, -0.7, 0.05, 1.5};
const std::vector<double> kP0{1.0, -2.0, 0.5, 3.0, -0.25, 0.0};

double grad_of(double p, int t, size_t i) { return 0.5 * p + (t + 1) * kC[i]; }

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
  Tensor p = tensor({kP0.begin(), kP0.end()}, {2, 3}).set_requires_grad();
  Opt opt({{"w", p}}, options);
  for (int t = 0; t < 3; ++t) {
    std::vector<float> g(6);
    for (size_t i = 0; i < 6; ++i) g[i] = static_cast<float>(grad_of(p.data()[i], t, i));
    set_grad(p, tensor(g, {2, 3}));
    opt.step();
    opt.zero_grad();
    const std::vector<double> want = reference(as_adam, decoupled, t + 1);
    for (size_t i = 0; i < 6; ++i)
      CHECK_MESSAGE(std::abs(p.data()[i] - want[i]) <= 1e-5 * (1 + std::abs(want[i])), "step ",
                    t + 1, " element ", i, ": ", p.data()[i], " vs ", want[i]);
  }
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
