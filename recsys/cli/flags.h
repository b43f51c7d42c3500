#pragma once
// What the `recgrad` command line sets (recsys/cli/parse.h fills it, recsys/cli/commands.h
// runs it).
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
  bool refit = false;             ///< retrain on train + valid for the best epoch's count (train)
  std::string out;                ///< directory to write the split to (export)
  std::string pretrained;         ///< "GMF_CKPT,MLP_CKPT": initialise neumf from them (train)
  std::vector<std::string> model_options;  ///< --set key=value, parsed into model.options
  int64_t warmup_epochs = 1;               ///< epochs trained before profiling (profile)
  int64_t profile_steps = 1;               ///< training steps profiled together (profile)
  std::string profile_json;                ///< where to write the profile as JSON (profile)
};

}  // namespace recgrad::recsys::cli
