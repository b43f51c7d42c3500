#include "recsys/evaluator.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "ops/runtime.h"
#include "recsys/baselines.h"
#include "recsys/user_sets.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// score(u, i) = -i: item 0 is everyone's favourite.
Scorer minus_item_id(int64_t n) {
  return [n](const std::vector<int64_t>& users) {
    std::vector<float> v;
    for (size_t b = 0; b < users.size(); ++b)
      for (int64_t i = 0; i < n; ++i) v.push_back(-static_cast<float>(i));
    return tensor(v, {static_cast<int64_t>(users.size()), n});
  };
}

// A random split of random histories: train / valid / test per user, disjoint.
struct Split {
  UserItems train, valid, test;
};
Split random_split(int64_t users, int64_t items, uint64_t seed) {
  Generator gen(seed);
  std::vector<std::vector<int64_t>> tr(users), va(users), te(users);
  for (int64_t u = 0; u < users; ++u) {
    for (int64_t i = 0; i < items; ++i) {
      const uint64_t c = gen.next_below(20);
      if (c < 3)
        tr[u].push_back(i);
      else if (c == 3)
        va[u].push_back(i);
      else if (c == 4 && u % 5 != 0)
        te[u].push_back(i);  // every 5th user has no test item
    }
  }
  return {UserItems::from_lists(tr, items), UserItems::from_lists(va, items),
          UserItems::from_lists(te, items)};
}

}  // namespace

TEST_CASE("evaluator: full ranking on a hand case with score = -item id") {
  // u0: train {0}, valid {1}, test {3} -> candidates 2 3 4 5, test item at rank 1.
  // u1: no test item (skipped). u2: train {5}, test {0, 4} -> candidates 0..4, ranks 0 and 4.
  const UserItems train = UserItems::from_lists({{0}, {2}, {5}}, 6);
  const UserItems valid = UserItems::from_lists({{1}, {}, {}}, 6);
  const UserItems test = UserItems::from_lists({{3}, {}, {4, 0}}, 6);
  EvalOptions opts;
  opts.ks = {1, 2, 5};
  const Evaluator ev(test, {&train, &valid}, opts);
  const EvalResult r = ev.evaluate(minus_item_id(6));
  CHECK(r.protocol == "full");
  CHECK(r.users_evaluated == 2);
  CHECK(r.users_skipped == 1);
  const double l3 = 1 / std::log2(3.0), l6 = 1 / std::log2(6.0);
  CHECK(r.at("HR@1") == doctest::Approx(0.5));
  CHECK(r.at("HR@2") == doctest::Approx(1.0));
  CHECK(r.at("Recall@1") == doctest::Approx(0.25));  // (0 + 1/2) / 2
  CHECK(r.at("Precision@5") == doctest::Approx((0.2 + 0.4) / 2));
  CHECK(r.at("NDCG@2") == doctest::Approx((l3 + 1 / (1 + l3)) / 2));
  CHECK(r.at("NDCG@5") == doctest::Approx((l3 + (1 + l6) / (1 + l3)) / 2));
  CHECK(r.at("MRR@5") == doctest::Approx((0.5 + 1.0) / 2));
  CHECK(r.at("MAP@1") == doctest::Approx((0 + 1.0) / 2));
  CHECK(r.at("MAP@5") == doctest::Approx((0.5 + (1 + 2.0 / 5) / 2) / 2));
  CHECK(r.at("AUC") == doctest::Approx((2.0 / 3 + 0.5) / 2));
  // Without masks, item 0 and 1 are candidates for u0 too: the test item drops to rank 3.
  const Evaluator unmasked(test, {}, opts);
  CHECK(unmasked.evaluate(minus_item_id(6)).at("MRR@5") == doctest::Approx((0.25 + 1.0) / 2));
}

TEST_CASE("evaluator: a relevant item that is also seen is masked, so it is a miss") {
  const UserItems train = UserItems::from_lists({{0, 2}}, 4);
  const UserItems test = UserItems::from_lists({{0, 1}}, 4);  // item 0 repeats a training item
  EvalOptions opts;
  opts.ks = {1, 3};
  const EvalResult r = Evaluator(test, {&train}, opts).evaluate(minus_item_id(4));
  CHECK(r.at("HR@1") == 1.0);                       // item 1 is the best candidate left
  CHECK(r.at("Recall@3") == doctest::Approx(0.5));  // item 0 can never be hit
}

