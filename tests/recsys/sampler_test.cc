#include "recsys/sampler.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "ops/runtime.h"
#include "recsys/user_sets.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// Users with 0, a few (unsorted, with a duplicate) and all but 2 of 50 items.
UserItems mixed_users() {
  std::vector<int64_t> heavy;
  for (int64_t i = 49; i >= 0; --i)  // descending: the sampler must sort
    if (i != 17 && i != 42) heavy.push_back(i);
  return UserItems::from_lists({{}, {7, 3, 3, 40, 0}, heavy}, 50);
}

}  // namespace

TEST_CASE("sampler: uniform draws are never positives and cover each user's complement evenly") {
  const UserItems pos = mixed_users();
  const NegativeSampler sampler(pos);
  CHECK(sampler.num_negatives(0) == 50);
  CHECK(sampler.num_negatives(1) == 46);  // the duplicate 3 counts once
  CHECK(sampler.num_negatives(2) == 2);
  Generator gen(1);
  for (int64_t u = 0; u < 3; ++u) {
    std::map<int64_t, int64_t> seen;
    const int64_t draws = 500 * sampler.num_negatives(u);
    for (int64_t i = 0; i < draws; ++i) ++seen[sampler.sample(u, gen)];
    CHECK(static_cast<int64_t>(seen.size()) == sampler.num_negatives(u));  // every negative drawn
    for (const auto& [item, count] : seen) {
      CHECK_FALSE(sampler.is_positive(u, item));
      CHECK(item >= 0);
      CHECK(item < 50);
      CHECK(count > 400);  // expected 500 each; 400 is > 4.4 standard deviations below
      CHECK(count < 600);
    }
  }
  // The heavy user's only negatives.
  std::set<int64_t> heavy;
  for (int i = 0; i < 100; ++i) heavy.insert(sampler.sample(2, gen));
  CHECK(heavy == std::set<int64_t>{17, 42});
}

TEST_CASE("sampler: popularity draws follow count^alpha over the non-positives, never positives") {
  // Counts 0, 1, 2, 4, 8 for items 0..4; user 0 has item 4, user 1 has items 1..4 (only the
  // zero-count item 0 is left: uniform fallback), user 2 has nothing.
  const UserItems pos = UserItems::from_lists({{4}, {1, 2, 3, 4}, {}}, 5);
  SamplerOptions opts;
  opts.distribution = NegativeDistribution::kPopularity;
  opts.alpha = 1.0;
  const NegativeSampler sampler(pos, opts, {0, 1, 2, 4, 8});
  Generator gen(3);
  std::vector<int64_t> hist(5, 0);
  const int64_t draws = 70000;
  for (int64_t i = 0; i < draws; ++i) ++hist[sampler.sample(0, gen)];
  CHECK(hist[0] == 0);  // count 0: never
  CHECK(hist[4] == 0);  // positive: never
  CHECK(hist[1] / double(draws) == doctest::Approx(1.0 / 7).epsilon(0.05));
  CHECK(hist[2] / double(draws) == doctest::Approx(2.0 / 7).epsilon(0.05));
  CHECK(hist[3] / double(draws) == doctest::Approx(4.0 / 7).epsilon(0.05));
  for (int i = 0; i < 100; ++i) CHECK(sampler.sample(1, gen) == 0);
  // alpha = 0.5 flattens: weights 1, sqrt2, 2, sqrt8 for user 2.
  opts.alpha = 0.5;
  const NegativeSampler flat(pos, opts, {0, 1, 2, 4, 8});
  std::fill(hist.begin(), hist.end(), 0);
  for (int64_t i = 0; i < draws; ++i) ++hist[flat.sample(2, gen)];
  const double total = 1 + std::sqrt(2.0) + 2 + std::sqrt(8.0);
  CHECK(hist[0] == 0);
  CHECK(hist[4] / double(draws) == doctest::Approx(std::sqrt(8.0) / total).epsilon(0.05));
  CHECK(hist[1] / double(draws) == doctest::Approx(1 / total).epsilon(0.05));
}

