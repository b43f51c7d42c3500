#pragma once
// Writes an experiment's split as plain files, so another framework (the PyTorch peers of
// benchmarks/torch/) trains and evaluates on exactly the rows recgrad uses:
//
//   DIR/train.tsv  DIR/valid.tsv  DIR/test.tsv   one row per interaction, in the part's row order
//                                                (by user, then time): user<TAB>item[<TAB>rating]
//                                                with recgrad's dense 0-based ids
//   DIR/meta.json  {"dataset", "split", "num_users", "num_items", "has_ratings",
//                   "rows": {"train", "valid", "test"}, "user_names": [...], "item_names": [...]}
//                  (user_names[d] is the raw id of dense user d, as in the data file)
//
// Ratings are written with %.9g, which round-trips a float exactly. The NCF split is refused:
// its test protocol (each test pair's fixed negatives) is not part of these files.
#include <string>

#include "recsys/experiment.h"

namespace recgrad::recsys {

/// What export_experiment wrote: the number of rows per part.
struct ExportSummary {
  int64_t train_rows = 0, valid_rows = 0, test_rows = 0;
};

/// Writes ex's train/valid/test parts and meta.json into `dir` (created, with its parents, when
/// missing; existing files are replaced). Throws recgrad::Error naming the path on a write
/// failure, or the split when it is "ncf".
ExportSummary export_experiment(const Experiment& ex, const std::string& dir);

}  // namespace recgrad::recsys
