#include <doctest/doctest.h>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace recgrad;

TEST_CASE("tour 8: Caser's horizontal and vertical filters, shape by shape") {
  Generator gen(11);
  const int64_t B = 2, L = 5, d = 6, n_h = 3, n_v = 2, h = 2;
  Tensor E = randn({B, 1, L, d}, gen);                 // the last L items, embedded

  // Horizontal: n_h filters [h x d] slide over time only.
  Tensor wh = randn({n_h, 1, h, d}, gen), bh = zeros({n_h});
  Tensor conv_h = relu(conv2d(E, wh, bh));             // [B, n_h, L-h+1, 1]
  CHECK(conv_h.shape() == Shape{B, n_h, L - h + 1, 1});
  Tensor o_h = max(squeeze(conv_h, 3), /*dim=*/2);     // max over positions: [B, n_h]
  CHECK(o_h.shape() == Shape{B, n_h});

  // Vertical: n_v filters [L x 1] take weighted sums of the L embeddings, per dimension.
  Tensor wv = randn({n_v, 1, L, 1}, gen), bv = zeros({n_v});
  Tensor o_v = flatten(conv2d(E, wv, bv), 1);          // [B, n_v, 1, d] -> [B, n_v·d]
  CHECK(o_v.shape() == Shape{B, n_v * d});

  // Entry 0 of o_v (filter 0, dimension 0) is Σ_l wv[0,0,l,0]·E[0,0,l,0].
  float expect = 0;
  for (int64_t l = 0; l < L; ++l) expect += wv.at({0, 0, l, 0}) * E.at({0, 0, l, 0});
  CHECK(o_v.at({0, 0}) == doctest::Approx(expect));
}
