#include "recsys/cooccurrence.h"

#include <algorithm>

#include "autograd/parallel.h"

namespace recgrad::recsys {

UserItems distinct_items(const UserItems& history) {
  UserItems out;
  out.num_items = history.num_items;
  out.offsets.reserve(history.offsets.size());
  out.offsets.push_back(0);
  out.items.reserve(history.items.size());
  for (int64_t u = 0; u < history.num_users(); ++u) {
    const size_t start = out.items.size();
    out.items.insert(out.items.end(), history.begin(u), history.end(u));
    std::sort(out.items.begin() + start, out.items.end());
    out.items.erase(std::unique(out.items.begin() + start, out.items.end()), out.items.end());
    out.offsets.push_back(static_cast<int64_t>(out.items.size()));
  }
  return out;
}

ItemUsers item_users(const UserItems& distinct) {
  // Counting sort by item; users are visited in ascending order, so each column is ascending.
  ItemUsers out;
  out.offsets.assign(distinct.num_items + 1, 0);
  for (int64_t i : distinct.items) ++out.offsets[i + 1];
  for (int64_t i = 0; i < distinct.num_items; ++i) out.offsets[i + 1] += out.offsets[i];
  out.users.resize(distinct.items.size());
  std::vector<int64_t> next(out.offsets.begin(), out.offsets.end() - 1);
  for (int64_t u = 0; u < distinct.num_users(); ++u)
    for (const int64_t* it = distinct.begin(u); it != distinct.end(u); ++it)
      out.users[next[*it]++] = u;
  return out;
}

void for_each_cooccurrence_row(const UserItems& distinct, const ItemUsers& columns,
                               const std::function<void(int64_t item, const float* c)>& row) {
  const int64_t n = distinct.num_items;
  // A row costs Σ_{u ∋ i} |items(u)|: a few thousand additions on average, so small grains.
  recgrad::detail::parallel_for(n, 4, [&](int64_t b, int64_t e) {
    std::vector<float> c(n);
    for (int64_t i = b; i < e; ++i) {
      std::fill(c.begin(), c.end(), 0.f);
      for (int64_t k = columns.offsets[i]; k < columns.offsets[i + 1]; ++k) {
        const int64_t u = columns.users[k];
        for (const int64_t* it = distinct.begin(u); it != distinct.end(u); ++it) c[*it] += 1.f;
      }
      row(i, c.data());
    }
  });
}

}  // namespace recgrad::recsys
