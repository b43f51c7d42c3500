#include "optim/sgd.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/graph.h"

using namespace recgrad;
using namespace recgrad::optim;

namespace {

// Delivers `g` as the gradient of leaf `p` through a fake op, so the test controls it exactly.
void set_grad(const Tensor& p, const Tensor& g) {
  record("fake_grad", scalar(0.f), {p}, [g](const Tensor&, GradSink& s) { s.add(0, g.clone()); })
      .backward();
}

// The test's gradient at step t: g = 0.5·p + (t + 1)·c, a function of the current parameter so
// that an error in one step shows up in the next.
const std::vector<double> kC{0.3, -1.2, 2.0, -0.7, 0.05, 1.5};
const std::vector<double> kP0{1.0, -2.0, 0.5, 3.0, -0.25, 0.0};

double grad_of(double p, int t, size_t i) { return 0.5 * p + (t + 1) * kC[i]; }

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
  Tensor p = tensor({kP0.begin(), kP0.end()}, {2, 3}).set_requires_grad();
  SGD opt({{"w", p}}, o);
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
