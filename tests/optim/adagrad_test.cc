#include "optim/adagrad.h"

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

const std::vector<double> kC{0.3, -1.2, 2.0, -0.7, 0.05, 1.5};
const std::vector<double> kP0{1.0, -2.0, 0.5, 3.0, -0.25, 0.0};

double grad_of(double p, int t, size_t i) { return 0.5 * p + (t + 1) * kC[i]; }

// torch.optim.Adagrad in double.
std::vector<double> reference(const AdagradOptions& o, int steps) {
  std::vector<double> p = kP0, s(p.size(), o.initial_accumulator_value);
  for (int t = 1; t <= steps; ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      const double g = grad_of(p[i], t - 1, i) + o.weight_decay * p[i];
      const double clr = o.lr / (1 + (t - 1) * o.lr_decay);
      s[i] += g * g;
      p[i] -= clr * g / (std::sqrt(s[i]) + o.eps);
    }
  return p;
}

void check_three_steps(const AdagradOptions& o) {
  Tensor p = tensor({kP0.begin(), kP0.end()}, {2, 3}).set_requires_grad();
  Adagrad opt({{"w", p}}, o);
  for (int t = 0; t < 3; ++t) {
    std::vector<float> g(6);
    for (size_t i = 0; i < 6; ++i) g[i] = static_cast<float>(grad_of(p.data()[i], t, i));
    set_grad(p, tensor(g, {2, 3}));
    opt.step();
    opt.zero_grad();
    const std::vector<double> want = reference(o, t + 1);
    for (size_t i = 0; i < 6; ++i)
      CHECK_MESSAGE(std::abs(p.data()[i] - want[i]) <= 1e-5 * (1 + std::abs(want[i])), "step ",
                    t + 1, " element ", i, ": ", p.data()[i], " vs ", want[i]);
  }
}

}  // namespace

TEST_CASE("adagrad: three steps match a double reference") {
  AdagradOptions o;
  o.lr = 0.5;
  check_three_steps(o);
}

TEST_CASE("adagrad: lr decay, weight decay and an initial accumulator match a double reference") {
  AdagradOptions o;
  o.lr = 0.5, o.lr_decay = 0.2, o.weight_decay = 0.1, o.initial_accumulator_value = 0.4;
  check_three_steps(o);
}

TEST_CASE("adagrad: the first step divides by |g| (a step of lr per element)") {
  Tensor p = zeros({3}).set_requires_grad();
  Adagrad opt({{"w", p}});
  set_grad(p, tensor({3.f, -0.5f, 0.f}));
  opt.step();
  CHECK(p.data()[0] == doctest::Approx(-0.01f));
  CHECK(p.data()[1] == doctest::Approx(0.01f));
  CHECK(p.data()[2] == 0.f);  // 0 / (0 + ε): no NaN
  CHECK(opt.state().tensors.at(0).first == "w.sum");
}

TEST_CASE("adagrad: a negative initial accumulator is rejected") {
  AdagradOptions o;
  o.initial_accumulator_value = -1;
  CHECK_THROWS_WITH_AS(Adagrad({{"w", zeros({1}).set_requires_grad()}}, o),
                       doctest::Contains("Adagrad: initial_accumulator_value = -1"), Error);
}