TEST_CASE("sampler: popularity counts from the positives never return a positive of a heavy user") {
  SamplerOptions opts;
  opts.distribution = NegativeDistribution::kPopularity;
  opts.alpha = 0.75;
  // Counts from these lists: only items 17 and 42 have weight, and user 0 has both.
  const UserItems pos = UserItems::from_lists({{17, 42, 42}, {}}, 50);
  UserItems all = mixed_users();
  const NegativeSampler sampler(all, opts);
  Generator gen(9);
  std::set<int64_t> drawn;
  for (int i = 0; i < 2000; ++i) {
    const int64_t item = sampler.sample(2, gen);
    CHECK_FALSE(sampler.is_positive(2, item));
    drawn.insert(item);
  }
  // 17 and 42 have count 0 in `all` (only user 2 misses them), so the heavy user falls back to
  // uniform over them.
  CHECK(drawn == std::set<int64_t>{17, 42});
  const NegativeSampler other(pos, opts);
  std::set<int64_t> light;
  for (int i = 0; i < 2000; ++i) {
    const int64_t item = other.sample(0, gen);
    CHECK(item != 17);
    CHECK(item != 42);
    light.insert(other.sample(1, gen));
  }
  CHECK(light == std::set<int64_t>{17, 42});
}

TEST_CASE("sampler: the same seed gives the same draws; another seed different ones") {
  const UserItems pos = mixed_users();
  for (auto dist : {NegativeDistribution::kUniform, NegativeDistribution::kPopularity}) {
    SamplerOptions opts;
    opts.distribution = dist;
    const NegativeSampler sampler(pos, opts, std::vector<int64_t>(50, 3));
    auto run = [&](uint64_t seed) {
      Generator gen(seed);
      std::vector<int64_t> out;
      for (int i = 0; i < 200; ++i) out.push_back(sampler.sample(1, gen));
      return out;
    };
    CHECK(run(5) == run(5));
    CHECK(run(5) != run(6));
  }
}

TEST_CASE("sampler: batch draws are identical at 1 and 2 threads and never positives") {
  // 3000 users with random histories of up to 400 of 500 items: the rows run in parallel.
  Generator gen(21);
  std::vector<std::vector<int64_t>> hist(3000);
  for (auto& h : hist) {
    const uint64_t m = gen.next_below(400);
    for (uint64_t i = 0; i < m; ++i) h.push_back(static_cast<int64_t>(gen.next_below(500)));
  }
  const UserItems pos = UserItems::from_lists(hist, 500);
  std::vector<int64_t> users;
  for (int64_t u = 0; u < 3000; ++u) users.push_back((u * 7) % 3000);
  const int saved = num_threads();
  for (auto dist : {NegativeDistribution::kUniform, NegativeDistribution::kPopularity}) {
    SamplerOptions opts;
    opts.distribution = dist;
    const NegativeSampler sampler(pos, opts);
    set_num_threads(1);
    const Ids one = sampler.sample_batch(users, 5, 77);
    set_num_threads(2);
    const Ids two = sampler.sample_batch(users, 5, 77);
    CHECK(one.shape == Shape{3000, 5});
    CHECK(one.values == two.values);
    CHECK(sampler.sample_batch(users, 5, 78).values != one.values);
    const UserItems sorted = sorted_unique(pos);
    int64_t bad = 0;
    for (int64_t b = 0; b < 3000; ++b)
      for (int64_t j = 0; j < 5; ++j)
        bad += contains_sorted(sorted, users[b], one.values[b * 5 + j]);
    CHECK(bad == 0);
  }
  set_num_threads(saved);
}

