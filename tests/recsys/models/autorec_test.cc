#include "recsys/models/autorec.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "autograd/error.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

AutoRecConfig small_config(uint64_t seed = 0) {
  AutoRecConfig c;
  c.hidden = 100;
  c.train.seed = seed;
  return c;
}

std::unique_ptr<AutoRec> attached(const AutoRecConfig& c, const Experiment& ex) {
  auto m = std::make_unique<AutoRec>(c, ex.data.num_users(), ex.data.num_items());
  m->attach(ex.training());
  return m;
}

// RMSE of always predicting the mean training rating, on the test part.
double global_mean_rmse(const Experiment& ex) {
  double mean = 0;
  for (float r : ex.split.train.ratings) mean += r;
  mean /= static_cast<double>(ex.split.train.ratings.size());
  double se = 0;
  for (float r : ex.split.test.ratings) se += (r - mean) * (r - mean);
  return std::sqrt(se / static_cast<double>(ex.split.test.ratings.size()));
}

}  // namespace

TEST_CASE("autorec: test RMSE is clearly below the global mean's on the synthetic data") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(small_config(), ex);
  CHECK(model->predicts_ratings());
  fit(*model, 20);
  const double rmse = evaluate_model(*model, ex, EvalOptions{}).at("RMSE");
  const double baseline = global_mean_rmse(ex);
  MESSAGE("autorec RMSE ", rmse, " vs global mean ", baseline);
  CHECK(rmse < 0.85 * baseline);  // measured 0.909 vs 1.131
}

TEST_CASE("autorec: the loss counts observed ratings only, plus the L2 term") {
  const Experiment& ex = synthetic_ratio();
  AutoRecConfig c = small_config();
  c.l2 = 0;
  auto model = attached(c, ex);
  model->start_epoch(0);
  const double sse = model->loss(0).item();
  // The same batch by hand: Σ over observed entries of (h(r) - r)², over the batch's items.
  LoaderOptions opts;
  opts.batch_size = c.train.batch_size;
  opts.seed = c.train.seed;
  ItemRatingLoader loader(ex.split.train, ex.data.num_users(), ex.data.num_items(), opts);
  const ItemRatingBatch b = loader.batch(0);
  const Tensor rec = model->reconstruct(b.ratings);
  double by_hand = 0;
  for (int64_t k = 0; k < rec.numel(); ++k)
    if (b.mask.data()[k] != 0.f) {
      const double e = rec.data()[k] - b.ratings.data()[k];
      by_hand += e * e;
    }
  CHECK(sse == doctest::Approx(by_hand / b.ratings.size(0)).epsilon(1e-4));
  AutoRecConfig with_l2 = small_config();
  with_l2.l2 = 300;
  auto regularised = attached(with_l2, ex);
  regularised->start_epoch(0);
  CHECK(regularised->loss(0).item() > sse);  // same initial weights, plus λ/(2N)·(‖W‖²+‖V‖²)
}

TEST_CASE("autorec: predictions are clipped to the rating range; unknown items get the mean") {
  const Experiment& ex = synthetic_ratio();
  auto model = attached(small_config(), ex);
  fit(*model, 2);
  NoGradGuard no_grad;
  model->eval();
  std::vector<int64_t> users, items;
  for (int64_t u = 0; u < 50; ++u)
    for (int64_t i = 0; i < 40; ++i) users.push_back(u), items.push_back(i);
  const Tensor p = model->predict(users, items);
  for (float v : p.to_vector()) {
    CHECK(v >= 1.f);
    CHECK(v <= 5.f);
  }
  // score() gives the same numbers as predict() for the same pairs, up to float rounding:
  // predict() reconstructs only the 40 items asked for and score() every item, so their
  // matrix products have different shapes and need not round alike (they differed in the
  // last bit in the -O1 ASan build).
  const Tensor s = model->score({3}, ex.train);
  CHECK(s.size(1) == ex.data.num_items());
  for (int64_t i = 0; i < 40; ++i)
    CHECK(s.data()[i] == doctest::Approx(p.data()[3 * 40 + i]).epsilon(1e-6));
  CHECK_THROWS_WITH_AS(model->predict({0}, {ex.data.num_items()}), doctest::Contains("outside"),
                       Error);
}

