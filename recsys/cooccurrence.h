#pragma once
// Item co-occurrence C = XᵀX of the binary interaction matrix X [users, items] (X_ui = 1 when
// user u has item i in its history, however often), computed sparsely one row at a time:
// row i sums, over the users of item i, the indicator rows of their histories. That costs
// Σ_u |items(u)|² additions and O(items) memory per thread, instead of the dense product's
// users·items² (or a users x items matrix). Counts are integers, exact in float below 2^24.
// ItemKNN builds its similarities from the rows, EASE its Gram matrix.
#include <cstdint>
#include <functional>
#include <vector>

#include "recsys/dataset.h"

namespace recgrad::recsys {

/// X's columns: for each item, its users (ascending, once each), as values + offsets.
struct ItemUsers {
  std::vector<int64_t> offsets;  ///< num_items + 1 entries
  std::vector<int64_t> users;
  int64_t count(int64_t item) const { return offsets[item + 1] - offsets[item]; }
};

/// Each user's distinct items, ascending (X's rows), with num_items kept.
UserItems distinct_items(const UserItems& history);

/// X's columns from its rows (as from distinct_items).
ItemUsers item_users(const UserItems& distinct);

/// Calls row(i, c) for every item i, with c [num_items] the row C_i· = Σ_{u ∋ i} X_u· (so c[i]
/// is i's number of users). Rows run in parallel (row must be safe to call concurrently for
/// different items; c is valid only during the call); each row is a fixed function of the
/// data, so results do not depend on the thread count.
void for_each_cooccurrence_row(const UserItems& distinct, const ItemUsers& columns,
                               const std::function<void(int64_t item, const float* c)>& row);

}  // namespace recgrad::recsys
