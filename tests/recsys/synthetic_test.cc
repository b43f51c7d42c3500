// The synthetic generator: exact size, structure a model can learn, determinism by seed.
#include "recsys/synthetic.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "ops/runtime.h"
#include "recsys/dataset.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// Hit rate @10 of a scorer on each user's last item, ranked against every item the user has
// not seen before it (ties count against the held-out item).
template <typename Score>
double hit_rate_at_10(const InteractionDataset& d, const Score& score) {
  const UserItems hist = UserItems::from(d);  // rows are grouped by user in time order
  int64_t hits = 0;
  std::vector<bool> seen(d.num_items());
  for (int64_t u = 0; u < hist.num_users(); ++u) {
    const int64_t n = hist.count(u), target = hist.begin(u)[n - 1];
    std::fill(seen.begin(), seen.end(), false);
    for (int64_t k = 0; k + 1 < n; ++k) seen[hist.begin(u)[k]] = true;
    const double s = score(u, target, hist.begin(u)[n - 2]);
    int64_t better = 0;
    for (int64_t i = 0; i < d.num_items() && better < 10; ++i)
      if (!seen[i] && i != target && score(u, i, hist.begin(u)[n - 2]) >= s) ++better;
    hits += better < 10;
  }
  return double(hits) / hist.num_users();
}

}  // namespace

TEST_CASE("synthetic: default size is ML-100K-like, with exact totals and 1-based raw ids") {
  const auto t0 = std::chrono::steady_clock::now();
  const InteractionDataset d = make_synthetic();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("make_synthetic() default: ", secs * 1e3, " ms");
  CHECK(d.size() == 100000);
  CHECK(d.num_users() == 1000);
  CHECK(d.num_items() == 1700);
  CHECK(d.user_ids.raw(0) == "1");
  CHECK(d.item_ids.raw(1699) == "1700");
  CHECK(d.name == "synthetic(seed=42)");

  const UserItems hist = UserItems::from(d);
  int64_t shortest = d.size(), longest = 0;
  for (int64_t u = 0; u < hist.num_users(); ++u) {
    shortest = std::min(shortest, hist.count(u));
    longest = std::max(longest, hist.count(u));
    std::vector<int64_t> items(hist.begin(u), hist.end(u));
    std::sort(items.begin(), items.end());
    CHECK(std::adjacent_find(items.begin(), items.end()) == items.end());  // no repeats
  }
  CHECK(shortest >= 20);
  CHECK(longest > 300);  // heavy-tailed lengths, like ML-100K's (max 737)
  CHECK(longest <= 680);

  for (int64_t r = 1; r < d.size(); ++r)
    if (d.users[r] == d.users[r - 1]) REQUIRE(d.timestamps[r] > d.timestamps[r - 1]);

  double mean = 0;
  std::vector<int64_t> per_rating(6);
  for (float r : d.ratings) {
    REQUIRE(r >= 1);
    REQUIRE(r <= 5);
    REQUIRE(r == std::round(r));
    mean += r;
    ++per_rating[static_cast<int>(r)];
  }
  mean /= d.size();
  MESSAGE("ratings 1..5: ", per_rating[1], " ", per_rating[2], " ", per_rating[3], " ", per_rating[4],
          " ", per_rating[5], ", mean ", mean);
  CHECK(mean > 3.0);
  CHECK(mean < 4.0);
  for (int r = 1; r <= 5; ++r) CHECK(per_rating[r] > 1000);

  // Popularity skew: the top 10% of items take a large share of the rows (0.32). Without the Zipf
  // weights the factors alone give 0.22 and Zipf 0.5 gives 0.24, so this checks the Zipf skew.
  std::vector<int64_t> count(d.num_items());
  for (int64_t i : d.items) ++count[i];
  std::sort(count.rbegin(), count.rend());
  const double top_share =
      double(std::accumulate(count.begin(), count.begin() + d.num_items() / 10, int64_t{0})) / d.size();
  MESSAGE("top 10% items' share of rows: ", top_share);
  CHECK(top_share > 0.28);  // ML-100K: 0.43
}

TEST_CASE("synthetic: the factors and the successors beat popularity on each user's last item") {
  SyntheticTruth truth;
  SyntheticOptions o;
  const InteractionDataset d = make_synthetic(o, &truth);
  std::vector<double> pop(d.num_items());
  for (int64_t i : d.items) ++pop[i];
  const double hr_pop = hit_rate_at_10(d, [&](int64_t, int64_t i, int64_t) { return pop[i]; });
  const double hr_factors = hit_rate_at_10(d, [&](int64_t u, int64_t i, int64_t) {
    return truth.log_popularity[i] + o.affinity_scale * truth.affinity(u, i);
  });
  // A Markov-aware scorer: successors of the previous item first, then the factor preference.
  const double hr_markov = hit_rate_at_10(d, [&](int64_t u, int64_t i, int64_t prev) {
    const int64_t* s = truth.successors.data() + prev * o.num_successors;
    const bool next = std::find(s, s + o.num_successors, i) != s + o.num_successors;
    return (next ? 100.0 : 0.0) + truth.log_popularity[i] + o.affinity_scale * truth.affinity(u, i);
  });
  MESSAGE("HR@10 on the last item: popularity ", hr_pop, ", factors ", hr_factors, ", factors+successors ",
          hr_markov);
  CHECK(hr_factors > 2.5 * hr_pop);      // 0.159 vs 0.048: the factors are the strong signal
  CHECK(hr_markov > 1.5 * hr_factors);   // 0.264: the successors add what MF cannot see
}

TEST_CASE("synthetic: the same seed gives bit-identical data at 1 and 2 threads") {
  SyntheticOptions o;
  o.num_users = 300;
  o.num_interactions = 30000;
  set_num_threads(1);
  const InteractionDataset a = make_synthetic(o);
  set_num_threads(2);
  const InteractionDataset b = make_synthetic(o);
  CHECK(a.users == b.users);
  CHECK(a.items == b.items);
  CHECK(a.timestamps == b.timestamps);
  CHECK(std::equal(a.ratings.begin(), a.ratings.end(), b.ratings.begin(), b.ratings.end(),
                   [](float x, float y) { return std::memcmp(&x, &y, sizeof x) == 0; }));
  o.seed = 43;
  CHECK(make_synthetic(o).items != a.items);
}

TEST_CASE("synthetic: sizes that cannot be met are refused with the numbers") {
  SyntheticOptions o;
  o.num_interactions = 1000;  // 1,000 users need at least 20,000
  CHECK_THROWS_WITH_AS(make_synthetic(o), doctest::Contains("must lie in [20000, 680000]"), Error);
  o = {};
  o.num_successors = 1700;
  CHECK_THROWS_WITH_AS(make_synthetic(o), doctest::Contains("num_successors"), Error);
  o = {};
  o.dim = 0;
  CHECK_THROWS_WITH_AS(make_synthetic(o), doctest::Contains("dim must be >= 1"), Error);
}
