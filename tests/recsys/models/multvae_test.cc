#include "recsys/models/mult_vae.h"

#include <doctest/doctest.h>

#include <cmath>

#include "autograd/error.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

// Small enough for a test: 1700 -> 200 -> 64, batches of 100 users (10 updates an epoch).
MultVaeConfig small_config(uint64_t seed = 0) {
  MultVaeConfig c;
  c.hidden = {200};
  c.latent = 64;
  c.anneal_epochs = 16;
  c.train.lr = 3e-3;
  c.train.batch_size = 100;
  c.train.seed = seed;
  return c;
}

std::unique_ptr<MultVae> attached(const MultVaeConfig& c, const Experiment& ex) {
  auto m = std::make_unique<MultVae>(c, ex.data.num_users(), ex.data.num_items());
  m->attach(ex.training());
  return m;
}

}  // namespace

TEST_CASE("multvae: beats popularity on the synthetic data (ratio split)") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(small_config(), ex);
  fit(*model, 20);
  const double ndcg = test_metrics(*model, ex).at("NDCG@10"), pop = pop_metrics(ex).at("NDCG@10");
  MESSAGE("multvae NDCG@10 ", ndcg, " vs pop ", pop);
  CHECK(ndcg > 1.3 * pop);  // measured 0.263 vs 0.186
}

TEST_CASE("multvae: beta rises linearly to the cap and the counter is checkpointed") {
  const Experiment& ex = synthetic_ratio();
  MultVaeConfig c = small_config();
  c.total_anneal_steps = 15;  // β = updates / 15, capped at 0.2 from update 3 on
  auto model = attached(c, ex);
  CHECK(model->beta() == 0.0);
  fit(*model, 1);  // 10 batches
  CHECK(model->updates() == 10);
  CHECK(model->beta() == doctest::Approx(0.2));
  MultVaeConfig slow = small_config();
  auto auto_steps = attached(slow, ex);
  CHECK(auto_steps->total_anneal_steps() == 16 * 10);  // anneal_epochs x batches per epoch
  fit(*auto_steps, 1);
  CHECK(auto_steps->beta() == doctest::Approx(10.0 / 160.0));
  // The counter is a buffer: a loaded model continues the schedule where it stopped.
  const std::string path = temp_dir() + "/multvae_anneal.ckpt";
  optim::save(*auto_steps, path);
  auto fresh = attached(small_config(1), ex);
  optim::load(*fresh, path);
  CHECK(fresh->updates() == 10);
}

TEST_CASE("multvae: RecBole's batching reads one user row per training interaction") {
  const Experiment& ex = synthetic_ratio();
  MultVaeConfig c = small_config();
  c.rows_per = UserRowsPer::kInteraction;
  c.train.batch_size = 2048;
  auto model = attached(c, ex);
  const int64_t rows = ex.split.train.size();
  CHECK(model->start_epoch(0) == (rows + 2047) / 2048);
  CHECK(model->batch_examples(0) == 2048);
  CHECK(model->batch_examples((rows - 1) / 2048) == rows - (rows - 1) / 2048 * 2048);
  CHECK(model->total_anneal_steps() == 16 * ((rows + 2047) / 2048));
  CHECK(std::isfinite(model->loss(0).item()));
}

TEST_CASE("multvae: training draws dropout and noise, scoring is deterministic") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(small_config(), ex);
  model->start_epoch(0);
  // The same batch twice gives the same loss (its keys depend on seed, epoch and batch only);
  // the other batch's differs.
  CHECK(model->loss(0).item() == model->loss(0).item());
  CHECK(model->loss(0).item() != model->loss(1).item());
  CHECK(bit_identical(scores_of(*model, ex), scores_of(*model, ex)));
}

TEST_CASE("multvae: noise_std scales the reparameterisation's epsilon") {
  const Experiment& ex = synthetic_ratio();
  // Without input dropout, training differs from evaluation only by z's noise.
  auto loss_gap = [&](float noise_std) {
    MultVaeConfig c = small_config();
    c.dropout = 0.f;
    c.noise_std = noise_std;
    auto model = attached(c, ex);
    model->start_epoch(0);
    const float noisy = model->loss(0).item();
    model->eval();
    return std::abs(noisy - model->loss(0).item());
  };
  CHECK(loss_gap(0.f) == 0.f);  // z = μ exactly
  CHECK(loss_gap(1.f) > 0.f);
  CHECK(loss_gap(1e-2f) < loss_gap(1.f));
  MultVaeConfig bad = small_config();
  bad.noise_std = -1.f;
  CHECK_THROWS_WITH_AS(MultVae(bad, 10, 10), doctest::Contains("noise_std"), Error);
}

TEST_CASE("multvae: save and load round-trip the scores bit for bit") {
  const Experiment& ex = synthetic_ratio();
  auto trained = attached(small_config(3), ex);
  fit(*trained, 1);
  auto fresh = attached(small_config(4), ex);
  check_round_trip(*trained, *fresh, ex, "multvae.ckpt");
}

TEST_CASE("multvae: the same seed gives the same scores, another seed others") {
  const Experiment& ex = synthetic_ratio();
  auto a = attached(small_config(5), ex), b = attached(small_config(5), ex),
       c = attached(small_config(6), ex);
  fit(*a, 2);
  fit(*b, 2);
  fit(*c, 2);
  CHECK(bit_identical(scores_of(*a, ex), scores_of(*b, ex)));
  CHECK_FALSE(bit_identical(scores_of(*a, ex), scores_of(*c, ex)));
}

TEST_CASE("multvae: bad configurations and data are errors naming the model") {
  MultVaeConfig c;
  c.latent = 0;
  CHECK_THROWS_WITH_AS(MultVae(c, 10, 20), doctest::Contains("multvae: latent"), Error);
  c = MultVaeConfig{};
  c.dropout = 1.f;
  CHECK_THROWS_WITH_AS(MultVae(c, 10, 20), doctest::Contains("dropout"), Error);
  const Experiment& ex = synthetic_ratio();
  MultVae wrong(MultVaeConfig{}, ex.data.num_users(), ex.data.num_items() + 1);
  CHECK_THROWS_WITH_AS(wrong.attach(ex.training()), doctest::Contains("items"), Error);
  MultVae unattached(MultVaeConfig{}, 10, 20);
  CHECK_THROWS_WITH_AS(unattached.start_epoch(0), doctest::Contains("attach()"), Error);
}
