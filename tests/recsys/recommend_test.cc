// Recommender::recommend scores users in chunks under a score budget; the chunking must not
// change what anyone is recommended.
#include <doctest/doctest.h>

#include <numeric>
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
