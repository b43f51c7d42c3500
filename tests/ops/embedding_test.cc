#include "ops/embedding.h"

#include <doctest/doctest.h>

#include <numeric>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

using namespace recgrad;

namespace {

// Row r of a [rows, 2] table holds (10r, 10r + 1): every output value names its row.
Tensor row_table(int64_t rows) {
  std::vector<float> v;
  for (int64_t r = 0; r < rows; ++r) {
    v.push_back(10.f * r);
    v.push_back(10.f * r + 1);
  }
  return tensor(v, {rows, 2});
}

// 1, 2, 3, ... with `shape`: a gradient whose rows are easy to sum by hand.
Tensor counting(const Shape& shape) {
  std::vector<float> v(shape.numel());
  std::iota(v.begin(), v.end(), 1.f);
  return tensor(v, shape);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// embedding

TEST_CASE("embedding: looks up rows; the output shape is ids.shape + [D]") {
  Tensor t = row_table(5);
  Tensor y = embedding(t, {3, 0, 3});
  REQUIRE(y.shape() == Shape{3, 2});
  CHECK(y.to_vector() == std::vector<float>{30, 31, 0, 1, 30, 31});
  Tensor y2 = embedding(t, Ids({4, 1, 2, 2}, {2, 2}));
  REQUIRE(y2.shape() == Shape{2, 2, 2});
  CHECK(y2.to_vector() == std::vector<float>{40, 41, 10, 11, 20, 21, 20, 21});
  CHECK(embedding(t, Ids(std::vector<int64_t>{})).shape() == Shape{0, 2});
  CHECK_FALSE(y.shares_storage_with(t));
}

TEST_CASE("embedding: repeated ids give a coalesced row-sparse gradient summed by hand") {
  Tensor t = row_table(5).set_requires_grad(true);
  // ids 3, 1, 3, 0, 3 with gradient rows (1,2), (3,4), (5,6), (7,8), (9,10).
  embedding(t, {3, 1, 3, 0, 3}).backward(counting({5, 2}));
  REQUIRE(t.has_sparse_grad());
  const RowSparseGrad g = t.sparse_grad();
  CHECK(g.rows == std::vector<int64_t>{0, 1, 3});
  REQUIRE(g.values.shape() == Shape{3, 2});  // n_unique rows, never [N,D]
  CHECK(g.values.to_vector() == std::vector<float>{7, 8, 3, 4, 1 + 5 + 9, 2 + 6 + 10});
  CHECK(t.grad().to_vector() == std::vector<float>{7, 8, 3, 4, 0, 0, 15, 18, 0, 0});
}

TEST_CASE("embedding: the densified sparse gradient equals the dense-mode gradient exactly") {
  Generator gen(1);
  Tensor table = randn({7, 5}, gen);
  const Ids ids({6, 2, 2, 0, 6, 6, 3, 2}, {2, 4});
  Tensor dy = randn({2, 4, 5}, gen);
  Tensor sparse = table.clone().set_requires_grad(true);
  Tensor dense = table.clone().set_requires_grad(true);
  embedding(sparse, ids).backward(dy);
  embedding(dense, ids, {/*sparse=*/false}).backward(dy);
  CHECK(sparse.has_sparse_grad());
  CHECK_FALSE(dense.has_sparse_grad());
  CHECK(sparse.grad().to_vector() == dense.grad().to_vector());
}

TEST_CASE("embedding: gradients match central differences with repeated ids, sparse and dense") {
  Generator gen(2);
  for (bool sparse : {true, false}) {
    INFO("sparse=", sparse);
    const EmbeddingOptions opts{sparse};
    CHECK(gradcheck(
        [&](const auto& x) {
          return embedding(x[0], {1, 3, 1, 1, 0}, opts);
        },
        {randn({4, 3}, gen)}));
    CHECK(gradcheck(
        [&](const auto& x) {
          return embedding(x[0], Ids({0, 0, 0, 0}, {2, 2}), opts);
        },
        {randn({1, 1}, gen)}));
  }
}

TEST_CASE("embedding: padding_idx rows are looked up but get no gradient") {
  Tensor t = row_table(4).set_requires_grad(true);
  EmbeddingOptions opts;
  opts.padding_idx = 2;
  Tensor y = embedding(t, {2, 1, 2, 3}, opts);
  CHECK(y.to_vector() == std::vector<float>{20, 21, 10, 11, 20, 21, 30, 31});
  y.backward(counting({4, 2}));
  CHECK(t.sparse_grad().rows == std::vector<int64_t>{1, 3});
  CHECK(t.grad().to_vector() == std::vector<float>{0, 0, 3, 4, 0, 0, 7, 8});
  // Dense mode agrees, and a lookup of only padding still reports a (zero) gradient.
  Tensor d = row_table(4).set_requires_grad(true);
  opts.sparse = false;
  embedding(d, {2, 1, 2, 3}, opts).backward(counting({4, 2}));
  CHECK(d.grad().to_vector() == t.grad().to_vector());
  Tensor p = row_table(4).set_requires_grad(true);
  embedding(p, {2, 2}, EmbeddingOptions{true, 2}).backward(ones({2, 2}));
  CHECK(p.grad().to_vector() == std::vector<float>(8, 0.f));
}

TEST_CASE("embedding: a table used twice in one graph accumulates both sparse parts") {
  // A BPR-style step: positive and negative items from the same table.
  Tensor t = row_table(6).set_requires_grad(true);
  Tensor pos = embedding(t, {4, 1});
  Tensor neg = embedding(t, {1, 5});
  concat({pos, neg}, 0).backward(counting({4, 2}));
  REQUIRE(t.has_sparse_grad());
  const RowSparseGrad g = t.sparse_grad();
  CHECK(g.rows == std::vector<int64_t>{1, 4, 5});
  CHECK(g.values.to_vector() == std::vector<float>{3 + 5, 4 + 6, 1, 2, 7, 8});
  Generator gen(3);
  CHECK(gradcheck(
      [](const auto& x) {
        return concat({embedding(x[0], {4, 1}), embedding(x[0], {1, 5, 1})}, 0);
      },
      {randn({6, 2}, gen)}));
}

TEST_CASE("embedding: records nothing under NoGradGuard") {
  Tensor t = row_table(3).set_requires_grad(true);
  NoGradGuard no_grad;
  CHECK(embedding(t, {0, 2}).grad_fn_name().empty());
}

TEST_CASE("embedding: an out-of-range id names the id, its position and the table size") {
  CHECK_THROWS_WITH_AS(
      embedding(zeros({5, 2}), {0, 1, 2, 7}),
      doctest::Contains("embedding: id 7 at position 3 is out of range for a table of 5 rows"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding(zeros({5, 2}), {-1}),
                       doctest::Contains("embedding: id -1 at position 0 is out of range"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding(zeros({5}), {0}),
                       doctest::Contains("embedding: table must be 2-D [N,D], got shape [5]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(
      embedding(zeros({5, 2}), {0}, EmbeddingOptions{true, 5}),
      doctest::Contains("embedding: padding_idx 5 is out of range for a table of 5 rows"),
      recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// embedding_bag

TEST_CASE("embedding_bag: sums or averages each bag; an empty bag gives zeros") {
  Tensor t = row_table(6);
  //   ids     = [ 4, 1, 3 | 2 |   | 5, 5 ]
  //   offsets = [ 0,        3,  4,  4     ]
  const Ids ids{4, 1, 3, 2, 5, 5};
  const std::vector<int64_t> offsets{0, 3, 4, 4};
  Tensor sum = embedding_bag(t, ids, offsets, BagMode::kSum);
  REQUIRE(sum.shape() == Shape{4, 2});
  CHECK(sum.to_vector() == std::vector<float>{80, 83, 20, 21, 0, 0, 100, 102});
  Tensor mean = embedding_bag(t, ids, offsets, BagMode::kMean);
  const std::vector<float> want{80.f / 3, 83.f / 3, 20, 21, 0, 0, 50, 51};
  for (int64_t i = 0; i < 8; ++i) CHECK(mean.data()[i] == doctest::Approx(want[i]));
  CHECK(embedding_bag(t, Ids(std::vector<int64_t>{}), {}, BagMode::kSum).shape() == Shape{0, 2});
}

TEST_CASE("embedding_bag: the row-sparse gradient sums over bags and positions") {
  Tensor t = row_table(6).set_requires_grad(true);
  // Bags [1, 3, 1], [], [3]; mean weights 1/3, -, 1. Output gradient rows (1,2), (3,4), (5,6).
  embedding_bag(t, {1, 3, 1, 3}, {0, 3, 3}, BagMode::kMean).backward(counting({3, 2}));
  REQUIRE(t.has_sparse_grad());
  const RowSparseGrad g = t.sparse_grad();
  CHECK(g.rows == std::vector<int64_t>{1, 3});
  REQUIRE(g.values.shape() == Shape{2, 2});
  CHECK(g.values.at({0, 0}) == doctest::Approx(2.f / 3));
  CHECK(g.values.at({0, 1}) == doctest::Approx(4.f / 3));
  CHECK(g.values.at({1, 0}) == doctest::Approx(1.f / 3 + 5));
  CHECK(g.values.at({1, 1}) == doctest::Approx(2.f / 3 + 6));
}

TEST_CASE("embedding_bag: gradients match central differences with ids repeated across bags") {
  Generator gen(4);
  for (BagMode mode : {BagMode::kSum, BagMode::kMean}) {
    CHECK(gradcheck(
        [&](const auto& x) {
          return embedding_bag(x[0], {2, 0, 2, 2, 1, 0}, {0, 2, 2, 5}, mode);
        },
        {randn({3, 4}, gen)}));
    CHECK(gradcheck([&](const auto& x) { return embedding_bag(x[0], {0}, {0}, mode); },
                    {randn({1, 1}, gen)}));
  }
}

TEST_CASE("embedding_bag: bad offsets and ids are reported") {
  Tensor t = zeros({5, 2});
  CHECK_THROWS_WITH_AS(embedding_bag(t, {0, 1, 2}, {1, 2}, BagMode::kSum),
                       doctest::Contains("offsets[0] is 1, but the first bag must start at 0"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding_bag(t, {0, 1, 2}, {0, 2, 1}, BagMode::kSum),
                       doctest::Contains("bag 1 = ids[2:1] is not a range within the 3 ids"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding_bag(t, {0, 1, 2}, {0, 4}, BagMode::kSum),
                       doctest::Contains("bag 0 = ids[0:4] is not a range within the 3 ids"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding_bag(t, {0, 1, 2}, {}, BagMode::kSum),
                       doctest::Contains("no offsets for 3 ids"), recgrad::Error);
  CHECK_THROWS_WITH_AS(
      embedding_bag(t, {0, 9}, {0}, BagMode::kMean),
      doctest::Contains("embedding_bag: id 9 at position 1 is out of range for a table of 5 rows"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding_bag(t, Ids({0, 1}, {1, 2}), {0}, BagMode::kSum),
                       doctest::Contains("ids must be 1-D"), recgrad::Error);
}

TEST_CASE("embedding_dot: equals sum(mul(embedding, embedding)) with the same gradients") {
  Generator gen(5);
  const Ids ua({2, 0, 2, 1, 2}), ib({3, 3, 0, 1, 4});
  Tensor p = randn({3, 4}, gen).set_requires_grad();
  Tensor q = randn({5, 4}, gen).set_requires_grad();
  Tensor p2 = p.detach().clone().set_requires_grad();
  Tensor q2 = q.detach().clone().set_requires_grad();
  const Tensor dy = randn({5}, gen);
  const Tensor fused = embedding_dot(p, ua, q, ib);
  const Tensor composite = sum(mul(embedding(p2, ua), embedding(q2, ib)), {1});
  REQUIRE(fused.shape() == Shape{5});
  for (int64_t i = 0; i < 5; ++i) CHECK(fused.data()[i] == doctest::Approx(composite.data()[i]));
  fused.backward(dy);
  composite.backward(dy);
  REQUIRE(p.has_sparse_grad());  // only the looked-up rows: 0, 1, 2 of P; 0, 1, 3, 4 of Q
  CHECK(p.sparse_grad().rows == std::vector<int64_t>{0, 1, 2});
  CHECK(q.sparse_grad().rows == std::vector<int64_t>{0, 1, 3, 4});
  const auto gp = p.grad().to_vector(), gp2 = p2.grad().to_vector();
  const auto gq = q.grad().to_vector(), gq2 = q2.grad().to_vector();
  for (size_t i = 0; i < gp.size(); ++i) CHECK(gp[i] == doctest::Approx(gp2[i]));
  for (size_t i = 0; i < gq.size(); ++i) CHECK(gq[i] == doctest::Approx(gq2[i]));
}

TEST_CASE("embedding_dot: gradients match central differences, also with one table twice") {
  Generator gen(6);
  CHECK(gradcheck([](const auto& x) { return embedding_dot(x[0], {1, 0, 1}, x[1], {2, 2, 0}); },
                  {randn({2, 3}, gen), randn({3, 3}, gen)}));
  CHECK(gradcheck([](const auto& x) { return embedding_dot(x[0], {0, 1, 2}, x[0], {2, 1, 1}); },
                  {randn({3, 2}, gen)}));
}

TEST_CASE("embedding_dot: mismatched widths, ids and ranges are named") {
  const Tensor a = zeros({3, 4}), b = zeros({5, 2});
  CHECK_THROWS_WITH_AS(embedding_dot(a, {0}, b, {0}), doctest::Contains("different widths"), recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding_dot(a, {0, 1}, a, {0}), doctest::Contains("equal length"), recgrad::Error);
  CHECK_THROWS_WITH_AS(embedding_dot(a, {0}, a, {3}),
                       doctest::Contains("id 3 at position 0 is out of range for a table of 3"),
                       recgrad::Error);
}
