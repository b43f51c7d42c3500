#include "ops/blas.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"

using namespace recgrad;

namespace {

// A = MᵀM + n·I for a random M [n, n]: symmetric positive definite, well conditioned.
std::vector<float> random_spd(int64_t n, uint64_t seed) {
  Generator gen(seed);
  std::vector<double> m(n * n);
  for (double& v : m) v = static_cast<double>(gen.next_below(2001)) / 1000.0 - 1.0;
  std::vector<float> a(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double s = i == j ? static_cast<double>(n) : 0.0;
      for (int64_t k = 0; k < n; ++k) s += m[k * n + i] * m[k * n + j];
      a[i * n + j] = static_cast<float>(s);
    }
  return a;
}

}  // namespace

TEST_CASE("spd_inverse: a known 2x2 inverse, both triangles written") {
  std::vector<float> a{4, 2, 2, 3};  // inverse: [3, -2; -2, 4] / 8
  detail::spd_inverse(2, a.data(), 2);
  CHECK(a[0] == doctest::Approx(0.375));
  CHECK(a[1] == doctest::Approx(-0.25));
  CHECK(a[2] == doctest::Approx(-0.25));
  CHECK(a[3] == doctest::Approx(0.5));
}

TEST_CASE("spd_inverse: A·A⁻¹ = I on random SPD matrices, with a padded leading dimension") {
  for (int64_t n : {1, 7, 64, 300}) {
    CAPTURE(n);
    const std::vector<float> a = random_spd(n, 5 + n);
    const int64_t lda = n + 3;
    std::vector<float> inv(n * lda, 123.f);
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < n; ++j) inv[i * lda + j] = a[i * n + j];
    detail::spd_inverse(n, inv.data(), lda);
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double s = 0;
        for (int64_t k = 0; k < n; ++k) s += static_cast<double>(a[i * n + k]) * inv[k * lda + j];
        worst = std::max(worst, std::abs(s - (i == j ? 1.0 : 0.0)));
      }
      for (int64_t j = n; j < lda; ++j) CHECK(inv[i * lda + j] == 123.f);  // padding untouched
    }
    CHECK(worst < 1e-4);
  }
}

TEST_CASE("spd_inverse: a matrix that is not positive definite names its failing minor") {
  std::vector<float> a{1, 2, 2, 1};  // eigenvalues 3 and -1
  CHECK_THROWS_WITH_AS(detail::spd_inverse(2, a.data(), 2),
                       doctest::Contains("leading minor of order 2"), Error);
  std::vector<float> b{1};
  CHECK_THROWS_WITH_AS(detail::spd_inverse(1, b.data(), 0), doctest::Contains("lda=0"), Error);
  detail::spd_inverse(0, b.data(), 1);  // empty: nothing to do
  CHECK(b[0] == 1.f);
}
