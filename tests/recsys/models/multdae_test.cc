#include "recsys/models/mult_dae.h"

#include <doctest/doctest.h>

#include "autograd/error.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

// Small enough for a test: 1700 -> 200 -> 64 -> 200 -> 1700, batches of 100 users.
MultDaeConfig small_config(uint64_t seed = 0) {
  MultDaeConfig c;
  c.hidden = {200};
  c.latent = 64;
  c.train.batch_size = 100;
  c.train.seed = seed;
  return c;
}

std::unique_ptr<MultDae> attached(const MultDaeConfig& c, const Experiment& ex) {
  auto m = std::make_unique<MultDae>(c, ex.data.num_users(), ex.data.num_items());
  m->attach(ex.training());
  return m;
}

}  // namespace

TEST_CASE("multdae: beats popularity on the synthetic data (ratio split)") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(small_config(), ex);
  fit(*model, 20);
  const double ndcg = test_metrics(*model, ex).at("NDCG@10"), pop = pop_metrics(ex).at("NDCG@10");
  MESSAGE("multdae NDCG@10 ", ndcg, " vs pop ", pop);
  CHECK(ndcg > 1.2 * pop);  // measured 0.235 vs 0.186
}

TEST_CASE("multdae: weight decay applies to weights, not to biases") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(small_config(), ex);
  auto opt = model->make_optimizer();
  bool saw_weights = false, saw_biases = false;
  for (const optim::ParamGroup& g : opt->groups())
    for (const auto& [name, t] : g.params) {
      const bool bias = name.size() > 5 && name.substr(name.size() - 5) == ".bias";
      CHECK(g.weight_decay == (bias ? 0.0 : small_config().train.weight_decay));
      (bias ? saw_biases : saw_weights) = true;
    }
  CHECK(saw_weights);
  CHECK(saw_biases);
}

TEST_CASE("multdae: dropout only while training; scoring is deterministic") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(small_config(), ex);
  model->start_epoch(0);
  const double noisy = model->loss(0).item();
  CHECK(noisy == model->loss(0).item());  // the batch's key fixes its mask
  model->eval();
  const double clean = model->loss(0).item();
  model->train();
  CHECK(clean != noisy);
  CHECK(bit_identical(scores_of(*model, ex), scores_of(*model, ex)));
}

TEST_CASE("multdae: save and load round-trip the scores bit for bit") {
  const Experiment& ex = synthetic_ratio();
  auto trained = attached(small_config(3), ex);
  fit(*trained, 1);
  auto fresh = attached(small_config(4), ex);
  check_round_trip(*trained, *fresh, ex, "multdae.ckpt");
}

TEST_CASE("multdae: the same seed gives the same scores, another seed others") {
  const Experiment& ex = synthetic_ratio();
  auto a = attached(small_config(5), ex), b = attached(small_config(5), ex),
       c = attached(small_config(6), ex);
  fit(*a, 2);
  fit(*b, 2);
  fit(*c, 2);
  CHECK(bit_identical(scores_of(*a, ex), scores_of(*b, ex)));
  CHECK_FALSE(bit_identical(scores_of(*a, ex), scores_of(*c, ex)));
}

TEST_CASE("multdae: bad configurations and data are errors naming the model") {
  MultDaeConfig c;
  c.hidden = {600, -1};
  CHECK_THROWS_WITH_AS(MultDae(c, 10, 20), doctest::Contains("multdae: hidden"), Error);
  c = MultDaeConfig{};
  c.dropout = -0.1f;
  CHECK_THROWS_WITH_AS(MultDae(c, 10, 20), doctest::Contains("dropout"), Error);
  const Experiment& ex = synthetic_ratio();
  MultDae wrong(MultDaeConfig{}, ex.data.num_users(), 5);
  CHECK_THROWS_WITH_AS(wrong.attach(ex.training()), doctest::Contains("5 items"), Error);
}
