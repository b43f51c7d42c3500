#include "ops/matmul.h"

#include <doctest/doctest.h>

#include <tuple>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// The product by the textbook triple loop, in double: what any BLAS kernel must reproduce.
Tensor naive_matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  const int64_t m = ta ? a.size(1) : a.size(0), k = ta ? a.size(0) : a.size(1);
  const int64_t n = tb ? b.size(0) : b.size(1);
  Tensor c = zeros({m, n});
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p)
        acc += static_cast<double>(ta ? a.at({p, i}) : a.at({i, p})) *
               static_cast<double>(tb ? b.at({j, p}) : b.at({p, j}));
      c.data()[i * n + j] = static_cast<float>(acc);
    }
  return c;
}

void check_close(const Tensor& got, const Tensor& want, float tol) {
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < got.numel(); ++i)
    REQUIRE_MESSAGE(std::abs(got.data()[i] - want.data()[i]) <= tol * (1 + std::abs(want.data()[i])),
                    "element ", i, ": ", got.data()[i], " vs ", want.data()[i]);
}

}  // namespace

TEST_CASE("matmul: the BLAS kernel in use agrees with a naive triple loop") {
  MESSAGE(runtime_summary());
  Generator gen(1);
  // Shapes that exercise kernel edges: tiny, odd, tall-skinny, and large enough to be split
  // across threads (m·n·k above the split threshold).
  for (auto [m, k, n] : {std::tuple{1, 1, 1}, {3, 5, 2}, {17, 33, 9}, {256, 64, 300},
                         {64, 1, 700}, {300, 200, 70}}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("m=", m, " k=", k, " n=", n, " ta=", ta, " tb=", tb);
        Tensor a = randn(ta ? Shape{k, m} : Shape{m, k}, gen);
        Tensor b = randn(tb ? Shape{n, k} : Shape{k, n}, gen);
        check_close(matmul(a, b, ta, tb), naive_matmul(a, b, ta, tb), 1e-4f);
      }
  }
}

TEST_CASE("matmul: the kernel is the fast one the CPU supports, or the one the user chose") {
  const BlasInfo& info = blas_info();
  CHECK(!info.core.empty());
  CHECK(info.blas_threads == 1);
  __builtin_cpu_init();
  if (!std::getenv("OPENBLAS_CORETYPE") || info.how_chosen.find("chosen by recgrad") == 0) {
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      CHECK_MESSAGE(info.core != "Prescott", "generic kernel on an AVX2 CPU: ", info.str());
  }
}

TEST_CASE("matmul: gradients match central differences on edge shapes and transposes") {
  for (auto [m, k, n] : {std::tuple{1, 1, 1}, {3, 5, 2}, {8, 1, 4}, {2, 7, 1}}) {
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        INFO("m=", m, " k=", k, " n=", n, " ta=", ta, " tb=", tb);
        Generator gen(42);
        std::vector<Tensor> in{randn(ta ? Shape{k, m} : Shape{m, k}, gen),
                               randn(tb ? Shape{n, k} : Shape{k, n}, gen)};
        CHECK(gradcheck([&](const auto& x) { return matmul(x[0], x[1], ta, tb); }, in));
      }
  }
}

TEST_CASE("matmul: batched products and a shared right operand match per-entry products") {
  Generator gen(3);
  Tensor a = randn({4, 3, 5}, gen), b = randn({4, 5, 2}, gen), w = randn({5, 2}, gen);
  Tensor c = matmul(a, b), cw = matmul(a, w);
  for (int64_t i = 0; i < 4; ++i) {
    Tensor ai = tensor(std::vector<float>(a.data() + i * 15, a.data() + (i + 1) * 15), {3, 5});
    Tensor bi = tensor(std::vector<float>(b.data() + i * 10, b.data() + (i + 1) * 10), {5, 2});
    Tensor ci = naive_matmul(ai, bi, false, false), cwi = naive_matmul(ai, w, false, false);
    for (int64_t j = 0; j < 6; ++j) {
      CHECK(c.data()[i * 6 + j] == doctest::Approx(ci.data()[j]).epsilon(1e-5));
      CHECK(cw.data()[i * 6 + j] == doctest::Approx(cwi.data()[j]).epsilon(1e-5));
    }
  }
}

TEST_CASE("matmul: batched gradients match central differences") {
  Generator gen(5);
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      INFO("ta=", ta, " tb=", tb);
      std::vector<Tensor> in{randn(ta ? Shape{3, 4, 2} : Shape{3, 2, 4}, gen),
                             randn(tb ? Shape{3, 5, 4} : Shape{3, 4, 5}, gen)};
      CHECK(gradcheck([&](const auto& x) { return matmul(x[0], x[1], ta, tb); }, in));
      std::vector<Tensor> shared{in[0], randn(tb ? Shape{5, 4} : Shape{4, 5}, gen)};
      CHECK(gradcheck([&](const auto& x) { return matmul(x[0], x[1], ta, tb); }, shared));
    }
}

TEST_CASE("matmul: repeated products are bit-identical at a fixed thread count") {
  // The contract is per thread count: the block split depends on it, and OpenBLAS's edge
  // kernels may round differently from its main kernel, so 1 and 2 threads agree only closely.
  Generator gen(9);
  Tensor a = randn({300, 128}, gen), b = randn({128, 500}, gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 1, 2, 2}) {
    set_num_threads(threads);
    runs.push_back(matmul(a, b).to_vector());
  }
  CHECK(runs[0] == runs[1]);
  CHECK(runs[2] == runs[3]);
  for (size_t i = 0; i < runs[0].size(); ++i)
    REQUIRE(runs[0][i] == doctest::Approx(runs[2][i]).epsilon(1e-4));
  set_num_threads(restore);
}

TEST_CASE("matmul: mismatched inner dimensions name both shapes") {
  CHECK_THROWS_WITH_AS(matmul(zeros({32, 64}), zeros({50, 8})),
                       doctest::Contains("[32,64] x [50,8]: inner dimensions 64 and 50 differ"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(matmul(zeros({2, 3, 4}), zeros({3, 4, 5})),
                       doctest::Contains("batch sizes 2 and 3 differ"), recgrad::Error);
  CHECK_THROWS_AS(matmul(zeros({4}), zeros({4, 2})), recgrad::Error);
}
