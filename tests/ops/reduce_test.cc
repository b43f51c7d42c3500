#include "ops/reduce.h"

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

// 0, 1, ..., numel-1 laid out in `shape`.
Tensor iota(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(shape.numel()));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i);
  return tensor(v, shape);
}

// Distinct values in a scrambled order, at least 0.1 apart: argmax never flips under a
// gradcheck's ±eps, and the extremum is not always at the first or last position.
Tensor distinct(const Shape& shape) {
  const int64_t n = shape.numel();
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 0.1f * static_cast<float>((i * 7 + 3) % n) - 0.3f;
  return tensor(v, shape);
}

// Textbook reductions in double by walking every multi-index: the reference for the kernels.
// kind: 0 = sum, 1 = mean, 2 = var (biased unless `unbiased`), 3 = max, 4 = min.
Tensor naive_reduce(const Tensor& x, std::vector<int64_t> dims, int kind, bool unbiased = false) {
  const Shape& s = x.shape();
  std::vector<bool> red(s.size(), false);
  for (int64_t d : dims) red[d < 0 ? d + static_cast<int64_t>(s.size()) : d] = true;
  Shape kept = s;
  int64_t count = 1;
  for (size_t d = 0; d < s.size(); ++d)
    if (red[d]) {
      count *= s[d];
      kept[d] = 1;
    }
  auto out_index = [&](int64_t flat) {
    int64_t o = 0, mult = 1;
    for (size_t d = s.size(); d-- > 0;) {
      const int64_t idx = flat % s[d];
      flat /= s[d];
      if (!red[d]) o += idx * mult;
      mult *= kept[d];
    }
    return o;
  };
  const int64_t m = kept.numel();
  std::vector<double> acc(m, 0.0), mu(m, 0.0);
  if (kind >= 3) acc.assign(m, kind == 3 ? -1e300 : 1e300);
  for (int64_t i = 0; i < x.numel(); ++i) {
    const double v = x.data()[i];
    double& a = acc[out_index(i)];
    if (kind == 3) a = std::max(a, v);
    else if (kind == 4) a = std::min(a, v);
    else a += v;
  }
  if (kind == 2) {
    for (int64_t j = 0; j < m; ++j) mu[j] = acc[j] / count;
    acc.assign(m, 0.0);
    for (int64_t i = 0; i < x.numel(); ++i) {
      const int64_t j = out_index(i);
      acc[j] += (x.data()[i] - mu[j]) * (x.data()[i] - mu[j]);
    }
  }
  std::vector<float> out(m);
  for (int64_t j = 0; j < m; ++j)
    out[j] = static_cast<float>(kind == 1 ? acc[j] / count
                                : kind == 2 ? acc[j] / (count - (unbiased ? 1 : 0))
                                            : acc[j]);
  return tensor(out, kept);
}

void check_close(const Tensor& got, const Tensor& want, float tol = 1e-5f) {
  REQUIRE(got.numel() == want.numel());
  for (int64_t i = 0; i < got.numel(); ++i)
    REQUIRE_MESSAGE(std::abs(got.data()[i] - want.data()[i]) <= tol * (1 + std::abs(want.data()[i])),
                    "element ", i, ": ", got.data()[i], " vs ", want.data()[i]);
}