TEST_CASE("autorec: predict() over more items than one block matches whole reconstructions") {
  // predict() reconstructs the distinct items in blocks of 256; pairs come in any order and
  // an item may be asked for by several users. Every item of a few users, in descending
  // order, spans several blocks.
  const Experiment& ex = synthetic_ratio();
  REQUIRE(ex.data.num_items() > 2 * 256);
  auto model = attached(small_config(), ex);
  fit(*model, 1);
  NoGradGuard no_grad;
  model->eval();
  const std::vector<int64_t> asked = {7, 2, 11};
  std::vector<int64_t> users, items;
  for (int64_t i = ex.data.num_items() - 1; i >= 0; --i)
    for (int64_t u : asked) users.push_back(u), items.push_back(i);
  const Tensor p = model->predict(users, items);
  // The same numbers from one reconstruction of every item row, clipped as predict() does.
  LoaderOptions opts;
  ItemRatingLoader loader(ex.split.train, ex.data.num_users(), ex.data.num_items(), opts);
  std::vector<int64_t> all(ex.data.num_items());
  for (int64_t i = 0; i < ex.data.num_items(); ++i) all[i] = i;
  const Tensor rec = model->reconstruct(loader.rows(all).ratings);
  const float lo = loader.min_rating(), hi = loader.max_rating();
  float mean = 0;
  int64_t unrated_items = 0;
  for (size_t k = 0; k < users.size(); ++k) {
    const float whole = rec.data()[items[k] * ex.data.num_users() + users[k]];
    if (loader.num_ratings(items[k]) == 0) {
      mean = p.data()[k];
      ++unrated_items;
      continue;
    }
    CHECK(p.data()[k] == doctest::Approx(std::clamp(whole, lo, hi)).epsilon(1e-6));
  }
  if (unrated_items > 0) CHECK(mean == doctest::Approx(loader.mean_rating()));
}

TEST_CASE("autorec: save and load round-trip the predictions bit for bit") {
  const Experiment& ex = synthetic_ratio();
  auto trained = attached(small_config(3), ex);
  fit(*trained, 1);
  auto fresh = attached(small_config(4), ex);
  check_round_trip(*trained, *fresh, ex, "autorec.ckpt");
}

TEST_CASE("autorec: the same seed gives the same predictions, another seed others") {
  const Experiment& ex = synthetic_ratio();
  auto a = attached(small_config(5), ex), b = attached(small_config(5), ex),
       c = attached(small_config(6), ex);
  fit(*a, 2);
  fit(*b, 2);
  fit(*c, 2);
  CHECK(bit_identical(scores_of(*a, ex), scores_of(*b, ex)));
  CHECK_FALSE(bit_identical(scores_of(*a, ex), scores_of(*c, ex)));
}

TEST_CASE("autorec: implicit data and bad configurations are errors naming the model") {
  AutoRecConfig c;
  c.hidden = 0;
  CHECK_THROWS_WITH_AS(AutoRec(c, 10, 20), doctest::Contains("autorec: hidden"), Error);
  c = AutoRecConfig{};
  c.l2 = -1;
  CHECK_THROWS_WITH_AS(AutoRec(c, 10, 20), doctest::Contains("l2"), Error);
  const Experiment& ex = synthetic_ratio();
  InteractionDataset implicit = ex.split.train;
  implicit.ratings.clear();
  TrainingData data = ex.training();
  data.interactions = &implicit;
  AutoRec model(AutoRecConfig{}, ex.data.num_users(), ex.data.num_items());
  CHECK_THROWS_WITH_AS(model.attach(data), doctest::Contains("explicit ratings"), Error);
}
