#include "optim/rmsprop.h"

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
  Tensor p = tensor({kP0.begin(), kP0.end()}, {2, 3}).set_requires_grad();
  RMSProp opt({{"w", p}}, o);
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
