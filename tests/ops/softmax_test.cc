#include "ops/softmax.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <tuple>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.data()[i])) return false;
  return true;
}

// Σ over `dim` of each slice, in double: [outer, inner] flattened.
std::vector<double> slice_sums(const Tensor& t, int64_t dim) {
  const Shape& s = t.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < dim; ++i) outer *= s[i];
  for (size_t i = dim + 1; i < s.size(); ++i) inner *= s[i];
  std::vector<double> out(outer * inner, 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t r = 0; r < s[dim]; ++r)
      for (int64_t i = 0; i < inner; ++i) out[o * inner + i] += t.data()[(o * s[dim] + r) * inner + i];
  return out;
}

// Shapes and dims the gradchecks sweep: non-last dims take the strided kernels, size-1 dims
// give a constant softmax of 1.
const std::vector<std::tuple<Shape, int64_t>> kCases = {
    {{3, 4}, 0}, {{3, 4}, 1}, {{3, 4}, -1}, {{2, 3, 4}, 0}, {{2, 3, 4}, 1},
    {{2, 3, 4}, 2}, {{2, 1, 3}, 1}, {{1}, 0}, {{5}, 0}};

}  // namespace

// ---------------------------------------------------------------------------------------------
// softmax

TEST_CASE("softmax: known values along the last dim and along dim 0") {
  Tensor y = softmax(tensor({1, 2, 3}), 0);
  CHECK(y.at({0}) == doctest::Approx(0.09003057));
  CHECK(y.at({1}) == doctest::Approx(0.24472847));
  CHECK(y.at({2}) == doctest::Approx(0.66524096));
  Tensor x = tensor({1, 2, 3, 3, 2, 1}, {2, 3});
  Tensor rows = softmax(x, 1);
  CHECK(rows.at({1, 0}) == doctest::Approx(0.66524096));
  Tensor cols = softmax(x, 0);
  CHECK(cols.at({0, 0}) == doctest::Approx(1 / (1 + std::exp(2.0))));
  CHECK(cols.at({0, 1}) == doctest::Approx(0.5));
  CHECK(softmax(tensor({4}, {1}), 0).item() == 1.f);
}

