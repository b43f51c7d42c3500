#include "recsys/filters.h"

#include <algorithm>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad::recsys {
namespace {

template <typename T>
void keep_column(std::vector<T>& col, const std::vector<bool>& keep) {
  if (col.empty()) return;
  size_t w = 0;
  for (size_t r = 0; r < col.size(); ++r)
    if (keep[r]) col[w++] = col[r];
  col.resize(w);
}

template <typename T>
void permute_column(std::vector<T>& col, const std::vector<int64_t>& order) {
  if (col.empty()) return;
  std::vector<T> out(order.size());
  for (size_t k = 0; k < order.size(); ++k) out[k] = col[order[k]];
  col.swap(out);
}

// Row indices grouped by user, keeping row order within each user (a stable counting sort):
// rows of user u are rows[offsets[u] : offsets[u+1]].
void rows_by_user(const InteractionDataset& data, std::vector<int64_t>& offsets,
                  std::vector<int64_t>& rows) {
  offsets.assign(data.num_users() + 1, 0);
  for (int64_t u : data.users) ++offsets[u + 1];
  for (size_t u = 1; u < offsets.size(); ++u) offsets[u] += offsets[u - 1];
  rows.resize(data.users.size());
  std::vector<int64_t> fill(offsets.begin(), offsets.end() - 1);
  for (size_t r = 0; r < data.users.size(); ++r) rows[fill[data.users[r]]++] = static_cast<int64_t>(r);
}

// Drops the rows with keep[r] false, re-densifies ids and fills the report's counts.
FilterReport finish(InteractionDataset& data, const std::vector<bool>& keep, std::string name,
                    int64_t rounds = 1) {
  FilterReport rep;
  rep.filter = std::move(name);
  rep.rows_before = data.size();
  rep.rounds = rounds;
  detail::keep_rows(data, keep);
  rep.rows_dropped = rep.rows_before - data.size();
  std::tie(rep.users_dropped, rep.items_dropped) = compact_ids(data);
  return rep;
}

}  // namespace

std::string FilterReport::summary() const {
  return recgrad::detail::str_cat(filter, ": dropped ", rows_dropped, " of ", rows_before, " rows (",
                         users_dropped, " users, ", items_dropped, " items left without rows)",
                         rounds > 1 ? recgrad::detail::str_cat(" in ", rounds, " rounds") : std::string());
}

}  // namespace recgrad::recsys

namespace recgrad::detail {
using namespace recgrad::recsys;  // this file's package types, unqualified

void keep_rows(InteractionDataset& data, const std::vector<bool>& keep) {
  RECGRAD_CHECK(keep.size() == data.users.size(), "keep_rows: mask of ", keep.size(),
                " rows for a dataset of ", data.size());
  keep_column(data.users, keep);
  keep_column(data.items, keep);
  keep_column(data.ratings, keep);
  keep_column(data.timestamps, keep);
}

void permute_rows(InteractionDataset& data, const std::vector<int64_t>& order) {
  RECGRAD_CHECK(order.size() == data.users.size(), "permute_rows: order of ", order.size(),
                " rows for a dataset of ", data.size());
  permute_column(data.users, order);
  permute_column(data.items, order);
  permute_column(data.ratings, order);
  permute_column(data.timestamps, order);
}

}  // namespace recgrad::detail

