#include "ops/elementwise.h"

#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/fast_math.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

void check_values(const Tensor& got, const Shape& shape, const std::vector<float>& want,
                  float tol = 1e-6f) {
  REQUIRE(got.shape() == shape);
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  for (int64_t i = 0; i < got.numel(); ++i) {
    const float g = got.data()[i], w = want[i];
    const bool ok = std::isnan(w)   ? std::isnan(g)
                    : std::isinf(w) ? g == w
                                    : std::abs(g - w) <= tol * (1 + std::abs(w));
    CHECK_MESSAGE(ok, "element ", i, ": ", g, " vs ", w);
  }
}

// Operand shapes that exercise every broadcasting path: equal, column x row, a trailing
// vector, size-1 and scalar operands on either side, rank mismatch with inner size 1.
const std::vector<std::pair<Shape, Shape>> kShapePairs = {
    {{3, 1}, {1, 4}},    {{2, 3}, {3}}, {{1}, {2, 2}},    {{}, {2, 3}},     {{2, 3}, {}},
    {{2, 1, 3}, {4, 1}}, {{1, 1}, {1}}, {{4, 5}, {4, 5}}, {{3, 2}, {3, 1}}, {{}, {}}};

using Binary = std::function<Tensor(const Tensor&, const Tensor&)>;

