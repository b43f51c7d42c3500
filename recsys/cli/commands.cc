#include "recsys/cli/commands.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>

#include "autograd/error.h"
#include "ops/runtime.h"
#include "optim/checkpoint.h"
#include "recsys/export.h"
#include "recsys/models/neumf.h"
#include "recsys/models/pop.h"
#include "recsys/trainer.h"

namespace recgrad::recsys::cli {
namespace {

using nlohmann::json;

// Checkpoint metadata keys of the model's --set options: "model.option.lambda" -> "250".
const std::string kOptionPrefix = "model.option.";

// The model and data a checkpoint was trained with, so evaluate/recommend can rebuild both.
optim::Metadata describe_run(const Flags& f) {
  optim::Metadata m;
  m.set("model", f.model.name);
  m.set_u64("model.dim", static_cast<uint64_t>(f.model.dim));
  m.set("model.lr", std::to_string(f.model.lr));
  m.set_u64("model.batch_size", static_cast<uint64_t>(f.model.batch_size));
  m.set_u64("model.epochs", static_cast<uint64_t>(f.model.epochs));
  m.set_u64("model.seed", f.model.seed);
  for (const auto& [key, value] : f.model.options) m.set(kOptionPrefix + key, value);
  m.set("data.path", f.data.path);
  m.set("data.format", f.data.format);
  m.set("data.min_rating", std::to_string(f.data.min_rating));
  m.set("data.split", f.data.split);
  m.set("data.test_path", f.data.test_path);
  m.set_u64("data.k_core", static_cast<uint64_t>(f.data.k_core));
  m.set_u64("data.seed", f.data.seed);
  m.set_u64("data.synthetic_users", static_cast<uint64_t>(f.data.synthetic_users));
  m.set_u64("data.synthetic_items", static_cast<uint64_t>(f.data.synthetic_items));
  m.set_u64("data.synthetic_rows", static_cast<uint64_t>(f.data.synthetic_rows));
  return m;
}

Flags flags_from_checkpoint(const Flags& given) {
  const optim::Metadata m = optim::read_checkpoint(given.checkpoint).metadata;
  RECGRAD_CHECK(m.has("model") && m.has("data.path"), given.checkpoint,
                ": not a checkpoint written by `recgrad train` (no model/data metadata)");
  Flags f = given;
  f.model.name = m.get("model");
  f.model.dim = static_cast<int64_t>(m.get_u64("model.dim"));
  f.model.lr = std::stod(m.get("model.lr"));
  f.model.batch_size = static_cast<int64_t>(m.get_u64("model.batch_size"));
  f.model.epochs = static_cast<int64_t>(m.get_u64("model.epochs"));
  f.model.seed = m.get_u64("model.seed");
  f.model.options.clear();
  for (const auto& [key, value] : m.entries())
    if (key.rfind(kOptionPrefix, 0) == 0) f.model.options[key.substr(kOptionPrefix.size())] = value;
  f.data.path = m.get("data.path");
  f.data.format = m.get("data.format");
  f.data.min_rating = std::stod(m.get("data.min_rating"));
  f.data.split = m.get("data.split");
  f.data.test_path = m.has("data.test_path") ? m.get("data.test_path") : "";
  if (m.has("data.k_core")) f.data.k_core = static_cast<int64_t>(m.get_u64("data.k_core"));
  f.data.seed = m.get_u64("data.seed");
  // Absent from checkpoints written before they were recorded (the defaults then applied).
  for (auto [key, value] : {std::pair{"data.synthetic_users", &f.data.synthetic_users},
                            {"data.synthetic_items", &f.data.synthetic_items},
                            {"data.synthetic_rows", &f.data.synthetic_rows}})
    if (m.has(key)) *value = static_cast<int64_t>(m.get_u64(key));
  f.refit = m.has("data.refit") && m.get("data.refit") == "1";
  return f;
}

// The experiment a checkpoint's model was trained on: with --refit, training took the
// validation rows too (and the model reads its training data, e.g. AutoRec's input rows).
Experiment load_experiment(const Flags& f) {
  Experiment ex = Experiment::load(f.data);
  return f.refit ? ex.with_validation_in_training() : ex;
}

json metrics_json(const EvalResult& r) {
  json out = json::object();
  for (const auto& [name, value] : r.metrics) out[name] = std::isfinite(value) ? json(value) : json();
  return out;
}

void write_json(const std::string& path, const json& j) {
  if (path.empty()) return;
  std::ofstream out(path);
  RECGRAD_CHECK(out.good(), "--metrics-json: cannot write ", path);
  out << j.dump(2) << "\n";
  RECGRAD_CHECK(out.good(), "--metrics-json: failed writing ", path);
}

void setup_threads(const Flags& f) {
  if (f.threads > 0) set_num_threads(f.threads);
}

std::unique_ptr<Recommender> build_model(const Flags& f, const Experiment& ex) {
  auto model = find_model(f.model.name).make(f.model, ex.data.num_users(), ex.data.num_items());
  model->attach(ex.training());
  return model;
}

// --pretrained GMF_CKPT,MLP_CKPT: NCF's pretraining of NeuMF from trained GMF and MLP models.
void load_pretrained_towers(Recommender& model, const std::string& flag) {
  auto* neumf = dynamic_cast<NeuMf*>(&model);
  RECGRAD_CHECK(neumf != nullptr && neumf->name() == "neumf", "--pretrained: only neumf is "
                "initialised from pretrained models, not ", model.name());
  const size_t comma = flag.find(',');
  RECGRAD_CHECK(comma != std::string::npos && comma > 0 && comma + 1 < flag.size() &&
                    flag.find(',', comma + 1) == std::string::npos,
                "--pretrained: '", flag, "' is not GMF_CHECKPOINT,MLP_CHECKPOINT");
  load_pretrained(*neumf, flag.substr(0, comma), flag.substr(comma + 1));
  std::fprintf(stderr, "initialised from %s (alpha 0.5); fine-tuning with SGD\n", flag.c_str());
}

// Fits a closed-form model; returns the seconds it took.
double timed_fit(Recommender& model) {
  const auto start = std::chrono::steady_clock::now();
  model.fit();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

EvalResult evaluate_pop(const Experiment& ex, const EvalOptions& opts) {
  Pop pop(ex.data.num_items());
  pop.attach(ex.training());
  pop.fit();
  return evaluate_model(pop, ex, opts);
}

json run_json(const Flags& f, const Experiment& ex, const EvalResult& result) {
  json j;
  j["model"] = f.model.name;
  if (!f.model.options.empty()) j["options"] = f.model.options;
  j["dataset"] = ex.data.name;
  j["split"] = f.data.split;
  if (!f.data.test_path.empty()) j["test_file"] = f.data.test_path;
  j["protocol"] = result.protocol;
  j["metrics"] = metrics_json(result);
  j["users_evaluated"] = result.users_evaluated;
  return j;
}

}  // namespace

int run_train(const Flags& f) {
  setup_threads(f);
  find_model(f.model.name);  // an unknown name fails before any data is read
  const Experiment ex = Experiment::load(f.data);
  std::fprintf(stderr, "%s\n%s\n", runtime_summary().c_str(), ex.describe().c_str());
  auto model = build_model(f, ex);
  if (!f.pretrained.empty()) load_pretrained_towers(*model, f.pretrained);
  const EvalOptions eval_opts = parse_protocol(f.protocol, f.data.seed);
  std::fprintf(stderr, "%s", model->summary().c_str());

  TrainResult trained;
  double fit_seconds = 0;
  const int64_t epochs = model->is_iterative() ? epochs_for(f.model) : 0;
  const std::string valid_metric =
      !f.metric.empty() ? f.metric : model->predicts_ratings() ? "RMSE" : "NDCG@10";
  TrainerOptions t;
  t.epochs = epochs;
  t.metric = valid_metric;
  t.patience = f.patience;
  t.checkpoint = f.save;
  t.resume = f.resume;
  t.metadata = describe_run(f);
  t.progress = f.quiet ? ProgressMode::kQuiet : ProgressMode::kAuto;
  t.check_finite = !f.no_check_finite;
  t.detect_anomaly = f.detect_anomaly;
  // A split without validation rows leaves nothing to refit on (nor epochs to choose).
  RECGRAD_CHECK(!f.refit || !ex.split.valid.users.empty(), "--refit: split ", f.data.split,
                " has no validation part to choose the settings on and add to training");
  if (model->is_iterative()) {
    auto opt = model->make_optimizer();
    const bool has_valid = !ex.split.valid.users.empty() && !f.no_validation;
    trained = train(*model, *opt, t,
                    has_valid ? Validator([&](Recommender& m) {
                      return evaluate_model(m, ex, eval_opts, /*on_validation=*/true).at(t.metric);
                    })
                              : Validator());
  } else if (!f.refit) {  // with --refit, only the model fitted on train + valid below counts
    fit_seconds = timed_fit(*model);
  }

  // --refit: the test figures are those of a fresh model trained on train + valid for the
  // epoch count validation chose; the selection run's log stays in the JSON. A closed-form
  // model has no epochs to choose (its settings were chosen on validation beforehand): it is
  // fitted once, on train + valid.
  std::optional<Experiment> refit_ex;
  json refit_json;
  if (f.refit) {
    RECGRAD_CHECK(!model->is_iterative() || trained.best_epoch > 0,
                  "--refit: validation chose no epoch (no finite ", valid_metric, ")");
    refit_ex = ex.with_validation_in_training();
    refit_json["train_rows"] = refit_ex->split.train.size();
    model = build_model(f, *refit_ex);
    if (model->is_iterative()) {
      std::fprintf(stderr,
                   "refit: a fresh model on %lld training + validation rows for %lld epochs (the "
                   "best on validation)\n",
                   static_cast<long long>(refit_ex->split.train.size()),
                   static_cast<long long>(trained.best_epoch));
      auto opt = model->make_optimizer();
      TrainerOptions r = t;
      r.epochs = trained.best_epoch;
      r.patience = 0;
      r.checkpoint.clear();  // the refit model is saved once, below
      const TrainResult refit = train(*model, *opt, r, Validator());
      refit_json["epochs"] = trained.best_epoch;
      refit_json["train_seconds"] = refit.train_seconds;
    } else {
      std::fprintf(stderr, "refit: %s fitted on %lld training + validation rows\n",
                   f.model.name.c_str(), static_cast<long long>(refit_ex->split.train.size()));
      fit_seconds = timed_fit(*model);
    }
  }
  const Experiment& test_ex = refit_ex ? *refit_ex : ex;

  const EvalResult result = evaluate_model(*model, test_ex, eval_opts);
  std::printf("%s %s\n", f.model.name.c_str(), result.str().c_str());
  json j = run_json(f, ex, result);
  if (f.refit) j["refit"] = refit_json;
  j["epochs"] = epochs;
  if (model->is_iterative()) j["batch_size"] = model->train_config().batch_size;
  j["best_epoch"] = trained.best_epoch;
  // The validation figure the best epoch was chosen on, so runs can be compared without the
  // test split (null without validation).
  j["valid_metric"] = trained.best_epoch > 0 ? json(valid_metric) : json();
  j["best_valid"] = std::isfinite(trained.best_metric) ? json(trained.best_metric) : json();
  j["train_seconds"] = trained.train_seconds;
  j["train_examples_per_second"] =
      trained.train_seconds > 0 ? trained.examples / trained.train_seconds : 0.0;
  // Per epoch and per window of batches, so a benchmark can leave out the warm-up and take a
  // median.
  json epochs_log = json::array();
  for (const EpochLog& e : trained.epochs) {
    json windows = json::array();
    for (const WindowLog& w : e.windows)
      windows.push_back({{"batches", w.batches}, {"examples", w.examples}, {"seconds", w.seconds}});
    epochs_log.push_back({{"epoch", e.epoch},
                          {"seconds", e.seconds},
                          {"examples", e.examples},
                          {"loss", std::isfinite(e.loss) ? json(e.loss) : json()},
                          {"valid",
                           std::isfinite(e.valid_metric) ? json(e.valid_metric) : json()},
                          {"windows", windows}});
  }
  j["epochs_log"] = epochs_log;
  j["fit_seconds"] = fit_seconds;  // closed-form models (Pop, ItemKNN, EASE): fit() alone
  j["train_rows"] = ex.split.train.size();
  j["eval_seconds"] = result.seconds;  // the test evaluation, scoring included
  if (!model->predicts_ratings()) {
    const EvalResult pop = evaluate_pop(test_ex, eval_opts);
    std::printf("pop %s\n", pop.str().c_str());
    j["baselines"]["pop"] = metrics_json(pop);
  }
  if (!f.save.empty()) {
    optim::Metadata meta = describe_run(f);
    meta.set_u64("epoch", static_cast<uint64_t>(f.refit ? trained.best_epoch : epochs));
    meta.set("data.refit", f.refit ? "1" : "0");
    optim::save(*model, f.save, meta);
    std::fprintf(stderr, "saved %s\n", f.save.c_str());
  }
  write_json(f.metrics_json, j);
  return 0;
}

int run_evaluate(const Flags& given) {
  setup_threads(given);
  const Flags f = flags_from_checkpoint(given);
  const Experiment ex = load_experiment(f);
  auto model = build_model(f, ex);
  optim::load(*model, f.checkpoint);
  const EvalResult result = evaluate_model(*model, ex, parse_protocol(given.protocol, f.data.seed));
  std::printf("%s %s\n", f.model.name.c_str(), result.str().c_str());
  write_json(given.metrics_json, run_json(f, ex, result));
  return 0;
}

int run_recommend(const Flags& given) {
  setup_threads(given);
  const Flags f = flags_from_checkpoint(given);
  RECGRAD_CHECK(given.k > 0, "-k: must be positive, got ", given.k);
  const Experiment ex = load_experiment(f);
  const int64_t user = ex.data.user_ids.find(given.user);
  RECGRAD_CHECK(user >= 0, "--user: '", given.user, "' is not a user of ", ex.data.name);
  auto model = build_model(f, ex);
  optim::load(*model, f.checkpoint);
  // Everything the user has interacted with is history and is never recommended again.
  std::vector<std::vector<int64_t>> known(ex.data.num_users());
  for (int64_t u = 0; u < ex.data.num_users(); ++u) {
    known[u].assign(ex.train_valid.begin(u), ex.train_valid.end(u));
    known[u].insert(known[u].end(), ex.test.begin(u), ex.test.end(u));
  }
  const UserItems all = UserItems::from_lists(known, ex.data.num_items());
  const TopK top = model->recommend({user}, given.k, all, all);
  for (int64_t r = 0; r < top.items.numel(); ++r) {
    const int64_t item = top.items.values[r];
    if (item < 0) break;  // fewer unseen items than k
    std::printf("%lld\t%s\t%.6g\n", static_cast<long long>(r + 1),
                ex.data.item_ids.raw(item).c_str(), top.scores.data()[r]);
  }
  return 0;
}

int run_export(const Flags& f) {
  const Experiment ex = Experiment::load(f.data);
  std::fprintf(stderr, "%s\n", ex.describe().c_str());
  const ExportSummary s = export_experiment(ex, f.out);
  std::printf("wrote %s/{train,valid,test}.tsv (%lld/%lld/%lld rows) and meta.json\n",
              f.out.c_str(), static_cast<long long>(s.train_rows),
              static_cast<long long>(s.valid_rows), static_cast<long long>(s.test_rows));
  return 0;
}

int run_models() {
  for (const ModelInfo& m : model_registry())
    std::printf("%-8s %-22s %s\n         defaults: %s\n", m.name.c_str(), m.family.c_str(),
                m.paper.c_str(), m.defaults.c_str());
  return 0;
}

}  // namespace recgrad::recsys::cli
