#include "recsys/metrics.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Metric name -> value for one user.
std::map<std::string, double> by_name(const RankingMetrics& m, const UserRanking& r) {
  const std::vector<double> v = m.compute(r);
  std::map<std::string, double> out;
  for (int64_t i = 0; i < m.size(); ++i) out[m.names()[i]] = v[i];
  return out;
}

// The pessimistic rule by definition: a finite relevant item j ranks below every finite
// non-relevant item scoring >= s_j, every relevant item scoring more, and (an arbitrary but
// fixed order among tied relevant items) tied relevant items with a smaller id.
std::vector<int64_t> reference_ranks(const std::vector<float>& s, const std::vector<int64_t>& rel) {
  auto finite = [&](int64_t i) { return s[i] > -kInf; };
  auto is_rel = [&](int64_t i) { return std::count(rel.begin(), rel.end(), i) > 0; };
  std::vector<int64_t> ranks;
  for (int64_t j : rel) {
    if (!finite(j)) continue;
    int64_t above = 0;
    for (int64_t c = 0; c < static_cast<int64_t>(s.size()); ++c) {
      if (c == j || !finite(c)) continue;
      if (is_rel(c) ? (s[c] > s[j] || (s[c] == s[j] && c < j)) : s[c] >= s[j]) ++above;
    }
    ranks.push_back(above);
  }
  std::sort(ranks.begin(), ranks.end());
  return ranks;
}

}  // namespace

TEST_CASE("metrics: a ranked list gives hand-computed values, K larger than the list included") {
  // ranked 3 1 4 5 9; relevant {1, 9, 7}: 1 at rank 1, 9 at rank 4, 7 absent (a miss).
  const UserRanking r = ranking_from_list({3, 1, 4, 5, 9}, {9, 1, 7});
  CHECK(r.ranks == std::vector<int64_t>{1, 4});
  CHECK(r.num_relevant == 3);
  CHECK(r.num_candidates == 5);
  const RankingMetrics m({1, 3, 10});
  auto v = by_name(m, r);
  const double idcg3 = 1 + 1 / std::log2(3.0) + 0.5;
  for (const char* name : {"HR@1", "Recall@1", "Precision@1", "NDCG@1", "MRR@1", "MAP@1"})
    CHECK(v[name] == 0.0);
  CHECK(v["HR@3"] == 1.0);
  CHECK(v["Recall@3"] == doctest::Approx(1.0 / 3));
  CHECK(v["Precision@3"] == doctest::Approx(1.0 / 3));
  CHECK(v["NDCG@3"] == doctest::Approx((1 / std::log2(3.0)) / idcg3));
  CHECK(v["MRR@3"] == doctest::Approx(0.5));
  CHECK(v["MAP@3"] == doctest::Approx(0.5 / 3));
  // K = 10 > 5 candidates: precision still divides by K.
  CHECK(v["HR@10"] == 1.0);
  CHECK(v["Recall@10"] == doctest::Approx(2.0 / 3));
  CHECK(v["Precision@10"] == doctest::Approx(0.2));
  CHECK(v["NDCG@10"] == doctest::Approx((1 / std::log2(3.0) + 1 / std::log2(6.0)) / idcg3));
  CHECK(v["MRR@10"] == doctest::Approx(0.5));
  CHECK(v["MAP@10"] == doctest::Approx((0.5 + 2.0 / 5) / 3));
  // 3 non-relevant candidates: item 1 has 2 below it, item 9 none, the miss none.
  CHECK(v["AUC"] == doctest::Approx(2.0 / 9));
}

