#include "optim/rmsprop.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {

// torch.optim.RMSprop in double.
std::vector<double> reference(const RMSPropOptions& o, int steps) {
  const size_t n = kP0.size();
  std::vector<double> p = kP0, sq(n), buf(n), gavg(n);
  for (int t = 0; t < steps; ++t)
    for (size_t i = 0; i < n; ++i) {
      const double g = grad_of(p[i], t, i) + o.weight_decay * p[i];
      sq[i] = o.alpha * sq[i] + (1 - o.alpha) * g * g;
      double d;
      if (o.centered) {
        gavg[i] = o.alpha * gavg[i] + (1 - o.alpha) * g;
        d = std::sqrt(sq[i] - gavg[i] * gavg[i]) + o.eps;
      } else {
        d = std::sqrt(sq[i]) + o.eps;
      }
      if (o.momentum > 0) {
        buf[i] = o.momentum * buf[i] + g / d;
        p[i] -= o.lr * buf[i];
      } else {
        p[i] -= o.lr * g / d;
      }
    }
  return p;
}

void check_three_steps(const RMSPropOptions& o) {
  check_steps([&](const nn::NamedTensors& params) { return RMSProp(params, o); },
              [&](int steps) { return reference(o, steps); }, 3);
}

}  // namespace

TEST_CASE("rmsprop: three plain steps match a double reference") {
  RMSPropOptions o;
  o.lr = 0.01, o.alpha = 0.9;
  check_three_steps(o);
}

TEST_CASE("rmsprop: three centered steps with momentum and weight decay match a double reference") {
  RMSPropOptions o;
  o.lr = 0.01, o.alpha = 0.9, o.momentum = 0.7, o.weight_decay = 0.05, o.centered = true;
  check_three_steps(o);
}

TEST_CASE("rmsprop: slots follow the options") {
  Tensor p = zeros({2}).set_requires_grad();
  RMSPropOptions o;
  o.momentum = 0.5, o.centered = true;
  RMSProp opt({{"w", p}}, o);
  set_grad(p, ones({2}));
  opt.step();
  std::vector<std::string> names;
  for (const auto& [name, t] : opt.state().tensors) names.push_back(name);
  CHECK(names == std::vector<std::string>{"w.square_avg", "w.momentum_buffer", "w.grad_avg"});
}

TEST_CASE("rmsprop: alpha outside [0, 1) is rejected") {
  RMSPropOptions o;
  o.alpha = 1.5;
  CHECK_THROWS_WITH_AS(RMSProp({{"w", zeros({1}).set_requires_grad()}}, o),
                       doctest::Contains("RMSProp: alpha = 1.5 is outside [0, 1)"), Error);
}