namespace recgrad::recsys {

std::pair<int64_t, int64_t> compact_ids(InteractionDataset& data) {
  // new_id[old] = new dense id, or -1 for ids without rows; survivors keep their order.
  auto remap = [](std::vector<int64_t>& col, IdMap& ids) -> std::vector<int64_t> {
    std::vector<int64_t> new_id(ids.size(), -1);
    for (int64_t v : col) new_id[v] = 0;
    IdMap fresh;
    for (int64_t old = 0; old < ids.size(); ++old)
      if (new_id[old] == 0) new_id[old] = fresh.intern(ids.raw(old));
    for (int64_t& v : col) v = new_id[v];
    ids = std::move(fresh);
    return new_id;
  };
  const int64_t users_before = data.num_users(), items_before = data.num_items();
  remap(data.users, data.user_ids);
  const std::vector<int64_t> item_map = remap(data.items, data.item_ids);
  if (!data.item_genres.empty()) {
    std::vector<std::vector<int32_t>> genres(data.num_items());
    for (size_t old = 0; old < item_map.size(); ++old)
      if (item_map[old] >= 0) genres[item_map[old]] = std::move(data.item_genres[old]);
    data.item_genres.swap(genres);
  }
  return {users_before - data.num_users(), items_before - data.num_items()};
}

FilterReport to_implicit(InteractionDataset& data, const ImplicitOptions& o) {
  RECGRAD_CHECK(data.has_ratings(), "to_implicit: dataset ", data.name,
                " has no ratings to threshold");
  std::vector<bool> keep(data.users.size());
  for (size_t r = 0; r < keep.size(); ++r) keep[r] = data.ratings[r] >= o.threshold;
  FilterReport rep = finish(data, keep, recgrad::detail::str_cat("to_implicit(rating>=", o.threshold, ")"));
  if (o.ratings == RatingsAfterThreshold::kDrop) {
    data.ratings.clear();
    data.ratings.shrink_to_fit();
  } else if (o.ratings == RatingsAfterThreshold::kSetToOne) {
    std::fill(data.ratings.begin(), data.ratings.end(), 1.0f);
  }
  return rep;
}

FilterReport k_core(InteractionDataset& data, int64_t min_user, int64_t min_item) {
  RECGRAD_CHECK(min_user >= 0 && min_item >= 0, "k_core: minimum counts must be >= 0, got user ",
                min_user, " and item ", min_item);
  const size_t n = data.users.size();
  std::vector<bool> keep(n, true);
  std::vector<int64_t> user_count(data.num_users()), item_count(data.num_items());
  int64_t rounds = 0;
  // Each pass counts surviving rows and drops those under either threshold; dropping rows can
  // push other users/items under theirs, so repeat until a pass drops nothing.
  for (bool changed = true; changed;) {
    ++rounds;
    changed = false;
    std::fill(user_count.begin(), user_count.end(), 0);
    std::fill(item_count.begin(), item_count.end(), 0);
    for (size_t r = 0; r < n; ++r)
      if (keep[r]) ++user_count[data.users[r]], ++item_count[data.items[r]];
    for (size_t r = 0; r < n; ++r)
      if (keep[r] && (user_count[data.users[r]] < min_user || item_count[data.items[r]] < min_item)) {
        keep[r] = false;
        changed = true;
      }
  }
  return finish(data, keep, recgrad::detail::str_cat("k_core(user>=", min_user, ", item>=", min_item, ")"),
                rounds);
}

FilterReport deduplicate(InteractionDataset& data, KeepDuplicate keep_which) {
  std::vector<int64_t> offsets, rows;
  rows_by_user(data, offsets, rows);
  std::vector<bool> keep(data.users.size(), false);
  // stamp[item] == u marks "user u already kept this item": one pass per user, no hashing.
  std::vector<int64_t> stamp(data.num_items(), -1);
  const bool first = keep_which == KeepDuplicate::kFirst;
  for (int64_t u = 0; u < data.num_users(); ++u) {
    const int64_t b = offsets[u], e = offsets[u + 1];
    for (int64_t k = 0; k < e - b; ++k) {
      const int64_t r = rows[first ? b + k : e - 1 - k];
      int64_t& s = stamp[data.items[r]];
      if (s != u) keep[r] = true, s = u;
    }
  }
  return finish(data, keep, first ? "deduplicate(keep first)" : "deduplicate(keep last)");
}

FilterReport sort_by_user_time(InteractionDataset& data) {
  RECGRAD_CHECK(data.has_timestamps(), "sort_by_user_time: dataset ", data.name,
                " has no timestamps");
  std::vector<int64_t> offsets, rows;
  rows_by_user(data, offsets, rows);
  const std::vector<int64_t>& ts = data.timestamps;
  // Users are independent: sort each user's rows by time in parallel (stable, so equal times
  // keep row order and the result does not depend on the thread count).
  recgrad::detail::parallel_for(data.num_users(), 64, [&](int64_t ub, int64_t ue) {
    for (int64_t u = ub; u < ue; ++u)
      std::stable_sort(rows.begin() + offsets[u], rows.begin() + offsets[u + 1],
                       [&ts](int64_t a, int64_t b) { return ts[a] < ts[b]; });
  });
  FilterReport rep;
  rep.filter = "sort_by_user_time";
  rep.rows_before = data.size();
  rep.rounds = 1;
  detail::permute_rows(data, rows);
  return rep;
}

}  // namespace recgrad::recsys
