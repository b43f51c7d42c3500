#pragma once
// Dataset filters, applied in place in the order a protocol states them (RecBole's general
// protocol on ML-1M: keep ratings >= 3, then 10-core). Each returns a FilterReport with the rows
// it dropped, so a run can log exactly what happened to its data. Filters that drop rows then
// re-densify the ids (compact_ids): users and items left without rows disappear, the survivors
// keep their relative order and their raw ids.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "recsys/dataset.h"

namespace recgrad::recsys {

/// What one filter did.
struct FilterReport {
  std::string filter;          ///< e.g. "k_core(user>=10, item>=10)"
  int64_t rows_before = 0;     ///< rows in the input
  int64_t rows_dropped = 0;    ///< rows removed by this filter
  int64_t users_dropped = 0;   ///< users left without rows, removed from the id map
  int64_t items_dropped = 0;   ///< items left without rows, removed from the id map
  int64_t rounds = 0;          ///< passes until stable (k_core only; 1 otherwise)

  /// One line: "k_core(user>=10, item>=10): dropped 3,012 of 1,000,209 rows, ...".
  std::string summary() const;
};

/// What implicit conversion does with the ratings column of the rows it keeps.
enum class RatingsAfterThreshold {
  kDrop,      ///< clear the column: implicit feedback
  kSetToOne,  ///< every kept rating becomes 1
  kKeep,      ///< keep the original values
};

/// Options of to_implicit.
struct ImplicitOptions {
  float threshold = 0.0f;  ///< keep rows with rating >= threshold
  RatingsAfterThreshold ratings = RatingsAfterThreshold::kDrop;
};

/// Keeps rows with rating >= options.threshold. Throws recgrad::Error without ratings.
FilterReport to_implicit(InteractionDataset& data, const ImplicitOptions& options);

/// Repeatedly drops rows whose user has fewer than `min_user` rows or whose item has fewer than
/// `min_item` rows (counted over surviving rows) until every user and item qualifies.
FilterReport k_core(InteractionDataset& data, int64_t min_user, int64_t min_item);

/// Which row of a repeated (user, item) pair deduplicate keeps.
enum class KeepDuplicate {
  kFirst,  ///< the earliest row in the dataset's current row order
  kLast,   ///< the latest row in row order (sort_by_user_time first to mean "latest in time")
};

/// Drops repeated (user, item) rows, keeping one per pair; survivors keep their row order.
FilterReport deduplicate(InteractionDataset& data, KeepDuplicate keep = KeepDuplicate::kFirst);

/// Reorders rows by (user, timestamp), stably (equal timestamps keep their row order), so each
/// user's rows are contiguous and chronological. Drops nothing. Throws without timestamps.
FilterReport sort_by_user_time(InteractionDataset& data);

/// Re-densifies ids after rows were removed: users and items without rows are dropped from the
/// maps (and from item_genres), survivors keep their relative order and raw ids.
/// Returns {users dropped, items dropped}.
std::pair<int64_t, int64_t> compact_ids(InteractionDataset& data);

}  // namespace recgrad::recsys

// Internals shared between files; every package keeps them in recgrad::detail (a nested
// `detail` would hide recgrad::detail from code in the package).
namespace recgrad::detail {
/// Keeps rows where keep[row] is true, in order, across all columns.
void keep_rows(recsys::InteractionDataset& data, const std::vector<bool>& keep);
/// Reorders all columns so that new row k is old row order[k].
void permute_rows(recsys::InteractionDataset& data, const std::vector<int64_t>& order);
}  // namespace recgrad::detail


