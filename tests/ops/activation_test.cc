#include "ops/activation.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <utility>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"

using namespace recgrad;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double gelu_ref(double x) { return 0.5 * x * std::erfc(-x / std::sqrt(2.0)); }
double gelu_tanh_ref(double x) {
  return x * sigmoid_ref(2.0 * std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x));
}
double softplus_ref(double x) {
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

// Largest relative error of f(x) against ref over n points evenly spread over [lo, hi]; the
// points go through one tensor, so the vectorised blocks and the scalar tail are both used.
double worst_relative_error(const std::function<Tensor(const Tensor&)>& f,
                            const std::function<double(double)>& ref, float lo, float hi,
                            int64_t n = 200003) {
  Tensor x = Tensor::empty({n});
  for (int64_t i = 0; i < n; ++i) x.data()[i] = lo + (hi - lo) * static_cast<float>(i) / (n - 1);
  Tensor y = f(x);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double r = ref(x.data()[i]);
    const double err = r == 0 ? std::abs(y.data()[i]) : std::abs(y.data()[i] - r) / std::abs(r);
    worst = std::max(worst, err);
  }
  return worst;
}

// Inputs at least `gap` away from 0 (the kink of relu-like functions), both signs.
Tensor away_from_zero(const Shape& shape, float gap, Generator& gen) {
  Tensor x = uniform(shape, gap, 2.f, gen);
  for (int64_t i = 0; i < x.numel(); i += 2) x.data()[i] = -x.data()[i];
  return x;
}

const std::vector<Shape> kShapes = {{}, {1}, {3, 4}, {2, 1, 5}};

void gradcheck_smooth(const std::function<Tensor(const Tensor&)>& f, float lo = -3, float hi = 3) {
  Generator gen(21);
  for (const Shape& s : kShapes) {
    INFO("shape ", s);
    CHECK(gradcheck([&](const auto& v) { return f(v[0]); }, {uniform(s, lo, hi, gen)}));
  }
}

}  // namespace

TEST_CASE("sigmoid: known values, saturation without NaN, NaN passthrough") {
  Tensor y = sigmoid(tensor({0, 2, -2, 100, -100, kInf, -kInf, kNaN}));
  CHECK(y.data()[0] == 0.5f);
  CHECK(y.data()[1] == doctest::Approx(sigmoid_ref(2)).epsilon(1e-6));
  CHECK(y.data()[2] == doctest::Approx(sigmoid_ref(-2)).epsilon(1e-6));
  CHECK(y.data()[3] == 1.f);
  CHECK(y.data()[4] == doctest::Approx(sigmoid_ref(-100)).epsilon(1e-2));  // subnormal
  CHECK(y.data()[5] == 1.f);
  CHECK(y.data()[6] == 0.f);
  CHECK(std::isnan(y.data()[7]));
}

TEST_CASE("sigmoid: within a few ulp of the exact value over [-87, 30]") {
  CHECK(worst_relative_error([](const Tensor& x) { return sigmoid(x); }, sigmoid_ref, -87, 30) <
        5e-7);
}

TEST_CASE("sigmoid: gradients match central differences") {
  gradcheck_smooth([](const Tensor& x) { return sigmoid(x); });
  Tensor x = tensor({0}, {1}).set_requires_grad();
  sigmoid(x).backward(ones({1}));
  CHECK(x.grad().item() == 0.25f);
}

TEST_CASE("tanh: known values, saturation, odd symmetry, tiny inputs, NaN") {
  Tensor y = tanh(tensor({0, 1e-20f, -1e-5f, 0.5f, -0.7f, 20, -20, kInf, kNaN}));
  CHECK(y.data()[0] == 0.f);
  CHECK(y.data()[1] == 1e-20f);
  CHECK(y.data()[2] == doctest::Approx(std::tanh(-1e-5)).epsilon(1e-6));
  CHECK(y.data()[3] == doctest::Approx(std::tanh(0.5)).epsilon(1e-6));
  CHECK(y.data()[4] == doctest::Approx(std::tanh(-0.7)).epsilon(1e-6));
  CHECK(y.data()[5] == 1.f);
  CHECK(y.data()[6] == -1.f);
  CHECK(y.data()[7] == 1.f);
  CHECK(std::isnan(y.data()[8]));
}

TEST_CASE("tanh: within a few ulp of the exact value, near 0 included") {
  auto f = [](const Tensor& x) { return tanh(x); };
  auto ref = [](double x) { return std::tanh(x); };
  CHECK(worst_relative_error(f, ref, -10, 10) < 1e-6);
  CHECK(worst_relative_error(f, ref, -1e-3f, 1e-3f) < 1e-6);
}

TEST_CASE("tanh: gradients match central differences") {
  gradcheck_smooth([](const Tensor& x) { return tanh(x); });
}

