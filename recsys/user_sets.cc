#include "recsys/user_sets.h"

#include <algorithm>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad::recsys {

void check_user_items(const UserItems& lists, const char* what) {
  RECGRAD_CHECK(!lists.offsets.empty() && lists.offsets.front() == 0, what,
                ": offsets must start with 0 (one entry per user plus one)");
  RECGRAD_CHECK(lists.offsets.back() == static_cast<int64_t>(lists.items.size()), what,
                ": last offset ", lists.offsets.back(), " differs from the ", lists.items.size(),
                " items");
  for (int64_t u = 0; u < lists.num_users(); ++u)
    RECGRAD_CHECK(lists.offsets[u] <= lists.offsets[u + 1], what, ": offsets of user ", u,
                  " decrease (", lists.offsets[u], " > ", lists.offsets[u + 1], ")");
  RECGRAD_CHECK(lists.num_items >= 0, what, ": negative num_items ", lists.num_items);
  for (size_t k = 0; k < lists.items.size(); ++k)
    RECGRAD_CHECK(lists.items[k] >= 0 && lists.items[k] < lists.num_items, what, ": item ",
                  lists.items[k], " at position ", k, " is outside [0, ", lists.num_items, ")");
}

UserItems sorted_unique(const UserItems& lists) { return sorted_union({&lists}, "sorted_unique"); }

UserItems sorted_union(const std::vector<const UserItems*>& parts, const char* what) {
  RECGRAD_CHECK(!parts.empty() && parts[0] != nullptr, what, ": no item lists given");
  const int64_t num_users = parts[0]->num_users();
  for (size_t p = 0; p < parts.size(); ++p) {
    RECGRAD_CHECK(parts[p] != nullptr, what, ": item list ", p, " is null");
    check_user_items(*parts[p], what);
    RECGRAD_CHECK(parts[p]->num_users() == num_users && parts[p]->num_items == parts[0]->num_items,
                  what, ": item list ", p, " has ", parts[p]->num_users(), " users and ",
                  parts[p]->num_items, " items, list 0 has ", num_users, " users and ",
                  parts[0]->num_items, " items");
  }
  // Pass 1 (parallel): each user's concatenation is sorted and de-duplicated inside a region
  // sized for the worst case. Pass 2 (serial): the regions are compacted.
  std::vector<int64_t> bound(num_users + 1, 0);
  for (int64_t u = 0; u < num_users; ++u) {
    int64_t c = 0;
    for (const UserItems* p : parts) c += p->count(u);
    bound[u + 1] = bound[u] + c;
  }
  std::vector<int64_t> buffer(bound.back());
  std::vector<int64_t> unique_count(num_users);
  detail::parallel_for(num_users, 256, [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      int64_t* out = buffer.data() + bound[u];
      int64_t* w = out;
      for (const UserItems* p : parts) w = std::copy(p->begin(u), p->end(u), w);
      std::sort(out, w);
      unique_count[u] = std::unique(out, w) - out;
    }
  });
  UserItems merged;
  merged.num_items = parts[0]->num_items;
  merged.offsets.assign(num_users + 1, 0);
  for (int64_t u = 0; u < num_users; ++u)
    merged.offsets[u + 1] = merged.offsets[u] + unique_count[u];
  merged.items.resize(merged.offsets.back());
  for (int64_t u = 0; u < num_users; ++u)
    std::copy(buffer.begin() + bound[u], buffer.begin() + bound[u] + unique_count[u],
              merged.items.begin() + merged.offsets[u]);
  return merged;
}

bool contains_sorted(const UserItems& sorted, int64_t user, int64_t item) {
  return std::binary_search(sorted.begin(user), sorted.end(user), item);
}

}  // namespace recgrad::recsys
