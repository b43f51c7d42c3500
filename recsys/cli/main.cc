// recgrad: train, evaluate and serve recommenders from the command line.
//   recgrad train --model bpr [--data synthetic|PATH] [--metrics-json out.json] ...
//   recgrad evaluate --checkpoint model.ckpt [--protocol sampled:100]
//   recgrad recommend --checkpoint model.ckpt --user 196 -k 10
//   recgrad export [--data synthetic|PATH] --out DIR
//   recgrad profile --model sasrec [--steps 10] [--json profile.json]
//   recgrad models
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "recsys/cli/commands.h"
#include "recsys/model_options.h"

using recgrad::recsys::cli::Flags;

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
  cmd.add_option("--data-seed", f.data.seed, "synthetic data and random splits")->capture_default_str();
  cmd.add_option("--synthetic-users", f.data.synthetic_users,
                 "synthetic data only: users (default 1000)")->check(CLI::PositiveNumber);
  cmd.add_option("--synthetic-items", f.data.synthetic_items,
                 "synthetic data only: items (default 1700)")->check(CLI::PositiveNumber);
  cmd.add_option("--synthetic-rows", f.data.synthetic_rows,
                 "synthetic data only: interactions (default 100000)")->check(CLI::PositiveNumber);
}

void add_eval_flags(CLI::App& cmd, Flags& f) {
  cmd.add_option("--protocol", f.protocol, "full, or sampled:N (N sampled negatives per user)")
      ->capture_default_str();
  cmd.add_option("--metrics-json", f.metrics_json, "write the results to this JSON file");
  cmd.add_option("--threads", f.threads, "threads (default: all cores)")->check(CLI::PositiveNumber);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"recgrad: deep learning recommenders in C++"};
  app.require_subcommand(1);
  Flags f;

  CLI::App* train = app.add_subcommand("train", "train a model, evaluate it beside Pop");
  train->add_option("--model", f.model.name, "model name (see `recgrad models`)")->required();
  add_data_flags(*train, f);
  add_eval_flags(*train, f);
  train->add_option("--epochs", f.model.epochs, "epochs (default: the model's)")->check(CLI::PositiveNumber);
  train->add_option("--dim", f.model.dim, "embedding / hidden size")->check(CLI::PositiveNumber);
  train->add_option("--lr", f.model.lr, "learning rate")->check(CLI::PositiveNumber);
  train->add_option("--batch", f.model.batch_size, "batch size")->check(CLI::PositiveNumber);
  train->add_option("--set", f.model_options,
                    "a model's own setting, key=value (repeatable; `recgrad models` lists them)");
  train->add_option("--seed", f.model.seed, "parameters, shuffling, negatives")->capture_default_str();
  train->add_option("--patience", f.patience, "stop after N validations without improvement");
  train->add_option("--metric", f.metric,
                    "validation metric for --patience and the best weights (default NDCG@10; "
                    "RMSE for rating models)");
  train->add_option("--save", f.save, "checkpoint path (written every epoch and at the end)");
  train->add_flag("--resume", f.resume, "continue from --save when it exists");
  train->add_flag("--quiet", f.quiet, "no progress output");
  train->add_flag("--no-check-finite", f.no_check_finite,
                  "train on through NaN/inf losses and gradients (default: stop, naming the "
                  "epoch, batch and parameter)");
  train->add_flag("--detect-anomaly", f.detect_anomaly,
                  "check every op's output and gradient, naming the op that makes the first "
                  "NaN/inf (slow)");
  train->add_flag("--no-validation", f.no_validation,
                  "do not validate after each epoch: the last epoch's weights are kept "
                  "(benchmarks; --patience then never stops)");
  train->add_option("--pretrained", f.pretrained,
                    "neumf only: GMF_CKPT,MLP_CKPT from `train --model gmf|mlp --save` "
                    "(NCF pretraining: alpha 0.5, then SGD)");

  CLI::App* evaluate = app.add_subcommand("evaluate", "evaluate a checkpoint on its test data");
  evaluate->add_option("--checkpoint", f.checkpoint, "checkpoint from `recgrad train --save`")
      ->required()
      ->check(CLI::ExistingFile);
  add_eval_flags(*evaluate, f);

  CLI::App* recommend = app.add_subcommand("recommend", "top-k unseen items of a user (raw ids)");
  recommend->add_option("--checkpoint", f.checkpoint, "checkpoint from `recgrad train --save`")
      ->required()
      ->check(CLI::ExistingFile);
  recommend->add_option("--user", f.user, "raw user id, as in the data file")->required();
  recommend->add_option("-k", f.k, "list length")->capture_default_str()->check(CLI::PositiveNumber);
  recommend->add_option("--threads", f.threads, "threads (default: all cores)")->check(CLI::PositiveNumber);

  CLI::App* export_cmd = app.add_subcommand(
      "export", "write the data's train/valid/test parts (dense ids, TSV) and meta.json");
  add_data_flags(*export_cmd, f);
  export_cmd->add_option("--out", f.out, "directory to write into (created when missing)")
      ->required();

  CLI::App* profile = app.add_subcommand(
      "profile", "per-op time (forward and backward) of training steps after a warm-up epoch");
  profile->add_option("--model", f.model.name, "model name (see `recgrad models`)")->required();
  add_data_flags(*profile, f);
  profile->add_option("--threads", f.threads, "threads (default: all cores)")
      ->check(CLI::PositiveNumber);
  profile->add_option("--dim", f.model.dim, "embedding / hidden size")->check(CLI::PositiveNumber);
  profile->add_option("--lr", f.model.lr, "learning rate")->check(CLI::PositiveNumber);
  profile->add_option("--batch", f.model.batch_size, "batch size")->check(CLI::PositiveNumber);
  profile->add_option("--set", f.model_options, "a model's own setting, key=value (repeatable)");
  profile->add_option("--seed", f.model.seed, "parameters, shuffling, negatives")
      ->capture_default_str();
  profile->add_option("--warmup-epochs", f.warmup_epochs, "epochs trained before profiling")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  profile->add_option("--steps", f.profile_steps, "training steps profiled (summed)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  profile->add_option("--json", f.profile_json, "also write the profile to this JSON file");

  app.add_subcommand("models", "list the models with their defaults");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (const std::string& option : f.model_options)
      recgrad::recsys::parse_model_option(option, f.model.options);
    if (train->parsed()) return recgrad::recsys::cli::run_train(f);
    if (evaluate->parsed()) return recgrad::recsys::cli::run_evaluate(f);
    if (recommend->parsed()) return recgrad::recsys::cli::run_recommend(f);
    if (export_cmd->parsed()) return recgrad::recsys::cli::run_export(f);
    if (profile->parsed()) return recgrad::recsys::cli::run_profile(f);
    return recgrad::recsys::cli::run_models();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "recgrad: error: %s\n", e.what());
    return 1;
  }
}
