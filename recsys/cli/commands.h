#pragma once
// The `recgrad` command line: train, evaluate, recommend, export, models. Flags are parsed in
// main.cc (CLI11); these functions do the work and write results (JSON through nlohmann/json).
// Only the CLI depends on those two libraries: the core libraries stay dependency-free for
// embedding.
#include <cstdint>
#include <string>
#include <vector>

#include "recsys/experiment.h"
#include "recsys/registry.h"

namespace recgrad::recsys::cli {

/// Flags shared by the commands.
struct Flags {
  ModelSpec model;
  DataSpec data;
  std::string protocol = "full";  ///< "full" or "sampled:N"
  int threads = 0;                ///< 0: all cores
  std::string save;               ///< checkpoint path to write after training
  std::string checkpoint;         ///< checkpoint to read (evaluate, recommend)
  std::string metrics_json;       ///< where to write the results as JSON
  std::string user;               ///< raw user id (recommend)
  int64_t k = 10;                 ///< list length (recommend)
  int64_t patience = 0;           ///< early stopping (train)
  std::string metric;             ///< validation metric (train; "": NDCG@10, or RMSE for ratings)
  bool resume = false;            ///< continue from --save when it exists (train)
  bool quiet = false;             ///< no progress output
  bool no_check_finite = false;   ///< train on through NaN/inf losses and gradients (train)
  bool detect_anomaly = false;    ///< name the op that makes the first NaN/inf (train; slow)
  bool no_validation = false;     ///< train without validating (the last epoch's weights stay)
  std::string out;                ///< directory to write the split to (export)
  std::string pretrained;         ///< "GMF_CKPT,MLP_CKPT": initialise neumf from them (train)
  std::vector<std::string> model_options;  ///< --set key=value, parsed into model.options
  int64_t warmup_epochs = 1;               ///< epochs trained before profiling (profile)
  int64_t profile_steps = 1;               ///< training steps profiled together (profile)
  std::string profile_json;                ///< where to write the profile as JSON (profile)
};

/// Trains flags.model on flags.data, evaluates it on the test part beside Pop, optionally
/// saves it and writes the JSON. Returns the process exit code.
int run_train(const Flags& flags);
/// Rebuilds the data and model recorded in flags.checkpoint and evaluates it.
int run_evaluate(const Flags& flags);
/// Prints the top-k unseen items (raw ids) of flags.user from flags.checkpoint.
int run_recommend(const Flags& flags);
/// Writes flags.data's train/valid/test parts and meta.json into flags.out (recsys/export.h).
int run_export(const Flags& flags);
/// Trains flags.model for flags.warmup_epochs epochs, then prints a per-op profile (time and
/// calls per op type, forward and backward) of the next flags.profile_steps training steps.
int run_profile(const Flags& flags);
/// Lists the registered models with their families, papers and defaults.
int run_models();

}  // namespace recgrad::recsys::cli
