#include "ops/pool.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/reduce.h"
#include "ops/runtime.h"
#include "ops/shape.h"

using namespace recgrad;

namespace {

// Distinct values 0.1 apart in a random order: no ties, and no argmax flips under gradcheck's
// ±eps, with the maximum at varied window positions.
Tensor distinct(const Shape& shape, Generator& gen) {
  const int64_t n = shape.numel();
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = 0.1f * static_cast<float>(i) - 0.05f * n;
  for (int64_t i = n - 1; i > 0; --i)
    std::swap(v[i], v[gen.next_below(static_cast<uint64_t>(i + 1))]);
  return tensor(v, shape);
}

// Pooling by the definition, in double: x [B,C,H,W]; stride already resolved. avg divides by
// the kernel area (padding counts as zeros); max skips padding.
Tensor naive_pool(const Tensor& x, Size2d k, Size2d s, Size2d p, bool is_max) {
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t HO = (H + 2 * p.h - k.h) / s.h + 1, WO = (W + 2 * p.w - k.w) / s.w + 1;
  Tensor y = zeros({B, C, HO, WO});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = 0; r < HO; ++r)
        for (int64_t q = 0; q < WO; ++q) {
          double acc = is_max ? -std::numeric_limits<double>::infinity() : 0.0;
          for (int64_t i = 0; i < k.h; ++i)
            for (int64_t j = 0; j < k.w; ++j) {
              const int64_t ih = r * s.h - p.h + i, iw = q * s.w - p.w + j;
              if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
              const double v = x.at({b, c, ih, iw});
              acc = is_max ? std::max(acc, v) : acc + v;
            }
          if (!is_max) acc /= static_cast<double>(k.h * k.w);
          y.data()[((b * C + c) * HO + r) * WO + q] = static_cast<float>(acc);
        }
  return y;
}

void check_close(const Tensor& got, const Tensor& want) {
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < got.numel(); ++i)
    REQUIRE_MESSAGE(got.data()[i] == doctest::Approx(want.data()[i]).epsilon(1e-5), "element ", i);
}

struct Case2d {
  int64_t b, c, h, w;
  Size2d k, s, p;  // s as given to the op (0 = kernel)
};

}  // namespace

TEST_CASE("max_pool1d: small cases worked by hand") {
  Tensor x = tensor({1, 3, 2, 5, 4, 0}, {1, 1, 6});
  CHECK(max_pool1d(x, 2).to_vector() == std::vector<float>{3, 5, 4});
  CHECK(max_pool1d(x, 3, 1, 1).to_vector() == std::vector<float>{3, 3, 5, 5, 5, 4});
  CHECK(max_pool1d(x, 3, 2).to_vector() == std::vector<float>{3, 5});
  // Padding never wins, even over negative values (it is not a zero).
  Tensor neg = tensor({-1, -2, -3}, {1, 1, 3});
  CHECK(max_pool1d(neg, 2, 2, 1).to_vector() == std::vector<float>{-1, -2});
}

TEST_CASE("avg_pool1d: padding counts as zeros in the divisor") {
  Tensor x = tensor({1, 2, 3, 4}, {1, 1, 4});
  CHECK(avg_pool1d(x, 2).to_vector() == std::vector<float>{1.5f, 3.5f});
  // Windows [pad,1], [2,3], [4,pad], each divided by 2.
  CHECK(avg_pool1d(x, 2, 2, 1).to_vector() == std::vector<float>{0.5f, 2.5f, 2.f});
  CHECK(avg_pool1d(x, 3, 1).to_vector() == std::vector<float>{2.f, 3.f});
}

TEST_CASE("max_pool2d and avg_pool2d: match pooling by the definition on varied shapes") {
  Generator gen(1);
  for (const Case2d& t : {Case2d{2, 3, 6, 6, 2, 0, 0}, Case2d{2, 2, 7, 5, {3, 2}, {2, 1}, {1, 1}},
                          Case2d{1, 1, 5, 8, {5, 1}, 1, 0},
                          Case2d{3, 2, 4, 9, {1, 3}, {1, 2}, {0, 1}},
                          Case2d{1, 2, 3, 3, 3, 1, 1}}) {
    INFO("B=", t.b, " C=", t.c, " H=", t.h, " W=", t.w, " k=", t.k, " s=", t.s, " p=", t.p);
    Tensor x = randn({t.b, t.c, t.h, t.w}, gen);
    const Size2d s{t.s.h == 0 ? t.k.h : t.s.h, t.s.w == 0 ? t.k.w : t.s.w};
    check_close(max_pool2d(x, t.k, t.s, t.p), naive_pool(x, t.k, s, t.p, true));
    check_close(avg_pool2d(x, t.k, t.s, t.p), naive_pool(x, t.k, s, t.p, false));
  }
}

TEST_CASE("max_pool1d and avg_pool1d: match the 2-D definition with height 1") {
  Generator gen(2);
  Tensor x = randn({3, 4, 11}, gen);
  Tensor x4 = reshape(x, {3, 4, 1, 11});
  for (auto [k, s, p] : {std::tuple<int64_t, int64_t, int64_t>{3, 2, 1}, {2, 0, 0}, {4, 1, 2},
                         {11, 0, 0}}) {
    INFO("k=", k, " s=", s, " p=", p);
    const int64_t st = s == 0 ? k : s;
    Tensor m = naive_pool(x4, {1, k}, {1, st}, {0, p}, true);
    Tensor a = naive_pool(x4, {1, k}, {1, st}, {0, p}, false);
    check_close(max_pool1d(x, k, s, p), reshape(m, {3, 4, m.size(3)}));
    check_close(avg_pool1d(x, k, s, p), reshape(a, {3, 4, a.size(3)}));
  }
}

