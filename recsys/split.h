#pragma once
// Train / validation / test splits. Every split assigns each row of the input to exactly one
// part (disjoint and covering), each part keeps the input's row order, and all parts share the
// input's id maps and item genres, so a dense id means the same user or item in every part.
// Time-based splits need timestamps (ties are broken by row order); random splits take a seed
// and give the same parts at any thread count.
//
// Per-user ratio splits count rows as RecBole does (`_calcu_split_ids`): valid and test get
// floor(ratio * n) rows, train the rest; then, while train keeps more than one row, a part whose
// ratio * n lies in (0, 1) gets one row from train (test first, then valid). So 80/10/10 of
// 5 rows is 3/1/1 and of 1 row is 1/0/0.
#include <cstdint>
#include <vector>

#include "recsys/dataset.h"

namespace recgrad::recsys {

/// Fractions of rows in train, validation and test: each >= 0, summing to 1 (within 1e-6).
struct SplitRatios {
  double train = 0.8;  ///< fraction of rows (per user or overall) used to fit
  double valid = 0.1;  ///< fraction held out for model selection (0 for none)
  double test = 0.1;   ///< fraction held out for the final numbers
};

/// The three parts of a split, with the input's id maps.
struct Split {
  InteractionDataset train;  ///< rows to fit on, named "<input> [train]"
  InteractionDataset valid;  ///< rows for early stopping / model selection; may be empty
  InteractionDataset test;   ///< held-out rows
};

/// Options of leave_one_out.
struct LeaveOneOutOptions {
  bool validation = true;  ///< hold out the second-to-last item as validation
};

/// Per user, the latest row is test and (with validation) the second latest is validation.
/// Users with fewer than 3 rows (2 without validation) keep all their rows in train, as SASRec's
/// data_partition does.
Split leave_one_out(const InteractionDataset& data, const LeaveOneOutOptions& options = {});

/// Per user, the earliest rows go to train, then validation, then test (RecBole's "RO" order).
Split split_by_time_per_user(const InteractionDataset& data, const SplitRatios& ratios = {});

/// All rows ordered by time; the earliest fraction trains, the next validates, the latest tests.
Split split_by_time_global(const InteractionDataset& data, const SplitRatios& ratios = {});

/// Per user, rows shuffled with `seed` then cut by the ratios (RecBole's "RS" 80/10/10).
Split split_random_per_user(const InteractionDataset& data, const SplitRatios& ratios, uint64_t seed);

/// All rows shuffled with `seed` then cut by the ratios (e.g. AutoRec's random 90/0/10).
Split split_random_global(const InteractionDataset& data, const SplitRatios& ratios, uint64_t seed);

/// The rows of two parts of one split as one part (e.g. train and validation, to refit on
/// both once validation has chosen the settings): grouped by user, by time within a user where
/// there are timestamps, and otherwise a's rows before b's. Named "<a's name> + <b's name>".
InteractionDataset merge_parts(const InteractionDataset& a, const InteractionDataset& b);

/// Per user with at least 2 rows, one row drawn with `seed` is validation; everything else
/// trains and test is empty. The NCF paper's tuning split (He et al. 2017, section 4.1), used
/// beside its given test files.
Split hold_out_one_per_user(const InteractionDataset& data, uint64_t seed);

}  // namespace recgrad::recsys

// Internals shared between files; every package keeps them in recgrad::detail (a nested
// `detail` would hide recgrad::detail from code in the package).
namespace recgrad::detail {
/// Rows per part for n rows: {train, valid, test}, by the RecBole rule above.
std::vector<int64_t> split_counts(int64_t n, const recsys::SplitRatios& ratios);
}  // namespace recgrad::detail


