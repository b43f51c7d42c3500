#include "recsys/models/gru4rec.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/error.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/shape.h"
#include "optim/checkpoint.h"
#include "tests/recsys/model_testing.h"
#include "tests/recsys/models/sequence_testing.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

// A small GRU4Rec for the successor chains (40 items).
Gru4RecConfig small_config(Gru4RecLoss loss = Gru4RecLoss::kCrossEntropy, uint64_t seed = 0) {
  Gru4RecConfig c;
  c.hidden = c.embedding = 32;
  c.dropout_hidden = 0.f;
  c.max_len = 20;
  c.loss = loss;
  c.num_negatives = 16;
  c.train.lr = 1e-2;
  c.train.batch_size = 16;
  c.train.seed = seed;
  return c;
}

// 60 chains of 30 items over 40 items, then 4 short users (2 to 5 items).
UserItems chains_with_short_users() {
  const UserItems chains = successor_chains(60, 40, 30);
  std::vector<std::vector<int64_t>> lists;
  for (int64_t u = 0; u < 60; ++u) lists.emplace_back(chains.begin(u), chains.end(u));
  for (int64_t len = 2; len <= 5; ++len) {
    lists.emplace_back();
    for (int64_t t = 0; t < len; ++t) lists.back().push_back((3 * len + t) % 40);
  }
  return UserItems::from_lists(lists, 40);
}

// Left-padded rows (pad = 40): {row items} placed at the end of a row of width T.
Ids left_padded(const std::vector<std::vector<int64_t>>& rows, int64_t T) {
  std::vector<int64_t> v;
  for (const auto& r : rows) {
    for (int64_t t = 0; t < T - static_cast<int64_t>(r.size()); ++t) v.push_back(40);
    v.insert(v.end(), r.begin(), r.end());
  }
  return Ids(v, {static_cast<int64_t>(rows.size()), T});
}

// Rows [B,T,H] of `x` at (b, t) as a flat vector.
std::vector<float> at(const Tensor& x, int64_t b, int64_t t) {
  const int64_t T = x.size(1), H = x.size(2);
  const float* p = x.data() + (b * T + t) * H;
  return std::vector<float>(p, p + H);
}

}  // namespace

TEST_CASE("gru4rec: learns successor chains with each loss") {
  const UserItems chains = successor_chains(60, 40, 30);
  for (int variant = 0; variant < 4; ++variant) {
    // The three losses, then cross-entropy scored with the input embeddings (constrained).
    Gru4RecConfig c = small_config(static_cast<Gru4RecLoss>(variant % 3));
    c.constrained_embedding = variant == 3;
    Gru4Rec m(c, 60, 40);
    m.attach({nullptr, &chains, 60, 40});
    fit_quietly(m, 20);
    const double acc = next_item_accuracy(m, chains);
    MESSAGE(m.describe(), ": next-item accuracy ", acc);
    CHECK(m.named_parameters().size() == (c.constrained_embedding ? 6u : 7u));  // no Wy
    CHECK(acc >= 0.95);
  }
}

TEST_CASE("gru4rec: same seed, same scores; another seed, other scores") {
  const UserItems data = chains_with_short_users();
  for (Gru4RecLoss loss : {Gru4RecLoss::kCrossEntropy, Gru4RecLoss::kBprMax}) {
    auto run = [&](uint64_t seed) {
      Gru4RecConfig c = small_config(loss, seed);
      c.dropout_embed = c.dropout_hidden = 0.3f;  // the dropout streams are seeded too
      Gru4Rec m(c, 64, 40);
      m.attach({nullptr, &data, 64, 40});
      fit_quietly(m, 2);
      return all_scores(m, data);
    };
    const Tensor a = run(3);
    CHECK(same_scores(a, run(3)));
    CHECK_FALSE(same_scores(a, run(4)));
  }
}

