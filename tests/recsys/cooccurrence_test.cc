#include "recsys/cooccurrence.h"

#include <doctest/doctest.h>

#include <mutex>
#include <vector>

#include "autograd/generator.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// 300 users with up to 25 random items of 120, repeats included.
UserItems random_history() {
  Generator gen(9);
  std::vector<std::vector<int64_t>> h(300);
  for (auto& l : h)
    for (uint64_t i = 0, m = gen.next_below(25); i < m; ++i)
      l.push_back(static_cast<int64_t>(gen.next_below(120)));
  return UserItems::from_lists(h, 120);
}

}  // namespace

TEST_CASE("cooccurrence: distinct items are sorted and unique, columns list each user once") {
  const UserItems h = UserItems::from_lists({{4, 1, 4, 2}, {}, {2, 2}}, 5);
  const UserItems d = distinct_items(h);
  CHECK(d.offsets == std::vector<int64_t>{0, 3, 3, 4});
  CHECK(d.items == std::vector<int64_t>{1, 2, 4, 2});
  CHECK(d.num_items == 5);
  const ItemUsers c = item_users(d);
  CHECK(c.offsets == std::vector<int64_t>{0, 0, 1, 3, 3, 4});
  CHECK(c.users == std::vector<int64_t>{0, 0, 2, 0});
  CHECK(c.count(2) == 2);
}

TEST_CASE("cooccurrence: rows equal the dense XᵀX of the binary matrix") {
  const UserItems h = random_history();
  const int64_t n = h.num_items, users = h.num_users();
  std::vector<float> x(users * n, 0.f);
  for (int64_t u = 0; u < users; ++u)
    for (const int64_t* it = h.begin(u); it != h.end(u); ++it) x[u * n + *it] = 1.f;
  const UserItems d = distinct_items(h);
  const ItemUsers cols = item_users(d);
  std::vector<float> got(n * n, -1.f);
  std::vector<int> calls(n, 0);
  for_each_cooccurrence_row(d, cols, [&](int64_t i, const float* c) {
    ++calls[i];
    std::copy(c, c + n, got.begin() + i * n);
  });
  int wrong = 0;
  for (int64_t i = 0; i < n; ++i) {
    CHECK(calls[i] == 1);
    for (int64_t j = 0; j < n; ++j) {
      float want = 0;
      for (int64_t u = 0; u < users; ++u) want += x[u * n + i] * x[u * n + j];
      wrong += got[i * n + j] != want;
    }
  }
  CHECK(wrong == 0);
}