// The dim lists the gradchecks sweep, per shape.
const std::vector<std::pair<Shape, std::vector<std::vector<int64_t>>>> kCases = {
    {{3, 4}, {{0}, {1}, {0, 1}, {-1}}},
    {{2, 3, 4}, {{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1, 2}, {-3, -1}}},
    {{2, 1, 3}, {{1}, {0, 1}, {2}, {0, 2}}},
    {{1}, {{0}}},
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// sum

TEST_CASE("sum: over every element gives a scalar of the known total") {
  Tensor s = sum(tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  CHECK(s.shape() == Shape{});
  CHECK(s.item() == 21.f);
  CHECK(sum(scalar(2.5f)).item() == 2.5f);
  CHECK(sum(zeros({0, 3})).item() == 0.f);
}

TEST_CASE("sum: over dims of a [2,3,4] iota gives the hand-computed values") {
  Tensor x = iota({2, 3, 4});
  // Σ_{i,k} (12i + 4j + k) = 48 + 32j + 12
  Tensor s02 = sum(x, {0, 2});
  CHECK(s02.shape() == Shape{3});
  CHECK(s02.to_vector() == std::vector<float>{60, 92, 124});
  Tensor s0 = sum(x, {0});
  CHECK(s0.shape() == Shape{3, 4});
  CHECK(s0.at({1, 2}) == 6.f + 18.f);
  Tensor s1 = sum(x, {1});
  CHECK(s1.shape() == Shape{2, 4});
  CHECK(s1.at({1, 3}) == 15.f + 19.f + 23.f);
  Tensor s2 = sum(x, {2});
  CHECK(s2.to_vector() == std::vector<float>{6, 22, 38, 54, 70, 86});
  CHECK(sum(x, {0, 1, 2}).item() == 276.f);
}

TEST_CASE("sum: keepdim keeps size-1 dims and negative dims count from the end") {
  Tensor x = iota({2, 3, 4});
  CHECK(sum(x, {0, 2}, true).shape() == Shape{1, 3, 1});
  CHECK(sum(x, {1}, true).shape() == Shape{2, 1, 4});
  CHECK(sum(x, {-1}).to_vector() == sum(x, {2}).to_vector());
  CHECK(sum(x, {-3, -1}).to_vector() == sum(x, {0, 2}).to_vector());
  CHECK(sum(x, {2, 0}).to_vector() == sum(x, {0, 2}).to_vector());
  CHECK(sum(x, {0, 1, 2}).shape() == Shape{});
  CHECK(sum(x, {0, 1, 2}, true).shape() == Shape{1, 1, 1});
  // Reducing size-1 dims only drops them.
  Tensor y = iota({2, 1, 3});
  CHECK(sum(y, {1}).shape() == Shape{2, 3});
  CHECK(sum(y, {1}).to_vector() == y.to_vector());
  CHECK(!sum(y, {1}).shares_storage_with(y));
}

TEST_CASE("sum: matches a double-precision reference on shapes big enough to run in parallel") {
  Generator gen(7);
  Tensor x = randn({37, 129, 33}, gen);
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0}, {1}, {2}, {0, 2}, {1, 2}, {0, 1}}) {
    INFO("dims ", Shape(dims));
    check_close(sum(x, dims, true), naive_reduce(x, dims, 0), 1e-4f);
  }
  CHECK(sum(x).item() == doctest::Approx(naive_reduce(x, {0, 1, 2}, 0).item()).epsilon(1e-6));
}

TEST_CASE("sum: gradients match central differences over dims, keepdim and size-1 shapes") {
  Generator gen(11);
  for (const auto& [shape, dim_lists] : kCases)
    for (const auto& dims : dim_lists)
      for (bool keepdim : {false, true}) {
        INFO("shape ", shape, " dims ", Shape(dims), " keepdim ", keepdim);
        CHECK(gradcheck([&](const auto& x) { return sum(x[0], dims, keepdim); }, {randn(shape, gen)}));
      }
  for (Shape shape : {Shape{3, 4}, Shape{1}, Shape{}}) {
    INFO("shape ", shape);
    CHECK(gradcheck([](const auto& x) { return sum(x[0]); }, {randn(shape, gen)}));
  }
}

TEST_CASE("sum: the gradient is the output gradient broadcast over the reduced dims") {
  Tensor x = iota({2, 3}).set_requires_grad(true);
  sum(x, {0}).backward(tensor({1, 2, 3}));
  CHECK(x.grad().to_vector() == std::vector<float>{1, 2, 3, 1, 2, 3});
  x.zero_grad();
  sum(x, {1}, true).backward(tensor({5, 7}, {2, 1}));
  CHECK(x.grad().to_vector() == std::vector<float>{5, 5, 5, 7, 7, 7});
}

TEST_CASE("sum: over 10M elements is bit-identical at 1 and 2 threads, and accurate") {
  const int restore = num_threads();
  Generator gen(3);
  Tensor x = uniform({10'000'000}, 0.f, 1.f, gen);
  set_num_threads(1);
  const float one = sum(x).item();
  set_num_threads(2);
  const float two = sum(x).item();
  set_num_threads(restore);
  CHECK(one == two);
  double ref = 0;
  for (int64_t i = 0; i < x.numel(); ++i) ref += x.data()[i];
  CHECK(one == doctest::Approx(ref).epsilon(1e-6));
}

