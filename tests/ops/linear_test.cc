#include "ops/linear.h"

#include <doctest/doctest.h>

#include <tuple>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// y[r, o] = Σ_i x[r, i]·W[o, i] + b[o], by loops in double.
std::vector<double> reference(const Tensor& x, const Tensor& w, const Tensor& b) {
  const int64_t out = w.size(0), in = w.size(1), rows = x.numel() / in;
  std::vector<double> y(rows * out);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b.defined() ? b.data()[o] : 0.0;
      for (int64_t i = 0; i < in; ++i)
        acc += static_cast<double>(x.data()[r * in + i]) * w.data()[o * in + i];
      y[r * out + o] = acc;
    }
  return y;
}

}  // namespace

TEST_CASE("linear: matches x·Wᵀ + b by hand, with and without bias, on 1-D to 3-D inputs") {
  // A tiny case written out: x = [1, 2], W = [[1, 0], [0, 1], [1, 1]], b = [0.5, -1, 2].
  const Tensor y = linear(tensor({1, 2}, {1, 2}), tensor({1, 0, 0, 1, 1, 1}, {3, 2}),
                          tensor({0.5f, -1, 2}));
  CHECK(y.shape() == Shape{1, 3});
  CHECK(y.to_vector() == std::vector<float>{1.5f, 1.f, 5.f});

  Generator gen(1);
  for (const Shape& xs : {Shape{5}, Shape{4, 5}, Shape{2, 3, 5}, Shape{70, 5}}) {
    INFO("x ", xs);
    const Tensor x = randn(xs, gen), w = randn({6, 5}, gen), b = randn({6}, gen);
    for (bool with_bias : {true, false}) {
      const Tensor out = linear(x, w, with_bias ? b : Tensor());
      Shape want = xs;
      want.back() = 6;
      REQUIRE(out.shape() == want);
      const auto ref = reference(x, w, with_bias ? b : Tensor());
      for (size_t i = 0; i < ref.size(); ++i)
        CHECK(out.data()[i] == doctest::Approx(ref[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("linear: gradients of x, W and b match central differences on edge shapes") {
  for (auto [rows, in, out] : {std::tuple{1, 1, 1}, {3, 5, 2}, {8, 1, 4}, {2, 7, 1}}) {
    INFO("rows=", rows, " in=", in, " out=", out);
    Generator gen(42);
    const Tensor x = randn({rows, in}, gen), w = randn({out, in}, gen), b = randn({out}, gen);
    CHECK(gradcheck([](const auto& t) { return linear(t[0], t[1], t[2]); }, {x, w, b}));
    CHECK(gradcheck([](const auto& t) { return linear(t[0], t[1], Tensor()); }, {x, w}));
  }
  Generator gen(43);
  const Tensor x3 = randn({2, 3, 4}, gen), w = randn({5, 4}, gen), b = randn({5}, gen);
  CHECK(gradcheck([](const auto& t) { return linear(t[0], t[1], t[2]); }, {x3, w, b}));
}

TEST_CASE("linear: the bias gradient sums every row, bit-identically at 1 and 2 threads") {
  Generator gen(2);
  const Tensor x = randn({20000, 16}, gen), w = randn({24, 16}, gen), g = randn({20000, 24}, gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> db;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor b = zeros({24}).set_requires_grad();
    linear(x, w, b).backward(g);
    db.push_back(b.grad().to_vector());
  }
  set_num_threads(restore);
  CHECK(db[0] == db[1]);
  for (int64_t o = 0; o < 24; ++o) {
    double s = 0;
    for (int64_t r = 0; r < 20000; ++r) s += g.at({r, o});
    CHECK(db[0][o] == doctest::Approx(s).epsilon(1e-4));
  }
}

TEST_CASE("linear: a wrong input width or bias names both shapes") {
  CHECK_THROWS_WITH_AS(
      linear(zeros({4, 3}), zeros({5, 4}), Tensor()),
      doctest::Contains("linear: input [4,3] x weight [5,4]: the input's last dimension 3 differs "
                        "from in_features 4"),
      Error);
  CHECK_THROWS_WITH_AS(linear(zeros({4, 4}), zeros({5, 4}), zeros({4})),
                       doctest::Contains("bias [4] does not match weight [5,4]: expected [5]"),
                       Error);
  CHECK_THROWS_WITH_AS(linear(zeros({4, 4}), zeros({20}), Tensor()),
                       doctest::Contains("weight [20] must be 2-D"), Error);
}