TEST_CASE("relu: known values, zero gradient at and below 0, NaN passthrough") {
  Tensor x = tensor({-2, 0, 3, kNaN}).set_requires_grad();
  Tensor y = relu(x);
  CHECK(y.data()[0] == 0.f);
  CHECK(y.data()[1] == 0.f);
  CHECK(y.data()[2] == 3.f);
  CHECK(std::isnan(y.data()[3]));
  y.backward(ones({4}));
  CHECK(x.grad().to_vector() == std::vector<float>{0, 0, 1, 0});
}

TEST_CASE("relu: gradients match central differences away from 0") {
  Generator gen(2);
  for (const Shape& s : kShapes)
    CHECK(gradcheck([](const auto& v) { return relu(v[0]); }, {away_from_zero(s, 0.1f, gen)}));
}

TEST_CASE("leaky_relu: known values and gradients for the default and a custom slope") {
  Tensor x = tensor({-2, 0, 3, kNaN}).set_requires_grad();
  Tensor y = leaky_relu(x);
  CHECK(y.data()[0] == doctest::Approx(-0.02f));
  CHECK(y.data()[1] == 0.f);
  CHECK(y.data()[2] == 3.f);
  CHECK(std::isnan(y.data()[3]));
  y.backward(ones({4}));
  CHECK(x.grad().data()[0] == doctest::Approx(0.01f));
  CHECK(x.grad().data()[2] == 1.f);
  Generator gen(3);
  for (const Shape& s : kShapes)
    CHECK(gradcheck([](const auto& v) { return leaky_relu(v[0], 0.2f); },
                    {away_from_zero(s, 0.1f, gen)}));
}

TEST_CASE("gelu: exact form matches x·Φ(x), both tails relatively accurate") {
  Tensor y = gelu(tensor({0, 1, -1, 3, -5, 10, -10}));
  for (int64_t i = 0; i < y.numel(); ++i) {
    const double x = std::vector<double>{0, 1, -1, 3, -5, 10, -10}[i];
    CHECK(y.data()[i] == doctest::Approx(gelu_ref(x)).epsilon(2e-5));
  }
  CHECK(worst_relative_error([](const Tensor& x) { return gelu(x); }, gelu_ref, -10, 10) < 2e-5);
  CHECK(std::isnan(gelu(scalar(kNaN)).item()));
}

TEST_CASE("gelu: tanh approximation matches its formula and differs from the exact form") {
  auto f = [](const Tensor& x) { return gelu(x, GeluOptions{true}); };
  CHECK(worst_relative_error(f, gelu_tanh_ref, -10, 10) < 2e-5);
  const float approx = gelu(scalar(1), GeluOptions{true}).item();
  CHECK(approx == doctest::Approx(0.8411920f).epsilon(1e-6));  // PyTorch's approximate="tanh"
  CHECK(gelu(scalar(1)).item() == doctest::Approx(0.8413447f).epsilon(1e-6));
  CHECK(std::isnan(f(scalar(kNaN)).item()));
}

TEST_CASE("gelu: gradients match central differences for both forms") {
  gradcheck_smooth([](const Tensor& x) { return gelu(x); });
  gradcheck_smooth([](const Tensor& x) { return gelu(x, GeluOptions{true}); });
  gradcheck_smooth([](const Tensor& x) { return gelu(x); }, -8, -4);  // the far tail
}

TEST_CASE("softplus: stable for large |x| and accurate where it is tiny") {
  Tensor y = softplus(tensor({0, 100, -100, 1e30f, -1e30f, kNaN}));
  CHECK(y.data()[0] == doctest::Approx(std::log(2.0)).epsilon(1e-6));
  CHECK(y.data()[1] == 100.f);
  CHECK(y.data()[2] == doctest::Approx(std::exp(-100.0)).epsilon(1e-2));  // not 0: subnormal
  CHECK(y.data()[3] == 1e30f);
  CHECK(y.data()[4] == 0.f);
  CHECK(std::isnan(y.data()[5]));
  CHECK(worst_relative_error([](const Tensor& x) { return softplus(x); }, softplus_ref, -80, 80) <
        1e-6);
}

TEST_CASE("softplus: gradients match central differences") {
  gradcheck_smooth([](const Tensor& x) { return softplus(x); });
  gradcheck_smooth([](const Tensor& x) { return softplus(x); }, -30, 30);
}

TEST_CASE("activations: any shape works, [] and empty included; there is no error path") {
  // Activations accept every tensor, so unlike broadcasting ops they have no input to reject.
  const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }},
      {"tanh", [](const Tensor& x) { return tanh(x); }},
      {"relu", [](const Tensor& x) { return relu(x); }},
      {"leaky_relu", [](const Tensor& x) { return leaky_relu(x); }},
      {"gelu", [](const Tensor& x) { return gelu(x); }},
      {"softplus", [](const Tensor& x) { return softplus(x); }}};
  for (const auto& [name, op] : ops) {
    INFO(name);
    CHECK(op(scalar(0.5f)).shape() == Shape{});
    CHECK(op(zeros({0, 3})).shape() == Shape{0, 3});
    Tensor x = zeros({2, 0}).set_requires_grad();
    op(x).backward(zeros({2, 0}));
  }
}