TEST_CASE(
    "sampler: distinct draws are distinct, sorted, negative, and all of them when k is large") {
  const UserItems pos = mixed_users();
  for (auto dist : {NegativeDistribution::kUniform, NegativeDistribution::kPopularity}) {
    SamplerOptions opts;
    opts.distribution = dist;
    const NegativeSampler sampler(pos, opts);
    Generator gen(4);
    for (int trial = 0; trial < 50; ++trial) {
      const std::vector<int64_t> d = sampler.sample_distinct(1, 20, gen);
      CHECK(d.size() == 20);
      CHECK(std::is_sorted(d.begin(), d.end()));
      CHECK(std::adjacent_find(d.begin(), d.end()) == d.end());
      for (int64_t item : d) CHECK_FALSE(sampler.is_positive(1, item));
    }
    CHECK(sampler.sample_distinct(2, 99, gen) == std::vector<int64_t>{17, 42});
    CHECK(sampler.sample_distinct(0, 50, gen).size() == 50);
    CHECK(sampler.sample_distinct(0, 0, gen).empty());
    Generator a(8), b(8);
    CHECK(sampler.sample_distinct(1, 10, a) == sampler.sample_distinct(1, 10, b));
  }
}

TEST_CASE("sampler: weighted distinct draws favour heavy items and never repeat one") {
  SamplerOptions opts;
  opts.distribution = NegativeDistribution::kPopularity;
  const NegativeSampler sampler(UserItems::from_lists({{4}}, 5), opts, {1, 1, 1, 1000, 1});
  Generator gen(2);
  int64_t heavy_first = 0;
  for (int i = 0; i < 1000; ++i) {
    heavy_first += sampler.sample_distinct(0, 1, gen) == std::vector<int64_t>{3};
    const std::vector<int64_t> two = sampler.sample_distinct(0, 2, gen);
    CHECK(two.size() == 2);
    CHECK(two[0] < two[1]);
    CHECK(std::count(two.begin(), two.end(), 3) == 1);  // P(not chosen) ~ 1e-5
  }
  CHECK(heavy_first > 980);  // P = 1000/1003
}

TEST_CASE("sampler: bad input names the user, item or option") {
  const UserItems full = UserItems::from_lists({{0, 1, 2}, {1}}, 3);
  const NegativeSampler sampler(full);
  Generator gen(0);
  CHECK_THROWS_WITH_AS(sampler.sample(0, gen),
                       doctest::Contains("user 0 has interacted with all 3 items"), recgrad::Error);
  CHECK_THROWS_WITH_AS(sampler.sample(2, gen), doctest::Contains("user 2 is outside [0, 2)"),
                       recgrad::Error);
  CHECK_THROWS_AS(sampler.sample_batch({1, 0}, 2, 0), recgrad::Error);
  // Built by hand: from_lists would already reject the out-of-range item.
  const UserItems out_of_range{/*offsets=*/{0, 1}, /*items=*/{3}, /*num_items=*/3};
  CHECK_THROWS_WITH_AS(NegativeSampler{out_of_range},
                       doctest::Contains("item 3 at position 0 is outside [0, 3)"), recgrad::Error);
  SamplerOptions opts;
  opts.distribution = NegativeDistribution::kPopularity;
  opts.alpha = -1;
  CHECK_THROWS_WITH_AS(NegativeSampler(full, opts),
                       doctest::Contains("alpha must be finite and >= 0"), recgrad::Error);
  opts.alpha = 1;
  CHECK_THROWS_WITH_AS(NegativeSampler(full, opts, {1, 2}),
                       doctest::Contains("2 item counts for 3 items"), recgrad::Error);
}

TEST_CASE("user sets: the union is sorted and duplicate-free per user") {
  const UserItems a = UserItems::from_lists({{5, 1, 5}, {}, {2}}, 6);
  const UserItems b = UserItems::from_lists({{0, 1}, {3}, {}}, 6);
  const UserItems u = sorted_union({&a, &b}, "test");
  CHECK(u.offsets == std::vector<int64_t>{0, 3, 4, 5});
  CHECK(u.items == std::vector<int64_t>{0, 1, 5, 3, 2});
  CHECK(contains_sorted(u, 0, 5));
  CHECK_FALSE(contains_sorted(u, 1, 5));
  const UserItems c = UserItems::from_lists({{0}}, 6);
  CHECK_THROWS_WITH_AS(sorted_union({&a, &c}, "test"),
                       doctest::Contains("test: item list 1 has 1 users and 6 items"),
                       recgrad::Error);
}
