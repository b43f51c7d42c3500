#include "nn/dropout.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/gradcheck.h"

using namespace recgrad;
using namespace recgrad::nn;

TEST_CASE("Dropout: in training it zeroes about p of the elements and scales the rest") {
  Generator gen(1);
  Dropout drop(0.3f, gen);
  CHECK(drop.describe() == "Dropout(p=0.3)");
  const Tensor x = ones({100000});
  const Tensor y = drop.forward(x);
  int64_t zeros_seen = 0;
  for (float v : y.to_vector()) {
    if (v == 0.f) ++zeros_seen;
    else CHECK(v == doctest::Approx(1.0 / 0.7));
  }
  CHECK(zeros_seen / 1e5 == doctest::Approx(0.3).epsilon(0.02));
}

TEST_CASE("Dropout: eval mode and p = 0 return the input itself") {
  Generator gen(2);
  Dropout drop(0.5f, gen);
  const Tensor x = randn({50}, gen);
  drop.eval();
  const uint64_t state = drop.generator().state();
  const Tensor y = drop.forward(x);
  CHECK(y.shares_storage_with(x));
  CHECK(drop.generator().state() == state);  // no draw in eval
  drop.train();
  CHECK_FALSE(drop.forward(x).shares_storage_with(x));
  Dropout none(0.f, gen);
  CHECK(none.forward(x).shares_storage_with(x));
}

TEST_CASE("Dropout: deterministic by seed, fresh masks call to call, its own stream") {
  const Tensor x = ones({1000});
  Generator g1(7), g2(7), g3(8);
  Dropout a(0.5f, g1), b(0.5f, g2), c(0.5f, g3);
  // The constructor takes exactly one draw from the generator it is given.
  Generator probe(7);
  probe.next_u64();
  CHECK(g1.state() == probe.state());
  const Tensor a1 = a.forward(x), a2 = a.forward(x);
  CHECK(a1.to_vector() == b.forward(x).to_vector());
  CHECK(a2.to_vector() == b.forward(x).to_vector());
  CHECK(a1.to_vector() != a2.to_vector());
  CHECK(a1.to_vector() != c.forward(x).to_vector());
  // Later draws from the constructor's generator do not disturb the module's masks.
  g1.next_u64();
  Generator g4(7);
  Dropout d(0.5f, g4);
  CHECK(d.forward(x).to_vector() == a1.to_vector());
}

TEST_CASE("Dropout: the gradient uses the forward's mask") {
  Generator gen(3);
  Dropout drop(0.4f, gen);
  const uint64_t state = drop.generator().state();
  const Tensor x = randn({4, 6}, gen);
  CHECK(gradcheck(
      [&](const auto& in) {
        drop.generator().set_state(state);
        return drop.forward(in[0]);
      },
      {x}));
}

TEST_CASE("Dropout: p outside [0, 1) is rejected") {
  Generator gen(4);
  CHECK_THROWS_WITH_AS(Dropout(1.f, gen), doctest::Contains("Dropout: p = 1 must lie in [0, 1)"),
                       Error);
  CHECK_THROWS_AS(Dropout(-0.5f, gen), Error);
}

TEST_CASE("Dropout: its generator is registered, so checkpoints can resume its stream") {
  recgrad::Generator gen(5);
  recgrad::nn::Dropout d(0.5f, gen);
  const auto gens = d.named_generators();
  REQUIRE(gens.size() == 1);
  CHECK(gens[0].first == "generator");
  CHECK(gens[0].second == &d.generator());
}
