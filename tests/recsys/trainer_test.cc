// The shared training loop: early stopping restores the best weights, a non-finite loss is an
// error naming where it happened, a resumed run continues exactly, the JSON-lines log.
#include "recsys/trainer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "autograd/error.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "recsys/experiment.h"
#include "recsys/recommender.h"
#include "tests/recsys/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

// A tiny fake model: one parameter w [4] pulled towards a target that changes with every batch,
// so the weights move at every step. Every user scores the 4 items with w. The loss is NaN at
// one chosen (1-based epoch, 0-based batch) when asked.
class Fake : public Recommender {
 public:
  static constexpr int64_t kBatches = 5;
  static constexpr int64_t kItems = 4;

  explicit Fake(int64_t nan_epoch = 0, int64_t nan_batch = 0)
      : Recommender(TrainConfig{/*lr=*/0.05, /*weight_decay=*/0, /*batch_size=*/8, /*seed=*/0}),
        nan_epoch_(nan_epoch), nan_batch_(nan_batch) {
    w_ = register_parameter("w", tensor({0.5f, -0.25f, 1.f, 0.f}, {kItems}));
  }
  std::string name() const override { return "fake"; }
  void attach(const TrainingData&) override {}
  int64_t start_epoch(int64_t epoch) override {
    epoch_ = epoch + 1;
    return kBatches;
  }
  int64_t batch_examples(int64_t) const override { return 8; }
  Tensor loss(int64_t index) override {
    std::vector<float> target(kItems);
    for (int64_t i = 0; i < kItems; ++i)
      target[i] = std::sin(static_cast<float>(epoch_ * 7 + index * 3 + i));
    Tensor l = sum(square(sub(w_, tensor(target, {kItems}))));
    if (epoch_ == nan_epoch_ && index == nan_batch_) l = add(l, std::numeric_limits<float>::quiet_NaN());
    return l;
  }
  Tensor score(const std::vector<int64_t>& users, const UserItems&) override {
    Tensor out = Tensor::empty({static_cast<int64_t>(users.size()), kItems});
    for (size_t b = 0; b < users.size(); ++b)
      std::copy(w_.data(), w_.data() + kItems, out.data() + b * kItems);
    return out;
  }
  std::vector<float> weights() const { return w_.to_vector(); }

 private:
  Tensor w_;
  int64_t nan_epoch_, nan_batch_, epoch_ = 0;
};

TrainerOptions quiet(int64_t epochs) {
  TrainerOptions t;
  t.epochs = epochs;
  t.progress = ProgressMode::kQuiet;
  return t;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

ModelSpec bpr_spec() {
  ModelSpec s;
  s.name = "bpr";
  s.lr = 3e-3;
  s.batch_size = 256;
  s.seed = 7;
  return s;
}

}  // namespace

TEST_CASE("train: patience stops early and restores the best epoch's weights") {
  Fake model;
  auto opt = model.make_optimizer();
  TrainerOptions t = quiet(10);
  t.patience = 2;
  // Best at epoch 2; epochs 3 and 4 do not improve, so training stops after epoch 4.
  const std::vector<double> metric{0.1, 0.3, 0.2, 0.25, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9};
  std::vector<std::vector<float>> at_epoch;
  const TrainResult r = train(model, *opt, t, [&](Recommender&) {
    at_epoch.push_back(model.weights());
    return metric[at_epoch.size() - 1];
  });
  CHECK(r.stopped_early);
  REQUIRE(r.epochs.size() == 4);
  REQUIRE(at_epoch.size() == 4);
  CHECK(r.best_epoch == 2);
  CHECK(r.best_metric == 0.3);
  CHECK(model.weights() == at_epoch[1]);
  CHECK(at_epoch[3] != at_epoch[1]);  // the weights moved after the best epoch: restoring mattered
}

TEST_CASE("train: without restore_best, early stopping keeps the last weights") {
  Fake model;
  auto opt = model.make_optimizer();
  TrainerOptions t = quiet(10);
  t.patience = 1;
  t.restore_best = false;
  std::vector<std::vector<float>> at_epoch;
  const TrainResult r = train(model, *opt, t, [&](Recommender&) {
    at_epoch.push_back(model.weights());
    return at_epoch.size() == 1 ? 1.0 : 0.5;  // best at epoch 1, worse at epoch 2: stop
  });
  CHECK(r.stopped_early);
  CHECK(r.best_epoch == 1);
  REQUIRE(at_epoch.size() == 2);
  CHECK(model.weights() == at_epoch[1]);
}

