// Splits: disjoint, covering, respecting time, counted by RecBole's rule, reproducible by seed.
#include "recsys/split.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "ops/runtime.h"
#include "recsys/filters.h"
#include "recsys/synthetic.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

using RowKey = std::tuple<int64_t, int64_t, int64_t, float>;  // user, item, time, rating

std::multiset<RowKey> keys(const InteractionDataset& d) {
  std::multiset<RowKey> out;
  for (int64_t r = 0; r < d.size(); ++r)
    out.emplace(d.users[r], d.items[r], d.has_timestamps() ? d.timestamps[r] : -1,
                d.has_ratings() ? d.ratings[r] : -1.f);
  return out;
}

// Synthetic rows in a shuffled order, with timestamp ties and users of 1 and 2 rows added, so
// splits cannot lean on the generator's grouped, strictly increasing layout.
InteractionDataset messy_data() {
  SyntheticOptions o;
  o.num_users = 60;
  o.num_items = 120;
  o.num_interactions = 60 * 25;
  o.min_per_user = 5;
  o.seed = 3;
  InteractionDataset d = make_synthetic(o);
  for (int64_t r = 0; r < d.size(); r += 7) d.timestamps[r] = d.timestamps[r > 0 ? r - 1 : 0];
  const int64_t solo = d.user_ids.intern("solo"), pair = d.user_ids.intern("pair");
  for (auto [u, i, t] : {std::tuple{solo, 0, 5}, {pair, 1, 9}, {pair, 2, 9}}) {
    d.users.push_back(u);
    d.items.push_back(i);
    d.ratings.push_back(3);
    d.timestamps.push_back(t);
  }
  std::vector<int64_t> order(d.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = static_cast<int64_t>(k);
  Generator g(11);
  for (int64_t k = d.size() - 1; k > 0; --k) std::swap(order[k], order[g.next_below(k + 1)]);
  recgrad::detail::permute_rows(d, order);
  return d;
}

void check_disjoint_and_covering(const InteractionDataset& data, const Split& s) {
  std::multiset<RowKey> all = keys(s.train);
  for (const InteractionDataset* p : {&s.valid, &s.test}) {
    const auto k = keys(*p);
    all.insert(k.begin(), k.end());
  }
  CHECK(s.train.size() + s.valid.size() + s.test.size() == data.size());
  CHECK(all == keys(data));  // every row exactly once: (user, item) pairs are unique here
  for (const InteractionDataset* p : {&s.train, &s.valid, &s.test}) {
    CHECK(p->num_users() == data.num_users());  // parts share the input's id maps
    CHECK(p->num_items() == data.num_items());
    CHECK(p->user_ids.raw(data.num_users() - 1) == "pair");
  }
}

std::map<int64_t, std::vector<int64_t>> times_by_user(const InteractionDataset& d) {
  std::map<int64_t, std::vector<int64_t>> out;
  for (int64_t r = 0; r < d.size(); ++r) out[d.users[r]].push_back(d.timestamps[r]);
  return out;
}

std::map<int64_t, int64_t> count_by_user(const InteractionDataset& d) {
  std::map<int64_t, int64_t> out;
  for (int64_t u : d.users) ++out[u];
  return out;
}

bool same_rows(const InteractionDataset& a, const InteractionDataset& b) {
  return a.users == b.users && a.items == b.items && a.timestamps == b.timestamps;
}

}  // namespace

TEST_CASE("split_counts: RecBole's rule (floor for valid/test, a lone row to test first)") {
  using V = std::vector<int64_t>;
  CHECK(recgrad::detail::split_counts(10, {}) == V{8, 1, 1});
  CHECK(recgrad::detail::split_counts(5, {}) == V{3, 1, 1});
  CHECK(recgrad::detail::split_counts(2, {}) == V{1, 0, 1});
  CHECK(recgrad::detail::split_counts(1, {}) == V{1, 0, 0});
  CHECK(recgrad::detail::split_counts(19, {}) == V{17, 1, 1});
  CHECK(recgrad::detail::split_counts(100, {0.9, 0.0, 0.1}) == V{90, 0, 10});
  CHECK(recgrad::detail::split_counts(7, {0.6, 0.2, 0.2}) == V{5, 1, 1});
}

