#include "recsys/split.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "autograd/parallel.h"
#include "recsys/filters.h"

namespace recgrad::recsys {
namespace {

enum Part : uint8_t { kTrain = 0, kValid = 1, kTest = 2 };

void check_ratios(const SplitRatios& r, const char* who) {
  RECGRAD_CHECK(r.train > 0 && r.valid >= 0 && r.test >= 0, who, ": ratios ", r.train, "/",
                r.valid, "/", r.test, " must be >= 0 with a positive train share");
  RECGRAD_CHECK(std::abs(r.train + r.valid + r.test - 1.0) <= 1e-6, who, ": ratios ", r.train,
                "/", r.valid, "/", r.test, " sum to ", r.train + r.valid + r.test, ", not 1");
}

void check_time(const InteractionDataset& data, const char* who) {
  RECGRAD_CHECK(data.has_timestamps(), who, ": dataset ", data.name,
                " has no timestamps; use a random split or a format with time");
}

// A part of `data` with the rows whose part_of[r] == part, in row order, and data's id maps.
InteractionDataset take(const InteractionDataset& data, const std::vector<uint8_t>& part_of,
                        uint8_t part, const char* label) {
  InteractionDataset out;
  out.name = data.name + " [" + label + "]";
  out.user_ids = data.user_ids;
  out.item_ids = data.item_ids;
  out.item_genres = data.item_genres;
  out.genre_names = data.genre_names;
  const int64_t n = static_cast<int64_t>(std::count(part_of.begin(), part_of.end(), part));
  out.users.reserve(n);
  out.items.reserve(n);
  if (data.has_ratings()) out.ratings.reserve(n);
  if (data.has_timestamps()) out.timestamps.reserve(n);
  for (size_t r = 0; r < part_of.size(); ++r) {
    if (part_of[r] != part) continue;
    out.users.push_back(data.users[r]);
    out.items.push_back(data.items[r]);
    if (data.has_ratings()) out.ratings.push_back(data.ratings[r]);
    if (data.has_timestamps()) out.timestamps.push_back(data.timestamps[r]);
  }
  return out;
}

Split assemble(const InteractionDataset& data, const std::vector<uint8_t>& part_of) {
  return Split{take(data, part_of, kTrain, "train"), take(data, part_of, kValid, "valid"),
               take(data, part_of, kTest, "test")};
}

// Row indices grouped by user (users in id order, rows in row order within a user):
// user u's rows are rows[offsets[u] : offsets[u+1]].
struct Groups {
  std::vector<int64_t> offsets, rows;
};

Groups group_by_user(const InteractionDataset& data) {
  Groups g;
  g.offsets.assign(data.num_users() + 1, 0);
  for (int64_t u : data.users) ++g.offsets[u + 1];
  for (size_t u = 1; u < g.offsets.size(); ++u) g.offsets[u] += g.offsets[u - 1];
  g.rows.resize(data.users.size());
  std::vector<int64_t> fill(g.offsets.begin(), g.offsets.end() - 1);
  for (size_t r = 0; r < data.users.size(); ++r) g.rows[fill[data.users[r]]++] = static_cast<int64_t>(r);
  return g;
}

// Sorts each user's rows by time, stably (equal times keep row order).
void sort_groups_by_time(const InteractionDataset& data, Groups& g) {
  const std::vector<int64_t>& ts = data.timestamps;
  recgrad::detail::parallel_for(data.num_users(), 64, [&](int64_t ub, int64_t ue) {
    for (int64_t u = ub; u < ue; ++u)
      std::stable_sort(g.rows.begin() + g.offsets[u], g.rows.begin() + g.offsets[u + 1],
                       [&ts](int64_t a, int64_t b) { return ts[a] < ts[b]; });
  });
}

// Labels rows[0:n] train / valid / test by the ratio counts, in that order.
void cut(const int64_t* rows, int64_t n, const SplitRatios& ratios, std::vector<uint8_t>& part_of) {
  const std::vector<int64_t> c = recgrad::detail::split_counts(n, ratios);
  for (int64_t k = 0; k < n; ++k)
    part_of[rows[k]] = k < c[0] ? kTrain : k < c[0] + c[1] ? kValid : kTest;
}

}  // namespace

}  // namespace recgrad::recsys

namespace recgrad::detail {
using namespace recgrad::recsys;  // this file's package types, unqualified

std::vector<int64_t> split_counts(int64_t n, const SplitRatios& ratios) {
  // RecBole's _calcu_split_ids, with ratios already normalised.
  const double r[3] = {ratios.train, ratios.valid, ratios.test};
  std::vector<int64_t> cnt(3);
  for (int i = 0; i < 3; ++i) cnt[i] = static_cast<int64_t>(r[i] * static_cast<double>(n));
  cnt[0] = n - cnt[1] - cnt[2];
  for (int i = 2; i >= 1; --i) {  // test first, then valid: so a part is not left empty
    if (cnt[0] <= 1) break;
    const double want = r[i] * static_cast<double>(n);
    if (want > 0 && want < 1) ++cnt[i], --cnt[0];
  }
  return cnt;
}

}  // namespace recgrad::detail

