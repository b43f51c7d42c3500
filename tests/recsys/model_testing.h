#pragma once
// The checks every model's test runs (DEVELOPERS.md: "every model has a test that it learns and
// that save/load round-trips its scores"), for any registered model name:
//
//   TEST_CASE("bpr: learns: beats Pop on synthetic data") {
//     const Comparison c = train_and_compare(spec, small_synthetic(), /*epochs=*/10);
//     CHECK(c.model_ndcg >= 1.2 * c.pop_ndcg);
//   }
//
// - train_and_compare: NDCG@10 (full ranking, test part) of the trained model beside Pop's;
// - check_save_load_round_trip: optim::save, then optim::load into a freshly built model: the
//   scores of a batch of users are bit-identical;
// - check_determinism: two models built and trained with the same seed score bit-identically.
//
// Models are trained by recsys::train (the CLI's loop) without a validator, so what is measured
// is the model after `epochs` epochs, not a checkpoint picked on validation data; non-iterative
// models (Pop, ItemKNN, EASE) are fit() instead.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "autograd/tensor.h"
#include "optim/checkpoint.h"
#include "recsys/evaluator.h"
#include "recsys/experiment.h"
#include "recsys/models/pop.h"
#include "recsys/registry.h"
#include "recsys/trainer.h"
#include "tests/recsys/temp_file.h"

namespace recgrad::testing {

/// A small synthetic experiment for model tests: 500 users, 800 items, 40,000 rows (80 per user,
/// a density like ML-100K's), the random per-user 80/10/10 split: its ~4,000 test items make
/// NDCG@10 far less noisy than leave-one-out's 500. BPR-MF trains 10 epochs on it in ~1.5 s and
/// beats Pop by ~1.45x at data seeds 0 to 3.
inline recsys::DataSpec small_synthetic(const std::string& split = "ratio", uint64_t seed = 0) {
  recsys::DataSpec d;
  d.split = split;
  d.seed = seed;
  d.synthetic_users = 500;
  d.synthetic_items = 800;
  d.synthetic_rows = 40000;
  return d;
}

/// NDCG@10 of a trained model and of Pop on the same test part.
struct Comparison {
  double model_ndcg = 0;
  double pop_ndcg = 0;
};

/// Builds model `spec` for the experiment and attaches it to the training part.
inline std::unique_ptr<recsys::Recommender> build_model(const recsys::ModelSpec& spec,
                                                        const recsys::Experiment& ex) {
  auto model = recsys::find_model(spec.name).make(spec, ex.data.num_users(), ex.data.num_items());
  model->attach(ex.training());
  return model;
}

/// Builds, attaches and trains `epochs` epochs quietly with the model's own optimizer (or fit()s
/// a non-iterative model). Returns the trained model.
inline std::unique_ptr<recsys::Recommender> train_model(const recsys::ModelSpec& spec,
                                                        const recsys::Experiment& ex,
                                                        int64_t epochs) {
  auto model = build_model(spec, ex);
  if (model->is_iterative()) {
    auto opt = model->make_optimizer();
    recsys::TrainerOptions t;
    t.epochs = epochs;
    t.progress = recsys::ProgressMode::kQuiet;
    recsys::train(*model, *opt, t);
  } else {
    model->fit();
  }
  return model;
}

/// Full-ranking NDCG@10 on the test part.
inline double test_ndcg_at_10(recsys::Recommender& model, const recsys::Experiment& ex) {
  return recsys::evaluate_model(model, ex, recsys::EvalOptions{}).at("NDCG@10");
}

/// Trains `spec` for `epochs` epochs on `data` and returns its test NDCG@10 beside Pop's.
inline Comparison train_and_compare(const recsys::ModelSpec& spec, const recsys::DataSpec& data,
                                    int64_t epochs) {
  const recsys::Experiment ex = recsys::Experiment::load(data);
  auto model = train_model(spec, ex, epochs);
  recsys::Pop pop(ex.data.num_items());
  pop.attach(ex.training());
  pop.fit();
  Comparison c{test_ndcg_at_10(*model, ex), test_ndcg_at_10(pop, ex)};
  MESSAGE(spec.name, " after ", epochs, " epochs on ", ex.describe(), ": NDCG@10 ", c.model_ndcg,
          " vs Pop ", c.pop_ndcg, " (", c.model_ndcg / c.pop_ndcg, "x)");
  return c;
}

/// Scores [B, num_items] of the experiment's first (up to) 64 users, conditioned on training +
/// validation items, in eval mode under NoGradGuard (the model's mode is restored).
inline Tensor score_batch(recsys::Recommender& model, const recsys::Experiment& ex) {
  std::vector<int64_t> users(static_cast<size_t>(std::min<int64_t>(64, ex.data.num_users())));
  for (size_t u = 0; u < users.size(); ++u) users[u] = static_cast<int64_t>(u);
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  Tensor scores = model.score(users, ex.train_valid);
  model.train(was_training);
  return scores;
}

/// Same shape and the same float bits in every element (NaN == NaN, -0 != +0).
inline bool same_scores(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

/// Saves `model` (built from `spec`, trained) to TEST_TMPDIR, loads the file into a fresh model
/// built with another seed and attached to the same data, and checks the scores of a batch of
/// users are bit-identical. Also checks the fresh model scored differently before the load, so a
/// load that copied nothing could not pass.
inline void check_save_load_round_trip(const recsys::ModelSpec& spec, recsys::Recommender& model,
                                       const recsys::Experiment& ex) {
  const std::string path = temp_dir() + "/" + model.name() + "_round_trip.ckpt";
  optim::save(model, path);
  recsys::ModelSpec other = spec;
  other.seed = spec.seed + 1;
  auto fresh = build_model(other, ex);
  const Tensor want = score_batch(model, ex);
  CHECK_MESSAGE(!same_scores(score_batch(*fresh, ex), want),
                model.name(), ": a fresh model already scores like the trained one");
  optim::load(*fresh, path);
  fresh->attach(ex.training());  // the interface: attach again after loading a checkpoint
  CHECK_MESSAGE(same_scores(score_batch(*fresh, ex), want),
                model.name(), ": scores after save/load differ from the saved model's");
}

/// Trains two models from the same spec (same seed) for `epochs` epochs on `data`: their scores
/// must be bit-identical. For iterative models, a third with another seed must differ, so the
/// check can fail.
inline void check_determinism(const recsys::ModelSpec& spec, const recsys::DataSpec& data,
                              int64_t epochs = 2) {
  const recsys::Experiment ex = recsys::Experiment::load(data);
  auto a = train_model(spec, ex, epochs);
  auto b = train_model(spec, ex, epochs);
  CHECK_MESSAGE(same_scores(score_batch(*a, ex), score_batch(*b, ex)),
                spec.name, ": two runs with seed ", spec.seed, " score differently");
  if (a->is_iterative()) {
    recsys::ModelSpec other = spec;
    other.seed = spec.seed + 1;
    auto c = train_model(other, ex, epochs);
    CHECK_MESSAGE(!same_scores(score_batch(*a, ex), score_batch(*c, ex)),
                  spec.name, ": seeds ", spec.seed, " and ", other.seed, " score identically");
  }
}

}  // namespace recgrad::testing
