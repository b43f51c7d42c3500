#include "recsys/models/cfgan.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "ops/activation.h"
#include "ops/linear.h"
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

// The authors' code's layout for ML-100K, at test sizes: item rows, a linear output, and D and
// G alternating by passes over the rows.
CfganConfig authors_layout(uint64_t seed = 0) {
  CfganConfig c = config(seed);
  c.rows = CfganRows::kItem;
  c.sigmoid_output = false;
  c.schedule = CfganSchedule::kPerEpoch;
  c.d_steps = 2;
  c.g_steps = 3;
  c.d_batch_size = 48;
  c.train.batch_size = 32;
  return c;
}

// The largest Adam step count among parameters whose names start with `prefix` (0: none).
int64_t steps_of(const optim::Optimizer& opt, const std::string& prefix) {
  int64_t most = 0;
  for (const auto& [name, steps] : opt.state().counters)
    if (name.rfind(prefix, 0) == 0) most = std::max<int64_t>(most, steps);
  return most;
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

namespace {

// Counts over a batch's unpurchased entries: in PM's sample, in ZR's, in both.
struct SampleCounts {
  int64_t unpurchased = 0, pm = 0, zr = 0, both = 0, masked_purchase = 0;
};

SampleCounts count_samples(Cfgan& model, int64_t batch) {
  const Cfgan::StepBatch m = model.step_batch(batch);
  SampleCounts n;
  for (int64_t k = 0; k < m.condition.numel(); ++k) {
    const bool purchased = m.condition.data()[k] == 1.f, in_pm = m.pm_mask.data()[k] == 1.f,
               in_zr = m.zr_mask.data()[k] == 1.f;
    if (purchased) {
      n.masked_purchase += !in_pm || in_zr;  // a purchase is always in PM's mask, never in ZR
      continue;
    }
    ++n.unpurchased;
    n.pm += in_pm;
    n.zr += in_zr;
    n.both += in_pm && in_zr;
  }
  return n;
}

}  // namespace

TEST_CASE("cfgan: ZR and PM samples are independent draws, or one shared draw as the authors'") {
  const Experiment& ex = synthetic_ratio();
  CfganConfig c = authors_layout();
  c.zr_ratio = c.pm_ratio = 0.7;
  auto independent = attached(c, ex);
  independent->start_epoch(0);
  const SampleCounts i = count_samples(*independent, 0);
  REQUIRE(i.unpurchased > 1000);
  CHECK(i.masked_purchase == 0);
  CHECK(std::abs(static_cast<double>(i.pm) / i.unpurchased - 0.7) < 0.03);
  CHECK(std::abs(static_cast<double>(i.zr) / i.unpurchased - 0.7) < 0.03);
  CHECK(std::abs(static_cast<double>(i.both) / i.unpurchased - 0.49) < 0.03);  // 0.7 · 0.7

  c.shared_samples = true;
  auto shared = attached(c, ex);
  shared->start_epoch(0);
  const SampleCounts s = count_samples(*shared, 0);
  CHECK(s.masked_purchase == 0);
  CHECK(std::abs(static_cast<double>(s.pm) / s.unpurchased - 0.7) < 0.03);
  CHECK(s.zr == s.pm);  // the same entries
  CHECK(s.both == s.pm);

  // With a smaller S_ZR, ZR's entries are a subset of PM's, at its own rate.
  c.zr_ratio = 0.3;
  auto nested = attached(c, ex);
  nested->start_epoch(0);
  const SampleCounts n = count_samples(*nested, 0);
  CHECK(std::abs(static_cast<double>(n.zr) / n.unpurchased - 0.3) < 0.03);
  CHECK(n.both == n.zr);
  CHECK(n.pm == s.pm);  // PM's draw is the same as above
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

TEST_CASE("cfgan: with item rows, user u's score for item i is G(c_i)[u], c_i item i's users") {
  const Experiment& ex = synthetic_ratio();
  for (const std::vector<int64_t>& hidden :
       {std::vector<int64_t>{400}, std::vector<int64_t>{}, std::vector<int64_t>{16, 8}}) {
    CAPTURE(hidden.size());
    CfganConfig c = authors_layout(1);
    c.generator_hidden = hidden;
    auto model = attached(c, ex);
    fit(*model, 1);
    const Tensor scores = scores_of(*model, ex);  // the first 64 users, test-time history
    // G by hand, densely, on every item's column of the same history.
    const int64_t users = ex.data.num_users(), items = ex.data.num_items();
    Tensor by_item = zeros({items, users});
    for (int64_t u = 0; u < users; ++u)
      for (const int64_t* i = ex.train_valid.begin(u); i != ex.train_valid.end(u); ++i)
        by_item.data()[*i * users + u] = 1.f;
    std::map<std::string, Tensor> p;
    for (const auto& [name, t] : model->named_parameters()) p[name] = t;
    NoGradGuard no_grad;
    for (size_t l = 0; l <= hidden.size(); ++l) {
      const std::string layer = "generator." + std::to_string(l);
      by_item = linear(by_item, p[layer + ".weight"], p[layer + ".bias"]);
      if (l < hidden.size()) by_item = sigmoid(by_item);
    }
    REQUIRE(scores.shape() == Shape{64, items});
    int64_t differ = 0;
    for (int64_t u = 0; u < 64; ++u)
      for (int64_t i = 0; i < items; ++i) {
        const float want = by_item.data()[i * users + u], got = scores.data()[u * items + i];
        if (std::abs(got - want) > 1e-4f * std::max(1.f, std::abs(want))) ++differ;
      }
    CHECK(differ == 0);
  }
}

TEST_CASE("cfgan: item-row scores follow the history and G's weights, nothing stale reused") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(authors_layout(2), ex);
  fit(*model, 1);
  std::vector<int64_t> users(64);
  for (int64_t u = 0; u < 64; ++u) users[u] = u;
  UserItems history = ex.train_valid;  // edited in place below, at the same address
  Tensor a;
  {
    NoGradGuard no_grad;
    model->eval();
    a = model->score(users, history);
    CHECK_FALSE(bit_identical(a, model->score(users, *ex.training().history)));
    CHECK(bit_identical(a, model->score(users, history)));
    history.items[0] = (history.items[0] + 1) % ex.data.num_items();
    CHECK_FALSE(bit_identical(a, model->score(users, history)));
    model->train();
  }
  fit(*model, 1);  // G's weights move in place
  CHECK_FALSE(bit_identical(a, scores_of(*model, ex)));
  // and the new scores are what a model loaded with these weights computes afresh
  auto fresh = attached(authors_layout(5), ex);
  check_round_trip(*model, *fresh, ex, "cfgan_items_fresh.ckpt");
}

TEST_CASE("cfgan: alternating by epochs, D's passes come first, then G's, each moving its own") {
  const Experiment& ex = synthetic_ratio();
  const CfganConfig c = authors_layout();
  auto model = attached(c, ex);
  auto opt = model->make_optimizer();
  std::set<int64_t> rated;  // the rows: items with training users
  const UserItems& train = *ex.training().history;
  rated.insert(train.items.begin(), train.items.end());
  const auto rows = static_cast<int64_t>(rated.size());
  const int64_t d_batches = (rows + 47) / 48, g_batches = (rows + 31) / 32;
  const int64_t steps = model->start_epoch(0);
  REQUIRE(steps == c.d_steps * d_batches + c.g_steps * g_batches);
  int64_t examples = 0;
  for (int64_t s = 0; s < steps; ++s) examples += model->batch_examples(s);
  CHECK(examples == (c.d_steps + c.g_steps) * rows);
  for (int64_t s = 0; s < c.d_steps * d_batches; ++s) model->train_step(s, *opt);
  CHECK(steps_of(*opt, "discriminator.") == c.d_steps * d_batches);
  CHECK(steps_of(*opt, "generator.") == 0);
  for (const GanStepLog& e : model->step_log()) CHECK((e.d_loss > 0 && e.g_loss == 0));
  const double first_g = model->loss(c.d_steps * d_batches).item();
  CHECK(first_g == model->train_step(c.d_steps * d_batches, *opt));  // loss() is the step's
  for (int64_t s = c.d_steps * d_batches + 1; s < steps; ++s) model->train_step(s, *opt);
  CHECK(steps_of(*opt, "discriminator.") == c.d_steps * d_batches);
  CHECK(steps_of(*opt, "generator.") == c.g_steps * g_batches);
  CHECK(model->step_log().back().g_loss > 0);
  CHECK(model->step_log().back().d_loss == 0);
}

TEST_CASE("cfgan: step_batch shows each pass visiting every row once, with the epoch's samples") {
  const Experiment& ex = synthetic_ratio();
  const CfganConfig c = authors_layout();
  auto model = attached(c, ex);
  std::set<int64_t> rated;  // the rows: items with training users
  const UserItems& train = *ex.training().history;
  rated.insert(train.items.begin(), train.items.end());
  const auto num_rows = static_cast<int64_t>(rated.size());
  for (int64_t epoch : {0, 1}) {
    const int64_t steps = model->start_epoch(epoch);
    std::vector<int64_t> visits;  // rows in visiting order over the epoch's passes
    std::vector<bool> discriminator;
    // Per row, its condition and samples as first seen in the epoch.
    std::map<int64_t, std::vector<std::vector<float>>> first_seen;
    int64_t mismatches = 0;
    for (int64_t s = 0; s < steps; ++s) {
      const Cfgan::StepBatch b = model->step_batch(s);
      REQUIRE(b.rows.size() == static_cast<size_t>(model->batch_examples(s)));
      REQUIRE(b.condition.size(0) == static_cast<int64_t>(b.rows.size()));
      const int64_t n = b.condition.size(1);
      for (size_t k = 0; k < b.rows.size(); ++k) {
        visits.push_back(b.rows[k]);
        discriminator.push_back(b.discriminator);
        std::vector<std::vector<float>> row;
        for (const Tensor* t : {&b.condition, &b.pm_mask, &b.zr_mask})
          row.emplace_back(t->data() + k * n, t->data() + (k + 1) * n);
        const auto [it, fresh] = first_seen.emplace(b.rows[k], row);
        mismatches += !fresh && it->second != row;
      }
    }
    REQUIRE(visits.size() == static_cast<size_t>((c.d_steps + c.g_steps) * num_rows));
    std::vector<std::vector<int64_t>> passes;
    for (int64_t p = 0; p < c.d_steps + c.g_steps; ++p) {
      passes.emplace_back(visits.begin() + p * num_rows, visits.begin() + (p + 1) * num_rows);
      CHECK(std::set<int64_t>(passes.back().begin(), passes.back().end()) == rated);
      const bool d_pass = p < c.d_steps;  // D's passes first, then G's
      CHECK(std::all_of(discriminator.begin() + p * num_rows,
                        discriminator.begin() + (p + 1) * num_rows,
                        [&](bool d) { return d == d_pass; }));
    }
    CHECK(passes[0] != passes[1]);  // each pass in its own order
    CHECK(passes[c.d_steps] != passes[c.d_steps + 1]);
    CHECK(mismatches == 0);  // a row's condition and samples are the same in all the passes
  }
}

TEST_CASE("cfgan: with item rows and epoch alternation, save and load round-trip the scores") {
  const Experiment& ex = synthetic_ratio();
  auto trained = attached(authors_layout(3), ex);
  fit(*trained, 1);
  auto fresh = attached(authors_layout(4), ex);
  check_round_trip(*trained, *fresh, ex, "cfgan_items.ckpt");
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
  c = authors_layout();
  c.d_batch_size = -1;
  CHECK_THROWS_WITH_AS(Cfgan(c, 10, 20), doctest::Contains("d_batch_size"), Error);
  Cfgan by_item(authors_layout(), ex.data.num_users(), ex.data.num_items());
  const UserItems fewer_users = UserItems::from_lists({{0}, {1}}, ex.data.num_items());
  CHECK_THROWS_WITH_AS(by_item.score({0}, fewer_users), doctest::Contains("2"), Error);
}