TEST_CASE("softmax: slices sum to 1 for recommender-sized rows and strided dims") {
  Generator gen(1);
  for (auto [shape, dim] : {std::tuple{Shape{256, 3706}, int64_t{1}}, {Shape{3, 40000}, 1},
                            {Shape{5, 7, 3}, 0}, {Shape{5, 7, 3}, 1}, {Shape{4, 300, 600}, 1}}) {
    INFO("shape ", shape, " dim ", dim);
    Tensor y = softmax(normal(shape, 0.f, 4.f, gen), dim);
    REQUIRE(all_finite(y));
    for (double s : slice_sums(y, dim)) REQUIRE(s == doctest::Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("softmax: extreme inputs give no NaN or inf") {
  Tensor y = softmax(tensor({1000, -1000, 0}), 0);
  CHECK(all_finite(y));
  CHECK(y.to_vector() == std::vector<float>{1, 0, 0});
  CHECK(softmax(tensor({1000, 1000}), 0).to_vector() == std::vector<float>{0.5f, 0.5f});
  CHECK(softmax(tensor({-1000, -1000}), 0).to_vector() == std::vector<float>{0.5f, 0.5f});
  Tensor cols = softmax(tensor({1000, -1000, -1000, 1000}, {2, 2}), 0);
  CHECK(cols.to_vector() == std::vector<float>{1, 0, 0, 1});
  // -inf is a masked logit: it gets probability 0.
  CHECK(softmax(tensor({-kInf, 0, 0}), 0).to_vector() == std::vector<float>{0, 0.5f, 0.5f});
  Tensor x = tensor({1000, -1000, 0}).set_requires_grad(true);
  softmax(x, 0).backward(tensor({1, 2, 3}));
  CHECK(all_finite(x.grad()));
}

TEST_CASE("softmax: gradients match central differences on edge shapes and dims") {
  Generator gen(2);
  for (const auto& [shape, dim] : kCases) {
    INFO("shape ", shape, " dim ", dim);
    CHECK(gradcheck([&, dim = dim](const auto& x) { return softmax(x[0], dim); }, {randn(shape, gen)}));
  }
}

TEST_CASE("softmax: one huge row splits across threads and matches the row-parallel path bit for bit") {
  // A lone row of 50K is split into chunks across threads; the same row among 8 rows is
  // processed whole inside one task. The fixed chunking makes them agree exactly, forward and
  // backward, and at any thread count.
  const int restore = num_threads();
  Generator gen(3);
  const int64_t n = 50000;
  Tensor many = randn({8, n}, gen);
  Tensor g = randn({8, n}, gen);
  Tensor one = tensor(std::vector<float>(many.data(), many.data() + n), {1, n});
  Tensor g1 = tensor(std::vector<float>(g.data(), g.data() + n), {1, n});
  std::vector<std::vector<float>> fwd, bwd;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (bool log : {false, true}) {
      for (const auto& [x, gx] : {std::pair{many, g}, {one, g1}}) {
        Tensor leaf = x.clone().set_requires_grad(true);
        Tensor y = log ? log_softmax(leaf, 1) : softmax(leaf, 1);
        y.backward(gx);
        fwd.emplace_back(y.data(), y.data() + n);
        bwd.emplace_back(leaf.grad().data(), leaf.grad().data() + n);
      }
    }
  }
  set_num_threads(restore);
  for (size_t i = 0; i < fwd.size(); ++i) {
    INFO("run ", i);
    CHECK(fwd[i] == fwd[i % 4 < 2 ? 0 : 2]);
    CHECK(bwd[i] == bwd[i % 4 < 2 ? 0 : 2]);
  }
}

TEST_CASE("softmax: a dim out of range names the dim and the shape") {
  CHECK_THROWS_WITH_AS(softmax(zeros({3, 4}), 2),
                       doctest::Contains("softmax: dimension 2 is out of range for a tensor of shape [3,4]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(softmax(zeros({3, 4}), -3), doctest::Contains("dimension -3"), recgrad::Error);
  CHECK_THROWS_AS(softmax(scalar(1.f), 0), recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// log_softmax

TEST_CASE("log_softmax: equals the log of softmax along every dim") {
  Generator gen(4);
  Tensor x = randn({2, 3, 4}, gen);
  for (int64_t dim : {0, 1, 2}) {
    INFO("dim ", dim);
    Tensor ls = log_softmax(x, dim), s = softmax(x, dim);
    for (int64_t i = 0; i < x.numel(); ++i)
      REQUIRE(ls.data()[i] == doctest::Approx(std::log(s.data()[i])).epsilon(1e-5));
  }
  Tensor y = log_softmax(tensor({1, 2, 3}), 0);
  CHECK(y.at({2}) == doctest::Approx(-0.40760596));
}

TEST_CASE("log_softmax: extreme inputs stay finite and exact") {
  Tensor y = log_softmax(tensor({1000, -1000}), 0);
  CHECK(y.to_vector() == std::vector<float>{0, -2000});
  Tensor c = log_softmax(tensor({1000, 0, -1000, 0}, {2, 2}), 0);
  CHECK(c.to_vector() == std::vector<float>{0, -std::log(2.f), -2000, -std::log(2.f)});
  Tensor x = tensor({1000, -1000, 3}).set_requires_grad(true);
  log_softmax(x, 0).backward(tensor({1, 2, 3}));
  CHECK(all_finite(x.grad()));
  // dx = g - softmax · Σg = [1 - 6, 2 - 0, 3 - 0]
  CHECK(x.grad().to_vector() == std::vector<float>{-5, 2, 3});
}

TEST_CASE("log_softmax: gradients match central differences on edge shapes and dims") {
  Generator gen(5);
  for (const auto& [shape, dim] : kCases) {
    INFO("shape ", shape, " dim ", dim);
    CHECK(gradcheck([&, dim = dim](const auto& x) { return log_softmax(x[0], dim); }, {randn(shape, gen)}));
  }
}

TEST_CASE("log_softmax: a dim out of range names the dim and the shape") {
  CHECK_THROWS_WITH_AS(log_softmax(zeros({2, 3, 4}), 3),
                       doctest::Contains("log_softmax: dimension 3 is out of range for a tensor of shape [2,3,4]"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// logsumexp

TEST_CASE("logsumexp: known values, keepdim shapes and negative dims") {
  CHECK(logsumexp(tensor({1, 2, 3}), 0).item() == doctest::Approx(3.40760596));
  CHECK(logsumexp(tensor({1, 2, 3}), 0).shape() == Shape{});
  Tensor x = tensor({1, 2, 3, 0, 0, 0}, {2, 3});
  Tensor rows = logsumexp(x, -1);
  CHECK(rows.shape() == Shape{2});
  CHECK(rows.at({1}) == doctest::Approx(std::log(3.0)));
  Tensor cols = logsumexp(x, 0, true);
  CHECK(cols.shape() == Shape{1, 3});
  CHECK(cols.at({0, 2}) == doctest::Approx(std::log(1 + std::exp(3.0))));
  Generator gen(6);
  Tensor z = randn({4, 5, 6}, gen);
  Tensor l = logsumexp(z, 1);
  for (int64_t o = 0; o < 4; ++o)
    for (int64_t i = 0; i < 6; ++i) {
      double s = 0;
      for (int64_t r = 0; r < 5; ++r) s += std::exp(static_cast<double>(z.at({o, r, i})));
      REQUIRE(l.at({o, i}) == doctest::Approx(std::log(s)).epsilon(1e-6));
    }
}

TEST_CASE("logsumexp: extreme inputs do not overflow") {
  CHECK(logsumexp(tensor({1000, 1000}), 0).item() == doctest::Approx(1000 + std::log(2.0)));
  CHECK(logsumexp(tensor({-1000, -1000}), 0).item() == doctest::Approx(-1000 + std::log(2.0)));
  CHECK(logsumexp(tensor({-kInf, -kInf}), 0).item() == -kInf);
  CHECK(logsumexp(tensor({-kInf, 0}), 0).item() == 0.f);
  Tensor big = full({3, 20000}, 500.f);
  for (float v : logsumexp(big, 1).to_vector()) CHECK(v == doctest::Approx(500 + std::log(20000.0)));
}

TEST_CASE("logsumexp: gradients match central differences on edge shapes and dims") {
  Generator gen(7);
  for (const auto& [shape, dim] : kCases)
    for (bool keepdim : {false, true}) {
      INFO("shape ", shape, " dim ", dim, " keepdim ", keepdim);
      CHECK(gradcheck([&, dim = dim](const auto& x) { return logsumexp(x[0], dim, keepdim); },
                      {randn(shape, gen)}));
    }
}

TEST_CASE("logsumexp: a dim out of range names the dim and the shape") {
  CHECK_THROWS_WITH_AS(logsumexp(zeros({5}), 1),
                       doctest::Contains("logsumexp: dimension 1 is out of range for a tensor of shape [5]"),
                       recgrad::Error);
}
