#include "nn/linear.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/gradcheck.h"
#include "tests/nn/param_gradcheck.h"
#include "ops/shape.h"

using namespace recgrad;
using namespace recgrad::nn;

TEST_CASE("Linear: output matches x·Wᵀ + b computed by hand") {
  Generator gen(1);
  Linear layer(5, 3, gen);
  Generator data(2);
  const Tensor x = randn({4, 5}, data);
  const Tensor y = layer.forward(x);
  REQUIRE(y.shape() == Shape{4, 3});
  for (int64_t r = 0; r < 4; ++r)
    for (int64_t o = 0; o < 3; ++o) {
      double acc = layer.bias().data()[o];
      for (int64_t i = 0; i < 5; ++i)
        acc += static_cast<double>(x.at({r, i})) * layer.weight().at({o, i});
      CHECK(y.at({r, o}) == doctest::Approx(acc).epsilon(1e-5));
    }
  // Leading dimensions are carried through: [2, 2, 5] -> [2, 2, 3], the same rows.
  const Tensor y3 = layer.forward(reshape(x, {2, 2, 5}));
  CHECK(y3.shape() == Shape{2, 2, 3});
  CHECK(y3.to_vector() == y.to_vector());
}

TEST_CASE("Linear: without bias it is x·Wᵀ and registers only the weight") {
  Generator gen(3);
  LinearOptions opts;
  opts.bias = false;
  Linear layer(2, 2, gen, opts);
  CHECK_FALSE(layer.bias().defined());
  REQUIRE(layer.named_parameters().size() == 1);
  CHECK(layer.named_parameters()[0].first == "weight");
  CHECK(layer.describe() == "Linear(2 -> 2, no bias)");
  const Tensor x = tensor({1, -2}, {1, 2});
  const Tensor& w = layer.weight();
  const Tensor y = layer.forward(x);
  CHECK(y.at({0, 0}) == doctest::Approx(w.at({0, 0}) - 2 * w.at({0, 1})));
  CHECK(y.at({0, 1}) == doctest::Approx(w.at({1, 0}) - 2 * w.at({1, 1})));
}

TEST_CASE("Linear: PyTorch's default init, U(±1/√in) for weight and bias, deterministic by seed") {
  Generator gen(4);
  Linear layer(400, 300, gen);
  const double bound = 1.0 / std::sqrt(400.0);
  auto check_bounds = [&](const Tensor& t, double min_std) {
    double s2 = 0, lo = 1, hi = -1;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const double v = t.data()[i];
      s2 += v * v;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    CHECK(lo >= -bound);
    CHECK(hi <= bound);
    CHECK(std::sqrt(s2 / t.numel()) > min_std);
  };
  check_bounds(layer.weight(), 0.99 * bound / std::sqrt(3.0));
  check_bounds(layer.bias(), 0.8 * bound / std::sqrt(3.0));
  CHECK(layer.describe() == "Linear(400 -> 300, bias)");
  CHECK(layer.num_parameters() == 400 * 300 + 300);
  Generator again(4);
  Linear twin(400, 300, again);
  CHECK(twin.weight().to_vector() == layer.weight().to_vector());
  CHECK(twin.bias().to_vector() == layer.bias().to_vector());
}

TEST_CASE("Linear: gradients of the input and of weight and bias match central differences") {
  for (bool bias : {true, false}) {
    INFO("bias=", bias);
    Generator gen(5);
    LinearOptions opts;
    opts.bias = bias;
    Linear layer(4, 3, gen, opts);
    const Tensor x = randn({2, 3, 4}, gen);
    CHECK(gradcheck([&](const auto& in) { return layer.forward(in[0]); }, {x}));
    CHECK(testing::gradcheck_parameters(layer, [&] { return layer.forward(x); }));
  }
}

TEST_CASE("Linear: a wrong input width names the layer and both shapes") {
  Generator gen(6);
  Linear layer(4, 5, gen);
  CHECK_THROWS_WITH_AS(layer.forward(zeros({2, 3})),
                       doctest::Contains("Linear(4 -> 5, bias): input [2,3] x weight [5,4]: "
                                         "expected the input's last dimension to be 4"),
                       Error);
  CHECK_THROWS_AS(layer.forward(scalar(1.f)), Error);
  CHECK_THROWS_WITH_AS(Linear(0, 5, gen), doctest::Contains("Linear(0 -> 5)"), Error);
}
