#pragma once
// An experiment's data, end to end: load (a file in a known format, or the built-in synthetic
// generator), filter, split, and the per-user histories and evaluators built from the split.
// The CLI, examples and benchmarks all go through this, so "the same data" means the same
// thing everywhere; a DataSpec is also what a checkpoint records to rebuild it.
#include <cstdint>
#include <string>
#include <vector>

#include "recsys/evaluator.h"
#include "recsys/recommender.h"
#include "recsys/split.h"

namespace recgrad::recsys {

/// Where the data comes from and how it is split.
struct DataSpec {
  std::string path = "synthetic";  ///< a dataset file (or NCF directory), or "synthetic"
  std::string format;              ///< a format name (recsys/formats.h); "" infers it
  double min_rating = 0;           ///< keep rows rated at least this (0 keeps all)
  int64_t k_core = 0;              ///< then keep users and items with >= k rows (0 keeps all)
  std::string split = "loo";       ///< how rows become train/valid/test: see parse_split
  /// A file of test rows in the same format (as RecBole's benchmark files, or a paper's
  /// published split): the test part is then exactly its rows, and `split` cuts `path`'s rows
  /// into train and validation only (a ratio or global split with test share 0). "" for none.
  std::string test_path;
  uint64_t seed = 0;               ///< synthetic data and random splits
  /// Synthetic data only: its size (0 keeps SyntheticOptions' default: 1,000 users, 1,700
  /// items, 100,000 rows). Tests use smaller data to stay fast.
  int64_t synthetic_users = 0;
  int64_t synthetic_items = 0;
  int64_t synthetic_rows = 0;
};

/// How an experiment splits its rows (DataSpec::split), parsed by parse_split:
///   "loo"             leave-one-out by time: latest row test, second latest validation
///   "ratio[:A/B/C]"   per user, rows shuffled then cut A/B/C (default 0.8/0.1/0.1; RecBole "RS")
///   "global:A/B/C"    all rows shuffled then cut A/B/C (AutoRec's random 0.9/0/0.1)
///   "ncf"             the NCF files' own test pairs, each ranked among its given negatives; one
///                     random training row per user validates (format ncf only)
/// With DataSpec::test_path, a ratio or global split's test share must be 0: the file gives
/// the test rows.
struct SplitSpec {
  enum class Kind { kLeaveOneOut, kRandomPerUser, kRandomGlobal, kNcf };
  Kind kind = Kind::kLeaveOneOut;
  SplitRatios ratios;  ///< the random splits' shares
};

/// Parses a split flag (see SplitSpec). Throws recgrad::Error naming the value.
SplitSpec parse_split(const std::string& split);

/// Parses a protocol flag: "full" or "sampled:N". Throws recgrad::Error naming the value.
EvalOptions parse_protocol(const std::string& protocol, uint64_t seed);

/// A loaded, split dataset with its histories.
struct Experiment {
  DataSpec spec;
  InteractionDataset data;  ///< after filters, rows sorted by user then time (without the
                            ///< test_path or NCF test rows, whose new ids its maps do hold)
  Split split;
  UserItems train;          ///< per-user training items, in time order
  UserItems valid;          ///< per-user validation items
  UserItems test;           ///< per-user test items
  UserItems train_valid;    ///< training then validation items: the history the test sees
  /// Split "ncf": per user, the given negatives its test item is ranked among (the test item
  /// itself and repeats removed, as the NCF code's item -> score map does); empty otherwise.
  std::vector<std::vector<int64_t>> test_negatives;

  /// Loads and splits; throws recgrad::Error naming the file, line or flag on bad input.
  static Experiment load(const DataSpec& spec);

  /// What a model is attached to.
  TrainingData training() const;
  /// Validation: rank each user's validation items; training items are masked, test items
  /// are never drawn as negatives.
  Evaluator validation_evaluator(const EvalOptions& opts) const;
  /// Test: rank each user's test items; training and validation items are masked. With
  /// test_negatives, their fixed protocol replaces opts.protocol.
  Evaluator test_evaluator(const EvalOptions& opts) const;

  /// The same experiment with the validation rows moved into training and no validation
  /// part: for refitting once validation has chosen the settings (train --refit). The test
  /// part, and so the test figures' masking, are unchanged.
  Experiment with_validation_in_training() const;

  /// "synthetic(seed=0): 1000 users, 1700 items, 100000 rows; split loo: 98000/1000/1000".
  std::string describe() const;
};

/// Evaluates a model on the test (or validation) part: ranking metrics, or RMSE/MAE for
/// rating models. Puts the model in eval mode under NoGradGuard while scoring.
EvalResult evaluate_model(Recommender& model, const Experiment& ex, const EvalOptions& opts,
                          bool on_validation = false);

}  // namespace recgrad::recsys
