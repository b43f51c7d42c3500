#include "recsys/models/cfgan.h"

#include <doctest/doctest.h>

#include <cmath>

#include "autograd/error.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

CfganConfig config(uint64_t seed = 0) {
  CfganConfig c;  // the defaults: G 400, D 125, α 0.3, S = 0.7, lr 1e-3, batches of 64 users
  c.train.seed = seed;
  return c;
}

std::unique_ptr<Cfgan> attached(const CfganConfig& c, const Experiment& ex) {
  auto m = std::make_unique<Cfgan>(c, ex.data.num_users(), ex.data.num_items());
  m->attach(ex.training());
  return m;
}

}  // namespace

TEST_CASE("cfgan: D and G are two optimizers: each step updates only its own network") {
  const Experiment& ex = synthetic_ratio();
  CfganConfig c = config();
  c.d_steps = 3;
  c.g_steps = 2;
  c.d_lr = 5e-4;
  auto model = attached(c, ex);
  auto opt = model->make_optimizer();
  const optim::ParamGroup& g = opt->group("generator");
  const optim::ParamGroup& d = opt->group("discriminator");
  CHECK(g.lr == c.train.lr);
  CHECK(g.weight_decay == c.g_weight_decay);
  CHECK(d.lr == 5e-4);
  CHECK(d.weight_decay == c.d_weight_decay);
  CHECK(g.params.size() + d.params.size() == model->named_parameters().size());
  model->start_epoch(0);
  const double g_loss = model->train_step(0, *opt);
  CHECK(std::isfinite(g_loss));
  CHECK(model->step_log().size() == 1);
  // Adam counts the steps that updated each parameter: D's three and G's two, so G's steps
  // left D alone (and D's left G alone).
  for (const auto& [name, steps] : opt->state().counters) {
    if (name == "steps") {
      CHECK(steps == 5);
    } else {
      CHECK_MESSAGE(steps == (name.rfind("generator.", 0) == 0 ? 2 : 3), name);
    }
  }
}

TEST_CASE("cfgan: loss() is the generator's loss; partial masks are seeded per epoch") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(config(), ex);
  model->start_epoch(0);
  const double a = model->loss(0).item();
  CHECK(a == model->loss(0).item());  // the batch's PM and ZR items depend on (seed, epoch)
  model->start_epoch(1);
  CHECK(model->loss(0).item() != a);
  CHECK(bit_identical(scores_of(*model, ex), scores_of(*model, ex)));
}

TEST_CASE("cfgan: save and load round-trip the scores bit for bit") {
  const Experiment& ex = synthetic_ratio();
  auto trained = attached(config(3), ex);
  fit(*trained, 1);
  auto fresh = attached(config(4), ex);
  check_round_trip(*trained, *fresh, ex, "cfgan.ckpt");
}

TEST_CASE("cfgan: the same seed gives the same scores and losses, another seed others") {
  const Experiment& ex = synthetic_ratio();
  auto a = attached(config(5), ex), b = attached(config(5), ex), c = attached(config(6), ex);
  fit(*a, 2);
  fit(*b, 2);
  fit(*c, 2);
  CHECK(bit_identical(scores_of(*a, ex), scores_of(*b, ex)));
  CHECK_FALSE(bit_identical(scores_of(*a, ex), scores_of(*c, ex)));
  REQUIRE(a->step_log().size() == b->step_log().size());
  for (size_t k = 0; k < a->step_log().size(); ++k) {
    CHECK(a->step_log()[k].d_loss == b->step_log()[k].d_loss);
    CHECK(a->step_log()[k].g_loss == b->step_log()[k].g_loss);
  }
}

TEST_CASE("cfgan: bad configurations and data are errors naming the model") {
  CfganConfig c;
  c.pm_ratio = 1.5;
  CHECK_THROWS_WITH_AS(Cfgan(c, 10, 20), doctest::Contains("cfgan: zr_ratio"), Error);
  c = CfganConfig{};
  c.d_steps = 0;
  CHECK_THROWS_WITH_AS(Cfgan(c, 10, 20), doctest::Contains("d_steps"), Error);
  c = CfganConfig{};
  c.discriminator_hidden = {0};
  CHECK_THROWS_WITH_AS(Cfgan(c, 10, 20), doctest::Contains("discriminator hidden"), Error);
  const Experiment& ex = synthetic_ratio();
  Cfgan wrong(CfganConfig{}, ex.data.num_users(), 3);
  CHECK_THROWS_WITH_AS(wrong.attach(ex.training()), doctest::Contains("3 items"), Error);
}