TEST_CASE("metrics: names list each metric at each K, then AUC") {
  const RankingMetrics m({10, 5});
  CHECK(m.names() == std::vector<std::string>{"HR@10", "HR@5", "Recall@10", "Recall@5",
                                              "Precision@10", "Precision@5", "NDCG@10", "NDCG@5",
                                              "MRR@10", "MRR@5", "MAP@10", "MAP@5", "AUC"});
  CHECK_THROWS_WITH_AS(RankingMetrics({5, 0}), doctest::Contains("K must be >= 1, got 0"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(RankingMetrics({5, 5}), doctest::Contains("K = 5 is given twice"),
                       recgrad::Error);
  CHECK_THROWS_AS(RankingMetrics({}), recgrad::Error);
}

TEST_CASE("metrics: a tied relevant item ranks below the non-relevant items it ties with") {
  const std::vector<float> s{0.5f, 0.9f, 0.5f, 0.1f, -kInf};
  const RankingMetrics m({2, 3});
  const int64_t rel2[] = {2};
  UserRanking r = ranking_from_scores(s.data(), 5, rel2, 1);
  CHECK(r.ranks == std::vector<int64_t>{2});  // below item 1 and the tied item 0
  CHECK(r.num_candidates == 4);               // item 4 is masked
  auto v = by_name(m, r);
  CHECK(v["HR@2"] == 0.0);
  CHECK(v["HR@3"] == 1.0);
  CHECK(v["MRR@3"] == doctest::Approx(1.0 / 3));
  CHECK(v["AUC"] == doctest::Approx(1.0 / 3));
  // The same item as the relevant one in a tie with item 0 of the relevant set: both rank
  // below item 1 only, whichever order they take among themselves.
  const int64_t rel02[] = {0, 2};
  r = ranking_from_scores(s.data(), 5, rel02, 2);
  CHECK(r.ranks == std::vector<int64_t>{1, 2});
  CHECK(by_name(m, r)["AUC"] == doctest::Approx(0.5));
  // A constant scorer gets the worst rank, not a lucky one by item id.
  const std::vector<float> flat(6, 0.f);
  const int64_t rel0[] = {0};
  CHECK(ranking_from_scores(flat.data(), 6, rel0, 1).ranks == std::vector<int64_t>{5});
}

TEST_CASE("metrics: masked and NaN items are not candidates; a relevant one is a miss") {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> s{nan, 1.f, 0.f, -kInf};
  const int64_t rel_nan[] = {0};
  UserRanking r = ranking_from_scores(s.data(), 4, rel_nan, 1);
  CHECK(r.ranks.empty());
  CHECK(r.num_relevant == 1);
  CHECK(r.num_candidates == 2);
  const RankingMetrics m({1, 10});
  auto v = by_name(m, r);
  CHECK(v["HR@10"] == 0.0);
  CHECK(v["NDCG@10"] == 0.0);
  CHECK(v["AUC"] == 0.0);
  const int64_t rel_masked[] = {2, 3};  // item 3 is masked: R = 2, one hit possible
  r = ranking_from_scores(s.data(), 4, rel_masked, 2);
  CHECK(r.ranks == std::vector<int64_t>{1});
  v = by_name(m, r);
  CHECK(v["Recall@10"] == doctest::Approx(0.5));
  CHECK(v["NDCG@10"] == doctest::Approx((1 / std::log2(3.0)) / (1 + 1 / std::log2(3.0))));
}

TEST_CASE("metrics: a user with no relevant item scores 0, and AUC 0.5 without negatives") {
  const RankingMetrics m({5});
  UserRanking none;
  none.num_candidates = 4;
  const std::vector<double> v = m.compute(none);
  for (int64_t i = 0; i + 1 < m.size(); ++i) CHECK(v[i] == 0.0);
  CHECK(v.back() == 0.5);  // AUC
  const UserRanking all_relevant = ranking_from_list({4, 2}, {2, 4});
  CHECK(by_name(m, all_relevant)["AUC"] == 0.5);
  CHECK(by_name(m, all_relevant)["NDCG@5"] == doctest::Approx(1.0));
  CHECK(by_name(m, all_relevant)["Precision@5"] == doctest::Approx(0.4));
}

TEST_CASE("metrics: ranks from scores match the tie rule's definition on random rows") {
  Generator gen(11);
  // Short rows, and long ones where more than 32 items are relevant (the binary-search path).
  for (int trial = 0; trial < 400; ++trial) {
    const int64_t n = 1 + static_cast<int64_t>(gen.next_below(trial < 300 ? 12 : 300));
    std::vector<float> s(n);
    const bool ties = trial < 350;
    for (float& x : s) {  // few distinct values (many ties) or many; some masked, some NaN
      const uint64_t c = gen.next_below(6);
      x = c == 0   ? -kInf
          : c == 1 ? std::numeric_limits<float>::quiet_NaN()
          : ties   ? 0.5f * static_cast<float>(c)
                   : gen.next_float();
    }
    std::vector<int64_t> rel;
    for (int64_t i = 0; i < n; ++i)
      if (gen.next_below(3) == 0) rel.push_back(i);
    std::vector<float> clean(s);  // the reference treats NaN as masked
    for (float& x : clean)
      if (std::isnan(x)) x = -kInf;
    const UserRanking r =
        ranking_from_scores(s.data(), n, rel.data(), static_cast<int64_t>(rel.size()));
    CHECK(r.ranks == reference_ranks(clean, rel));
    CHECK(r.num_candidates ==
          std::count_if(clean.begin(), clean.end(), [](float x) { return x > -kInf; }));
  }
}

TEST_CASE("metrics: ranking_from_scores refuses unsorted or out-of-range relevant items") {
  const std::vector<float> s{1.f, 2.f, 3.f};
  const int64_t unsorted[] = {2, 1};
  CHECK_THROWS_WITH_AS(ranking_from_scores(s.data(), 3, unsorted, 2),
                       doctest::Contains("strictly increasing in [0, 3); got 1 at position 1"),
                       recgrad::Error);
  const int64_t outside[] = {3};
  CHECK_THROWS_AS(ranking_from_scores(s.data(), 3, outside, 1), recgrad::Error);
  CHECK_THROWS_WITH_AS(ranking_from_list({1, 2, 1}, {1}), doctest::Contains("item 1 appears twice"),
                       recgrad::Error);
}

TEST_CASE("metrics: RMSE and MAE equal hand-computed values") {
  const RatingErrors e = rating_errors({3.f, 4.f, 1.f, 5.f}, {4.f, 4.f, 3.f, 5.f});
  CHECK(e.count == 4);
  CHECK(e.mae == doctest::Approx(3.0 / 4));              // |−1| + 0 + |−2| + 0
  CHECK(e.rmse == doctest::Approx(std::sqrt(5.0 / 4)));  // 1 + 0 + 4 + 0
  CHECK_THROWS_WITH_AS(rating_errors({1.f}, {1.f, 2.f}),
                       doctest::Contains("1 predictions for 2 ratings"), recgrad::Error);
}
