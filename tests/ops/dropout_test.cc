#include "ops/dropout.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// Which elements survived, read off an output whose input had no zeros.
std::vector<bool> kept_mask(const Tensor& y) {
  std::vector<bool> m(y.numel());
  for (int64_t i = 0; i < y.numel(); ++i) m[i] = y.data()[i] != 0.f;
  return m;
}

}  // namespace

TEST_CASE("dropout: keeps a fraction near 1-p and scales kept values by 1/(1-p)") {
  const int64_t n = 100000;
  Generator data_gen(1);
  Tensor x = uniform({n}, 0.5f, 1.5f, data_gen);  // no zeros, so a zero output means dropped
  for (float p : {0.1f, 0.5f, 0.9f}) {
    INFO("p=", p);
    Generator gen(2);
    Tensor y = dropout(x, p, /*training=*/true, gen);
    REQUIRE(y.shape() == x.shape());
    const float scale = 1.f / (1.f - p);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (y.data()[i] == 0.f) continue;
      ++kept;
      REQUIRE(y.data()[i] == x.data()[i] * scale);
    }
    // Binomial(n, 1-p) has standard deviation at most 0.0016·n here; allow about 6 of them.
    CHECK(std::abs(static_cast<double>(kept) / n - (1.0 - p)) < 0.01);
  }
}

TEST_CASE("dropout: the same seed gives the same mask, other seeds and later draws differ") {
  Tensor x = ones({50000});
  Generator a(7), b(7), c(8);
  const std::vector<bool> ma = kept_mask(dropout(x, 0.5f, true, a));
  CHECK(ma == kept_mask(dropout(x, 0.5f, true, b)));
  const std::vector<bool> mc = kept_mask(dropout(x, 0.5f, true, c));
  const std::vector<bool> ma2 = kept_mask(dropout(x, 0.5f, true, a));  // next key from a
  int64_t differ_seed = 0, differ_draw = 0;
  for (size_t i = 0; i < ma.size(); ++i) {
    differ_seed += ma[i] != mc[i];
    differ_draw += ma[i] != ma2[i];
  }
  // Independent masks at p = 0.5 disagree on about half the elements.
  CHECK(differ_seed > 20000);
  CHECK(differ_draw > 20000);
}

TEST_CASE("dropout: eval mode and p = 0 return the input itself and draw nothing") {
  Generator gen(3);
  Tensor x = randn({4, 5}, gen).set_requires_grad();
  const uint64_t state = gen.state();
  Tensor eval = dropout(x, 0.5f, /*training=*/false, gen);
  Tensor p0 = dropout(x, 0.f, /*training=*/true, gen);
  CHECK(eval.impl() == x.impl());
  CHECK(p0.impl() == x.impl());
  CHECK(gen.state() == state);
}

TEST_CASE("dropout: the gradient is the upstream gradient times mask/(1-p)") {
  Generator gen(4);
  Tensor x = uniform({3, 1000}, 0.5f, 1.5f, gen).set_requires_grad();
  const float p = 0.3f, scale = 1.f / (1.f - p);
  Tensor y = dropout(x, p, true, gen);
  CHECK(y.grad_fn_name() == "dropout");
  Tensor g = randn({3, 1000}, gen);
  y.backward(g);
  const std::vector<bool> m = kept_mask(y);
  for (int64_t i = 0; i < x.numel(); ++i)
    REQUIRE(x.grad().data()[i] == (m[i] ? g.data()[i] * scale : 0.f));
}

TEST_CASE("dropout: gradients match central differences with a fixed seed") {
  for (Shape s : {Shape{1}, Shape{4, 7}, Shape{2, 1, 3}}) {
    INFO("shape=", s);
    Generator gen(5);
    std::vector<Tensor> in{randn(s, gen)};
    CHECK(gradcheck(
        [](const auto& x) {
          Generator g(99);  // the same mask on every evaluation
          return dropout(x[0], 0.4f, true, g);
        },
        in));
  }
}

TEST_CASE("dropout: masks and gradients are identical at 1 and 2 threads") {
  Generator data_gen(6);
  Tensor x = randn({200000}, data_gen);
  Tensor g = randn({200000}, data_gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> outs, grads;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Generator gen(21);
    Tensor xi = x.clone().set_requires_grad();
    Tensor y = dropout(xi, 0.25f, true, gen);
    y.backward(g);
    outs.push_back(y.to_vector());
    grads.push_back(xi.grad().to_vector());
  }
  set_num_threads(restore);
  CHECK(outs[0] == outs[1]);
  CHECK(grads[0] == grads[1]);
}

TEST_CASE("dropout: p outside [0, 1) is rejected, naming p and the shape") {
  Generator gen(7);
  CHECK_THROWS_WITH_AS(dropout(zeros({2, 3}), 1.f, true, gen),
                       doctest::Contains("dropout: p = 1 for input [2,3]: p must lie in [0, 1)"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(dropout(zeros({2}), -0.1f, false, gen), doctest::Contains("p = -0.1"),
                       recgrad::Error);
  CHECK_THROWS_AS(dropout(zeros({2}), std::numeric_limits<float>::quiet_NaN(), true, gen),
                  recgrad::Error);
}
