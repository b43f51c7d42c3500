#include "nn/embedding.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "tests/nn/param_gradcheck.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "optim/adam.h"
#include "optim/sgd.h"

using namespace recgrad;
using namespace recgrad::nn;

namespace {

double norm2(const Tensor& table, int64_t row) {
  double s = 0;
  for (int64_t j = 0; j < table.size(1); ++j) s += double(table.at({row, j})) * table.at({row, j});
  return std::sqrt(s);
}

}  // namespace

TEST_CASE("Embedding: looks up rows, keeps the ids' shape, and initialises N(0, 1)") {
  Generator gen(1);
  Embedding emb(10, 4, gen);
  const Tensor y = emb.forward(Ids({3, 1, 3, 9, 0, 1}, {2, 3}));
  REQUIRE(y.shape() == Shape{2, 3, 4});
  for (int64_t j = 0; j < 4; ++j) {
    CHECK(y.at({0, 0, j}) == emb.weight().at({3, j}));
    CHECK(y.at({1, 0, j}) == emb.weight().at({9, j}));
  }
  CHECK(emb.describe() == "Embedding(10 x 4, sparse)");
  Generator big_gen(2);
  Embedding big(1000, 100, big_gen);
  double s = 0, s2 = 0;
  for (float v : big.weight().to_vector()) s += v, s2 += double(v) * v;
  CHECK(std::abs(s / 1e5) < 0.02);
  CHECK(std::sqrt(s2 / 1e5) == doctest::Approx(1.0).epsilon(0.02));
}

TEST_CASE("Embedding: the gradient is row-sparse by default, dense on request, and checks out") {
  Generator gen(3);
  Embedding emb(6, 3, gen);
  const Ids ids({4, 1, 4}, {3});
  emb.forward(ids).backward(ones({3, 3}));
  REQUIRE(emb.weight().has_sparse_grad());
  CHECK(emb.weight().sparse_grad().rows == std::vector<int64_t>{1, 4});
  CHECK(emb.weight().grad().at({4, 0}) == 2.f);
  EmbeddingLayerOptions dense;
  dense.sparse = false;
  Embedding demb(6, 3, gen, dense);
  demb.forward(ids).backward(ones({3, 3}));
  CHECK_FALSE(demb.weight().has_sparse_grad());
  CHECK(demb.weight().grad().at({1, 2}) == 1.f);
  for (Embedding* e : {&emb, &demb})
    CHECK(testing::gradcheck_parameters(*e, [&] { return e->forward(Ids({0, 5, 2, 5}, {2, 2})); }));
}

TEST_CASE("Embedding: the padding row is zero, gets no gradient and stays zero under optimizers") {
  Generator gen(4);
  EmbeddingLayerOptions opts;
  opts.padding_idx = 0;
  for (bool sparse : {true, false}) {
    INFO("sparse=", sparse);
    opts.sparse = sparse;
    Embedding emb(5, 3, gen, opts);
    CHECK(norm2(emb.weight(), 0) == 0.0);
    // Padded positions (id 0) return the zero row, so they contribute nothing downstream.
    const Ids ids({2, 0, 0, 3, 0}, {5});
    const Tensor y = emb.forward(ids);
    for (int64_t j = 0; j < 3; ++j) CHECK(y.at({1, j}) == 0.f);
    sum(y).backward();
    const Tensor g = emb.weight().grad();
    for (int64_t j = 0; j < 3; ++j) {
      CHECK(g.at({0, j}) == 0.f);
      CHECK(g.at({2, j}) == 1.f);
    }
    if (sparse) CHECK(emb.weight().sparse_grad().rows == std::vector<int64_t>{2, 3});
    // Several updates with momentum and weight decay, then Adam: the row stays exactly zero.
    optim::SGDOptions so;
    so.lr = 0.5, so.momentum = 0.9, so.weight_decay = 0.1;
    optim::SGD sgd(emb.named_parameters(), so);
    optim::Adam adam(emb.named_parameters(), {});
    for (int step = 0; step < 3; ++step) {
      for (optim::Optimizer* opt : {static_cast<optim::Optimizer*>(&sgd),
                                    static_cast<optim::Optimizer*>(&adam)}) {
        opt->zero_grad();
        sum(emb.forward(ids)).backward();
        opt->step();
      }
    }
    CHECK(norm2(emb.weight(), 0) == 0.0);
    CHECK(norm2(emb.weight(), 2) > 0.0);
  }
}

