#pragma once
// The training loop every model shares: epochs of train_step over the model's batches,
// validation every N epochs, early stopping on a metric with patience and restoring the best
// weights, a checkpoint after every epoch that --resume continues from exactly, progress on a
// terminal, an optional JSON-lines log. A non-finite loss or gradient stops training with a
// NonFiniteError naming the epoch, the batch and (for a gradient) the parameter, before the
// optimizer applies it, unless TrainerOptions::check_finite is off.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "optim/checkpoint.h"
#include "optim/optimizer.h"
#include "recsys/progress.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct TrainerOptions {
  int64_t epochs = 20;
  int64_t eval_every = 1;          ///< validate every N epochs (needs a validator)
  std::string metric = "NDCG@10";  ///< early-stopping metric; RMSE/MAE are minimised
  int64_t patience = 0;            ///< stop after this many validations without improvement (0: never)
  bool restore_best = true;        ///< end with the weights of the best validation
  std::string checkpoint;          ///< saved after every epoch when set (plus "<path>.best")
  bool resume = false;             ///< continue from `checkpoint` when it exists
  std::string jsonl_log;           ///< one JSON object per epoch when set
  optim::Metadata metadata;        ///< extra entries for every checkpoint (e.g. the model spec)
  ProgressMode progress = ProgressMode::kAuto;
  /// Stop at the first NaN/inf loss or gradient (checked after backward, before the optimizer
  /// step; see Optimizer::set_check_finite). Off: train on regardless (CLI --no-check-finite).
  bool check_finite = true;
  /// Train under AnomalyModeGuard (autograd/anomaly.h): the first op whose output or gradient
  /// is NaN/inf is named. Slow; for finding where a NaN comes from (CLI --detect-anomaly).
  bool detect_anomaly = false;
  /// Each epoch's batches are also timed in this many consecutive windows of equal batch counts
  /// (fewer when the epoch has fewer batches): benchmarks take a median throughput over them.
  int64_t windows_per_epoch = 8;
};

/// A run of consecutive batches within an epoch, timed from the first one's start to the last
/// one's end (the epoch's start_epoch and validation outside).
struct WindowLog {
  int64_t batches = 0;
  int64_t examples = 0;
  double seconds = 0;
};

/// One epoch's numbers.
struct EpochLog {
  int64_t epoch = 0;          ///< 1-based
  double loss = 0;            ///< mean training loss over batches
  int64_t examples = 0;
  double seconds = 0;         ///< start_epoch and every batch (validation excluded)
  double valid_metric = 0;    ///< NaN when not validated this epoch
  std::vector<WindowLog> windows;  ///< the batches in TrainerOptions::windows_per_epoch runs
};

struct TrainResult {
  std::vector<EpochLog> epochs;  ///< the epochs run in this call (after a resume: the rest)
  int64_t best_epoch = 0;        ///< 0 when never validated
  double best_metric = 0;
  double train_seconds = 0;      ///< training time, validation excluded
  int64_t examples = 0;          ///< training examples processed
  bool stopped_early = false;
};

/// Validation: the metric value for the model as it stands.
using Validator = std::function<double(Recommender&)>;

/// Trains `model` (already attached to its data) with `opt`. `validate` may be empty.
TrainResult train(Recommender& model, optim::Optimizer& opt, const TrainerOptions& options,
                  const Validator& validate = {});

}  // namespace recgrad::recsys