TEST_CASE("sum: bad dims name the op, the dim and the shape") {
  Tensor x = zeros({2, 3, 4});
  CHECK_THROWS_WITH_AS(sum(x, {3}), doctest::Contains("sum: dimension 3 is out of range for a tensor of shape [2,3,4]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(sum(x, {-4}), doctest::Contains("dimension -4 is out of range"), recgrad::Error);
  CHECK_THROWS_WITH_AS(sum(x, {1, -2}),
                       doctest::Contains("sum: dimension 1 appears more than once in dims [1,-2]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(sum(x, {}), doctest::Contains("sum: empty list of dims"), recgrad::Error);
  CHECK_THROWS_WITH_AS(sum(scalar(1.f), {0}), doctest::Contains("shape []"), recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// mean

TEST_CASE("mean: known values over every element and over dims") {
  Tensor x = iota({2, 3, 4});
  CHECK(mean(x).shape() == Shape{});
  CHECK(mean(x).item() == doctest::Approx(11.5));
  Tensor m02 = mean(x, {0, 2});
  CHECK(m02.shape() == Shape{3});
  CHECK(m02.to_vector() == std::vector<float>{7.5f, 11.5f, 15.5f});
  CHECK(mean(x, {-1}, true).shape() == Shape{2, 3, 1});
  CHECK(mean(x, {-1}, true).at({1, 2, 0}) == doctest::Approx(21.5));
  Generator gen(5);
  Tensor y = randn({9, 17, 5}, gen);
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0}, {1}, {2}, {0, 2}})
    check_close(mean(y, dims), naive_reduce(y, dims, 1), 1e-5f);
}

TEST_CASE("mean: gradients match central differences over dims, keepdim and size-1 shapes") {
  Generator gen(12);
  for (const auto& [shape, dim_lists] : kCases)
    for (const auto& dims : dim_lists)
      for (bool keepdim : {false, true}) {
        INFO("shape ", shape, " dims ", Shape(dims), " keepdim ", keepdim);
        CHECK(gradcheck([&](const auto& x) { return mean(x[0], dims, keepdim); }, {randn(shape, gen)}));
      }
  for (Shape shape : {Shape{3, 4}, Shape{1}}) {
    INFO("shape ", shape);
    CHECK(gradcheck([](const auto& x) { return mean(x[0]); }, {randn(shape, gen)}));
  }
}

TEST_CASE("mean: bad dims name the op, the dim and the shape") {
  CHECK_THROWS_WITH_AS(mean(zeros({3, 4}), {2}),
                       doctest::Contains("mean: dimension 2 is out of range for a tensor of shape [3,4]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(mean(zeros({3, 4}), {0, 0}), doctest::Contains("appears more than once"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// var

TEST_CASE("var: known values, unbiased and biased, over every element and over dims") {
  Tensor x = tensor({1, 2, 3, 4});
  CHECK(var(x).item() == doctest::Approx(5.0 / 3.0));
  CHECK(var(x, {0}, false).item() == doctest::Approx(1.25));
  Tensor y = tensor({1, 2, 3, 4, 6, 8}, {2, 3});
  CHECK(var(y, {1}).to_vector() == std::vector<float>{1.f, 4.f});
  CHECK(var(y, {0}, false).to_vector() == std::vector<float>{2.25f, 4.f, 6.25f});
  CHECK(var(y, {0}, true, true).shape() == Shape{1, 3});
  Generator gen(8);
  Tensor z = randn({6, 11, 7}, gen);
  for (std::vector<int64_t> dims : {std::vector<int64_t>{0}, {1}, {2}, {0, 2}, {-2, -1}})
    for (bool unbiased : {false, true}) {
      INFO("dims ", Shape(dims), " unbiased ", unbiased);
      check_close(var(z, dims, unbiased), naive_reduce(z, dims, 2, unbiased), 1e-4f);
    }
}

TEST_CASE("var: two passes stay accurate when the mean dwarfs the spread") {
  // E[x²] - E[x]² in float would lose every digit here.
  Tensor x = tensor({10000.5f, 10001.5f, 10002.5f, 10003.5f, 10000.5f, 10001.5f, 10002.5f, 10003.5f},
                    {2, 4});
  CHECK(var(x).item() == doctest::Approx(10.0 / 7.0).epsilon(1e-5));
  Tensor v = var(x, {1});
  CHECK(v.at({0}) == doctest::Approx(5.0 / 3.0).epsilon(1e-5));
  CHECK(v.at({1}) == doctest::Approx(5.0 / 3.0).epsilon(1e-5));
}

TEST_CASE("var: gradients match central differences over dims, keepdim and size-1 shapes") {
  Generator gen(13);
  for (const auto& [shape, dim_lists] : kCases)
    for (const auto& dims : dim_lists)
      for (bool unbiased : {false, true})
        for (bool keepdim : {false, true}) {
          Shape s = shape;
          int64_t count = 1;
          for (int64_t d : dims) count *= s[d < 0 ? d + static_cast<int64_t>(s.size()) : d];
          if (unbiased && count < 2) continue;  // undefined; the error path is tested below
          INFO("shape ", shape, " dims ", Shape(dims), " unbiased ", unbiased, " keepdim ", keepdim);
          CHECK(gradcheck([&](const auto& x) { return var(x[0], dims, unbiased, keepdim); },
                          {randn(shape, gen)}));
        }
  CHECK(gradcheck([](const auto& x) { return var(x[0]); }, {randn({3, 4}, gen)}));
  CHECK(gradcheck([](const auto& x) { return var(x[0]); }, {randn({2}, gen)}));
}

TEST_CASE("var: too few elements per output and bad dims throw") {
  CHECK_THROWS_WITH_AS(var(zeros({2, 1}), {1}),
                       doctest::Contains("var: unbiased variance over dims [1] of a tensor of shape [2,1] needs at least 2"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(var(zeros({1})), doctest::Contains("needs at least 2 elements"), recgrad::Error);
  CHECK(var(zeros({2, 1}), {1}, false).to_vector() == std::vector<float>{0, 0});
  CHECK_THROWS_WITH_AS(var(zeros({2, 3}), {-3}),
                       doctest::Contains("var: dimension -3 is out of range for a tensor of shape [2,3]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(var(zeros({2, 3}), {1, 1}), doctest::Contains("appears more than once"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// max, min, argmax, argmin

TEST_CASE("max: values and first indices along a dim, with keepdim and negative dims") {
  Tensor x = tensor({1, 5, 3, 7, 2, 7, 0, 4}, {2, 4});
  MaxResult r = max_with_indices(x, 1);
  CHECK(r.values.shape() == Shape{2});
  CHECK(r.values.to_vector() == std::vector<float>{7, 7});
  CHECK(r.indices.values == std::vector<int64_t>{3, 1});
  CHECK(r.indices.shape == Shape{2});
  MaxResult c = max_with_indices(x, 0, true);
  CHECK(c.values.shape() == Shape{1, 4});
  CHECK(c.values.to_vector() == std::vector<float>{2, 7, 3, 7});
  CHECK(c.indices.values == std::vector<int64_t>{1, 1, 0, 0});
  CHECK(c.indices.shape == Shape{1, 4});
  CHECK(max(x, -1).to_vector() == std::vector<float>{7, 7});
  CHECK(max(x).item() == 7.f);
  CHECK(max(x).shape() == Shape{});
}

TEST_CASE("max: matches a reference along each dim of a shape big enough to run in parallel") {
  Generator gen(21);
  Tensor x = randn({23, 517, 9}, gen);
  for (int64_t d : {0, 1, 2}) {
    INFO("dim ", d);
    check_close(max(x, d), naive_reduce(x, {d}, 3), 0.f);
    check_close(min(x, d), naive_reduce(x, {d}, 4), 0.f);
  }
  CHECK(max(x).item() == naive_reduce(x, {0, 1, 2}, 3).item());
  CHECK(min(x).item() == naive_reduce(x, {0, 1, 2}, 4).item());
}

TEST_CASE("max: ties send the whole gradient to the first maximal element") {
  Tensor x = tensor({1, 3, 3, 2, 2, 1}, {2, 3}).set_requires_grad(true);
  max(x, 1).backward(tensor({10, 20}));
  CHECK(x.grad().to_vector() == std::vector<float>{0, 10, 0, 20, 0, 0});
  // Along a non-last dim (the blocked kernel).
  Tensor y = tensor({5, 1, 5, 2, 5, 2}, {3, 2}).set_requires_grad(true);
  MaxResult r = max_with_indices(y, 0);
  CHECK(r.indices.values == std::vector<int64_t>{0, 1});
  r.values.backward(tensor({1, 1}));
  CHECK(y.grad().to_vector() == std::vector<float>{1, 0, 0, 1, 0, 0});
  // Over every element, and across chunks of the parallel reduction.
  Tensor z = zeros({100000}).set_requires_grad(true);
  z.data()[40000] = 1;
  z.data()[90000] = 1;
  max(z).backward();
  CHECK(z.grad().at({40000}) == 1.f);
  CHECK(z.grad().at({90000}) == 0.f);
  CHECK(sum(z.grad()).item() == 1.f);
}

TEST_CASE("max: NaN propagates as the maximum") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = tensor({1, nan, 3, 4}, {2, 2});
  MaxResult r = max_with_indices(x, 1);
  CHECK(std::isnan(r.values.at({0})));
  CHECK(r.values.at({1}) == 4.f);
  CHECK(r.indices.values == std::vector<int64_t>{1, 1});
  CHECK(std::isnan(max(x).item()));
  CHECK(std::isnan(min(x).item()));
}

TEST_CASE("max: gradients match central differences on edge shapes") {
  for (auto [shape, dim] : {std::tuple{Shape{3, 4}, 0}, {Shape{3, 4}, 1}, {Shape{2, 3, 4}, 0},
                            {Shape{2, 3, 4}, 1}, {Shape{2, 3, 4}, -1}, {Shape{2, 1, 3}, 1},
                            {Shape{1}, 0}})
    for (bool keepdim : {false, true}) {
      INFO("shape ", shape, " dim ", dim, " keepdim ", keepdim);
      CHECK(gradcheck([&](const auto& x) { return max(x[0], dim, keepdim); }, {distinct(shape)}));
      CHECK(gradcheck([&](const auto& x) { return min(x[0], dim, keepdim); }, {distinct(shape)}));
    }
  CHECK(gradcheck([](const auto& x) { return max(x[0]); }, {distinct({3, 4})}));
  CHECK(gradcheck([](const auto& x) { return min(x[0]); }, {distinct({3, 4})}));
}

TEST_CASE("max: bad dims and empty tensors throw naming the shape") {
  CHECK_THROWS_WITH_AS(max(zeros({3, 2}), 2),
                       doctest::Contains("max: dimension 2 is out of range for a tensor of shape [3,2]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(max(zeros({3, 0}), 1),
                       doctest::Contains("max: cannot reduce dimension 1 of size 0 in shape [3,0]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(max(zeros({0})), doctest::Contains("max: tensor of shape [0] has no elements"),
                       recgrad::Error);
}

TEST_CASE("min: values and first indices along a dim") {
  Tensor x = tensor({4, 1, 1, 0, 2, 0}, {2, 3});
  MaxResult r = min_with_indices(x, 1);
  CHECK(r.values.to_vector() == std::vector<float>{1, 0});
  CHECK(r.indices.values == std::vector<int64_t>{1, 0});
  CHECK(min(x, 0, true).to_vector() == std::vector<float>{0, 1, 0});
  CHECK(min(x).item() == 0.f);
  Tensor y = x.clone().set_requires_grad(true);
  min(y).backward();
  CHECK(y.grad().to_vector() == std::vector<float>{0, 0, 0, 1, 0, 0});
  CHECK_THROWS_WITH_AS(min(zeros({3}), 1),
                       doctest::Contains("min: dimension 1 is out of range for a tensor of shape [3]"),
                       recgrad::Error);
}

TEST_CASE("argmax: first positions with the reduced shape, and no graph") {
  Tensor x = tensor({0, 9, 9, 8, 1, 2, 7, 7, 3, 3, 3, 3}, {2, 2, 3}).set_requires_grad(true);
  Ids a = argmax(x, -1);
  CHECK(a.shape == Shape{2, 2});
  CHECK(a.values == std::vector<int64_t>{1, 0, 0, 0});
  Ids b = argmax(x, 1, true);
  CHECK(b.shape == Shape{2, 1, 3});
  CHECK(b.values == std::vector<int64_t>{1, 0, 0, 0, 0, 0});
  CHECK(argmin(x, 2).values == std::vector<int64_t>{0, 1, 2, 0});
  CHECK_THROWS_WITH_AS(argmax(x, 3),
                       doctest::Contains("argmax: dimension 3 is out of range for a tensor of shape [2,2,3]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(argmin(x, -4), doctest::Contains("argmin: dimension -4"), recgrad::Error);
}
