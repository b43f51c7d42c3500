// `recgrad train --refit`: validation picks the epoch count, then a fresh model trains on the
// training and validation rows for that many epochs, and its test figures are the ones reported.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "recsys/cli/commands.h"
#include "recsys/experiment.h"
#include "recsys/registry.h"
#include "recsys/trainer.h"
#include "tests/recsys/cli/json_file.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using nlohmann::json;
using recgrad::testing::read_json;

namespace {

cli::Flags rating_model_flags() {
  cli::Flags f;
  f.model.name = "autorec";  // its predictions read the training rows it is attached to
  f.model.dim = 20;
  f.model.epochs = 6;
  f.data.path = "synthetic";
  f.data.synthetic_users = 150;
  f.data.synthetic_items = 200;
  f.data.synthetic_rows = 6000;
  f.data.split = "ratio";
  f.quiet = true;
  return f;
}

}  // namespace

TEST_CASE("train --refit: the test figures are a fresh model's, trained on train + valid") {
  cli::Flags f = rating_model_flags();
  f.refit = true;
  f.metrics_json = recgrad::testing::temp_dir() + "/refit.json";
  f.save = recgrad::testing::temp_dir() + "/refit.ckpt";
  REQUIRE(cli::run_train(f) == 0);
  const json j = read_json(f.metrics_json);
  const int64_t best = j["best_epoch"].get<int64_t>();
  REQUIRE(best >= 1);
  CHECK(j["refit"]["epochs"].get<int64_t>() == best);

  // The same by hand: merge, train `best` epochs without validation, evaluate on the test part.
  const Experiment ex = Experiment::load(f.data);
  const Experiment full = ex.with_validation_in_training();
  CHECK(j["refit"]["train_rows"].get<int64_t>() == ex.split.train.size() + ex.split.valid.size());
  CHECK(j["train_rows"].get<int64_t>() == ex.split.train.size());
  auto model = find_model(f.model.name).make(f.model, full.data.num_users(), full.data.num_items());
  model->attach(full.training());
  auto opt = model->make_optimizer();
  TrainerOptions t;
  t.epochs = best;
  t.progress = ProgressMode::kQuiet;
  train(*model, *opt, t, Validator());
  const EvalResult by_hand = evaluate_model(*model, full, parse_protocol("full", f.data.seed));
  CHECK(j["metrics"]["RMSE"].get<double>() == by_hand.at("RMSE"));
  CHECK(j["metrics"]["MAE"].get<double>() == by_hand.at("MAE"));

  // Without --refit the selection run's own weights are tested: other figures.
  cli::Flags plain = rating_model_flags();
  plain.metrics_json = recgrad::testing::temp_dir() + "/plain.json";
  REQUIRE(cli::run_train(plain) == 0);
  CHECK(read_json(plain.metrics_json)["metrics"]["RMSE"].get<double>() != by_hand.at("RMSE"));

  // The saved model is the refit one, and `evaluate` rebuilds the data it was trained on.
  cli::Flags eval;
  eval.checkpoint = f.save;
  eval.metrics_json = recgrad::testing::temp_dir() + "/evaluated.json";
  REQUIRE(cli::run_evaluate(eval) == 0);
  CHECK(read_json(eval.metrics_json)["metrics"]["RMSE"].get<double>() == by_hand.at("RMSE"));
}

TEST_CASE("train --refit: refused where there is no validation to choose the epochs") {
  cli::Flags f = rating_model_flags();
  f.refit = true;
  f.data.split = "global:0.9/0/0.1";
  CHECK_THROWS_WITH_AS(cli::run_train(f), doctest::Contains("no validation part"), Error);
  f.model.name = "ease";  // closed form: nothing to add to training either
  CHECK_THROWS_WITH_AS(cli::run_train(f), doctest::Contains("no validation part"), Error);
}

TEST_CASE("train --refit: a closed-form model is fitted on train + valid at once") {
  cli::Flags f = rating_model_flags();
  f.model.name = "ease";
  f.refit = true;
  f.metrics_json = recgrad::testing::temp_dir() + "/refit_ease.json";
  REQUIRE(cli::run_train(f) == 0);
  const json j = read_json(f.metrics_json);
  const Experiment ex = Experiment::load(f.data);
  const Experiment full = ex.with_validation_in_training();
  CHECK(j["refit"]["train_rows"].get<int64_t>() == full.split.train.size());
  CHECK_FALSE(j["refit"].contains("epochs"));

  auto model = find_model(f.model.name).make(f.model, full.data.num_users(), full.data.num_items());
  model->attach(full.training());
  model->fit();
  const EvalResult by_hand = evaluate_model(*model, full, parse_protocol("full", f.data.seed));
  CHECK(j["metrics"]["NDCG@10"].get<double>() == by_hand.at("NDCG@10"));
  CHECK(j["metrics"]["Recall@10"].get<double>() == by_hand.at("Recall@10"));

  cli::Flags plain = f;
  plain.refit = false;
  plain.metrics_json = recgrad::testing::temp_dir() + "/plain_ease.json";
  REQUIRE(cli::run_train(plain) == 0);
  CHECK(read_json(plain.metrics_json)["metrics"]["NDCG@10"].get<double>() != by_hand.at("NDCG@10"));
}
