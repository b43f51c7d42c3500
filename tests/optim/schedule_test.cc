#include "optim/schedule.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/generator.h"
#include "autograd/parallel.h"
#include "ops/runtime.h"
#include "optim/sgd.h"
#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {

const double kPi = std::acos(-1.0);

}  // namespace

TEST_CASE("schedule: step_lr multiplies by gamma every step_size steps") {
  const Schedule s = step_lr(3, 0.5);
  CHECK(s(0, 0.8) == 0.8);
  CHECK(s(2, 0.8) == 0.8);
  CHECK(s(3, 0.8) == 0.4);
  CHECK(s(7, 0.8) == 0.2);
  CHECK(s.describe() == "step_lr(3, gamma=0.5)");
}

TEST_CASE("schedule: exponential_lr is base·gamma^step") {
  const Schedule s = exponential_lr(0.9);
  CHECK(s(0, 2.0) == 2.0);
  CHECK(s(1, 2.0) == doctest::Approx(1.8));
  CHECK(s(10, 2.0) == doctest::Approx(2.0 * std::pow(0.9, 10)));
}

TEST_CASE("schedule: cosine_lr falls from base to min_lr over total_steps, then stays") {
  const Schedule s = cosine_lr(100, 0.1);
  CHECK(s(0, 1.0) == doctest::Approx(1.0));
  CHECK(s(25, 1.0) == doctest::Approx(0.1 + 0.9 * (1 + std::cos(kPi / 4)) / 2));
  CHECK(s(50, 1.0) == doctest::Approx(0.55));
  CHECK(s(100, 1.0) == doctest::Approx(0.1));
  CHECK(s(1000, 1.0) == doctest::Approx(0.1));
  for (int64_t t = 1; t <= 100; ++t) CHECK(s(t, 1.0) < s(t - 1, 1.0));
}

TEST_CASE("schedule: linear warmup then cosine") {
  const Schedule s = linear_warmup(4, cosine_lr(10, 0.0));
  CHECK(s(0, 1.0) == 0.25);
  CHECK(s(1, 1.0) == 0.5);
  CHECK(s(3, 1.0) == 1.0);
  CHECK(s(4, 1.0) == doctest::Approx(1.0));  // cosine's step 0
  CHECK(s(9, 1.0) == doctest::Approx(0.5));  // cosine's step 5 of 10
  CHECK(s(14, 1.0) == doctest::Approx(0.0));
  CHECK(s.describe() == "linear_warmup(4, then cosine_lr(10, min_lr=0))");
  CHECK(linear_warmup(2)(5, 0.3) == 0.3);  // then constant
}

TEST_CASE("schedule: apply scales each group from its own initial lr") {
  Tensor a = zeros({1}).set_requires_grad(), b = zeros({1}).set_requires_grad();
  SGDOptions o;
  o.lr = 0.1;
  SGD opt({{"a", a}, {"b", b}}, o);
  GroupOptions slow;
  slow.lr = 0.01;
  opt.add_group("slow", std::vector<std::string>{"b"}, slow);
  const Schedule s = step_lr(2, 0.5);
  s.apply(opt, 2);
  CHECK(opt.lr() == doctest::Approx(0.05));
  CHECK(opt.group("slow").lr == doctest::Approx(0.005));
  s.apply(opt, 0);  // from initial_lr, not from the current lr: no compounding
  CHECK(opt.lr() == doctest::Approx(0.1));
  CHECK(opt.group("slow").lr == doctest::Approx(0.01));
}

TEST_CASE("schedule: bad arguments and negative steps are rejected") {
  CHECK_THROWS_WITH_AS(step_lr(0, 0.5), doctest::Contains("step_lr: step_size = 0"), Error);
  CHECK_THROWS_WITH_AS(cosine_lr(0), doctest::Contains("cosine_lr: total_steps = 0"), Error);
  CHECK_THROWS_WITH_AS(linear_warmup(0), doctest::Contains("warmup_steps = 0"), Error);
  CHECK_THROWS_WITH_AS(exponential_lr(-1), doctest::Contains("gamma = -1"), Error);
  CHECK_THROWS_WITH_AS(constant_lr()(-1, 1.0), doctest::Contains("constant_lr: step -1 is negative"),
                       Error);
}

