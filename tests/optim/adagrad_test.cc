#include "optim/adagrad.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {

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
  check_steps([&](const nn::NamedTensors& params) { return Adagrad(params, o); },
              [&](int steps) { return reference(o, steps); }, 3);
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