TEST_CASE("gru4rec: save/load into a fresh model gives bit-identical scores") {
  const UserItems data = chains_with_short_users();
  Gru4Rec trained(small_config(Gru4RecLoss::kCrossEntropy, 1), 64, 40);
  trained.attach({nullptr, &data, 64, 40});
  fit_quietly(trained, 2);
  const std::string path = temp_dir() + "/gru4rec.ckpt";
  optim::save(trained, path);
  Gru4Rec fresh(small_config(Gru4RecLoss::kCrossEntropy, 2), 64, 40);
  fresh.attach({nullptr, &data, 64, 40});
  CHECK_FALSE(same_scores(all_scores(trained, data), all_scores(fresh, data)));
  optim::load(fresh, path);
  CHECK(same_scores(all_scores(trained, data), all_scores(fresh, data)));
}

TEST_CASE("gru4rec: outputs at a position read only the items up to it, never the padding") {
  const UserItems data = chains_with_short_users();
  Gru4Rec m(small_config(), 64, 40);
  m.attach({nullptr, &data, 64, 40});
  fit_quietly(m, 1);
  m.eval();
  NoGradGuard no_grad;
  const std::vector<std::vector<int64_t>> rows = {{3, 4, 5, 6, 7}, {9, 1}, {2, 8, 30, 31}, {}};
  const Tensor base = m.encode(left_padded(rows, 8));  // [4, 8, H]

  SUBCASE("later items do not change earlier outputs") {
    std::vector<std::vector<int64_t>> changed = rows;
    changed[0][3] = 20;  // position 6 of row 0 (3 pads, then 3 4 5 [6] 7)
    changed[0][4] = 21;
    changed[2][3] = 22;
    const Tensor out = m.encode(left_padded(changed, 8));
    for (int64_t t = 0; t < 6; ++t) CHECK(at(out, 0, t) == at(base, 0, t));
    CHECK(at(out, 0, 6) != at(base, 0, 6));
    for (int64_t t = 0; t < 7; ++t) CHECK(at(out, 2, t) == at(base, 2, t));
    for (int64_t t = 0; t < 8; ++t) CHECK(at(out, 1, t) == at(base, 1, t));
  }
  SUBCASE("more left padding gives the same outputs, and padded positions are zero") {
    const Tensor wide = m.encode(left_padded(rows, 13));
    for (int64_t b = 0; b < 4; ++b)
      for (int64_t t = 0; t < 8; ++t) CHECK(at(wide, b, t + 5) == at(base, b, t));
    for (int64_t t = 0; t < 5; ++t) CHECK(at(wide, 0, t) == std::vector<float>(32, 0.f));
  }
  SUBCASE("whatever the padding row holds, outputs and scores are the same") {
    const Tensor before = all_scores(m, data);
    Tensor items = parameter(m, "item_embedding");
    for (int64_t j = 0; j < items.size(1); ++j) items.data()[40 * items.size(1) + j] = 5.f - j;
    CHECK(same_scores(m.encode(left_padded(rows, 8)), base));
    CHECK(same_scores(all_scores(m, data), before));  // the last user has a padded row
  }
  SUBCASE("a user's scores read their whole history, and nothing else") {
    m.train();
    check_scores_read_own_history(m, data, 0);
    check_scores_read_own_history(m, data, 60);  // 2 items
    // The GRU runs over the last max_len (20) items: the oldest of them counts, the one
    // before does not.
    const Tensor base_scores = all_scores(m, data);
    CHECK(score_row(all_scores(m, with_item_replaced(data, 0, -20)), 0) !=
          score_row(base_scores, 0));
    CHECK(score_row(all_scores(m, with_item_replaced(data, 0, -21)), 0) ==
          score_row(base_scores, 0));
    m.eval();
  }
  SUBCASE("a score is the output at the history's last position") {
    // User 60 (2 items) and user 0 cut after 12 items: their scores come from encode().
    std::vector<std::vector<int64_t>> lists(64);
    lists[0].assign(data.begin(0), data.begin(0) + 12);
    lists[60].assign(data.begin(60), data.end(60));
    const Tensor s = m.score({0, 60}, UserItems::from_lists(lists, 40));
    const Tensor h = m.encode(left_padded({lists[0], lists[60]}, 20));  // [2, 20, H]
    const Tensor last = reshape(narrow(h, 1, 19, 1), {2, 32});
    const Tensor ref =
        add(matmul(last, parameter(m, "Wy"), false, true), reshape(parameter(m, "by"), {40}));
    for (int64_t k = 0; k < s.numel(); ++k)
      CHECK(s.data()[k] == doctest::Approx(ref.data()[k]).epsilon(1e-5));
  }
}