TEST_CASE("clip_grad_norm: scales to max_norm and returns the norm before clipping") {
  Tensor a = zeros({2}).set_requires_grad(), b = zeros({1}).set_requires_grad();
  Tensor unused = zeros({3}).set_requires_grad();
  set_grad(a, tensor({3.f, 4.f}));
  set_grad(b, tensor({12.f}));
  const double norm = clip_grad_norm({a, b, unused}, 6.5);
  CHECK(norm == doctest::Approx(13.0));
  const double s = 6.5 / (13.0 + 1e-6);
  CHECK(a.grad().at({0}) == doctest::Approx(3 * s));
  CHECK(a.grad().at({1}) == doctest::Approx(4 * s));
  CHECK(b.grad().at({0}) == doctest::Approx(12 * s));
  CHECK(grad_norm({a, b}) == doctest::Approx(6.5));
  CHECK_FALSE(unused.grad().defined());
}

TEST_CASE("clip_grad_norm: gradients within max_norm are left bit for bit") {
  Tensor a = zeros({2}).set_requires_grad();
  set_grad(a, tensor({0.3f, 0.4f}));
  CHECK(clip_grad_norm(nn::NamedTensors{{"a", a}}, 1.0) == doctest::Approx(0.5));
  CHECK(a.grad().to_vector() == std::vector<float>{0.3f, 0.4f});
  CHECK_THROWS_WITH_AS(clip_grad_norm({a}, 0.0), doctest::Contains("max_norm = 0"), Error);
}

TEST_CASE("clip_grad_norm: sparse gradients count once per coalesced row and are scaled") {
  Tensor table = zeros({5, 2}).set_requires_grad();
  Tensor dense = zeros({1}).set_requires_grad();
  // Row 3 arrives twice: (1, 0) + (2, 0) = (3, 0), so the norm is √(3² + 4² + 12²) = 13, not
  // √(1 + 4 + 16 + 144).
  set_sparse_grad(table, {RowSparseGrad{{3}, tensor({1, 0}, {1, 2})},
                          RowSparseGrad{{1, 3}, tensor({0, 4, 2, 0}, {2, 2})}});
  set_grad(dense, tensor({12.f}));
  CHECK(clip_grad_norm({table, dense}, 1.3) == doctest::Approx(13.0));
  REQUIRE(table.has_sparse_grad());
  const RowSparseGrad g = table.sparse_grad();
  CHECK(g.rows == std::vector<int64_t>{1, 3});
  CHECK(g.values.at({0, 1}) == doctest::Approx(0.4).epsilon(1e-5));
  CHECK(g.values.at({1, 0}) == doctest::Approx(0.3).epsilon(1e-5));
  CHECK(dense.grad().at({0}) == doctest::Approx(1.2).epsilon(1e-5));
}

TEST_CASE("clip_grad_norm: the norm does not depend on the thread count") {
  Generator gen(5);
  Tensor p = zeros({1 << 20}).set_requires_grad();
  set_grad(p, randn({1 << 20}, gen));
  const int before = num_threads();
  set_num_threads(1);
  const double one = grad_norm({p});
  set_num_threads(4);
  const double four = grad_norm({p});
  set_num_threads(before);
  CHECK(std::memcmp(&one, &four, sizeof(double)) == 0);
  CHECK(one == doctest::Approx(1024.0).epsilon(0.01));  // √(2²⁰·E[g²]) ≈ 1024
}

TEST_CASE("clip_grad_norm: a tensor listed twice counts once and is scaled once") {
  Tensor a = zeros({2}).set_requires_grad();
  set_grad(a, tensor({3.f, 4.f}));
  CHECK(clip_grad_norm({a, a}, 1.0) == doctest::Approx(5.0));
  CHECK(a.grad().at({0}) == doctest::Approx(0.6));
}
