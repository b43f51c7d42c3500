#include <doctest/doctest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace recgrad;

TEST_CASE("tour 10: causal attention never looks ahead, and its backward checks out") {
  Generator gen(3);
  const int64_t B = 2, L = 4, d = 8;
  Tensor q = randn({B, L, d}, gen), k = randn({B, L, d}, gen), v = randn({B, L, d}, gen);

  // A = softmax(Q·Kᵀ/√d + M), M = −∞ above the diagonal.   [B, L, L]
  Tensor scores = matmul(q, k, /*trans_a=*/false, /*trans_b=*/true);        // [B, L, L]
  Tensor a = masked_softmax(scores, Tensor(), /*causal=*/true, 1.f / std::sqrt(float(d)));
  for (int64_t l = 0; l < L; ++l) {
    float row = 0;
    for (int64_t j = 0; j < L; ++j) {
      if (j > l) CHECK(a.at({0, l, j}) == 0.f);  // query l cannot see slot j > l
      row += a.at({0, l, j});
    }
    CHECK(row == doctest::Approx(1.f));          // weights over slots 0..l sum to 1
  }
  Tensor out = matmul(a, v);                     // [B, L, d]
  CHECK(out.shape() == Shape{B, L, d});

  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) {
        Tensor s = matmul(in[0], in[1], false, true);
        return matmul(masked_softmax(s, Tensor(), true, 0.5f), in[2]);
      },
      {q, k, v});
  CHECK_MESSAGE(r, r.message);
}
