#pragma once
// Per-user item sets as sorted, duplicate-free UserItems: membership by binary search, and the
// per-user union of several parts (train + validation) used for masks and negative sampling.
#include <cstdint>
#include <vector>

#include "recsys/dataset.h"

namespace recgrad::recsys {

/// Throws recgrad::Error naming `what` unless `lists` is well formed: offsets start at 0 and
/// never decrease, the last offset equals items.size(), and every item is in [0, num_items).
void check_user_items(const UserItems& lists, const char* what);

/// Each user's items sorted ascending without duplicates (same users, same num_items).
UserItems sorted_unique(const UserItems& lists);

/// The per-user union of `parts`, sorted and duplicate-free. Every part must have the same
/// number of users and items (checked, naming `what`).
UserItems sorted_union(const std::vector<const UserItems*>& parts, const char* what);

/// Whether `item` is in `user`'s list of `sorted` (a sorted_unique/sorted_union result).
bool contains_sorted(const UserItems& sorted, int64_t user, int64_t item);

}  // namespace recgrad::recsys
