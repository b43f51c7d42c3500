// Filters: what each keeps, what it reports dropping, and ids staying contiguous afterwards.
#include "recsys/filters.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autograd/error.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

struct Row {
  std::string user, item;
  float rating;
  int64_t time;
};

InteractionDataset make(const std::vector<Row>& rows) {
  InteractionDataset d;
  d.name = "hand-made";
  for (const Row& r : rows) {
    d.users.push_back(d.user_ids.intern(r.user));
    d.items.push_back(d.item_ids.intern(r.item));
    d.ratings.push_back(r.rating);
    d.timestamps.push_back(r.time);
  }
  return d;
}

// Rows as "user:item@time" with raw ids.
std::vector<std::string> rows_of(const InteractionDataset& d) {
  std::vector<std::string> out;
  for (int64_t r = 0; r < d.size(); ++r)
    out.push_back(d.user_ids.raw(d.users[r]) + ":" + d.item_ids.raw(d.items[r]) +
                  (d.has_timestamps() ? "@" + std::to_string(d.timestamps[r]) : ""));
  return out;
}

// Dense ids are exactly [0, n) and every id is used.
void check_contiguous(const InteractionDataset& d) {
  std::vector<bool> u(d.num_users()), i(d.num_items());
  for (int64_t r = 0; r < d.size(); ++r) {
    REQUIRE(d.users[r] >= 0);
    REQUIRE(d.users[r] < d.num_users());
    REQUIRE(d.items[r] >= 0);
    REQUIRE(d.items[r] < d.num_items());
    u[d.users[r]] = true;
    i[d.items[r]] = true;
  }
  for (bool b : u) CHECK(b);
  for (bool b : i) CHECK(b);
}

}  // namespace

TEST_CASE("to_implicit: keeps ratings >= threshold and reports the rest dropped") {
  const auto rows = std::vector<Row>{{"a", "1", 5, 0}, {"a", "2", 2, 1}, {"b", "1", 3, 2},
                                     {"c", "3", 4, 3}, {"c", "4", 1, 4}};
  InteractionDataset d = make(rows);
  FilterReport rep = to_implicit(d, {3.0f});
  CHECK(rows_of(d) == std::vector<std::string>{"a:1@0", "b:1@2", "c:3@3"});
  CHECK(rep.rows_before == 5);
  CHECK(rep.rows_dropped == 2);
  CHECK(rep.items_dropped == 2);  // items 2 and 4 lost their only rows
  CHECK(rep.users_dropped == 0);
  CHECK_FALSE(d.has_ratings());  // kDrop is the default: implicit feedback
  CHECK(rep.summary().find("dropped 2 of 5 rows") != std::string::npos);
  check_contiguous(d);

  InteractionDataset ones = make(rows);
  to_implicit(ones, {3.0f, RatingsAfterThreshold::kSetToOne});
  CHECK(ones.ratings == std::vector<float>{1, 1, 1});
  InteractionDataset kept = make(rows);
  to_implicit(kept, {3.0f, RatingsAfterThreshold::kKeep});
  CHECK(kept.ratings == std::vector<float>{5, 3, 4});

  InteractionDataset no_ratings = make(rows);
  no_ratings.ratings.clear();
  CHECK_THROWS_WITH_AS(to_implicit(no_ratings, {3.0f}), doctest::Contains("has no ratings"), Error);
}

