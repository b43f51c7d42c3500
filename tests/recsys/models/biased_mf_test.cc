#include "recsys/models/biased_mf.h"

#include <doctest/doctest.h>

#include <cmath>

#include "autograd/error.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

ModelSpec spec() {
  ModelSpec s;
  s.name = "biasedmf";
  s.seed = 3;
  return s;
}

// RMSE of always predicting the training mean, on the test ratings.
double global_mean_rmse(const Experiment& ex) {
  double sum = 0, sq = 0;
  for (float r : ex.split.train.ratings) sum += r;
  const double mu = sum / static_cast<double>(ex.split.train.ratings.size());
  for (float r : ex.split.test.ratings) sq += (r - mu) * (r - mu);
  return std::sqrt(sq / static_cast<double>(ex.split.test.ratings.size()));
}

}  // namespace

TEST_CASE("biasedmf: RMSE on the synthetic ratings falls well below the global mean's") {
  const Experiment& ex = synthetic_ratio();
  auto m = make_attached(spec(), ex);
  CHECK(m->predicts_ratings());
  fit(*m, 8);
  const double rmse = test_metrics(*m, ex).at("RMSE");
  const double baseline = global_mean_rmse(ex);
  MESSAGE("biasedmf RMSE ", rmse, " vs global mean ", baseline);
  CHECK(rmse < 0.75 * baseline);  // 0.774 vs 1.131 when written
}

TEST_CASE("biasedmf: global mean from the data, predict agrees with score") {
  const Experiment& ex = synthetic_ratio();
  auto m = make_attached(spec(), ex);
  double sum = 0;
  for (float r : ex.split.train.ratings) sum += r;
  const auto& bmf = dynamic_cast<const BiasedMf&>(*m);
  CHECK(bmf.global_mean() == doctest::Approx(sum / ex.split.train.ratings.size()).epsilon(1e-6));
  fit(*m, 1);
  const Tensor s = scores_of(*m, ex, 4);
  NoGradGuard no_grad;
  const Tensor p = m->predict({0, 1, 3, 3}, {5, 0, 7, 1699});
  CHECK(p.data()[0] == doctest::Approx(s.at({0, 5})).epsilon(1e-5));
  CHECK(p.data()[1] == doctest::Approx(s.at({1, 0})).epsilon(1e-5));
  CHECK(p.data()[2] == doctest::Approx(s.at({3, 7})).epsilon(1e-5));
  CHECK(p.data()[3] == doctest::Approx(s.at({3, 1699})).epsilon(1e-5));
}

TEST_CASE("biasedmf: save/load round-trips predictions and scores bit for bit") {
  const Experiment& ex = synthetic_ratio();
  auto m = make_attached(spec(), ex);
  fit(*m, 1);
  auto loaded = round_trip(*m, spec(), ex);
  CHECK(bit_identical(scores_of(*m, ex), scores_of(*loaded, ex)));
  NoGradGuard no_grad;
  CHECK(bit_identical(m->predict({0, 9, 17}, {3, 4, 5}), loaded->predict({0, 9, 17}, {3, 4, 5})));
}

TEST_CASE("biasedmf: the same seed gives the same model, another seed another") {
  const Experiment& ex = synthetic_ratio();
  auto a = make_attached(spec(), ex), b = make_attached(spec(), ex);
  ModelSpec other = spec();
  other.seed = 4;
  auto c = make_attached(other, ex);
  fit(*a, 1);
  fit(*b, 1);
  fit(*c, 1);
  CHECK(bit_identical(scores_of(*a, ex), scores_of(*b, ex)));
  CHECK_FALSE(bit_identical(scores_of(*a, ex), scores_of(*c, ex)));
}

TEST_CASE("biasedmf: implicit data, mismatched sizes and bad options are errors") {
  BiasedMfConfig c;
  c.dim = 0;
  CHECK_THROWS_WITH_AS(BiasedMf(c, 3, 4), doctest::Contains("dim"), Error);
  c = BiasedMfConfig{};
  c.reg = -1;
  CHECK_THROWS_WITH_AS(BiasedMf(c, 3, 4), doctest::Contains("reg"), Error);
  const Experiment& ex = synthetic_ratio();
  BiasedMf wrong(BiasedMfConfig{}, 3, 4);
  CHECK_THROWS_WITH_AS(wrong.attach(ex.training()), doctest::Contains("3 users x 4 items"), Error);
  InteractionDataset implicit = ex.split.train;
  implicit.ratings.clear();
  TrainingData data = ex.training();
  data.interactions = &implicit;
  BiasedMf m(BiasedMfConfig{}, ex.data.num_users(), ex.data.num_items());
  CHECK_THROWS_WITH_AS(m.attach(data), doctest::Contains("no ratings"), Error);
  NoGradGuard no_grad;
  CHECK_THROWS_AS(m.predict({0, 1}, {2}), Error);
}
