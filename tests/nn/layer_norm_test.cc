#include "nn/layer_norm.h"

#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "tests/nn/param_gradcheck.h"

using namespace recgrad;
using namespace recgrad::nn;

TEST_CASE("LayerNorm: without affine every row has zero mean and unit variance") {
  LayerNormOptions opts;
  opts.affine = false;
  LayerNorm ln(32, opts);
  CHECK(ln.named_parameters().empty());
  CHECK(ln.describe() == "LayerNorm(32, eps=1e-05, no affine)");
  Generator gen(1);
  const Tensor x = normal({3, 5, 32}, 4.f, 3.f, gen);
  const Tensor y = ln.forward(x);
  REQUIRE(y.shape() == x.shape());
  for (int64_t r = 0; r < 15; ++r) {
    double s = 0, s2 = 0;
    for (int64_t j = 0; j < 32; ++j) s += y.data()[r * 32 + j];
    const double mean = s / 32;
    for (int64_t j = 0; j < 32; ++j) s2 += std::pow(y.data()[r * 32 + j] - mean, 2);
    CHECK(std::abs(mean) < 1e-5);
    CHECK(s2 / 32 == doctest::Approx(1.0).epsilon(1e-4));  // biased variance, eps negligible
  }
}

TEST_CASE("LayerNorm: affine starts as the identity scale and shift, then applies w and b") {
  LayerNorm ln(4);
  CHECK(ln.describe() == "LayerNorm(4, eps=1e-05, affine)");
  CHECK(ln.named_parameters()[0].first == "weight");
  CHECK(ln.named_parameters()[1].first == "bias");
  LayerNormOptions plain_opts;
  plain_opts.affine = false;
  LayerNorm plain(4, plain_opts);
  const Tensor x = tensor({1, 2, 4, 8, 0, -1, 3, 2}, {2, 4});
  const Tensor base = plain.forward(x);
  CHECK(ln.forward(x).to_vector() == base.to_vector());
  Tensor w = ln.weight(), b = ln.bias();
  for (int j = 0; j < 4; ++j) w.data()[j] = 0.5f * (j + 1), b.data()[j] = -1.f * j;
  const Tensor y = ln.forward(x);
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t j = 0; j < 4; ++j)
      CHECK(y.at({r, j}) == doctest::Approx(base.at({r, j}) * 0.5 * (j + 1) - j).epsilon(1e-6));
}

TEST_CASE("LayerNorm: gradients of the input and of weight and bias match central differences") {
  Generator gen(2);
  LayerNorm ln(6);
  Tensor w = ln.weight(), b = ln.bias();
  const Tensor w0 = normal({6}, 1.f, 0.3f, gen), b0 = randn({6}, gen);
  std::copy(w0.data(), w0.data() + 6, w.data());
  std::copy(b0.data(), b0.data() + 6, b.data());
  const Tensor x = randn({2, 3, 6}, gen);
  CHECK(gradcheck([&](const auto& in) { return ln.forward(in[0]); }, {x}));
  CHECK(testing::gradcheck_parameters(ln, [&] { return ln.forward(x); }));
  LayerNorm one(1);  // D = 1: the output is the bias, the input's gradient zero
  const Tensor x1 = randn({4, 1}, gen);
  CHECK(gradcheck([&](const auto& in) { return one.forward(in[0]); }, {x1}));
  CHECK(testing::gradcheck_parameters(one, [&] { return one.forward(x1); }));
}

TEST_CASE("LayerNorm: a wrong width and bad options are rejected naming the layer") {
  LayerNorm ln(8);
  CHECK_THROWS_WITH_AS(ln.forward(zeros({2, 7})),
                       doctest::Contains("LayerNorm(8, eps=1e-05, affine): input [2,7]: expected "
                                         "the last dimension to be 8"),
                       Error);
  CHECK_THROWS_AS(LayerNorm(0), Error);
  LayerNormOptions opts;
  opts.eps = -1.f;
  CHECK_THROWS_AS(LayerNorm(3, opts), Error);
}
