#include "recsys/models/caser.h"

#include <doctest/doctest.h>

#include <vector>

#include "autograd/error.h"
#include "optim/checkpoint.h"
#include "tests/recsys/model_testing.h"
#include "tests/recsys/models/sequence_testing.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

// A small Caser for the successor chains (60 users, 40 items).
CaserConfig small_config(uint64_t seed = 0) {
  CaserConfig c;
  c.dim = 16;
  c.n_h = 8;
  c.dropout = 0.f;
  c.train.lr = 1e-2;
  c.train.batch_size = 64;
  c.train.seed = seed;
  return c;
}

// 60 chains of 30 items over 40 items, plus 4 short users (2 to 5 items) whose windows and
// scoring inputs are padded.
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

}  // namespace

TEST_CASE("caser: learns successor chains") {
  const UserItems chains = successor_chains(60, 40, 30);
  CaserConfig c = small_config();
  c.targets = 1;  // with T > 1 the next T items all fit the windows equally well
  Caser m(c, 60, 40);
  m.attach({nullptr, &chains, 60, 40});
  fit_quietly(m, 15);
  const double acc = next_item_accuracy(m, chains);
  MESSAGE("next-item accuracy ", acc);
  CHECK(acc >= 0.95);
}

TEST_CASE("caser: same seed, same scores; another seed, other scores") {
  const UserItems data = chains_with_short_users();
  auto run = [&](uint64_t seed) {
    CaserConfig c = small_config(seed);
    c.dropout = 0.5f;  // the dropout stream is seeded too
    Caser m(c, 64, 40);
    m.attach({nullptr, &data, 64, 40});
    fit_quietly(m, 2);
    return all_scores(m, data);
  };
  const Tensor a = run(3);
  CHECK(same_scores(a, run(3)));
  CHECK_FALSE(same_scores(a, run(4)));
}

TEST_CASE("caser: save/load into a fresh model gives bit-identical scores") {
  const UserItems data = chains_with_short_users();
  Caser trained(small_config(1), 64, 40);
  trained.attach({nullptr, &data, 64, 40});
  fit_quietly(trained, 2);
  const std::string path = temp_dir() + "/caser.ckpt";
  optim::save(trained, path);
  Caser fresh(small_config(2), 64, 40);  // other initial weights
  fresh.attach({nullptr, &data, 64, 40});
  CHECK_FALSE(same_scores(all_scores(trained, data), all_scores(fresh, data)));
  optim::load(fresh, path);
  CHECK(same_scores(all_scores(trained, data), all_scores(fresh, data)));
}

TEST_CASE("caser: scores read only the last L items; the padding row never matters") {
  const UserItems data = chains_with_short_users();
  Caser m(small_config(), 64, 40);
  m.attach({nullptr, &data, 64, 40});
  fit_quietly(m, 1);
  const Tensor base = all_scores(m, data);

  SUBCASE("items before the last L are not read") {
    std::vector<std::vector<int64_t>> lists;
    for (int64_t u = 0; u < data.num_users(); ++u) {
      lists.emplace_back(data.begin(u), data.end(u));
      const auto n = static_cast<int64_t>(lists.back().size());
      for (int64_t t = 0; t + 5 < n; ++t) lists.back()[t] = (lists.back()[t] + 11) % 40;
    }
    CHECK(same_scores(base, all_scores(m, UserItems::from_lists(lists, 40))));
  }
  SUBCASE("a user's scores read their own most recent items and nothing else") {
    check_scores_read_own_history(m, data, 0);   // a full window
    check_scores_read_own_history(m, data, 61);  // 3 items: a padded window
  }
  SUBCASE("whatever the padding row holds, padded users' scores are the same") {
    Tensor items = parameter(m, "item_embedding");
    for (int64_t j = 0; j < items.size(1); ++j) items.data()[40 * items.size(1) + j] = 3.f + j;
    CHECK(same_scores(base, all_scores(m, data)));
  }
  SUBCASE("the padding row gets no gradient and stays zero through training") {
    m.zero_grad();
    for (int64_t b = 0; b < m.start_epoch(5); ++b) m.loss(b).backward();
    const Tensor items = parameter(m, "item_embedding");
    CHECK_FALSE(row_has_gradient(items, 40));
    for (int64_t j = 0; j < items.size(1); ++j) CHECK(items.at({40, j}) == 0.f);
  }
}

TEST_CASE("caser: bad configurations and data are rejected with their values") {
  CaserConfig c;
  c.window = 0;
  CHECK_THROWS_WITH_AS(Caser(c, 10, 10), doctest::Contains("L=0"), recgrad::Error);
  c = CaserConfig{};
  c.n_v = c.n_h = 0;
  CHECK_THROWS_AS(Caser(c, 10, 10), recgrad::Error);
  Caser m(CaserConfig{}, 10, 10);
  const UserItems other = successor_chains(10, 12, 5);
  CHECK_THROWS_WITH_AS(m.attach({nullptr, &other, 10, 12}),
                       doctest::Contains("10 users x 10 items"), recgrad::Error);
  CHECK_THROWS_WITH_AS(m.start_epoch(0), doctest::Contains("attach()"), recgrad::Error);
}