TEST_CASE("leave_one_out: last row tests, second-to-last validates, short users train only") {
  const InteractionDataset d = messy_data();
  const Split s = leave_one_out(d);
  check_disjoint_and_covering(d, s);
  const auto train = times_by_user(s.train), valid = times_by_user(s.valid), test = times_by_user(s.test);
  const int64_t solo = d.user_ids.find("solo"), pair = d.user_ids.find("pair");
  CHECK(test.count(solo) == 0);
  CHECK(test.count(pair) == 0);
  CHECK(train.at(pair).size() == 2);
  for (int64_t u = 0; u < d.num_users(); ++u) {
    if (u == solo || u == pair) continue;
    REQUIRE(test.at(u).size() == 1);
    REQUIRE(valid.at(u).size() == 1);
    const int64_t latest_train = *std::max_element(train.at(u).begin(), train.at(u).end());
    CHECK(latest_train <= valid.at(u)[0]);
    CHECK(valid.at(u)[0] <= test.at(u)[0]);
  }
  // Without validation, a 2-row user gives one row to test.
  const Split nv = leave_one_out(d, {false});
  CHECK(nv.valid.size() == 0);
  CHECK(count_by_user(nv.test).at(pair) == 1);
  check_disjoint_and_covering(d, nv);
}

TEST_CASE("leave_one_out: equal timestamps are ordered by row, the later row held out") {
  InteractionDataset d;
  for (const char* item : {"a", "b", "c", "d"}) {
    d.users.push_back(d.user_ids.intern("u"));
    d.items.push_back(d.item_ids.intern(item));
    d.timestamps.push_back(7);
  }
  const Split s = leave_one_out(d);
  CHECK(s.test.item_ids.raw(s.test.items.at(0)) == "d");
  CHECK(s.valid.item_ids.raw(s.valid.items.at(0)) == "c");
}

TEST_CASE("split_by_time_per_user: each user's earliest rows train, latest test") {
  const InteractionDataset d = messy_data();
  const Split s = split_by_time_per_user(d, {0.8, 0.1, 0.1});
  check_disjoint_and_covering(d, s);
  const auto all = count_by_user(d), tr = count_by_user(s.train), va = count_by_user(s.valid),
             te = count_by_user(s.test);
  const auto train = times_by_user(s.train), valid = times_by_user(s.valid), test = times_by_user(s.test);
  for (auto [u, n] : all) {
    const std::vector<int64_t> want = recgrad::detail::split_counts(n, {0.8, 0.1, 0.1});
    CHECK((tr.count(u) ? tr.at(u) : 0) == want[0]);
    CHECK((va.count(u) ? va.at(u) : 0) == want[1]);
    CHECK((te.count(u) ? te.at(u) : 0) == want[2]);
    const int64_t max_train = *std::max_element(train.at(u).begin(), train.at(u).end());
    if (valid.count(u)) CHECK(max_train <= *std::min_element(valid.at(u).begin(), valid.at(u).end()));
    if (test.count(u)) CHECK(max_train <= *std::min_element(test.at(u).begin(), test.at(u).end()));
    if (valid.count(u) && test.count(u))
      CHECK(*std::max_element(valid.at(u).begin(), valid.at(u).end()) <=
            *std::min_element(test.at(u).begin(), test.at(u).end()));
  }
}

TEST_CASE("split_by_time_global: one time cut for everybody") {
  const InteractionDataset d = messy_data();
  const Split s = split_by_time_global(d, {0.7, 0.1, 0.2});
  check_disjoint_and_covering(d, s);
  const std::vector<int64_t> want = recgrad::detail::split_counts(d.size(), {0.7, 0.1, 0.2});
  CHECK(s.train.size() == want[0]);
  CHECK(s.valid.size() == want[1]);
  CHECK(s.test.size() == want[2]);
  const auto max_of = [](const InteractionDataset& p) { return *std::max_element(p.timestamps.begin(), p.timestamps.end()); };
  const auto min_of = [](const InteractionDataset& p) { return *std::min_element(p.timestamps.begin(), p.timestamps.end()); };
  CHECK(max_of(s.train) <= min_of(s.valid));
  CHECK(max_of(s.valid) <= min_of(s.test));
}