TEST_CASE("evaluator: fixed negatives rank the test items among exactly those candidates") {
  const UserItems test = UserItems::from_lists({{3}, {}, {4, 0}}, 6);
  EvalOptions opts;
  opts.ks = {1, 2};
  // u0: {3, 5, 2} -> scores -3 -5 -2: rank 1. u2: {0, 4, 1}: ranks 0 and 2.
  const Evaluator ev = Evaluator::with_negatives(test, {{5, 2}, {}, {1}}, opts);
  const EvalResult r = ev.evaluate(minus_item_id(6));
  CHECK(r.protocol == "fixed");
  CHECK(r.users_evaluated == 2);
  CHECK(r.at("HR@1") == doctest::Approx(0.5));
  CHECK(r.at("MRR@2") == doctest::Approx((0.5 + 1.0) / 2));
  CHECK(r.at("Recall@2") == doctest::Approx((1.0 + 0.5) / 2));
  CHECK(r.at("AUC") ==
        doctest::Approx((0.5 + 0.5) / 2));  // u0: 1 of 2 below; u2: 1 of 1 and 0 of 1
  CHECK(ev.negatives(0) == std::vector<int64_t>{5, 2});
  CHECK_THROWS_WITH_AS(Evaluator::with_negatives(test, {{3}, {}, {}}, opts),
                       doctest::Contains("negative 3 of user 0 is one of its relevant items"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(Evaluator::with_negatives(test, {{}, {}}, opts),
                       doctest::Contains("2 negative lists for 3 users"), recgrad::Error);
}

TEST_CASE("evaluator: sampled negatives are unseen, seeded, and with N = all equal full ranking") {
  const Split s = random_split(60, 80, 4);
  const UserItems extra = UserItems::from_lists(std::vector<std::vector<int64_t>>(60, {79}), 80);
  EvalOptions opts;
  opts.protocol = Protocol::kSampled;
  opts.num_negatives = 10;
  opts.seed = 3;
  const Evaluator a(s.test, {&s.train, &s.valid}, opts, {&extra});
  const Evaluator b(s.test, {&s.train, &s.valid}, opts, {&extra});
  const UserItems interacted = sorted_union({&s.train, &s.valid, &s.test, &extra}, "test");
  for (int64_t u : a.users()) {
    const std::vector<int64_t> neg = a.negatives(u);
    CHECK(neg.size() == 10);
    CHECK(neg == b.negatives(u));
    for (int64_t item : neg) CHECK_FALSE(contains_sorted(interacted, u, item));
  }
  opts.seed = 4;
  const Evaluator c(s.test, {&s.train, &s.valid}, opts, {&extra});
  int64_t differ = 0;
  for (int64_t u : a.users()) differ += a.negatives(u) != c.negatives(u);
  CHECK(differ > 40);
  // With N at least every unseen item, the candidates are those of full ranking.
  opts.num_negatives = 80;
  const Evaluator all(s.test, {&s.train, &s.valid}, opts);
  EvalOptions full_opts;
  const Evaluator full(s.test, {&s.train, &s.valid}, full_opts);
  const Scorer model = random_scorer(80, 9);
  const EvalResult rs = all.evaluate(model), rf = full.evaluate(model);
  CHECK(rs.users_evaluated == rf.users_evaluated);
  int64_t without_test = 0;  // every 5th user, and any other that drew no test item
  for (int64_t u = 0; u < 60; ++u) without_test += s.test.count(u) == 0;
  CHECK(without_test >= 12);
  CHECK(rs.users_skipped == without_test);
  CHECK(rf.users_evaluated == 60 - without_test);
  for (size_t m = 0; m < rf.metrics.size(); ++m) {
    CAPTURE(rf.metrics[m].first);
    CHECK(rs.metrics[m].second == doctest::Approx(rf.metrics[m].second).epsilon(1e-12));
  }
}

TEST_CASE("evaluator: evaluate_pairs scores only the candidates and equals evaluate") {
  const Split s = random_split(60, 80, 5);
  const Scorer rows = random_scorer(80, 7);
  // The pairs' scores read from the rows `rows` gives, counting the pairs asked for.
  int64_t pairs_scored = 0;
  const PairScorer pairs = [&](const std::vector<int64_t>& users,
                               const std::vector<int64_t>& items) {
    REQUIRE(users.size() == items.size());
    pairs_scored += static_cast<int64_t>(items.size());
    const Tensor all = rows(users);  // row k is users[k]'s
    std::vector<float> v;
    for (size_t k = 0; k < items.size(); ++k)
      v.push_back(all.at({static_cast<int64_t>(k), items[k]}));
    return tensor(v, {static_cast<int64_t>(v.size())});
  };
  EvalOptions opts;
  opts.protocol = Protocol::kSampled;
  opts.num_negatives = 10;
  opts.batch_size = 7;  // several calls
  const Evaluator sampled(s.test, {&s.train, &s.valid}, opts);
  std::vector<std::vector<int64_t>> given(60);  // fixed negatives: never a relevant item
  for (int64_t u = 0; u < 60; ++u)
    for (int64_t i = 0; i < 80; i += 9)
      if (!contains_sorted(s.test, u, i)) given[u].push_back(i);
  const Evaluator fixed = Evaluator::with_negatives(s.test, given, opts);
  for (const Evaluator* ev : {&sampled, &fixed}) {
    CAPTURE(ev->evaluate(rows).protocol);
    CHECK(ev->ranks_candidates());
    pairs_scored = 0;
    const EvalResult by_pairs = ev->evaluate_pairs(pairs), by_rows = ev->evaluate(rows);
    int64_t candidates = 0;
    for (int64_t u : ev->users())
      candidates += s.test.count(u) + static_cast<int64_t>(ev->negatives(u).size());
    CHECK(pairs_scored == candidates);  // nothing beyond each user's candidates
    CHECK(by_pairs.users_evaluated == by_rows.users_evaluated);
    for (size_t m = 0; m < by_rows.metrics.size(); ++m) {
      CAPTURE(by_rows.metrics[m].first);
      CHECK(by_pairs.metrics[m].second == by_rows.metrics[m].second);  // bit for bit
    }
  }
  const Evaluator full(s.test, {&s.train, &s.valid}, EvalOptions{});
  CHECK_FALSE(full.ranks_candidates());
  CHECK_THROWS_WITH_AS(full.evaluate_pairs(pairs), doctest::Contains("sampled or fixed protocol"),
                       recgrad::Error);
  const PairScorer short_by_one = [](const std::vector<int64_t>& users,
                                     const std::vector<int64_t>&) {
    return zeros({static_cast<int64_t>(users.size()) - 1});
  };
  CHECK_THROWS_WITH_AS(sampled.evaluate_pairs(short_by_one),
                       doctest::Contains("pair scorer returned"), recgrad::Error);
}

TEST_CASE("evaluator: results do not depend on batch size or thread count") {
  const Split s = random_split(300, 120, 8);
  const Scorer model = random_scorer(120, 2);
  const int saved = num_threads();
  for (Protocol p : {Protocol::kFull, Protocol::kSampled}) {
    EvalOptions opts;
    opts.protocol = p;
    opts.num_negatives = 20;
    opts.batch_size = 256;
    set_num_threads(2);
    const EvalResult two = Evaluator(s.test, {&s.train, &s.valid}, opts).evaluate(model);
    set_num_threads(1);
    opts.batch_size = 7;
    const EvalResult one = Evaluator(s.test, {&s.train, &s.valid}, opts).evaluate(model);
    for (size_t m = 0; m < one.metrics.size(); ++m) CHECK(one.metrics[m] == two.metrics[m]);
  }
  set_num_threads(saved);
}

TEST_CASE("evaluator: the score budget bounds each Scorer call; metrics are bit-identical") {
  const Split s = random_split(300, 120, 9);
  const Scorer model = random_scorer(120, 3);
  for (Protocol p : {Protocol::kFull, Protocol::kSampled}) {
    std::vector<EvalResult> results;
    // Budgets of 120 x {1, 7, 64} scores, one below a single row, and the default (one call).
    for (const int64_t budget : {int64_t{120}, int64_t{840}, int64_t{7680}, int64_t{50},
                                 int64_t{1} << 25}) {
      EvalOptions opts;
      opts.protocol = p;
      opts.num_negatives = 20;
      opts.max_batch_scores = budget;
      const Evaluator ev(s.test, {&s.train, &s.valid}, opts);
      const int64_t expected = std::min<int64_t>(256, std::max<int64_t>(1, budget / 120));
      CHECK(ev.users_per_call() == expected);
      int64_t widest = 0, calls = 0;
      const Scorer counting = [&](const std::vector<int64_t>& users) {
        widest = std::max<int64_t>(widest, static_cast<int64_t>(users.size()));
        ++calls;
        return model(users);
      };
      results.push_back(ev.evaluate(counting));
      CHECK(widest == std::min<int64_t>(expected, results.back().users_evaluated));
      CHECK(calls == (results.back().users_evaluated + expected - 1) / expected);
    }
    for (const EvalResult& r : results) {
      REQUIRE(r.metrics.size() == results[0].metrics.size());
      for (size_t m = 0; m < r.metrics.size(); ++m) {
        CAPTURE(r.metrics[m].first);
        CHECK(std::memcmp(&r.metrics[m].second, &results[0].metrics[m].second,
                          sizeof(double)) == 0);
      }
    }
  }
  EvalOptions bad;
  bad.max_batch_scores = 0;
  CHECK_THROWS_WITH_AS(Evaluator(s.test, {}, bad),
                       doctest::Contains("max_batch_scores must be >= 1, got 0"), recgrad::Error);
}

TEST_CASE("evaluator: popularity beats random when test items are popular") {
  // Items 0..9 are popular in train, and each user's test item is a popular one it has not seen.
  std::vector<std::vector<int64_t>> tr(200), te(200);
  Generator gen(1);
  for (int64_t u = 0; u < 200; ++u) {
    for (int64_t i = 0; i < 10; ++i)
      if (i != u % 10) tr[u].push_back(i);
    tr[u].push_back(10 + static_cast<int64_t>(gen.next_below(90)));
    te[u].push_back(u % 10);
  }
  const UserItems train = UserItems::from_lists(tr, 100), test = UserItems::from_lists(te, 100);
  const Evaluator ev(test, {&train});
  const EvalResult pop = ev.evaluate(popularity_scorer(train));
  const EvalResult rnd = ev.evaluate(random_scorer(100, 5));
  CHECK(pop.at("HR@5") == 1.0);  // the one unseen popular item beats the tail
  CHECK(rnd.at("HR@5") < 0.3);
  // The random scorer gives a user the same row in any batch.
  const Scorer r = random_scorer(100, 5);
  CHECK(r({3, 8}).to_vector()[100 + 17] == r({8}).to_vector()[17]);
}

TEST_CASE("evaluator: JSON and errors") {
  const UserItems test = UserItems::from_lists({{1}, {}}, 3);
  EvalOptions opts;
  opts.ks = {2};
  const Evaluator ev(test, {}, opts);
  const EvalResult r = ev.evaluate(minus_item_id(3));
  const std::string json = r.to_json();
  CHECK(json.find("\"protocol\": \"full\"") != std::string::npos);
  CHECK(json.find("\"users_evaluated\": 1, \"users_skipped\": 1") != std::string::npos);
  CHECK(json.find("\"HR@2\": 1, ") != std::string::npos);
  CHECK(json.find("\"MRR@2\": 0.5") != std::string::npos);
  CHECK_THROWS_WITH_AS(r.at("NDCG@10"), doctest::Contains("no metric 'NDCG@10'; have: HR@2"),
                       recgrad::Error);
  const Scorer wrong = [](const std::vector<int64_t>& users) {
    return zeros({static_cast<int64_t>(users.size()), 4});
  };
  CHECK_THROWS_WITH_AS(ev.evaluate(wrong),
                       doctest::Contains("returned [1,4] for 1 users; expected [1,3]"),
                       recgrad::Error);
  const UserItems other = UserItems::from_lists({{0}, {0}, {0}}, 3);
  CHECK_THROWS_WITH_AS(Evaluator(test, {&other}), doctest::Contains("seen items have 3 users"),
                       recgrad::Error);
  opts.batch_size = 0;
  CHECK_THROWS_WITH_AS(Evaluator(test, {}, opts), doctest::Contains("batch_size must be >= 1"),
                       recgrad::Error);
  // No user with a test item: counts, and null metrics rather than NaN in JSON.
  const EvalResult empty =
      Evaluator(UserItems::from_lists({{}, {}}, 3), {}).evaluate(minus_item_id(3));
  CHECK(empty.users_evaluated == 0);
  CHECK(empty.users_skipped == 2);
  CHECK(empty.to_json().find("\"AUC\": null") != std::string::npos);
}

TEST_CASE("evaluate_ratings: RMSE and MAE of a rating scorer") {
  InteractionDataset test;
  test.users = {0, 1, 1};
  test.items = {2, 0, 1};
  test.ratings = {4.f, 3.f, 5.f};
  const PairScorer predict = [](const std::vector<int64_t>& users,
                                const std::vector<int64_t>& items) {
    std::vector<float> v;
    for (size_t k = 0; k < users.size(); ++k)
      v.push_back(static_cast<float>(users[k] + items[k] + 2));
    return tensor(v);  // 4, 3, 4 -> errors 0, 0, -1
  };
  const EvalResult r = evaluate_ratings(predict, test, 2);
  CHECK(r.at("RMSE") == doctest::Approx(std::sqrt(1.0 / 3)));
  CHECK(r.at("MAE") == doctest::Approx(1.0 / 3));
  CHECK(r.users_evaluated == 2);
  test.ratings.clear();
  CHECK_THROWS_WITH_AS(evaluate_ratings(predict, test), doctest::Contains("has no ratings"),
                       recgrad::Error);
}