namespace recgrad::recsys {

Split leave_one_out(const InteractionDataset& data, const LeaveOneOutOptions& options) {
  check_time(data, "leave_one_out");
  Groups g = group_by_user(data);
  sort_groups_by_time(data, g);
  std::vector<uint8_t> part_of(data.users.size(), kTrain);
  const int64_t min_rows = options.validation ? 3 : 2;
  for (int64_t u = 0; u < data.num_users(); ++u) {
    const int64_t b = g.offsets[u], e = g.offsets[u + 1];
    if (e - b < min_rows) continue;  // too short to hold out: all in train (as SASRec does)
    part_of[g.rows[e - 1]] = kTest;
    if (options.validation) part_of[g.rows[e - 2]] = kValid;
  }
  return assemble(data, part_of);
}

Split split_by_time_per_user(const InteractionDataset& data, const SplitRatios& ratios) {
  check_ratios(ratios, "split_by_time_per_user");
  check_time(data, "split_by_time_per_user");
  Groups g = group_by_user(data);
  sort_groups_by_time(data, g);
  std::vector<uint8_t> part_of(data.users.size(), kTrain);
  for (int64_t u = 0; u < data.num_users(); ++u)
    cut(g.rows.data() + g.offsets[u], g.offsets[u + 1] - g.offsets[u], ratios, part_of);
  return assemble(data, part_of);
}

Split split_by_time_global(const InteractionDataset& data, const SplitRatios& ratios) {
  check_ratios(ratios, "split_by_time_global");
  check_time(data, "split_by_time_global");
  std::vector<int64_t> order(data.users.size());
  for (size_t r = 0; r < order.size(); ++r) order[r] = static_cast<int64_t>(r);
  const std::vector<int64_t>& ts = data.timestamps;
  std::stable_sort(order.begin(), order.end(), [&ts](int64_t a, int64_t b) { return ts[a] < ts[b]; });
  std::vector<uint8_t> part_of(data.users.size(), kTrain);
  cut(order.data(), static_cast<int64_t>(order.size()), ratios, part_of);
  return assemble(data, part_of);
}

Split split_random_per_user(const InteractionDataset& data, const SplitRatios& ratios, uint64_t seed) {
  check_ratios(ratios, "split_random_per_user");
  Groups g = group_by_user(data);
  std::vector<uint8_t> part_of(data.users.size(), kTrain);
  // Each user draws from its own stream, keyed by (seed, user): the split does not depend on
  // how users are spread over threads.
  recgrad::detail::parallel_for(data.num_users(), 64, [&](int64_t ub, int64_t ue) {
    for (int64_t u = ub; u < ue; ++u) {
      int64_t* rows = g.rows.data() + g.offsets[u];
      const int64_t n = g.offsets[u + 1] - g.offsets[u];
      Generator gen(recgrad::detail::mix64(seed, static_cast<uint64_t>(u)));
      for (int64_t k = n - 1; k > 0; --k)  // Fisher-Yates
        std::swap(rows[k], rows[gen.next_below(static_cast<uint64_t>(k + 1))]);
      cut(rows, n, ratios, part_of);
    }
  });
  return assemble(data, part_of);
}

Split split_random_global(const InteractionDataset& data, const SplitRatios& ratios, uint64_t seed) {
  check_ratios(ratios, "split_random_global");
  std::vector<int64_t> order(data.users.size());
  for (size_t r = 0; r < order.size(); ++r) order[r] = static_cast<int64_t>(r);
  Generator gen(seed);
  for (int64_t k = static_cast<int64_t>(order.size()) - 1; k > 0; --k)
    std::swap(order[k], order[gen.next_below(static_cast<uint64_t>(k + 1))]);
  std::vector<uint8_t> part_of(data.users.size(), kTrain);
  cut(order.data(), static_cast<int64_t>(order.size()), ratios, part_of);
  return assemble(data, part_of);
}

InteractionDataset merge_parts(const InteractionDataset& a, const InteractionDataset& b) {
  RECGRAD_CHECK(a.num_users() == b.num_users() && a.num_items() == b.num_items() &&
                    a.has_ratings() == b.has_ratings() && a.has_timestamps() == b.has_timestamps(),
                "merge_parts: ", a.name, " and ", b.name, " are not parts of one split");
  InteractionDataset out = a;
  out.name = a.name + " + " + b.name;
  out.users.insert(out.users.end(), b.users.begin(), b.users.end());
  out.items.insert(out.items.end(), b.items.begin(), b.items.end());
  out.ratings.insert(out.ratings.end(), b.ratings.begin(), b.ratings.end());
  out.timestamps.insert(out.timestamps.end(), b.timestamps.begin(), b.timestamps.end());
  Groups g = group_by_user(out);
  if (out.has_timestamps()) sort_groups_by_time(out, g);
  recgrad::detail::permute_rows(out, g.rows);
  return out;
}

Split hold_out_one_per_user(const InteractionDataset& data, uint64_t seed) {
  const Groups g = group_by_user(data);
  std::vector<uint8_t> part_of(data.users.size(), kTrain);
  for (int64_t u = 0; u < data.num_users(); ++u) {
    const int64_t n = g.offsets[u + 1] - g.offsets[u];
    if (n < 2) continue;  // a user's only row stays in train: the model must know the user
    Generator gen(recgrad::detail::mix64(seed, static_cast<uint64_t>(u)));
    part_of[g.rows[g.offsets[u] + static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(n)))]] = kValid;
  }
  return assemble(data, part_of);
}

}  // namespace recgrad::recsys
