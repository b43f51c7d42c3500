#include "optim/sgd.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {

// torch.optim.SGD in double.
std::vector<double> reference(const SGDOptions& o, int steps) {
  std::vector<double> p = kP0, buf(p.size());
  for (int t = 0; t < steps; ++t)
    for (size_t i = 0; i < p.size(); ++i) {
      double g = grad_of(p[i], t, i) + o.weight_decay * p[i];
      if (o.momentum > 0) {
        buf[i] = t == 0 ? g : o.momentum * buf[i] + (1 - o.dampening) * g;
        g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
      }
      p[i] -= o.lr * g;
    }
  return p;
}

void check_three_steps(const SGDOptions& o) {
  check_steps([&](const nn::NamedTensors& params) { return SGD(params, o); },
              [&](int steps) { return reference(o, steps); }, 3);
}

}  // namespace

TEST_CASE("sgd: three plain steps with weight decay match a double reference") {
  SGDOptions o;
  o.lr = 0.1, o.weight_decay = 0.05;
  check_three_steps(o);
}

TEST_CASE("sgd: three steps with momentum and dampening match a double reference") {
  SGDOptions o;
  o.lr = 0.05, o.momentum = 0.9, o.dampening = 0.3, o.weight_decay = 0.01;
  check_three_steps(o);
}

TEST_CASE("sgd: three nesterov steps match a double reference") {
  SGDOptions o;
  o.lr = 0.05, o.momentum = 0.8, o.weight_decay = 0.02, o.nesterov = true;
  check_three_steps(o);
}

TEST_CASE("sgd: the first momentum step is a plain step (the buffer starts as the gradient)") {
  Tensor p = tensor({1.f, 2.f}).set_requires_grad();
  SGDOptions o;
  o.lr = 0.5, o.momentum = 0.9, o.dampening = 0.5;
  SGD opt({{"w", p}}, o);
  set_grad(p, tensor({2.f, -4.f}));
  opt.step();
  CHECK(p.to_vector() == std::vector<float>{0.f, 4.f});  // p − 0.5·g, no dampening, no 0.9·0
  CHECK(opt.state().tensors.at(0).first == "w.momentum_buffer");
  CHECK(opt.state().tensors.at(0).second.to_vector() == std::vector<float>{2.f, -4.f});
}

TEST_CASE("sgd: nesterov without momentum or with dampening is rejected") {
  Tensor p = zeros({2}).set_requires_grad();
  SGDOptions o;
  o.nesterov = true;
  CHECK_THROWS_WITH_AS(SGD({{"w", p}}, o), doctest::Contains("nesterov needs momentum > 0"), Error);
  o.momentum = 0.9, o.dampening = 0.1;
  CHECK_THROWS_WITH_AS(SGD({{"w", p}}, o), doctest::Contains("dampening = 0.1"), Error);
  SGDOptions neg;
  neg.momentum = -1;
  CHECK_THROWS_WITH_AS(SGD({{"w", p}}, neg), doctest::Contains("SGD: momentum = -1"), Error);
  SGDOptions bad_lr;
  bad_lr.lr = -0.1;
  CHECK_THROWS_WITH_AS(SGD({{"w", p}}, bad_lr), doctest::Contains("lr = -0.1"), Error);
}