TEST_CASE("random splits: counted per user or globally, same seed same parts at 1 and 2 threads") {
  const InteractionDataset d = messy_data();
  set_num_threads(1);
  const Split a = split_random_per_user(d, {}, 5);
  const Split g1 = split_random_global(d, {0.9, 0.0, 0.1}, 5);
  set_num_threads(2);
  const Split b = split_random_per_user(d, {}, 5);
  const Split g2 = split_random_global(d, {0.9, 0.0, 0.1}, 5);
  check_disjoint_and_covering(d, a);
  check_disjoint_and_covering(d, g1);
  for (auto [x, y] : {std::pair{&a, &b}, {&g1, &g2}}) {
    CHECK(same_rows(x->train, y->train));
    CHECK(same_rows(x->valid, y->valid));
    CHECK(same_rows(x->test, y->test));
  }
  const auto all = count_by_user(d), te = count_by_user(a.test);
  for (auto [u, n] : all) CHECK((te.count(u) ? te.at(u) : 0) == recgrad::detail::split_counts(n, {})[2]);
  CHECK(g1.valid.size() == 0);
  CHECK(g1.test.size() == d.size() / 10);
  // Another seed gives another split; parts keep the input's row order.
  CHECK_FALSE(same_rows(a.test, split_random_per_user(d, {}, 6).test));
  std::vector<int64_t> pos;  // rows of test in the input, by (user, item) lookup
  std::map<std::pair<int64_t, int64_t>, int64_t> row_of;
  for (int64_t r = 0; r < d.size(); ++r) row_of[{d.users[r], d.items[r]}] = r;
  for (int64_t r = 0; r < a.test.size(); ++r) pos.push_back(row_of.at({a.test.users[r], a.test.items[r]}));
  CHECK(std::is_sorted(pos.begin(), pos.end()));
}

TEST_CASE("splits: bad ratios and missing timestamps are refused with the reason") {
  InteractionDataset d = messy_data();
  CHECK_THROWS_WITH_AS(split_random_global(d, {0.8, 0.1, 0.2}, 1), doctest::Contains("sum to 1.1"), Error);
  CHECK_THROWS_WITH_AS(split_random_per_user(d, {1.1, -0.1, 0.0}, 1), doctest::Contains("must be >= 0"), Error);
  d.timestamps.clear();
  CHECK_THROWS_WITH_AS(leave_one_out(d), doctest::Contains("has no timestamps"), Error);
  CHECK_THROWS_WITH_AS(split_by_time_global(d), doctest::Contains("has no timestamps"), Error);
  CHECK(split_random_global(d, {0.9, 0.0, 0.1}, 1).test.size() == d.size() / 10);  // no time needed
}

TEST_CASE("merge_parts: train and validation as one part, grouped by user and then by time") {
  const InteractionDataset d = messy_data();
  const Split s = split_random_per_user(d, {0.7, 0.2, 0.1}, 4);
  const InteractionDataset m = merge_parts(s.train, s.valid);
  CHECK(m.size() == s.train.size() + s.valid.size());
  std::multiset<RowKey> both = keys(s.train);
  for (const RowKey& k : keys(s.valid)) both.insert(k);
  CHECK(keys(m) == both);
  for (int64_t r = 1; r < m.size(); ++r) {
    CHECK(m.users[r - 1] <= m.users[r]);
    if (m.users[r - 1] == m.users[r]) CHECK(m.timestamps[r - 1] <= m.timestamps[r]);
  }
  CHECK(m.user_ids.size() == d.user_ids.size());
  CHECK(m.item_ids.size() == d.item_ids.size());

  // Without time: a user's training rows, then its validation rows, each in their order.
  InteractionDataset a = s.train, b = s.valid;
  a.timestamps.clear();
  b.timestamps.clear();
  const InteractionDataset untimed = merge_parts(a, b);
  std::vector<int64_t> expected;
  for (int64_t u = 0; u < d.num_users(); ++u) {
    for (int64_t r = 0; r < a.size(); ++r)
      if (a.users[r] == u) expected.push_back(a.items[r]);
    for (int64_t r = 0; r < b.size(); ++r)
      if (b.users[r] == u) expected.push_back(b.items[r]);
  }
  CHECK(untimed.items == expected);
  CHECK_THROWS_WITH_AS(merge_parts(s.train, b), doctest::Contains("not parts of one split"), Error);
}