// Gradchecks `op` on every shape pair, inputs drawn from [lo, hi] (and for b, [blo, bhi]).
void gradcheck_shapes(const Binary& op, float lo, float hi, float blo, float bhi) {
  Generator gen(7);
  for (const auto& [sa, sb] : kShapePairs) {
    INFO("shapes ", sa, " and ", sb);
    std::vector<Tensor> in{uniform(sa, lo, hi, gen), uniform(sb, blo, bhi, gen)};
    CHECK(gradcheck([&](const auto& x) { return op(x[0], x[1]); }, in));
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// fast_exp

TEST_CASE("fast_exp: within 2 ulp of exp over a sweep of the whole float range") {
  // Every 256th float in [-104, 89] (~8M points): normal results within 2 ulp of the exact
  // value, subnormal ones within 2 units of the smallest subnormal.
  double worst = 0;
  float worst_x = 0;
  for (float start : {-104.f, 0.f}) {
    const float end = start < 0 ? 0.f : 89.f;
    for (uint32_t u = detail::float_to_bits(start);; u += start < 0 ? -256 : 256) {
      const float x = detail::bits_to_float(u);
      if (start < 0 ? !(x < 0.f) : !(x <= end)) break;
      const double ref = std::exp(static_cast<double>(x));
      const float got = detail::fast_exp(x);
      if (std::isinf(static_cast<float>(ref))) {  // rounds to inf: must be inf
        REQUIRE_MESSAGE(got == kInf, "x=", x);
        continue;
      }
      const double ulp =
          ref < FLT_MIN ? std::ldexp(1.0, -149) : std::ldexp(1.0, std::ilogb(ref) - 23);
      const double err = std::abs(got - ref) / ulp;
      if (err > worst) worst = err, worst_x = x;
    }
  }
  INFO("worst at x=", worst_x);
  CHECK(worst <= 2.0);
  CHECK(worst > 0.0);  // the sweep really compared something
}

TEST_CASE("fast_exp: saturates to 0 and inf, keeps NaN and is exact at 0") {
  CHECK(detail::fast_exp(0.f) == 1.f);
  CHECK(detail::fast_exp(-kInf) == 0.f);
  CHECK(detail::fast_exp(-104.5f) == 0.f);
  CHECK(detail::fast_exp(-1e30f) == 0.f);
  CHECK(detail::fast_exp(88.8f) == kInf);
  CHECK(detail::fast_exp(1e30f) == kInf);
  CHECK(detail::fast_exp(kInf) == kInf);
  CHECK(std::isnan(detail::fast_exp(kNaN)));
  CHECK(detail::fast_exp(88.72f) < kInf);
  CHECK(detail::fast_exp(-100.f) > 0.f);  // subnormal, not flushed
  CHECK(detail::fast_exp(-100.f) == doctest::Approx(std::exp(-100.0)).epsilon(1e-3));
}

TEST_CASE("fast_log: within 1 ulp of ln over a sweep of all positive floats, subnormals included") {
  double worst = 0;
  float worst_x = 0;
  for (uint32_t u = 1; u < 0x7f800000u; u += 251) {
    const float x = detail::bits_to_float(u);
    const double ref = std::log(static_cast<double>(x));
    if (ref == 0) continue;
    const double ulp = std::ldexp(1.0, std::ilogb(static_cast<float>(ref)) - 23);
    const double err = std::abs(detail::fast_log(x) - ref) / ulp;
    if (err > worst) worst = err, worst_x = x;
  }
  INFO("worst at x=", worst_x);
  CHECK(worst <= 1.0);
  CHECK(worst > 0.0);
  CHECK(detail::fast_log(1.f) == 0.f);
  CHECK(detail::fast_log(0.f) == -kInf);
  CHECK(detail::fast_log(-0.f) == -kInf);
  CHECK(detail::fast_log(kInf) == kInf);
  CHECK(std::isnan(detail::fast_log(-1.f)));
  CHECK(std::isnan(detail::fast_log(-kInf)));
  CHECK(std::isnan(detail::fast_log(kNaN)));
}

TEST_CASE("exp: tensor values, NaN passthrough and gradient from the saved output") {
  Tensor x = tensor({0.f, 1.f, -2.f, 50.f, -200.f, 100.f, kNaN}, {7});
  check_values(exp(x), {7}, {1.f, std::exp(1.f), std::exp(-2.f), std::exp(50.f), 0.f, kInf, kNaN});
  Generator gen(1);
  for (Shape s : {Shape{}, Shape{1}, Shape{3, 5}, Shape{100}})
    CHECK(gradcheck([](const auto& v) { return exp(v[0]); }, {uniform(s, -2, 2, gen)}));
}

// ---------------------------------------------------------------------------------------------
// Binary ops

TEST_CASE("add: broadcasts a column against a row") {
  Tensor c = add(tensor({1, 2, 3}, {3, 1}), tensor({10, 20, 30, 40}, {1, 4}));
  check_values(c, {3, 4}, {11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43});
  check_values(add(scalar(1), tensor({1, 2}, {2})), {2}, {2, 3});
  check_values(add(tensor({1, 2, 3, 4, 5, 6}, {2, 3}), tensor({1, 0, -1}, {3})), {2, 3},
               {2, 2, 2, 5, 5, 5});
}

TEST_CASE("add: gradients match central differences on broadcasting shapes") {
  gradcheck_shapes([](const Tensor& a, const Tensor& b) { return add(a, b); }, -1, 1, -1, 1);
}

TEST_CASE("add: a tensor added to itself gets gradient 2") {
  Tensor x = tensor({1, 2, 3}).set_requires_grad();
  add(x, x).backward(ones({3}));
  check_values(x.grad(), {3}, {2, 2, 2});
  Tensor y = tensor({1, 2}).set_requires_grad();
  (y + y + y).backward(ones({2}));
  check_values(y.grad(), {2}, {3, 3});
}

TEST_CASE("add: a broadcast operand's gradient is summed over the broadcast dimensions") {
  Tensor a = zeros({2, 3}).set_requires_grad(), b = zeros({3}).set_requires_grad();
  Tensor s = zeros({}).set_requires_grad();
  add(add(a, b), s).backward(tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  check_values(a.grad(), {2, 3}, {1, 2, 3, 4, 5, 6});
  check_values(b.grad(), {3}, {5, 7, 9});
  check_values(s.grad(), {}, {21});
}

TEST_CASE("add: incompatible shapes name both shapes") {
  CHECK_THROWS_WITH_AS(add(zeros({2, 3}), zeros({4})),
                       doctest::Contains("add: shapes [2,3] and [4] cannot be broadcast"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(zeros({2, 3}) + zeros({3, 2}), doctest::Contains("[2,3] and [3,2]"),
                       recgrad::Error);
}

TEST_CASE("add: large broadcast operands take the parallel paths and match a scalar loop") {
  Generator gen(3);
  Tensor a = randn({300, 1000}, gen), row = randn({1000}, gen), col = randn({300, 1}, gen);
  Tensor s = scalar(0.5f);
  for (const Tensor& b : {a, row, col, s}) {
    INFO("b ", b.shape());
    Tensor c = add(a, b);
    REQUIRE(c.shape() == Shape{300, 1000});
    int64_t wrong = 0;
    for (int64_t i = 0; i < 300; ++i)
      for (int64_t j = 0; j < 1000; ++j) {
        const float bv = b.numel() == 1               ? b.data()[0]
                         : b.shape() == Shape{1000}   ? b.data()[j]
                         : b.shape() == Shape{300, 1} ? b.data()[i]
                                                      : b.data()[i * 1000 + j];
        wrong += c.data()[i * 1000 + j] != a.data()[i * 1000 + j] + bv;
      }
    CHECK(wrong == 0);
  }
  // And the broadcast gradient sums whole columns.
  Tensor r = zeros({1000}).set_requires_grad();
  add(a, r).backward(ones({300, 1000}));
  CHECK(r.grad().data()[17] == 300.f);
}

TEST_CASE("add: empty tensors broadcast to empty results") {
  CHECK(add(zeros({0, 3}), zeros({3})).shape() == Shape{0, 3});
  CHECK(mul(zeros({2, 0}), zeros({1})).shape() == Shape{2, 0});
}

TEST_CASE("sub: known values with broadcasting, gradients and shape errors") {
  check_values(sub(tensor({5, 6}, {2, 1}), tensor({1, 2, 3}, {3})), {2, 3}, {4, 3, 2, 5, 4, 3});
  gradcheck_shapes([](const Tensor& a, const Tensor& b) { return sub(a, b); }, -1, 1, -1, 1);
  Tensor x = tensor({1, 2}).set_requires_grad();
  sub(x, x).backward(ones({2}));
  check_values(x.grad(), {2}, {0, 0});
  CHECK_THROWS_WITH_AS(sub(zeros({2}), zeros({3})),
                       doctest::Contains("sub: shapes [2] and [3] cannot be broadcast"),
                       recgrad::Error);
}

TEST_CASE("mul: known values with broadcasting, gradients and shape errors") {
  check_values(mul(tensor({1, 2, 3}, {3, 1}), tensor({2, -1}, {1, 2})), {3, 2},
               {2, -1, 4, -2, 6, -3});
  gradcheck_shapes([](const Tensor& a, const Tensor& b) { return mul(a, b); }, -2, 2, -2, 2);
  Tensor x = tensor({1, -2, 3}).set_requires_grad();
  mul(x, x).backward(ones({3}));
  check_values(x.grad(), {3}, {2, -4, 6});
  CHECK_THROWS_WITH_AS(mul(zeros({4, 3}), zeros({4})),
                       doctest::Contains("mul: shapes [4,3] and [4] cannot be broadcast"),
                       recgrad::Error);
}

TEST_CASE("div: known values with broadcasting, gradients and shape errors") {
  check_values(div(tensor({1, 2, 3, 4}, {2, 2}), tensor({2, 4}, {2})), {2, 2},
               {0.5f, 0.5f, 1.5f, 1.f});
  check_values(div(tensor({1, -1, 0}), scalar(0)), {3}, {kInf, -kInf, kNaN});
  gradcheck_shapes([](const Tensor& a, const Tensor& b) { return div(a, b); }, -2, 2, 0.5f, 2);
  gradcheck_shapes([](const Tensor& a, const Tensor& b) { return div(a, b); }, -2, 2, -2, -0.5f);
  CHECK_THROWS_WITH_AS(div(zeros({2, 2}), zeros({2, 3})),
                       doctest::Contains("div: shapes [2,2] and [2,3] cannot be broadcast"),
                       recgrad::Error);
}

TEST_CASE("pow: known values, gradients for positive bases, zero-base conventions") {
  check_values(pow(tensor({2, 3, 4}, {3, 1}), tensor({2, 0.5f}, {2})), {3, 2},
               {4, std::sqrt(2.f), 9, std::sqrt(3.f), 16, 2});
  gradcheck_shapes([](const Tensor& a, const Tensor& b) { return pow(a, b); }, 0.5f, 2, -1.5f,
                   1.5f);
  // At a = 0: the exponent's gradient is 0 (not NaN from 0·ln 0); b = 0 gives the base none.
  Tensor a = tensor({0, 0, 2}).set_requires_grad(), b = tensor({2, 0, 0}).set_requires_grad();
  Tensor y = pow(a, b);
  check_values(y, {3}, {0, 1, 1});
  y.backward(ones({3}));
  check_values(a.grad(), {3}, {0, 0, 0});
  check_values(b.grad(), {3}, {0, 0, std::log(2.f)});
  CHECK_THROWS_WITH_AS(pow(zeros({3}), zeros({2})),
                       doctest::Contains("pow: shapes [3] and [2] cannot be broadcast"),
                       recgrad::Error);
}

TEST_CASE("maximum: known values, gradients, ties to the first operand, NaN propagation") {
  check_values(maximum(tensor({1, 5}, {2, 1}), tensor({3, 4, 6}, {3})), {2, 3}, {3, 4, 6, 5, 5, 6});
  // Broadcast pairs whose operands differ by at least 0.25 everywhere (away from the kink).
  std::vector<Tensor> in{tensor({0, 1, 2}, {3, 1}), tensor({0.25f, 1.5f, -0.5f, 2.75f}, {1, 4})};
  CHECK(gradcheck([](const auto& x) { return maximum(x[0], x[1]); }, in));
  std::vector<Tensor> vs_scalar{tensor({-1, 0.5f, 2, 3}, {2, 2}), scalar(1)};
  CHECK(gradcheck([](const auto& x) { return maximum(x[0], x[1]); }, vs_scalar));
  Tensor a = tensor({1, 2, 3}).set_requires_grad(), b = tensor({1, 0, 4}).set_requires_grad();
  maximum(a, b).backward(ones({3}));
  check_values(a.grad(), {3}, {1, 1, 0});
  check_values(b.grad(), {3}, {0, 0, 1});
  CHECK(std::isnan(maximum(scalar(kNaN), scalar(1)).item()));
  CHECK(std::isnan(maximum(scalar(1), scalar(kNaN)).item()));
  CHECK_THROWS_WITH_AS(maximum(zeros({2}), zeros({5})),
                       doctest::Contains("maximum: shapes [2] and [5] cannot be broadcast"),
                       recgrad::Error);
}

TEST_CASE("minimum: known values, gradients, ties to the first operand, NaN propagation") {
  check_values(minimum(tensor({1, 5}, {2, 1}), tensor({3, 4, 6}, {3})), {2, 3}, {1, 1, 1, 3, 4, 5});
  std::vector<Tensor> in{tensor({0, 1, 2}, {3, 1}), tensor({0.25f, 1.5f, -0.5f, 2.75f}, {1, 4})};
  CHECK(gradcheck([](const auto& x) { return minimum(x[0], x[1]); }, in));
  Tensor a = tensor({1, 2, 3}).set_requires_grad(), b = tensor({1, 0, 4}).set_requires_grad();
  minimum(a, b).backward(ones({3}));
  check_values(a.grad(), {3}, {1, 0, 1});
  check_values(b.grad(), {3}, {0, 1, 0});
  CHECK(std::isnan(minimum(scalar(kNaN), scalar(1)).item()));
  CHECK(std::isnan(minimum(scalar(1), scalar(kNaN)).item()));
  CHECK_THROWS_WITH_AS(minimum(zeros({2, 1}), zeros({3, 4})),
                       doctest::Contains("minimum: shapes [2,1] and [3,4] cannot be broadcast"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// With a float, and operators

TEST_CASE("scalar ops: values on either side of the operator") {
  Tensor x = tensor({1, 2, 4}, {3});
  check_values(x + 1.f, {3}, {2, 3, 5});
  check_values(1.f + x, {3}, {2, 3, 5});
  check_values(x - 1.f, {3}, {0, 1, 3});
  check_values(1.f - x, {3}, {0, -1, -3});
  check_values(x * 3.f, {3}, {3, 6, 12});
  check_values(3.f * x, {3}, {3, 6, 12});
  check_values(x / 4.f, {3}, {0.25f, 0.5f, 1});
  check_values(4.f / x, {3}, {4, 2, 1});
  check_values(-x, {3}, {-1, -2, -4});
  check_values(x * x - x / x, {3}, {0, 3, 15});
  check_values(div(tensor({1}, {1}), 3.f), {1}, {1.f / 3.f}, 0);  // a true division, not x·(1/3)
}

TEST_CASE("scalar ops: gradients match central differences, scalars and size-1 included") {
  Generator gen(11);
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"x+s", [](const Tensor& x) { return x + 1.5f; }},
      {"x-s", [](const Tensor& x) { return x - 1.5f; }},
      {"s-x", [](const Tensor& x) { return 1.5f - x; }},
      {"x*s", [](const Tensor& x) { return x * -2.5f; }},
      {"x/s", [](const Tensor& x) { return x / 4.f; }},
      {"s/x", [](const Tensor& x) { return 3.f / x; }},
      {"-x", [](const Tensor& x) { return -x; }}};
  for (const auto& [name, op] : ops)
    for (Shape s : {Shape{}, Shape{1}, Shape{2, 3}}) {
      INFO(name, " on ", s);
      CHECK(gradcheck([&](const auto& v) { return op(v[0]); }, {uniform(s, 0.5f, 2, gen)}));
    }
}

TEST_CASE("pow: float exponents, shortcuts included, give values and gradients") {
  Generator gen(5);
  Tensor x = tensor({0.25f, 1, 4});
  for (float p : {2.f, 3.f, 0.5f, -0.5f, -1.f, -2.f, 1.5f, 1.f, 0.f, -3.f}) {
    INFO("p=", p);
    Tensor y = pow(x, p);
    for (int64_t i = 0; i < 3; ++i)
      CHECK(y.data()[i] == doctest::Approx(std::pow(x.data()[i], p)).epsilon(1e-6));
    CHECK(gradcheck([p](const auto& v) { return pow(v[0], p); }, {uniform({2, 3}, 0.5f, 2, gen)}));
  }
  check_values(pow(tensor({-2, 3}), 2.f), {2}, {4, 9});
  check_values(square(tensor({-2, 3})), {2}, {4, 9});
  // p = 0: a constant, whose gradient is 0 even at x = 0.
  Tensor z = tensor({0, 2}).set_requires_grad();
  (pow(z, 0.f) + z).backward(ones({2}));
  check_values(z.grad(), {2}, {1, 1});
}

// ---------------------------------------------------------------------------------------------
// Unary

TEST_CASE("unary math: known values") {
  Tensor x = tensor({0.25f, 1, 4});
  check_values(neg(x), {3}, {-0.25f, -1, -4});
  check_values(log(x), {3}, {std::log(0.25f), 0, std::log(4.f)});
  check_values(sqrt(x), {3}, {0.5f, 1, 2});
  check_values(rsqrt(x), {3}, {2, 1, 0.5f});
  check_values(abs(tensor({-1.5f, 0, 2})), {3}, {1.5f, 0, 2});
  check_values(square(x), {3}, {0.0625f, 1, 16});
  check_values(reciprocal(x), {3}, {4, 1, 0.25f});
  CHECK(std::isnan(log(scalar(-1)).item()));
  CHECK(log(scalar(0)).item() == -kInf);
  CHECK(std::isnan(sqrt(scalar(-1)).item()));
}

TEST_CASE("unary math: gradients match central differences on their domains") {
  Generator gen(9);
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"neg", [](const Tensor& x) { return neg(x); }},
      {"log", [](const Tensor& x) { return log(x); }},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }},
      {"rsqrt", [](const Tensor& x) { return rsqrt(x); }},
      {"square", [](const Tensor& x) { return square(x); }},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }}};
  for (const auto& [name, op] : ops)
    for (Shape s : {Shape{}, Shape{1}, Shape{3, 4}, Shape{2, 1, 3}}) {
      INFO(name, " on ", s);
      CHECK(gradcheck([&](const auto& v) { return op(v[0]); }, {uniform(s, 0.5f, 3, gen)}));
    }
  // abs away from its kink at 0, on both signs.
  std::vector<Tensor> in{tensor({-2, -0.5f, 0.5f, 1.5f}, {2, 2})};
  CHECK(gradcheck([](const auto& v) { return abs(v[0]); }, in));
  Tensor z = tensor({0, -1}).set_requires_grad();
  abs(z).backward(ones({2}));
  check_values(z.grad(), {2}, {0, -1});
}

