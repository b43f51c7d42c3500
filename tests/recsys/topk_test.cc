#include "recsys/topk.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "ops/runtime.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Reference: full sort of the finite scores by (score desc, item asc).
std::vector<int64_t> sorted_items(const float* row, int64_t n, int64_t k) {
  std::vector<std::pair<float, int64_t>> c;
  for (int64_t i = 0; i < n; ++i)
    if (row[i] > -kInf) c.emplace_back(-row[i], i);
  std::sort(c.begin(), c.end());
  std::vector<int64_t> out;
  for (int64_t i = 0; i < k; ++i)
    out.push_back(i < static_cast<int64_t>(c.size()) ? c[i].second : -1);
  return out;
}

}  // namespace

TEST_CASE("top_k: best first, ties to the smaller item id") {
  const Tensor s = tensor({0.5f, 0.9f, 0.5f, 0.1f, 0.9f}, {1, 5});
  const TopK top = top_k(s, 3);
  CHECK(top.items.shape == Shape{1, 3});
  CHECK(top.items.values == std::vector<int64_t>{1, 4, 0});
  CHECK(top.scores.to_vector() == std::vector<float>{0.9f, 0.9f, 0.5f});
}

TEST_CASE(
    "top_k: masked items are set to -inf in place and never returned; short rows are padded") {
  Tensor s = tensor({3.f, 2.f, 1.f, 0.f,  //
                     0.f, 1.f, 2.f, std::numeric_limits<float>::quiet_NaN()},
                    {2, 4});
  const UserItems mask = UserItems::from_lists({{}, {0, 2}, {3}}, 4);
  mask_items(s, {2, 1}, mask);  // row 0 is user 2, row 1 is user 1
  CHECK(s.at({0, 3}) == -kInf);
  CHECK(s.at({1, 0}) == -kInf);
  CHECK(s.at({1, 2}) == -kInf);
  CHECK(s.at({0, 0}) == 3.f);
  const TopK top = top_k(s, 4);
  CHECK(top.items.values == std::vector<int64_t>{0, 1, 2, -1,      // masked item 3 absent
                                                 1, -1, -1, -1});  // NaN and masked absent
  CHECK(top.scores.at({0, 3}) == -kInf);
  CHECK(top.scores.at({1, 0}) == 1.f);
}

TEST_CASE("top_k: matches a full sort on random rows with ties, at 1 and 2 threads") {
  Generator gen(5);
  const int64_t b = 40, n = 300;
  std::vector<float> v(b * n);
  for (float& x : v)
    x = static_cast<float>(gen.next_below(40)) - (gen.next_below(10) == 0 ? 1e9f : 0.f);
  for (int64_t i = 0; i < b * n; i += 7) v[i] = -kInf;
  const Tensor s = tensor(v, {b, n});
  const int saved = num_threads();
  for (int64_t k : {1, 10, 299, 400}) {
    set_num_threads(1);
    const TopK one = top_k(s, k);
    set_num_threads(2);
    const TopK two = top_k(s, k);
    CHECK(one.items.values == two.items.values);
    for (int64_t row = 0; row < b; ++row) {
      const std::vector<int64_t> got(one.items.values.begin() + row * k,
                                     one.items.values.begin() + (row + 1) * k);
      CHECK(got == sorted_items(v.data() + row * n, n, k));
    }
  }
  set_num_threads(saved);
}

TEST_CASE("top_k: bad shapes, k and users name the problem") {
  CHECK_THROWS_WITH_AS(top_k(zeros({2, 3}), 0), doctest::Contains("k must be >= 1, got 0"),
                       recgrad::Error);
  CHECK_THROWS_AS(top_k(zeros({6}), 2), recgrad::Error);
  Tensor s = zeros({2, 3});
  const UserItems mask = UserItems::from_lists({{0}, {1}}, 3);
  CHECK_THROWS_WITH_AS(mask_items(s, {0}, mask),
                       doctest::Contains("[2,3] do not match 1 users x 3 items"), recgrad::Error);
  CHECK_THROWS_WITH_AS(mask_items(s, {0, 5}, mask), doctest::Contains("user 5 is outside [0, 2)"),
                       recgrad::Error);
}
