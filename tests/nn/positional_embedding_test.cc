#include "nn/positional_embedding.h"

#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "tests/nn/param_gradcheck.h"

using namespace recgrad;
using namespace recgrad::nn;

TEST_CASE("LearnedPositionalEmbedding: adds position l's vector to step l of every sequence") {
  Generator gen(1);
  LearnedPositionalEmbedding pos(10, 4, gen);
  CHECK(pos.describe() == "LearnedPositionalEmbedding(10 x 4)");
  const Tensor x = randn({2, 3, 4}, gen);
  const Tensor y = pos.forward(x);
  REQUIRE(y.shape() == x.shape());
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t l = 0; l < 3; ++l)
      for (int64_t j = 0; j < 4; ++j)
        CHECK(y.at({b, l, j}) == x.at({b, l, j}) + pos.weight().at({l, j}));
  const Tensor p = pos.positions(3);
  REQUIRE(p.shape() == Shape{3, 4});
  for (int64_t j = 0; j < 4; ++j) CHECK(p.at({2, j}) == pos.weight().at({2, j}));
  CHECK(pos.positions(10).shape() == Shape{10, 4});
  CHECK(pos.positions(0).shape() == Shape{0, 4});
}

TEST_CASE("LearnedPositionalEmbedding: gradients reach the input and positions < L only") {
  Generator gen(2);
  PositionalEmbeddingOptions opts;
  opts.init_std = 0.02f;
  LearnedPositionalEmbedding pos(6, 3, gen, opts);
  const Tensor x = randn({2, 4, 3}, gen);
  CHECK(gradcheck([&](const auto& in) { return pos.forward(in[0]); }, {x}));
  CHECK(testing::gradcheck_parameters(pos, [&] { return pos.forward(x); }));
  pos.zero_grad();
  pos.forward(x).backward(ones({2, 4, 3}));
  const Tensor g = pos.weight().grad();
  for (int64_t j = 0; j < 3; ++j) {
    CHECK(g.at({3, j}) == 2.f);  // summed over the batch
    CHECK(g.at({4, j}) == 0.f);
    CHECK(g.at({5, j}) == 0.f);
  }
  CHECK(testing::gradcheck_parameters(pos, [&] { return pos.positions(5); }));
}

TEST_CASE("LearnedPositionalEmbedding: too long or wrong-width inputs are rejected") {
  Generator gen(3);
  LearnedPositionalEmbedding pos(4, 2, gen);
  CHECK_THROWS_WITH_AS(pos.forward(zeros({1, 5, 2})),
                       doctest::Contains("input [1,5,2] has length 5, longer than max_len 4"),
                       Error);
  CHECK_THROWS_WITH_AS(pos.forward(zeros({1, 3, 3})),
                       doctest::Contains("LearnedPositionalEmbedding(4 x 2): input [1,3,3]: "
                                         "expected [..., L, 2]"),
                       Error);
  CHECK_THROWS_AS(pos.positions(5), Error);
  CHECK_THROWS_AS(LearnedPositionalEmbedding(0, 2, gen), Error);
}
