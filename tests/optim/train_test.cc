// End to end: a small MLP fitted to a nonlinear target by each optimizer.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <memory>
#include <string>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "ops/loss.h"
#include "nn/mlp.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

using namespace recgrad;
using namespace recgrad::optim;

namespace {

// The library's MLP: 2 -> 16 (tanh) -> 1.
struct Mlp {
  explicit Mlp(Generator& gen) : net({2, 16, 1}, gen, make_options()) {}
  static nn::MLPOptions make_options() {
    nn::MLPOptions o;
    o.activation = nn::Activation::kTanh;
    return o;
  }
  Tensor forward(const Tensor& x) { return net.forward(x); }
  nn::NamedTensors named_parameters() const { return net.named_parameters(); }
  nn::MLP net;
};

struct Task {
  Tensor x, y;
};

// y = sin(2·x₀)·x₁ on 64 points of [-1.5, 1.5]²: not representable by a linear model.
Task make_task() {
  Generator gen(11);
  const int64_t n = 64;
  Task t{Tensor::empty({n, 2}), Tensor::empty({n, 1})};
  for (int64_t i = 0; i < n; ++i) {
    const float a = 3 * gen.next_float() - 1.5f, b = 3 * gen.next_float() - 1.5f;
    t.x.data()[i * 2] = a, t.x.data()[i * 2 + 1] = b;
    t.y.data()[i] = std::sin(2 * a) * b;
  }
  return t;
}

float loss_of(Mlp& m, const Task& t) {
  NoGradGuard no_grad;
  return mse_loss(m.forward(t.x), t.y).item();
}

using MakeOpt = std::function<std::unique_ptr<Optimizer>(const nn::NamedTensors&)>;

void check_fits(const char* name, const MakeOpt& make, int steps = 300) {
  INFO(name);
  const Task task = make_task();
  Generator gen(3);
  Mlp model(gen);
  auto opt = make(model.named_parameters());
  const float initial = loss_of(model, task);
  for (int i = 0; i < steps; ++i) {
    mse_loss(model.forward(task.x), task.y).backward();
    clip_grad_norm(opt->named_parameters(), 10.0);
    opt->step();
    opt->zero_grad();
  }
  const float final_loss = loss_of(model, task);
  MESSAGE(std::string(name), ": loss ", initial, " -> ", final_loss);
  CHECK(std::isfinite(final_loss));
  CHECK(final_loss < 0.05f * initial);  // typically 100-300x lower after 300 steps
}

}  // namespace

TEST_CASE("training: SGD with momentum fits a nonlinear target") {
  check_fits("SGD", [](const auto& p) {
    SGDOptions o;
    o.lr = 0.1, o.momentum = 0.9;
    return std::make_unique<SGD>(p, o);
  });
}

TEST_CASE("training: Adam fits a nonlinear target") {
  check_fits("Adam", [](const auto& p) {
    AdamOptions o;
    o.lr = 0.03;
    return std::make_unique<Adam>(p, o);
  });
}

TEST_CASE("training: AdamW fits a nonlinear target") {
  check_fits("AdamW", [](const auto& p) {
    AdamWOptions o;
    o.lr = 0.03;
    return std::make_unique<AdamW>(p, o);
  });
}

TEST_CASE("training: Adagrad fits a nonlinear target") {
  check_fits("Adagrad", [](const auto& p) {
    AdagradOptions o;
    o.lr = 0.1;
    return std::make_unique<Adagrad>(p, o);
  });
}

TEST_CASE("training: RMSProp fits a nonlinear target") {
  check_fits("RMSProp", [](const auto& p) {
    RMSPropOptions o;
    o.lr = 0.005;
    return std::make_unique<RMSProp>(p, o);
  });
}

TEST_CASE("training: Adam under warmup and cosine decay fits a nonlinear target") {
  const Task task = make_task();
  Generator gen(3);
  Mlp model(gen);
  AdamOptions o;
  o.lr = 0.05;
  Adam opt(model.named_parameters(), o);
  const Schedule sched = linear_warmup(20, cosine_lr(280, 1e-3));
  const float initial = loss_of(model, task);
  for (int i = 0; i < 300; ++i) {
    sched.apply(opt, opt.steps());
    mse_loss(model.forward(task.x), task.y).backward();
    opt.step();
    opt.zero_grad();
  }
  CHECK(opt.lr() == doctest::Approx(sched(299, 0.05)));
  CHECK(loss_of(model, task) < 0.05f * initial);
}
