#include "recsys/models/cdae.h"

#include <doctest/doctest.h>

#include "autograd/error.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

CdaeConfig config(uint64_t seed = 0) {
  CdaeConfig c;  // the defaults: K = 50, ReLU, q = 0.5, lr 3e-3, batches of 64 users
  c.train.seed = seed;
  return c;
}

std::unique_ptr<Cdae> attached(const CdaeConfig& c, const Experiment& ex) {
  auto m = std::make_unique<Cdae>(c, ex.data.num_users(), ex.data.num_items());
  m->attach(ex.training());
  return m;
}

}  // namespace

TEST_CASE("cdae: beats popularity on the synthetic data (ratio split)") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(config(), ex);
  fit(*model, 20);
  const double ndcg = test_metrics(*model, ex).at("NDCG@10"), pop = pop_metrics(ex).at("NDCG@10");
  MESSAGE("cdae NDCG@10 ", ndcg, " vs pop ", pop);
  CHECK(ndcg > 1.2 * pop);  // measured 0.237 vs 0.186
}

TEST_CASE("cdae: the user node personalises the hidden layer") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(config(), ex);
  fit(*model, 1);
  // Two users scored from the same history differ only through their user nodes.
  NoGradGuard no_grad;
  model->eval();
  const UserItems same = UserItems::from_lists({{1, 2, 3}, {1, 2, 3}}, ex.data.num_items());
  const Tensor s = model->score({0, 1}, same);
  const int64_t n = ex.data.num_items();
  CHECK(std::memcmp(s.data(), s.data() + n, sizeof(float) * n) != 0);
  CdaeConfig no_node = config();
  no_node.user_node = false;
  auto plain = attached(no_node, ex);
  const Tensor p = plain->score({0, 1}, same);
  CHECK(std::memcmp(p.data(), p.data() + n, sizeof(float) * n) == 0);
  CHECK(plain->named_parameters().size() + 1 == model->named_parameters().size());
}

TEST_CASE("cdae: corruption only while training; scoring is deterministic") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(config(), ex);
  model->start_epoch(0);
  const double noisy = model->loss(0).item();
  CHECK(noisy == model->loss(0).item());
  model->eval();
  CHECK(model->loss(0).item() != noisy);
  model->train();
  CHECK(bit_identical(scores_of(*model, ex), scores_of(*model, ex)));
}

TEST_CASE("cdae: save and load round-trip the scores bit for bit") {
  const Experiment& ex = synthetic_ratio();
  auto trained = attached(config(3), ex);
  fit(*trained, 1);
  auto fresh = attached(config(4), ex);
  check_round_trip(*trained, *fresh, ex, "cdae.ckpt");
}

TEST_CASE("cdae: the same seed gives the same scores, another seed others") {
  const Experiment& ex = synthetic_ratio();
  auto a = attached(config(5), ex), b = attached(config(5), ex), c = attached(config(6), ex);
  fit(*a, 2);
  fit(*b, 2);
  fit(*c, 2);
  CHECK(bit_identical(scores_of(*a, ex), scores_of(*b, ex)));
  CHECK_FALSE(bit_identical(scores_of(*a, ex), scores_of(*c, ex)));
}

TEST_CASE("cdae: bad configurations and data are errors naming the model") {
  CdaeConfig c;
  c.hidden = 0;
  CHECK_THROWS_WITH_AS(Cdae(c, 10, 20), doctest::Contains("cdae: hidden"), Error);
  c = CdaeConfig{};
  c.corruption = 1.f;
  CHECK_THROWS_WITH_AS(Cdae(c, 10, 20), doctest::Contains("corruption"), Error);
  const Experiment& ex = synthetic_ratio();
  Cdae wrong(CdaeConfig{}, 7, ex.data.num_items());
  CHECK_THROWS_WITH_AS(wrong.attach(ex.training()), doctest::Contains("7 users"), Error);
}