TEST_CASE("Embedding: max_norm renormalises only the looked-up rows, in place") {
  Generator gen(5);
  EmbeddingLayerOptions opts;
  opts.max_norm = 0.5f;
  Embedding emb(6, 8, gen, opts);  // N(0, 1) rows of dim 8: norms around √8 > 0.5
  const Tensor before = emb.weight().clone();
  for (int64_t r = 0; r < 6; ++r) REQUIRE(norm2(before, r) > 0.5);
  // Make row 5 already short: looked up, but left alone.
  {
    Tensor w = emb.weight();
    for (int64_t j = 0; j < 8; ++j) w.data()[5 * 8 + j] *= static_cast<float>(0.25 / norm2(before, 5));
  }
  const Tensor short_row = emb.weight().clone();
  const Tensor y = emb.forward(Ids({1, 3, 1, 5}, {4}));
  for (int64_t r : {1, 3}) {
    CHECK(norm2(emb.weight(), r) == doctest::Approx(0.5).epsilon(1e-5));
    // Rescaled, not otherwise changed: same direction.
    const double scale = emb.weight().at({r, 0}) / before.at({r, 0});
    for (int64_t j = 0; j < 8; ++j)
      CHECK(emb.weight().at({r, j}) == doctest::Approx(before.at({r, j}) * scale).epsilon(1e-5));
  }
  for (int64_t j = 0; j < 8; ++j) {
    CHECK(emb.weight().at({5, j}) == short_row.at({5, j}));  // norm 0.25 <= max_norm: untouched
    for (int64_t r : {0, 2, 4}) CHECK(emb.weight().at({r, j}) == before.at({r, j}));
    CHECK(y.at({0, j}) == emb.weight().at({1, j}));  // the lookup sees the renormalised row
  }
  CHECK(emb.describe() == "Embedding(6 x 8, sparse, max_norm=0.5)");

  // norm_type = 1: the L1 norm is capped.
  opts.norm_type = 1.f;
  opts.max_norm = 1.f;
  Embedding l1(3, 4, gen, opts);
  l1.forward(Ids({2}));
  double s = 0;
  for (int64_t j = 0; j < 4; ++j) s += std::abs(l1.weight().at({2, j}));
  CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
}

TEST_CASE("Embedding: bad options and ids are rejected naming the layer") {
  Generator gen(6);
  EmbeddingLayerOptions bad_pad;
  bad_pad.padding_idx = 7;
  CHECK_THROWS_WITH_AS(Embedding(5, 3, gen, bad_pad),
                       doctest::Contains("Embedding(5 x 3): padding_idx 7 is out of range"), Error);
  EmbeddingLayerOptions bad_norm;
  bad_norm.max_norm = 0.f;
  CHECK_THROWS_AS(Embedding(5, 3, gen, bad_norm), Error);
  CHECK_THROWS_AS(Embedding(0, 3, gen), Error);
  Embedding emb(5, 3, gen);
  CHECK_THROWS_WITH_AS(emb.forward(Ids({1, 5}, {2})),
                       doctest::Contains("Embedding(5 x 3, sparse): id 5 at position 1 of ids [2] "
                                         "is out of range [0, 5)"),
                       Error);
  CHECK_THROWS_AS(emb.forward(Ids({-1})), Error);
}

TEST_CASE("EmbeddingBag: sum and mean over ids + offsets match a reference") {
  Generator gen(7);
  for (BagMode mode : {BagMode::kSum, BagMode::kMean}) {
    EmbeddingBagOptions opts;
    opts.mode = mode;
    EmbeddingBag bag(8, 3, gen, opts);
    //   ids     = [ 4, 1, 7 | 2 |   | 5, 5 ]
    const Ids ids({4, 1, 7, 2, 5, 5});
    const std::vector<int64_t> offsets{0, 3, 4, 4};
    const Tensor y = bag.forward(ids, offsets);
    REQUIRE(y.shape() == Shape{4, 3});
    const std::vector<std::vector<int64_t>> bags{{4, 1, 7}, {2}, {}, {5, 5}};
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t j = 0; j < 3; ++j) {
        double s = 0;
        for (int64_t id : bags[b]) s += bag.weight().at({id, j});
        if (mode == BagMode::kMean && !bags[b].empty()) s /= bags[b].size();
        CHECK(y.at({b, j}) == doctest::Approx(s).epsilon(1e-6));
      }
    CHECK(testing::gradcheck_parameters(bag, [&] { return bag.forward(ids, offsets); }));
    CHECK(bag.describe() == (mode == BagMode::kSum ? "EmbeddingBag(8 x 3, sum)"
                                                   : "EmbeddingBag(8 x 3, mean)"));
  }
  EmbeddingBag bag(8, 3, gen);
  bag.forward(Ids({6, 6, 1}), {0, 2}).backward(ones({2, 3}));
  REQUIRE(bag.weight().has_sparse_grad());
  CHECK(bag.weight().sparse_grad().rows == std::vector<int64_t>{1, 6});
  CHECK(bag.weight().grad().at({6, 0}) == doctest::Approx(1.0));  // mean of 2: 0.5 + 0.5
  CHECK_THROWS_WITH_AS(bag.forward(Ids({9}), {0}),
                       doctest::Contains("EmbeddingBag(8 x 3, mean): embedding_bag: id 9"), Error);
  CHECK_THROWS_AS(bag.forward(Ids({1, 2}), {1}), Error);
}