TEST_CASE("max_pool1d: a kernel spanning the sequence is the global max over time") {
  Generator gen(3);
  Tensor x = distinct({2, 3, 7}, gen);
  Tensor a = x.clone().set_requires_grad(), b = x.clone().set_requires_grad();
  Tensor r = randn({2, 3}, gen);
  Tensor pooled = max_pool1d(a, 7);
  Tensor global = max(b, 2);
  CHECK(reshape(pooled, {2, 3}).to_vector() == global.to_vector());
  reshape(pooled, {2, 3}).backward(r);
  global.backward(r);
  CHECK(a.grad().to_vector() == b.grad().to_vector());
}

TEST_CASE("max pooling: gradients go to the first maximum on ties, and overlapping windows add") {
  // Window [2, 2, 1]: the first 2 wins.
  Tensor x = tensor({2, 2, 1}, {1, 1, 3}).set_requires_grad();
  max_pool1d(x, 3).backward(tensor({1}, {1, 1, 1}));
  CHECK(x.grad().to_vector() == std::vector<float>{1, 0, 0});
  // Stride 1 windows [1,5] and [5,2] share their maximum: it receives both gradients.
  Tensor y = tensor({1, 5, 2}, {1, 1, 3}).set_requires_grad();
  max_pool1d(y, 2, 1).backward(tensor({0.5f, 2.f}, {1, 1, 2}));
  CHECK(y.grad().to_vector() == std::vector<float>{0, 2.5f, 0});
  // 2-D: ties across rows go to the first in row-major order within the window.
  Tensor z = tensor({0, 7, 7, 1,
                     7, 0, 1, 7}, {1, 1, 2, 4}).set_requires_grad();
  max_pool2d(z, 2).backward(tensor({1, 10}, {1, 1, 1, 2}));
  CHECK(z.grad().to_vector() == std::vector<float>{0, 1, 10, 0, 0, 0, 0, 0});
}

TEST_CASE("max pooling: NaN propagates as the largest value") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor y = max_pool1d(tensor({1, nan, 3, 2}, {1, 1, 4}), 2);
  CHECK(std::isnan(y.data()[0]));
  CHECK(y.data()[1] == 3.f);
}

TEST_CASE("pooling: gradients match central differences") {
  Generator gen(4);
  Tensor x1 = distinct({2, 3, 9}, gen), x2 = distinct({2, 2, 6, 7}, gen);
  for (auto params : {std::tuple{2, 0, 0}, {3, 2, 1}, {3, 1, 1}, {4, 3, 2}}) {
    const int k = std::get<0>(params), s = std::get<1>(params), p = std::get<2>(params);
    INFO("1-D k=", k, " s=", s, " p=", p);
    CHECK(gradcheck([&](const auto& v) { return max_pool1d(v[0], k, s, p); }, {x1}));
    CHECK(gradcheck([&](const auto& v) { return avg_pool1d(v[0], k, s, p); }, {x1}));
  }
  for (auto params : {std::tuple{Size2d{2, 2}, Size2d{0}, Size2d{0}},
                      {Size2d{3, 2}, Size2d{2, 1}, Size2d{1, 1}},
                      {Size2d{6, 1}, Size2d{1}, Size2d{0}},
                      {Size2d{2, 3}, Size2d{1, 2}, Size2d{1, 0}}}) {
    const Size2d k = std::get<0>(params), s = std::get<1>(params), p = std::get<2>(params);
    INFO("2-D k=", k, " s=", s, " p=", p);
    CHECK(gradcheck([&](const auto& v) { return max_pool2d(v[0], k, s, p); }, {x2}));
    CHECK(gradcheck([&](const auto& v) { return avg_pool2d(v[0], k, s, p); }, {x2}));
  }
}

TEST_CASE("pooling: results and gradients are bit-identical at 1 and 2 threads") {
  // Enough planes for several tasks; overlapping windows (stride 1) exercise the scatter-add.
  Generator gen(5);
  Tensor x = randn({16, 32, 256}, gen), r = randn({16, 32, 256}, gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    std::vector<float> all;
    for (bool is_max : {true, false}) {
      Tensor xi = x.clone().set_requires_grad();
      Tensor y = is_max ? max_pool1d(xi, 3, 1, 1) : avg_pool1d(xi, 3, 1, 1);
      y.backward(r);
      for (const Tensor& t : {y, xi.grad()}) {
        std::vector<float> v = t.to_vector();
        all.insert(all.end(), v.begin(), v.end());
      }
    }
    runs.push_back(all);
  }
  set_num_threads(restore);
  CHECK(runs[0] == runs[1]);
}

TEST_CASE("pooling: bad shapes and hyperparameters are rejected with the shapes named") {
  CHECK_THROWS_WITH_AS(max_pool1d(zeros({2, 3, 4}), 5),
                       doctest::Contains("max_pool1d: x [2,3,4], kernel 5, stride 5, padding 0: "
                                         "output size 0 < 1"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(avg_pool1d(zeros({2, 3, 4}), 2, 1, 2),
                       doctest::Contains("padding 2 must lie between 0 and half the kernel 2"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(max_pool2d(zeros({2, 3, 4}), 2),
                       doctest::Contains("max_pool2d: x [2,3,4] must be [B,C,H,W]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(avg_pool2d(zeros({1, 1, 4, 4}), {2, 0}),
                       doctest::Contains("kernel (2,0) must be >= 1"), recgrad::Error);
  CHECK_THROWS_WITH_AS(max_pool1d(zeros({1, 1, 4}), 2, -1),
                       doctest::Contains("stride -1 must be >= 1"), recgrad::Error);
}
