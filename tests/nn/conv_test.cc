#include "nn/conv.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

using namespace recgrad;
using namespace recgrad::nn;

namespace {

std::vector<std::string> names(const Module& m) {
  std::vector<std::string> out;
  for (const auto& [name, t] : m.named_parameters()) out.push_back(name);
  return out;
}

// Checks the module's own parameter gradients: L = Σ forward()·R, backward once, then compare
// each parameter coordinate's .grad() with (L(p+eps) - L(p-eps)) / 2eps, perturbing the
// module's parameter in place (L in double).
void check_parameter_grads(Module& m, const std::function<Tensor()>& forward, Generator& gen) {
  const Tensor y0 = forward();
  const Tensor r = randn(y0.shape(), gen);
  auto loss = [&] {
    NoGradGuard no_grad;
    const Tensor y = forward();
    double s = 0;
    for (int64_t i = 0; i < y.numel(); ++i) s += static_cast<double>(y.data()[i]) * r.data()[i];
    return s;
  };
  m.zero_grad();
  forward().backward(r);
  const float eps = 5e-3f;
  for (auto& [name, p] : m.named_parameters()) {
    const Tensor g = p.grad();
    REQUIRE_MESSAGE(g.defined(), name, " received no gradient");
    for (int64_t i = 0; i < p.numel(); ++i) {
      float* v = p.data() + i;
      const float saved = *v;
      *v = saved + eps;
      const double up = loss();
      *v = saved - eps;
      const double down = loss();
      *v = saved;
      const double numeric = (up - down) / (2.0 * eps);
      CHECK_MESSAGE(std::abs(g.data()[i] - numeric) <= 1e-2 + 1e-2 * std::abs(numeric), name,
                    "[", i, "]: analytic ", g.data()[i], " numeric ", numeric);
    }
  }
}

}  // namespace

TEST_CASE("Conv1d: output shape, named parameters and PyTorch's default initialisation") {
  Generator gen(1);
  Conv1d conv(3, 4, 5, gen, {/*stride=*/2, /*padding=*/1});
  CHECK(names(conv) == std::vector<std::string>{"weight", "bias"});
  CHECK(conv.weight().shape() == Shape{4, 3, 5});
  CHECK(conv.bias().shape() == Shape{4});
  CHECK(conv.num_parameters() == 4 * 3 * 5 + 4);
  CHECK(conv.weight().requires_grad());
  // floor((10 + 2 - 4 - 1) / 2) + 1 = 4.
  CHECK(conv.forward(zeros({2, 3, 10})).shape() == Shape{2, 4, 4});
  // U(-b, b), b = 1/sqrt(in·kernel), for weight and bias; the extremes come near b.
  const float b = 1.f / std::sqrt(15.f);
  float w_max = 0, b_max = 0;
  for (float v : conv.weight().to_vector()) w_max = std::max(w_max, std::abs(v));
  for (float v : conv.bias().to_vector()) b_max = std::max(b_max, std::abs(v));
  CHECK(w_max <= b);
  CHECK(w_max > 0.8f * b);
  CHECK(b_max <= b);
  CHECK(b_max > 0.f);
}

TEST_CASE("Conv1d: without bias registers only the weight; same seed, same weights") {
  Generator g1(7), g2(7);
  Conv1d a(2, 3, 3, g1, {1, 0, 1, /*bias=*/false}), b(2, 3, 3, g2, {1, 0, 1, false});
  CHECK(names(a) == std::vector<std::string>{"weight"});
  CHECK_FALSE(a.bias().defined());
  CHECK(a.weight().to_vector() == b.weight().to_vector());
}

TEST_CASE("Conv1d: forward is conv1d with the module's parameters and options") {
  Generator gen(2);
  Conv1d conv(3, 2, 3, gen, {1, 2, /*dilation=*/2});
  Tensor x = randn({2, 3, 8}, gen);
  CHECK(conv.forward(x).to_vector() ==
        conv1d(x, conv.weight(), conv.bias(), 1, 2, 2).to_vector());
}

