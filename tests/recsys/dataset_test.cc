#include "recsys/dataset.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "autograd/error.h"

using namespace recgrad;
using namespace recgrad::recsys;

TEST_CASE("UserItems::from_lists: offsets and items follow the lists (empty users, repeats)") {
  const UserItems l = UserItems::from_lists({{4, 9, 1}, {}, {2, 7, 2}}, 10);
  CHECK(l.num_items == 10);
  CHECK(l.num_users() == 3);
  CHECK(l.offsets == std::vector<int64_t>{0, 3, 3, 6});
  CHECK(l.items == std::vector<int64_t>{4, 9, 1, 2, 7, 2});
  CHECK(l.count(1) == 0);
  CHECK(std::vector<int64_t>(l.begin(2), l.end(2)) == std::vector<int64_t>{2, 7, 2});

  const UserItems none = UserItems::from_lists({}, 5);
  CHECK(none.num_users() == 0);
  CHECK(none.offsets == std::vector<int64_t>{0});
  CHECK(none.items.empty());
}

TEST_CASE("UserItems::from_lists: agrees with UserItems::from on the same interactions") {
  InteractionDataset data;
  for (const char* u : {"a", "b"}) data.user_ids.intern(u);
  for (const char* i : {"x", "y", "z"}) data.item_ids.intern(i);
  data.users = {0, 1, 0, 0};
  data.items = {2, 0, 1, 2};
  const UserItems grouped = UserItems::from(data);
  const UserItems given = UserItems::from_lists({{2, 1, 2}, {0}}, 3);
  CHECK(grouped.offsets == given.offsets);
  CHECK(grouped.items == given.items);
  CHECK(grouped.num_items == given.num_items);
}

TEST_CASE("UserItems::from_lists: an item outside [0, num_items) names its user and position") {
  CHECK_THROWS_WITH_AS(UserItems::from_lists({{0, 1}, {2, 3}}, 3),
                       doctest::Contains("UserItems::from_lists: item 3 (user 1, position 1) is "
                                         "outside [0, 3)"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(UserItems::from_lists({{}, {-1}}, 3),
                       doctest::Contains("item -1 (user 1, position 0) is outside [0, 3)"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(UserItems::from_lists({}, -2),
                       doctest::Contains("UserItems::from_lists: num_items = -2 is negative"),
                       recgrad::Error);
}
