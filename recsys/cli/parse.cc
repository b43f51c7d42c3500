#include "recsys/cli/parse.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "recsys/experiment.h"
#include "recsys/formats.h"
#include "recsys/metrics.h"
#include "recsys/model_options.h"
#include "recsys/registry.h"

namespace recgrad::recsys::cli {
namespace {

void add_data_flags(CLI::App& cmd, Flags& f) {
  cmd.add_option("--data", f.data.path, "dataset file (or NCF directory), or 'synthetic'")
      ->capture_default_str();
  cmd.add_option("--format", f.data.format,
                 "ml-100k, ml-1m, ml-20m, uir, seq, ncf or csv (default: from the file name)");
  cmd.add_option("--min-rating", f.data.min_rating, "keep rows rated at least this (0 keeps all)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--k-core", f.data.k_core,
                 "after --min-rating, keep users and items with at least N rows (0 keeps all)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--split", f.data.split,
                 "loo (leave-one-out by time), ratio[:A/B/C] (random per user, default "
                 "0.8/0.1/0.1), global:A/B/C (random over all rows) or ncf (the NCF files' "
                 "test pairs and negatives)")
      ->capture_default_str();
  cmd.add_option("--test-file", f.data.test_path,
                 "test rows in --data's format (e.g. a paper's published split): they are the "
                 "test part, and --split cuts --data into train and validation only, e.g. "
                 "ratio:0.9/0.1/0");
  cmd.add_option("--data-seed", f.data.seed, "synthetic data and random splits")
      ->capture_default_str();
  cmd.add_option("--synthetic-users", f.data.synthetic_users,
                 "synthetic data only: users (default 1000)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--synthetic-items", f.data.synthetic_items,
                 "synthetic data only: items (default 1700)")
      ->check(CLI::PositiveNumber);
  cmd.add_option("--synthetic-rows", f.data.synthetic_rows,
                 "synthetic data only: interactions (default 100000)")
      ->check(CLI::PositiveNumber);
}

void add_eval_flags(CLI::App& cmd, Flags& f) {
  cmd.add_option("--protocol", f.protocol, "full, or sampled:N (N sampled negatives per user)")
      ->capture_default_str();
  cmd.add_option("--metrics-json", f.metrics_json, "write the results to this JSON file");
  cmd.add_option("--threads", f.threads, "threads (default: all cores)")
      ->check(CLI::PositiveNumber);
}

}  // namespace

CommandLine::CommandLine() : app_("recgrad: deep learning recommenders in C++") {
  app_.require_subcommand(1);
  train_ = app_.add_subcommand("train", "train a model, evaluate it beside Pop");
  train_->add_option("--model", flags_.model.name, "model name (see `recgrad models`)")->required();
  add_data_flags(*train_, flags_);
  add_eval_flags(*train_, flags_);
  train_->add_option("--epochs", flags_.model.epochs, "epochs (default: the model's)")
      ->check(CLI::PositiveNumber);
  train_->add_option("--dim", flags_.model.dim, "embedding / hidden size")
      ->check(CLI::PositiveNumber);
  train_->add_option("--lr", flags_.model.lr, "learning rate")->check(CLI::PositiveNumber);
  train_->add_option("--batch", flags_.model.batch_size, "batch size")->check(CLI::PositiveNumber);
  train_->add_option("--set", flags_.model_options,
                     "a model's own setting, key=value (repeatable; `recgrad models` lists them)");
  train_->add_option("--seed", flags_.model.seed, "parameters, shuffling, negatives")
      ->capture_default_str();
  train_->add_option("--patience", flags_.patience, "stop after N validations without improvement");
  train_->add_option("--metric", flags_.metric,
                     "validation metric for --patience and the best weights (default NDCG@10; "
                     "RMSE for rating models)");
  train_->add_option("--save", flags_.save, "checkpoint path (written every epoch and at the end)");
  train_->add_flag("--resume", flags_.resume, "continue from --save when it exists");
  train_->add_flag("--quiet", flags_.quiet, "no progress output");
  train_->add_flag("--no-check-finite", flags_.no_check_finite,
                   "train on through NaN/inf losses and gradients (default: stop, naming the "
                   "epoch, batch and parameter)");
  train_->add_flag("--detect-anomaly", flags_.detect_anomaly,
                   "check every op's output and gradient, naming the op that makes the first "
                   "NaN/inf (slow)");
  train_->add_flag("--no-validation", flags_.no_validation,
                   "do not validate after each epoch: the last epoch's weights are kept "
                   "(benchmarks; --patience then never stops)");
  train_->add_flag("--refit", flags_.refit,
                   "after validation has chosen the best epoch, train a fresh model (same seed) "
                   "on the training and validation rows for that many epochs and report its test "
                   "figures (as AutoRec's 90/10 protocol trains on all 90%); closed-form "
                   "models are fitted on those rows at once");
  train_->add_option("--pretrained", flags_.pretrained,
                     "neumf only: GMF_CKPT,MLP_CKPT from `train --model gmf|mlp --save` "
                     "(NCF pretraining: alpha 0.5, then SGD)");

  evaluate_ = app_.add_subcommand("evaluate", "evaluate a checkpoint on its test data");
  evaluate_->add_option("--checkpoint", flags_.checkpoint, "checkpoint from `recgrad train --save`")
      ->required()
      ->check(CLI::ExistingFile);
  add_eval_flags(*evaluate_, flags_);

  recommend_ = app_.add_subcommand("recommend", "top-k unseen items of a user (raw ids)");
  recommend_
      ->add_option("--checkpoint", flags_.checkpoint, "checkpoint from `recgrad train --save`")
      ->required()
      ->check(CLI::ExistingFile);
  recommend_->add_option("--user", flags_.user, "raw user id, as in the data file")->required();
  recommend_->add_option("-k", flags_.k, "list length")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  recommend_->add_option("--threads", flags_.threads, "threads (default: all cores)")
      ->check(CLI::PositiveNumber);

  export_ = app_.add_subcommand(
      "export", "write the data's train/valid/test parts (dense ids, TSV) and meta.json");
  add_data_flags(*export_, flags_);
  export_->add_option("--out", flags_.out, "directory to write into (created when missing)")
      ->required();

  profile_ = app_.add_subcommand(
      "profile", "per-op time (forward and backward) of training steps after a warm-up epoch");
  profile_->add_option("--model", flags_.model.name, "model name (see `recgrad models`)")
      ->required();
  add_data_flags(*profile_, flags_);
  profile_->add_option("--threads", flags_.threads, "threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  profile_->add_option("--dim", flags_.model.dim, "embedding / hidden size")
      ->check(CLI::PositiveNumber);
  profile_->add_option("--lr", flags_.model.lr, "learning rate")->check(CLI::PositiveNumber);
  profile_->add_option("--batch", flags_.model.batch_size, "batch size")
      ->check(CLI::PositiveNumber);
  profile_->add_option("--set", flags_.model_options,
                       "a model's own setting, key=value (repeatable)");
  profile_->add_option("--seed", flags_.model.seed, "parameters, shuffling, negatives")
      ->capture_default_str();
  profile_->add_option("--warmup-epochs", flags_.warmup_epochs, "epochs trained before profiling")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  profile_->add_option("--steps", flags_.profile_steps, "training steps profiled (summed)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  profile_->add_option("--json", flags_.profile_json, "also write the profile to this JSON file");

  app_.add_subcommand("models", "list the models with their defaults");
}

Command CommandLine::parse(int argc, const char* const* argv) {
  app_.parse(argc, argv);
  if (train_->parsed()) return Command::kTrain;
  if (evaluate_->parsed()) return Command::kEvaluate;
  if (recommend_->parsed()) return Command::kRecommend;
  if (export_->parsed()) return Command::kExport;
  if (profile_->parsed()) return Command::kProfile;
  return Command::kModels;
}

int CommandLine::exit(const CLI::ParseError& e, std::ostream& out, std::ostream& err) const {
  return app_.exit(e, out, err);
}

namespace {

// --metric names a metric the validation computes: an @K metric at one of the protocol's
// cut-offs, AUC, or RMSE/MAE for rating models. Checked here, not when the first validation
// asks for it after an epoch of training. (Whether the model ranks or predicts ratings is
// known only once it is built; a ranking metric for a rating model still fails then.)
void check_metric(const std::string& metric, const EvalOptions& protocol) {
  if (metric.empty()) return;
  std::vector<std::string> known = RankingMetrics(protocol.ks).names();
  known.push_back("RMSE");
  known.push_back("MAE");
  if (std::find(known.begin(), known.end(), metric) != known.end()) return;
  std::string list;
  for (const std::string& name : known) list += (list.empty() ? "" : ", ") + name;
  RECGRAD_CHECK(false, "--metric ", metric, ": not a metric this protocol computes (", list, ")");
}

// --pretrained GMF_CKPT,MLP_CKPT: neumf only, both files present (read after the data loads).
void check_pretrained(const std::string& flag, const std::string& model) {
  if (flag.empty()) return;
  RECGRAD_CHECK(model == "neumf", "--pretrained: only neumf is initialised from pretrained "
                "models, not ", model);
  const size_t comma = flag.find(',');
  RECGRAD_CHECK(comma != std::string::npos && comma > 0 && comma + 1 < flag.size() &&
                    flag.find(',', comma + 1) == std::string::npos,
                "--pretrained: '", flag, "' is not GMF_CHECKPOINT,MLP_CHECKPOINT");
  for (const std::string& path : {flag.substr(0, comma), flag.substr(comma + 1)})
    RECGRAD_CHECK(std::ifstream(path).good(), "--pretrained: cannot read ", path);
}

// --refit needs the validation that picks its epoch count, and starts one fresh model.
void check_refit(const Flags& flags) {
  if (!flags.refit) return;
  RECGRAD_CHECK(!flags.no_validation,
                "--refit: needs validation to choose the epoch count; drop --no-validation");
  RECGRAD_CHECK(!flags.resume, "--refit: cannot be combined with --resume");
  RECGRAD_CHECK(flags.pretrained.empty(), "--refit: cannot be combined with --pretrained (the "
                "pretrained towers saw only the training rows)");
}

}  // namespace

void check_flags(Command command, Flags& flags) {
  for (const std::string& option : flags.model_options)
    parse_model_option(option, flags.model.options);
  const bool trains = command == Command::kTrain || command == Command::kProfile;
  const bool reads_data = trains || command == Command::kExport;
  // evaluate and recommend take the model and data recorded in their checkpoint.
  if (trains) find_model(flags.model.name);
  if (reads_data) {
    parse_split(flags.data.split);
    if (!flags.data.format.empty()) canonical_format(flags.data.format);
  }
  if (command == Command::kTrain || command == Command::kEvaluate) {
    const EvalOptions protocol = parse_protocol(flags.protocol, flags.data.seed);
    if (command == Command::kTrain) {
      check_metric(flags.metric, protocol);
      check_pretrained(flags.pretrained, flags.model.name);
      check_refit(flags);
    }
  }
}

}  // namespace recgrad::recsys::cli
