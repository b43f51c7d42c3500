#include "autograd/tensor.h"

#include <doctest/doctest.h>

#include <cmath>

#include "autograd/generator.h"
#include "autograd/storage.h"

using namespace recgrad;

TEST_CASE("tensor: factories fill the values and shapes asked for") {
  CHECK(zeros({2, 3}).to_vector() == std::vector<float>(6, 0.f));
  CHECK(ones({2}).to_vector() == std::vector<float>{1, 1});
  CHECK(full({1, 2}, 7.5f).to_vector() == std::vector<float>{7.5f, 7.5f});
  CHECK(arange(4).to_vector() == std::vector<float>{0, 1, 2, 3});
  CHECK(scalar(3).shape().empty());
  CHECK(scalar(3).item() == 3);
  Tensor t = tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  CHECK(t.shape() == Shape{2, 3});
  CHECK(t.size(-1) == 3);
  CHECK(t.at({1, 0}) == 4);
  CHECK(zeros({0, 3}).numel() == 0);
}

TEST_CASE("tensor: handles share storage; clone does not") {
  Tensor a = zeros({2});
  Tensor b = a;
  b.data()[0] = 5;
  CHECK(a.at({0}) == 5);
  Tensor c = a.clone();
  c.data()[1] = 9;
  CHECK(a.at({1}) == 0);
  CHECK_FALSE(c.shares_storage_with(a));
}

TEST_CASE("tensor: bad shapes and indices are errors naming the shape") {
  CHECK_THROWS_WITH_AS(tensor({1, 2, 3}, {2, 2}), doctest::Contains("3 values do not fill shape [2,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(zeros({2, 3}).at({2, 0}), doctest::Contains("shape [2,3]"), Error);
  CHECK_THROWS_WITH_AS(zeros({2, 3}).item(), doctest::Contains("[2,3] has 6 elements"), Error);
  CHECK_THROWS_WITH_AS(zeros({2}).size(3), doctest::Contains("dimension 3 is out of range"), Error);
  CHECK_THROWS_AS(Tensor::empty({-1}), Error);
  CHECK_THROWS_AS(Tensor().shape(), UsageError);
}

TEST_CASE("tensor: printing shows shape, values and graph state") {
  Tensor t = tensor({1, 2, 3, 4}, {2, 2}).set_requires_grad();
  CHECK(t.str() == "Tensor([2,2], [[1, 2], [3, 4]], requires_grad)");
  CHECK(arange(10).str() == "Tensor([10], [0, 1, 2, ..., 7, 8, 9])");
  CHECK(Tensor().str() == "Tensor(undefined)");
}

TEST_CASE("generator: the same seed gives the same stream and the same fills") {
  Generator a(7), b(7), c(8);
  CHECK(a.next_u64() == b.next_u64());
  CHECK(a.next_u64() != c.next_u64());
  Generator g1(3), g2(3);
  CHECK(randn({100}, g1).to_vector() == randn({100}, g2).to_vector());
}

TEST_CASE("generator: uniform and normal fills have the right moments") {
  Generator gen(11);
  const int64_t n = 200000;
  Tensor u = uniform({n}, -1.f, 3.f, gen), z = normal({n}, 2.f, 0.5f, gen);
  double su = 0, sz = 0, szz = 0;
  float lo = 1e9f, hi = -1e9f;
  for (int64_t i = 0; i < n; ++i) {
    su += u.data()[i];
    lo = std::min(lo, u.data()[i]);
    hi = std::max(hi, u.data()[i]);
    sz += z.data()[i];
    szz += double(z.data()[i]) * z.data()[i];
  }
  CHECK(su / n == doctest::Approx(1.0).epsilon(0.01));
  CHECK(lo >= -1.f);
  CHECK(hi < 3.f);
  const double mean = sz / n;
  CHECK(mean == doctest::Approx(2.0).epsilon(0.005));
  CHECK(std::sqrt(szz / n - mean * mean) == doctest::Approx(0.5).epsilon(0.01));
  uint64_t counts[3] = {0, 0, 0};
  for (int i = 0; i < 30000; ++i) ++counts[gen.next_below(3)];
  for (uint64_t c : counts) CHECK(c == doctest::Approx(10000).epsilon(0.05));
}

TEST_CASE("storage: freed buffers are reused instead of reallocated") {
  release_cached_storage();
  const auto before = storage_cache_stats();
  for (int i = 0; i < 100; ++i) {
    Tensor t = Tensor::empty({1000, 64});
    t.data()[0] = 1;
  }
  const auto after = storage_cache_stats();
  CHECK(after.misses - before.misses == 1);
  CHECK(after.hits - before.hits == 99);
  CHECK(after.cached_bytes >= 1000 * 64 * sizeof(float));
  release_cached_storage();
  CHECK(storage_cache_stats().cached_bytes == 0);
}