TEST_CASE("k_core: drops in rounds until stable (a case computed by hand)") {
  // 2-core. Round 1 drops c:3 and d:2 (users c, d have 1 row); then items 2 and 3 have 1 row
  // each, so round 2 drops a:2 and b:3; then users a and b have 1 row, so round 3 drops a:1
  // and b:1; round 4 drops nothing. Only the e/f block survives.
  InteractionDataset d = make({{"a", "1", 1, 0}, {"e", "5", 1, 0}, {"a", "2", 1, 0}, {"b", "1", 1, 0},
                               {"b", "3", 1, 0}, {"c", "3", 1, 0}, {"e", "6", 1, 0}, {"d", "2", 1, 0},
                               {"f", "5", 1, 0}, {"f", "6", 1, 0}});
  const FilterReport rep = k_core(d, 2, 2);
  CHECK(rows_of(d) == std::vector<std::string>{"e:5@0", "e:6@0", "f:5@0", "f:6@0"});
  CHECK(rep.rows_dropped == 6);
  CHECK(rep.users_dropped == 4);
  CHECK(rep.items_dropped == 3);
  CHECK(rep.rounds == 4);
  CHECK(d.num_users() == 2);
  CHECK(d.num_items() == 2);
  CHECK(d.user_ids.raw(0) == "e");  // survivors keep their relative order and raw ids
  CHECK(d.item_ids.raw(1) == "6");
  check_contiguous(d);

  // Thresholds apply separately: users need 3, items 1.
  InteractionDataset d2 = make({{"a", "1", 1, 0}, {"a", "2", 1, 0}, {"a", "3", 1, 0}, {"b", "1", 1, 0}});
  CHECK(k_core(d2, 3, 1).rows_dropped == 1);
  CHECK(rows_of(d2) == std::vector<std::string>{"a:1@0", "a:2@0", "a:3@0"});
  CHECK_THROWS_AS(k_core(d2, -1, 1), Error);
}

TEST_CASE("deduplicate: keeps the first or the last row of each (user, item) in row order") {
  const auto rows = std::vector<Row>{{"a", "1", 1, 10}, {"a", "2", 1, 11}, {"a", "1", 1, 12},
                                     {"b", "1", 1, 5}, {"b", "1", 1, 3}};
  InteractionDataset first = make(rows);
  FilterReport rep = deduplicate(first, KeepDuplicate::kFirst);
  CHECK(rows_of(first) == std::vector<std::string>{"a:1@10", "a:2@11", "b:1@5"});
  CHECK(rep.rows_dropped == 2);
  InteractionDataset last = make(rows);
  rep = deduplicate(last, KeepDuplicate::kLast);
  CHECK(rows_of(last) == std::vector<std::string>{"a:2@11", "a:1@12", "b:1@3"});
  CHECK(rep.rows_dropped == 2);
  CHECK(rep.users_dropped == 0);
}

TEST_CASE("sort_by_user_time: groups each user's rows in time order, stably, dropping nothing") {
  InteractionDataset d = make({{"b", "1", 1, 30}, {"a", "1", 2, 20}, {"b", "2", 3, 10},
                               {"a", "2", 4, 20}, {"a", "3", 5, 5}});
  const FilterReport rep = sort_by_user_time(d);
  // User ids: b = 0, a = 1. a's rows at time 20 keep their row order (item 1 before item 2).
  CHECK(rows_of(d) == std::vector<std::string>{"b:2@10", "b:1@30", "a:3@5", "a:1@20", "a:2@20"});
  CHECK(d.ratings == std::vector<float>{3, 1, 5, 2, 4});  // ratings move with their rows
  CHECK(rep.rows_dropped == 0);
  d.timestamps.clear();
  CHECK_THROWS_WITH_AS(sort_by_user_time(d), doctest::Contains("has no timestamps"), Error);
}

TEST_CASE("compact_ids: item genres follow their items when ids are re-densified") {
  InteractionDataset d = make({{"a", "1", 5, 0}, {"a", "2", 1, 0}, {"b", "3", 5, 0}});
  d.genre_names = {"G0", "G1", "G2"};
  d.item_genres = {{0}, {1}, {2}};
  to_implicit(d, {3.0f});  // drops item "2"
  REQUIRE(d.num_items() == 2);
  CHECK(d.item_genres == std::vector<std::vector<int32_t>>{{0}, {2}});
  CHECK(d.item_ids.raw(1) == "3");
}