TEST_CASE("train: a NaN loss is an error naming the model, epoch and batch") {
  Fake model(/*nan_epoch=*/2, /*nan_batch=*/2);
  auto opt = model.make_optimizer();
  CHECK_THROWS_WITH_AS(train(model, *opt, quiet(5)),
                       doctest::Contains("fake: the loss is nan at epoch 2, batch 3 of 5"), Error);
}

TEST_CASE("train: 2 epochs then a resumed 2 give bit-identical scores to 4 straight") {
  const Experiment ex = Experiment::load(small_synthetic());
  const std::string dir = temp_dir();
  const Validator validate = [&](Recommender& m) {
    return evaluate_model(m, ex, EvalOptions{}, /*on_validation=*/true).at("NDCG@10");
  };

  auto straight = build_model(bpr_spec(), ex);
  TrainerOptions t = quiet(4);
  t.checkpoint = dir + "/straight.ckpt";
  const TrainResult full = train(*straight, *straight->make_optimizer(), t, validate);

  auto first = build_model(bpr_spec(), ex);
  t = quiet(2);
  t.checkpoint = dir + "/halves.ckpt";
  train(*first, *first->make_optimizer(), t, validate);

  // A new process, in effect: a freshly built model and optimizer, resumed from the file.
  auto resumed = build_model(bpr_spec(), ex);
  t.epochs = 4;
  t.resume = true;
  const TrainResult rest = train(*resumed, *resumed->make_optimizer(), t, validate);

  REQUIRE(rest.epochs.size() == 2);
  CHECK(rest.epochs[0].epoch == 3);
  CHECK(rest.best_epoch == full.best_epoch);
  CHECK(rest.epochs[1].loss == full.epochs[3].loss);
  CHECK(same_scores(score_batch(*resumed, ex), score_batch(*straight, ex)));
  CHECK_FALSE(same_scores(score_batch(*first, ex), score_batch(*straight, ex)));  // 2 epochs != 4
}

TEST_CASE("train: each epoch's batches are timed in windows of equal batch counts") {
  // (windows asked, batches per window): Fake has 5 batches of 8 examples.
  const std::vector<std::pair<int64_t, std::vector<int64_t>>> cases = {
      {8, {1, 1, 1, 1, 1}}, {5, {1, 1, 1, 1, 1}}, {2, {3, 2}}, {3, {2, 2, 1}}, {1, {5}}, {0, {5}}};
  for (const auto& [asked, want] : cases) {
    CAPTURE(asked);
    Fake model;
    auto opt = model.make_optimizer();
    TrainerOptions t = quiet(2);
    t.windows_per_epoch = asked;
    const TrainResult r = train(model, *opt, t);
    REQUIRE(r.epochs.size() == 2);
    for (const EpochLog& e : r.epochs) {
      std::vector<int64_t> batches;
      int64_t examples = 0;
      double seconds = 0;
      for (const WindowLog& w : e.windows) {
        batches.push_back(w.batches);
        examples += w.examples;
        CHECK(w.examples == 8 * w.batches);
        CHECK(w.seconds >= 0);
        seconds += w.seconds;
      }
      CHECK(batches == want);
      CHECK(examples == e.examples);
      CHECK(seconds <= e.seconds);  // start_epoch is in the epoch, not in a window
    }
  }
}

TEST_CASE("train: the JSON-lines log has one line per epoch, null when not validated") {
  const std::string path = temp_dir() + "/trainer_log.jsonl";
  std::remove(path.c_str());
  Fake model;
  auto opt = model.make_optimizer();
  TrainerOptions t = quiet(3);
  t.eval_every = 2;
  t.jsonl_log = path;
  train(model, *opt, t, [](Recommender&) { return 0.5; });
  const std::vector<std::string> lines = lines_of(path);
  REQUIRE(lines.size() == 3);
  for (int e = 1; e <= 3; ++e) {
    const std::string& line = lines[e - 1];
    CHECK_MESSAGE(line.rfind("{\"epoch\": " + std::to_string(e) + ", \"loss\": ", 0) == 0, line);
    CHECK_MESSAGE(line.find("\"examples\": 40") != std::string::npos, line);
    CHECK(line.back() == '}');
  }
  CHECK(lines[0].find("\"valid_NDCG@10\": null}") != std::string::npos);
  CHECK(lines[1].find("\"valid_NDCG@10\": 0.5}") != std::string::npos);
  CHECK(lines[2].find("\"valid_NDCG@10\": null}") != std::string::npos);
}
