#include "ops/causal_matmul.h"

#include <doctest/doctest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/attention.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// Sequence lengths around the tile: one row, shorter than a tile, exactly one and several
// tiles, and a ragged last block.
const int64_t kLengths[] = {1, 5, kCausalTile, kCausalTile + 1, 2 * kCausalTile + 7, 200};

// a with every entry above each matrix's diagonal set to zero. a [N, L, L].
Tensor tril(const Tensor& a) {
  Tensor t = a.detach().clone();
  const int64_t l = a.size(-1);
  for (int64_t n = 0; n < a.size(0); ++n)
    for (int64_t i = 0; i < l; ++i)
      for (int64_t j = i + 1; j < l; ++j) t.data()[(n * l + i) * l + j] = 0.f;
  return t;
}

void check_close(const Tensor& got, const Tensor& want, double tol = 1e-5) {
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < got.numel(); ++i) {
    INFO("flat index ", i);
    CHECK(got.data()[i] == doctest::Approx(want.data()[i]).epsilon(tol).scale(1.0));
  }
}

}  // namespace

TEST_CASE("causal_scores: the dense product on and below the diagonal, exact zeros above") {
  Generator gen(1);
  for (int64_t l : kLengths) {
    CAPTURE(l);
    const Tensor q = randn({3, l, 7}, gen), k = randn({3, l, 7}, gen);
    const Tensor s = causal_scores(q, k);
    const Tensor dense = matmul(q, k, false, true);
    for (int64_t n = 0; n < 3; ++n)
      for (int64_t i = 0; i < l; ++i)
        for (int64_t j = 0; j < l; ++j) {
          if (j > i) {
            REQUIRE(s.at({n, i, j}) == 0.f);
          } else {
            REQUIRE(s.at({n, i, j}) == doctest::Approx(dense.at({n, i, j})).epsilon(1e-5));
          }
        }
  }
}

TEST_CASE("causal_mix: equals tril(a)·v; entries of a above the diagonal are ignored") {
  Generator gen(2);
  for (int64_t l : kLengths) {
    CAPTURE(l);
    const Tensor a = randn({3, l, l}, gen), v = randn({3, l, 6}, gen);
    check_close(causal_mix(a, v), matmul(tril(a), v));
  }
}

TEST_CASE("causal_scores and causal_mix: gradients match central differences") {
  // Small tiles on short sequences give several row blocks, a ragged last one (l % tile != 0)
  // and sequences inside one tile, at gradcheck-friendly sizes.
  Generator gen(3);
  for (auto [n, l, d, tile] : {std::tuple{1, 1, 1, 4}, {2, 3, 2, 4}, {2, 7, 3, 3}, {1, 9, 2, 2},
                               {3, 6, 4, 32}, {1, 11, 3, 4}}) {
    INFO("n=", n, " l=", l, " d=", d, " tile=", tile);
    const Tensor q = randn({n, l, d}, gen), k = randn({n, l, d}, gen);
    CHECK(gradcheck([&](const auto& in) { return causal_scores(in[0], in[1], tile); }, {q, k}));
    const Tensor a = randn({n, l, l}, gen), v = randn({n, l, d}, gen);
    CHECK(gradcheck([&](const auto& in) { return causal_mix(in[0], in[1], tile); }, {a, v}));
  }
}

TEST_CASE("causal_mix: the gradient of a is exactly zero above the diagonal") {
  Generator gen(4);
  Tensor a = randn({2, 45, 45}, gen), v = randn({2, 45, 5}, gen);
  a.set_requires_grad();
  causal_mix(a, v).backward(randn({2, 45, 5}, gen));
  const Tensor g = a.grad();
  REQUIRE(g.defined());
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t i = 0; i < 45; ++i)
      for (int64_t j = i + 1; j < 45; ++j) REQUIRE(g.at({n, i, j}) == 0.f);
}

TEST_CASE("causal_scores and causal_mix: gradients equal the dense path's on causal weights") {
  // The attention chain s = q·kᵀ -> causal masked_softmax -> a·v, dense and causal: outputs
  // and all three input gradients agree to float rounding, at a length spanning ragged tiles.
  Generator gen(5);
  const int64_t n = 4, l = 2 * kCausalTile + 9, d = 8;
  const Tensor q0 = randn({n, l, d}, gen), k0 = randn({n, l, d}, gen), v0 = randn({n, l, d}, gen);
  const Tensor g = randn({n, l, d}, gen);
  std::vector<Tensor> grads[2];
  Tensor out[2];
  for (int causal = 0; causal < 2; ++causal) {
    Tensor q = q0.clone(), k = k0.clone(), v = v0.clone();
    for (Tensor* t : {&q, &k, &v}) t->set_requires_grad();
    const Tensor s = causal ? causal_scores(q, k) : matmul(q, k, false, true);
    const Tensor a = masked_softmax(s, Tensor(), true, 0.35f);
    out[causal] = causal ? causal_mix(a, v) : matmul(a, v);
    out[causal].backward(g);
    grads[causal] = {q.grad(), k.grad(), v.grad()};
  }
  check_close(out[1], out[0]);
  for (int i = 0; i < 3; ++i) {
    CAPTURE(i);
    check_close(grads[1][i], grads[0][i], 1e-4);
  }
}

TEST_CASE("causal_scores and causal_mix: bit-identical at one and two threads") {
  Generator gen(6);
  const Tensor q0 = randn({16, 200, 50}, gen), k0 = randn({16, 200, 50}, gen);
  const Tensor v0 = randn({16, 200, 50}, gen), g = randn({16, 200, 50}, gen);
  auto run = [&] {
    Tensor q = q0.clone(), k = k0.clone(), v = v0.clone();
    for (Tensor* t : {&q, &k, &v}) t->set_requires_grad();
    const Tensor o = causal_mix(masked_softmax(causal_scores(q, k), Tensor(), true, 0.1f), v);
    o.backward(g);
    return std::vector<std::vector<float>>{o.to_vector(), q.grad().to_vector(),
                                           k.grad().to_vector(), v.grad().to_vector()};
  };
  const int all = num_threads();
  set_num_threads(1);
  const auto one = run();
  set_num_threads(2);
  const auto two = run();
  set_num_threads(all);
  CHECK(one == two);
}

TEST_CASE("causal_scores and causal_mix: bad shapes are rejected naming the shapes") {
  CHECK_THROWS_WITH_AS(causal_scores(zeros({2, 4, 3}), zeros({2, 5, 3})),
                       doctest::Contains("causal_scores: q [2,4,3], k [2,5,3]"), Error);
  CHECK_THROWS_WITH_AS(causal_scores(zeros({4, 3}), zeros({4, 3})),
                       doctest::Contains("expected equal shapes [N, L, d]"), Error);
  CHECK_THROWS_WITH_AS(causal_mix(zeros({2, 4, 5}), zeros({2, 4, 3})),
                       doctest::Contains("causal_mix: a [2,4,5], v [2,4,3]"), Error);
  CHECK_THROWS_WITH_AS(causal_mix(zeros({2, 4, 4}), zeros({3, 4, 3})),
                       doctest::Contains("causal_mix: a [2,4,4], v [3,4,3]"), Error);
  CHECK_THROWS_WITH_AS(causal_scores(zeros({1, 2, 2}), zeros({1, 2, 2}), 0),
                       doctest::Contains("tile 0 must be >= 1"), Error);
}