TEST_CASE("Conv1d: gradients of the input and of weight and bias match central differences") {
  Generator gen(3);
  Conv1d conv(2, 3, 3, gen, {2, 1, 1});
  Tensor x = randn({2, 2, 7}, gen);
  CHECK(gradcheck([&](const auto& v) { return conv.forward(v[0]); }, {x}));
  check_parameter_grads(conv, [&] { return conv.forward(x); }, gen);
}

TEST_CASE("Conv2d: Caser's horizontal and vertical filters over an L x d sequence image") {
  Generator gen(4);
  const int64_t L = 5, d = 8;
  Conv2d horizontal(1, 4, {3, d}, gen), vertical(1, 2, {L, 1}, gen, {1, 0, 1, false});
  Tensor image = randn({2, 1, L, d}, gen);
  CHECK(horizontal.forward(image).shape() == Shape{2, 4, L - 3 + 1, 1});
  CHECK(vertical.forward(image).shape() == Shape{2, 2, 1, d});
  CHECK(names(horizontal) == std::vector<std::string>{"weight", "bias"});
  CHECK(horizontal.weight().shape() == Shape{4, 1, 3, d});
  CHECK(names(vertical) == std::vector<std::string>{"weight"});
  // Max over time after the horizontal filters: one value per filter.
  CHECK(max(squeeze(horizontal.forward(image), 3), 2).shape() == Shape{2, 4});
  for (float v : horizontal.weight().to_vector()) CHECK(std::abs(v) <= 1.f / std::sqrt(3.f * d));
}

TEST_CASE("Conv2d: gradients of the input and of weight and bias match central differences") {
  Generator gen(5);
  Conv2d conv(2, 2, {3, 2}, gen, {{2, 1}, {1, 0}, {1, 2}});
  Tensor x = randn({2, 2, 6, 5}, gen);
  CHECK(conv.forward(x).shape() == Shape{2, 2, 3, 3});
  CHECK(gradcheck([&](const auto& v) { return conv.forward(v[0]); }, {x}));
  check_parameter_grads(conv, [&] { return conv.forward(x); }, gen);
}

TEST_CASE("Conv1d and Conv2d: describe() states sizes, non-default options and bias") {
  Generator gen(6);
  CHECK(Conv1d(16, 32, 3, gen).describe() == "Conv1d(16 -> 32, kernel=3, bias)");
  CHECK(Conv1d(16, 32, 3, gen, {2, 1, 2, false}).describe() ==
        "Conv1d(16 -> 32, kernel=3, stride=2, padding=1, dilation=2, no bias)");
  CHECK(Conv2d(1, 16, {3, 50}, gen).describe() == "Conv2d(1 -> 16, kernel=(3,50), bias)");
  CHECK(Conv2d(4, 8, 3, gen, {{2, 1}, 1}).describe() ==
        "Conv2d(4 -> 8, kernel=(3,3), stride=(2,1), padding=(1,1), bias)");
}

TEST_CASE("Conv1d and Conv2d: bad options and inputs are rejected naming the layer") {
  Generator gen(7);
  CHECK_THROWS_WITH_AS(Conv1d(0, 4, 3, gen), doctest::Contains("Conv1d(0 -> 4, kernel=3, bias)"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(Conv1d(2, 4, 3, gen, {0}), doctest::Contains("stride and dilation"),
                       recgrad::Error);
  CHECK_THROWS_AS(Conv2d(2, 4, {3, 0}, gen), recgrad::Error);
  CHECK_THROWS_AS(Conv2d(2, 4, 3, gen, {1, {0, -1}}), recgrad::Error);
  Conv1d conv(3, 4, 3, gen);
  CHECK_THROWS_WITH_AS(conv.forward(zeros({2, 5, 10})),
                       doctest::Contains("Conv1d(3 -> 4, kernel=3, bias): x [2,5,10] must be "
                                         "[B,3,L]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(conv.forward(zeros({2, 3, 2})),
                       doctest::Contains("Conv1d(3 -> 4, kernel=3, bias): conv1d: x [2,3,2]"),
                       recgrad::Error);
  Conv2d conv2(1, 2, {3, 8}, gen);
  CHECK_THROWS_WITH_AS(conv2.forward(zeros({2, 1, 5})), doctest::Contains("must be [B,1,H,W]"),
                       recgrad::Error);
}
