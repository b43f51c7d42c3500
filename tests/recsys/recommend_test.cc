// Recommender's scoring helpers: recommend scores users in chunks under a score budget, and the
// chunking must not change what anyone is recommended; score_pairs scores (user, item) pairs as
// score() does, for the sampled and fixed protocols.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "recsys/experiment.h"
#include "recsys/recommender.h"
#include "tests/recsys/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

TEST_CASE("recommend: any score budget gives the same top-k, in the users' order") {
  const Experiment ex = Experiment::load(small_synthetic());
  ModelSpec spec;
  spec.name = "bpr";
  auto model = train_model(spec, ex, /*epochs=*/1);
  std::vector<int64_t> users(static_cast<size_t>(ex.data.num_users()));
  std::iota(users.rbegin(), users.rend(), 0);  // descending: order must be kept
  const int64_t k = 15, n = ex.data.num_items();
  const TopK all = model->recommend(users, k, ex.train, ex.train);
  REQUIRE(all.items.shape == (Shape{static_cast<int64_t>(users.size()), k}));
  // 1 score: one user per chunk; 7 users per chunk, the last one short.
  for (int64_t budget : {int64_t{1}, 7 * n}) {
    INFO("budget ", budget);
    const TopK chunked = model->recommend(users, k, ex.train, ex.train, budget);
    CHECK(chunked.items.values == all.items.values);
    CHECK(chunked.items.shape == all.items.shape);
    // Scores agree to float rounding: BLAS may round a product's rows differently for another
    // number of rows (sgemm blocks by shape).
    const std::vector<float> a = all.scores.to_vector(), c = chunked.scores.to_vector();
    REQUIRE(a.size() == c.size());
    for (size_t i = 0; i < a.size(); ++i)
      REQUIRE(c[i] == doctest::Approx(a[i]).epsilon(1e-5));
  }
  // User u's row is what recommending to u alone gives.
  const TopK one = model->recommend({users[3]}, k, ex.train, ex.train);
  CHECK(std::vector<int64_t>(all.items.values.begin() + 3 * k,
                             all.items.values.begin() + 4 * k) == one.items.values);
}

TEST_CASE("recommend: no users gives an empty [0, k]; a budget below 1 is refused") {
  const Experiment ex = Experiment::load(small_synthetic());
  ModelSpec spec;
  spec.name = "pop";
  auto model = train_model(spec, ex, /*epochs=*/0);
  const TopK none = model->recommend({}, 5, ex.train, ex.train);
  CHECK(none.items.shape == (Shape{0, 5}));
  CHECK(none.scores.numel() == 0);
  CHECK_THROWS_WITH_AS(model->recommend({0}, 5, ex.train, ex.train, 0),
                       doctest::Contains("max_batch_scores must be >= 1"), Error);
}

TEST_CASE("score_pairs: by default score()'s rows read at the pairs; NeuMF scores pairs alone") {
  const Experiment ex = Experiment::load(small_synthetic());
  const std::vector<int64_t> users = {4, 0, 4, 9, 0}, items = {3, 3, 17, 0, 55};
  for (const char* name : {"bpr", "neumf", "mlp"}) {
    CAPTURE(name);
    ModelSpec spec;
    spec.name = name;
    auto model = train_model(spec, ex, /*epochs=*/1);
    NoGradGuard no_grad;
    model->eval();
    const Tensor rows = model->score({4, 0, 9}, ex.train);
    const Tensor pairs = model->score_pairs(users, items, ex.train);
    REQUIRE(pairs.shape() == Shape{5});
    const int64_t row_of[5] = {0, 1, 0, 2, 1};
    for (int64_t k = 0; k < 5; ++k) {
      const float want = rows.at({row_of[k], items[k]});
      if (std::string(name) == "bpr")
        CHECK(pairs.data()[k] == want);  // the default: the very same floats
      else  // NeuMF's pairwise forward rounds its first layer differently from score()'s
        CHECK(pairs.data()[k] == doctest::Approx(want).epsilon(1e-5));
    }
    // Sampled evaluation goes through score_pairs: as ranking every item's row, but for near
    // ties NeuMF's rounding may order differently (a user's metric moves by at most 1).
    EvalOptions opts;
    opts.protocol = Protocol::kSampled;
    opts.num_negatives = 20;
    const Evaluator ev = ex.test_evaluator(opts);
    const EvalResult by_model = evaluate_model(*model, ex, opts);
    const EvalResult by_rows = ev.evaluate(
        [&](const std::vector<int64_t>& batch) { return model->score(batch, ex.train_valid); });
    for (size_t m = 0; m < by_rows.metrics.size(); ++m) {
      CAPTURE(by_rows.metrics[m].first);
      CHECK(std::abs(by_model.metrics[m].second - by_rows.metrics[m].second) <=
            2.0 / static_cast<double>(by_rows.users_evaluated));
    }
  }
  ModelSpec spec;
  spec.name = "bpr";
  auto model = train_model(spec, ex, /*epochs=*/0);
  CHECK_THROWS_WITH_AS(model->score_pairs({0, 1}, {2}, ex.train),
                       doctest::Contains("2 users but 1 items"), Error);
}