TEST_CASE("gru4rec: padded positions get no loss and the padding row no gradient") {
  const UserItems data = chains_with_short_users();  // every history has <= 30 items
  for (int variant = 0; variant < 4; ++variant) {
    // max_len 40 and 60 keep every item and differ only in padding: the same loss.
    double values[2];
    for (int k = 0; k < 2; ++k) {
      Gru4RecConfig c = small_config(static_cast<Gru4RecLoss>(variant % 3), 5);
      c.constrained_embedding = variant == 3;
      c.max_len = k == 0 ? 40 : 60;
      Gru4Rec m(c, 64, 40);
      m.attach({nullptr, &data, 64, 40});
      m.start_epoch(0);
      Tensor l = m.loss(0);
      l.backward();
      values[k] = l.item();
      CHECK_FALSE(row_has_gradient(parameter(m, "item_embedding"), 40));
    }
    CHECK(values[0] == values[1]);
  }
}

TEST_CASE("bpr_max_loss: a known value, gradients, and masked negatives") {
  // One row, one negative: -log σ(pos - neg) + λ neg².
  const Tensor l = bpr_max_loss(tensor({1.5f}, {1}), tensor({0.5f}, {1, 1}), zeros({1, 1}), 0.5f);
  CHECK(l.item() ==
        doctest::Approx(-std::log(1 / (1 + std::exp(-1.0))) + 0.5 * 0.25).epsilon(1e-5));
  // A masked negative changes nothing: as if it were not there.
  const Tensor two = bpr_max_loss(tensor({1.5f}, {1}), tensor({0.5f, 9.f}, {1, 2}),
                                  tensor({0.f, 1.f}, {1, 2}), 0.5f);
  CHECK(two.item() == doctest::Approx(l.item()).epsilon(1e-6));

  Generator gen(7);
  const Tensor mask = tensor({0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}, {3, 4});
  for (float bpreg : {0.f, 1.f}) {
    CHECK(gradcheck(
        [&](const std::vector<Tensor>& x) { return bpr_max_loss(x[0], x[1], mask, bpreg); },
        {randn({3}, gen), randn({3, 4}, gen)}));
  }
  CHECK_THROWS_WITH_AS(bpr_max_loss(zeros({3}), zeros({2, 4}), zeros({2, 4}), 1.f),
                       doctest::Contains("[3], neg [2,4]"), recgrad::Error);
}

TEST_CASE("gru4rec: bad configurations and inputs are rejected with their values") {
  Gru4RecConfig c;
  c.hidden = 0;
  CHECK_THROWS_WITH_AS(Gru4Rec(c, 10, 10), doctest::Contains("got 0, 100"), recgrad::Error);
  c = Gru4RecConfig{};
  c.embedding = 64;
  c.constrained_embedding = true;
  CHECK_THROWS_WITH_AS(Gru4Rec(c, 10, 10), doctest::Contains("got 64 and 100"), recgrad::Error);
  CHECK_THROWS_WITH_AS(parse_gru4rec_loss("bpr"), doctest::Contains("bpr_max"), recgrad::Error);
  CHECK(parse_gru4rec_loss("sampled-softmax") == Gru4RecLoss::kSampledSoftmax);
  Gru4Rec m(small_config(), 10, 40);
  CHECK_THROWS_WITH_AS(m.encode(Ids({1, 40, 2}, {1, 3})), doctest::Contains("left-padded"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(m.encode(Ids({1, 41}, {1, 2})), doctest::Contains("item 41"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(m.start_epoch(0), doctest::Contains("attach()"), recgrad::Error);
}
