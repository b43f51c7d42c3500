// Pop: scores are the training counts, recommendations follow them, checkpoints round-trip.
#include "recsys/models/pop.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "autograd/error.h"
#include "recsys/experiment.h"
#include "recsys/registry.h"
#include "tests/recsys/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

ModelSpec pop_spec() {
  ModelSpec s;
  s.name = "pop";
  return s;
}

}  // namespace

TEST_CASE("pop: every user's scores are the items' training counts") {
  const Experiment ex = Experiment::load(small_synthetic());
  auto model = train_model(pop_spec(), ex, /*epochs=*/0);
  std::vector<float> counts(static_cast<size_t>(ex.data.num_items()));
  for (int64_t item : ex.split.train.items) counts[static_cast<size_t>(item)] += 1.f;
  const Tensor s = score_batch(*model, ex);
  REQUIRE(s.size(1) == ex.data.num_items());
  for (int64_t b = 0; b < s.size(0); ++b)
    REQUIRE(std::equal(counts.begin(), counts.end(), s.data() + b * s.size(1)));
}

TEST_CASE("pop: recommends each user's unseen items by training count, ties to the smaller id") {
  const Experiment ex = Experiment::load(small_synthetic());
  auto model = train_model(pop_spec(), ex, /*epochs=*/0);
  std::vector<int64_t> counts(static_cast<size_t>(ex.data.num_items()));
  for (int64_t item : ex.split.train.items) ++counts[static_cast<size_t>(item)];
  const int64_t k = 20;
  for (int64_t u : {0, 1, 499}) {
    std::vector<bool> seen(counts.size());
    for (const int64_t* i = ex.train.begin(u); i != ex.train.end(u); ++i) seen[*i] = true;
    std::vector<int64_t> want;
    for (int64_t i = 0; i < ex.data.num_items(); ++i)
      if (!seen[i]) want.push_back(i);
    std::stable_sort(want.begin(), want.end(),
                     [&](int64_t a, int64_t b) { return counts[a] > counts[b]; });
    want.resize(k);
    const TopK top = model->recommend({u}, k, ex.train, ex.train);
    CHECK_MESSAGE(top.items.values == want, "user ", u);
  }
}

TEST_CASE("pop: as the model under test, it ties the Pop baseline exactly") {
  const Comparison c = train_and_compare(pop_spec(), small_synthetic(), /*epochs=*/0);
  CHECK(c.pop_ndcg > 0.05);
  CHECK(c.model_ndcg == c.pop_ndcg);
}

TEST_CASE("pop: save/load round-trips its scores bit for bit") {
  const Experiment ex = Experiment::load(small_synthetic());
  auto model = train_model(pop_spec(), ex, /*epochs=*/0);
  check_save_load_round_trip(pop_spec(), *model, ex);
}

TEST_CASE("pop: fitting twice gives bit-identical scores") { check_determinism(pop_spec(), small_synthetic()); }

TEST_CASE("pop: fit() before attach() and gradient training are refused") {
  Pop pop(10);
  CHECK_THROWS_WITH_AS(pop.fit(), doctest::Contains("attach()"), Error);
  CHECK_THROWS_AS(pop.loss(0), std::logic_error);
}