TEST_CASE("clamp: values, gradient 1 strictly inside and 0 elsewhere, NaN, bad bounds") {
  Tensor x = tensor({-3, -1, 0, 1, 3, kNaN}).set_requires_grad();
  Tensor y = clamp(x, -1, 1);
  check_values(y, {6}, {-1, -1, 0, 1, 1, kNaN});
  y.backward(ones({6}));
  check_values(x.grad(), {6}, {0, 0, 1, 0, 0, 0});
  std::vector<Tensor> in{tensor({-2, -0.5f, 0.2f, 0.7f, 1.6f, 3}, {2, 3})};
  CHECK(gradcheck([](const auto& v) { return clamp(v[0], -1, 1); }, in));
  CHECK_THROWS_WITH_AS(clamp(zeros({2, 2}), 1, -1),
                       doctest::Contains("clamp: lower bound 1 is above upper bound -1"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// Selection

TEST_CASE("where: broadcasts condition and both branches") {
  Tensor cond = tensor({1, 0}, {2, 1});
  Tensor c = where(cond, tensor({1, 2, 3}, {3}), scalar(-1));
  check_values(c, {2, 3}, {1, 2, 3, -1, -1, -1});
  check_values(where(tensor({0, 2, kNaN}), tensor({1, 1, 1}), tensor({0, 0, 0})), {3}, {0, 1, 1});
}

TEST_CASE("where: gradients go to the chosen branch and are summed to its shape") {
  Tensor a = zeros({3}).set_requires_grad(), b = zeros({2, 1}).set_requires_grad();
  where(tensor({1, 0, 1, 0, 0, 1}, {2, 3}), a, b).backward(tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  check_values(a.grad(), {3}, {1, 0, 9});
  check_values(b.grad(), {2, 1}, {2, 9});
  Generator gen(4);
  for (auto [sc, sa, sb] : {std::tuple{Shape{2, 3}, Shape{2, 3}, Shape{2, 3}},
                            {Shape{3, 1}, Shape{1, 4}, Shape{}},
                            {Shape{4}, Shape{2, 1}, Shape{1, 4}},
                            {Shape{}, Shape{2}, Shape{2}}}) {
    INFO("cond ", sc, " a ", sa, " b ", sb);
    Tensor cond = uniform(sc, 0, 1, gen);
    for (int64_t i = 0; i < cond.numel(); ++i) cond.data()[i] = cond.data()[i] < 0.5f ? 0.f : 1.f;
    std::vector<Tensor> in{randn(sa, gen), randn(sb, gen)};
    CHECK(gradcheck([&](const auto& x) { return where(cond, x[0], x[1]); }, in));
  }
}

TEST_CASE("where: incompatible shapes name all three") {
  CHECK_THROWS_WITH_AS(where(zeros({2, 1}), zeros({3}), zeros({4})),
                       doctest::Contains("where: shapes [2,1], [3] and [4] cannot be broadcast"),
                       recgrad::Error);
}

TEST_CASE("masked_fill: fills where the broadcast mask is set, with no gradient there") {
  Tensor x = tensor({1, 2, 3, 4, 5, 6}, {2, 3}).set_requires_grad();
  Tensor y = masked_fill(x, tensor({0, 1}, {2, 1}), -1e9f);
  check_values(y, {2, 3}, {1, 2, 3, -1e9f, -1e9f, -1e9f});
  y.backward(tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  check_values(x.grad(), {2, 3}, {1, 2, 3, 0, 0, 0});
  check_values(masked_fill(tensor({1, 2, 3}), tensor({1, 0, 1}), 0), {3}, {0, 2, 0});
  std::vector<Tensor> in{tensor({1, 2, 3, 4, 5, 6}, {2, 3})};
  Tensor mask = tensor({1, 0, 0}, {3});
  CHECK(gradcheck([&](const auto& v) { return masked_fill(v[0], mask, 7); }, in));
}

TEST_CASE("masked_fill: a mask that does not broadcast to the input's shape is rejected") {
  CHECK_THROWS_WITH_AS(masked_fill(zeros({2, 3}), zeros({4}), 0),
                       doctest::Contains("masked_fill: shapes [2,3] and [4] cannot be broadcast"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(masked_fill(zeros({3}), zeros({2, 3}), 0),
                       doctest::Contains("masked_fill: mask [2,3] does not broadcast to the "
                                         "input's shape [3]"),
                       recgrad::Error);
}
