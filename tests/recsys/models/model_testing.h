#pragma once
// What the model tests share: the synthetic experiment (random 80/10/10 split), training for a
// few epochs, NDCG@10 beside Pop, and bit-exact score comparisons for round trips and
// determinism.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "optim/checkpoint.h"
#include "recsys/experiment.h"
#include "recsys/models/pop.h"
#include "recsys/registry.h"
#include "recsys/trainer.h"
#include "tests/recsys/temp_file.h"

namespace recgrad::testing {

/// The built-in synthetic data, split at random per user (loaded once per test binary).
inline const recsys::Experiment& synthetic_ratio() {
  static const recsys::Experiment ex = [] {
    recsys::DataSpec spec;
    spec.split = "ratio";
    return recsys::Experiment::load(spec);
  }();
  return ex;
}

/// The registered model `name` with `spec`'s settings, attached to ex's training data.
inline std::unique_ptr<recsys::Recommender> make_attached(const recsys::ModelSpec& spec,
                                                          const recsys::Experiment& ex) {
  auto m = recsys::find_model(spec.name).make(spec, ex.data.num_users(), ex.data.num_items());
  m->attach(ex.training());
  return m;
}

/// Trains an iterative model for `epochs` (no validation) or fits a closed-form one.
inline void fit(recsys::Recommender& m, int64_t epochs) {
  if (!m.is_iterative()) {
    m.fit();
    return;
  }
  auto opt = m.make_optimizer();
  recsys::TrainerOptions t;
  t.epochs = epochs;
  t.progress = recsys::ProgressMode::kQuiet;
  recsys::train(m, *opt, t);
}

/// The full-ranking test metrics of a model.
inline recsys::EvalResult test_metrics(recsys::Recommender& m, const recsys::Experiment& ex) {
  return recsys::evaluate_model(m, ex, recsys::EvalOptions{});
}

/// Pop's test metrics on the same data.
inline recsys::EvalResult pop_metrics(const recsys::Experiment& ex) {
  recsys::Pop pop(ex.data.num_items());
  pop.attach(ex.training());
  pop.fit();
  return test_metrics(pop, ex);
}

/// Scores of the first `n` users against every item, in eval mode under NoGradGuard, with the
/// test-time history.
inline Tensor scores_of(recsys::Recommender& m, const recsys::Experiment& ex, int64_t n = 64) {
  NoGradGuard no_grad;
  m.eval();
  std::vector<int64_t> users(n);
  for (int64_t u = 0; u < n; ++u) users[u] = u;
  Tensor s = m.score(users, ex.train_valid);
  m.train();
  return s;
}

/// Same shape and the same bytes.
inline bool bit_identical(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

/// Saves `m`, loads the file into a freshly built `spec` model (another seed, so nothing
/// matches unless the checkpoint put it there) attached to ex, and returns it.
inline std::unique_ptr<recsys::Recommender> round_trip(const recsys::Recommender& m,
                                                       recsys::ModelSpec spec,
                                                       const recsys::Experiment& ex) {
  const std::string path = temp_dir() + "/" + spec.name + "_roundtrip.ckpt";
  optim::save(m, path);
  spec.seed += 1;
  auto fresh = make_attached(spec, ex);
  optim::load(*fresh, path);
  return fresh;
}

/// Saves `trained`, loads the file into `fresh` (built with another seed and attached) and
/// checks that both then score bit for bit alike, and did not before the load.
inline void check_round_trip(recsys::Recommender& trained, recsys::Recommender& fresh,
                             const recsys::Experiment& ex, const std::string& file) {
  const Tensor before = scores_of(trained, ex);
  CHECK_FALSE(bit_identical(before, scores_of(fresh, ex)));  // the load must do the work
  const std::string path = temp_dir() + "/" + file;
  optim::save(trained, path);
  optim::load(fresh, path);
  CHECK(bit_identical(before, scores_of(fresh, ex)));
}

}  // namespace recgrad::testing
