#include "recsys/models/ease.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "ops/runtime.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

ModelSpec spec() {
  ModelSpec s;
  s.name = "ease";
  return s;
}

TrainingData data_of(const UserItems& h) { return TrainingData{nullptr, &h, h.num_users(), h.num_items}; }

// 150 users with up to 15 random items of 40, repeats included.
UserItems random_history() {
  Generator gen(17);
  std::vector<std::vector<int64_t>> h(150);
  for (auto& l : h)
    for (uint64_t i = 0, m = gen.next_below(15); i < m; ++i)
      l.push_back(static_cast<int64_t>(gen.next_below(40)));
  return UserItems::from_lists(h, 40);
}

// (G + λI)⁻¹ in double by Gauss-Jordan elimination with partial pivoting.
std::vector<double> reference_inverse(std::vector<double> a, int64_t n) {
  std::vector<double> inv(n * n, 0);
  for (int64_t i = 0; i < n; ++i) inv[i * n + i] = 1;
  for (int64_t c = 0; c < n; ++c) {
    int64_t p = c;
    for (int64_t r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[p * n + c])) p = r;
    for (int64_t k = 0; k < n; ++k) {
      std::swap(a[c * n + k], a[p * n + k]);
      std::swap(inv[c * n + k], inv[p * n + k]);
    }
    const double d = a[c * n + c];
    for (int64_t k = 0; k < n; ++k) {
      a[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (int64_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      for (int64_t k = 0; k < n; ++k) {
        a[r * n + k] -= f * a[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

}  // namespace

TEST_CASE("ease: beats Pop on the synthetic data (ratio split)") {
  const Experiment& ex = synthetic_ratio();
  auto m = make_attached(spec(), ex);
  CHECK_FALSE(m->is_iterative());
  fit(*m, 0);
  const double ndcg = test_metrics(*m, ex).at("NDCG@10");
  const double pop = pop_metrics(ex).at("NDCG@10");
  MESSAGE("ease NDCG@10 ", ndcg, " vs pop ", pop);
  CHECK(ndcg > 1.2 * pop);  // 0.240 vs 0.186 when written
}

TEST_CASE("ease: B matches the closed form computed in double") {
  const UserItems h = random_history();
  const int64_t n = h.num_items;
  EaseConfig c;
  c.lambda = 5;  // small λ: the data, not the ridge, shapes B
  Ease m(c, n);
  m.attach(data_of(h));
  m.fit();
  // G = XᵀX (binary X: a repeated item counts once) + λI;  B_ij = -P_ij / P_jj, B_jj = 0.
  std::vector<std::vector<int>> x(h.num_users(), std::vector<int>(n, 0));
  for (int64_t u = 0; u < h.num_users(); ++u)
    for (const int64_t* it = h.begin(u); it != h.end(u); ++it) x[u][*it] = 1;
  std::vector<double> g(n * n, 0);
  for (int64_t i = 0; i < n; ++i) {
    g[i * n + i] += c.lambda;
    for (int64_t j = 0; j < n; ++j)
      for (const auto& row : x) g[i * n + j] += row[i] * row[j];
  }
  const std::vector<double> p = reference_inverse(g, n);
  const Tensor& b = m.item_weights();
  double worst = 0, largest = 0;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const double want = i == j ? 0 : -p[i * n + j] / p[j * n + j];
      worst = std::max(worst, std::abs(b.at({i, j}) - want));
      largest = std::max(largest, std::abs(want));
      if (i == j) CHECK(b.at({i, j}) == 0.f);
    }
  CHECK(largest > 0.01);
  CHECK(worst < 1e-5);
  // score = X_u·B.
  NoGradGuard no_grad;
  const Tensor s = m.score({3, 4}, h);
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double want = 0;
      for (int64_t i = 0; i < n; ++i) want += x[3 + r][i] * b.at({i, j});
      CHECK(s.at({r, j}) == doctest::Approx(want).epsilon(1e-5));
    }
}

TEST_CASE("ease: save/load round-trips scores bit for bit") {
  const Experiment& ex = synthetic_ratio();
  auto m = make_attached(spec(), ex);
  m->fit();
  auto loaded = round_trip(*m, spec(), ex);
  CHECK(bit_identical(scores_of(*m, ex), scores_of(*loaded, ex)));
}

TEST_CASE("ease: fitting twice gives the same weights, at any thread count") {
  const UserItems h = random_history();
  Ease a(EaseConfig{}, h.num_items), b(EaseConfig{}, h.num_items);
  a.attach(data_of(h));
  b.attach(data_of(h));
  const int threads = num_threads();
  a.fit();
  set_num_threads(1);
  b.fit();
  set_num_threads(threads);
  CHECK(bit_identical(a.item_weights(), b.item_weights()));
}

TEST_CASE("ease: bad options and misuse are errors") {
  EaseConfig c;
  c.lambda = 0;
  CHECK_THROWS_WITH_AS(Ease(c, 5), doctest::Contains("lambda must be positive"), Error);
  Ease m(EaseConfig{}, 5);
  CHECK_THROWS_WITH_AS(m.fit(), doctest::Contains("attach()"), Error);
  CHECK_THROWS_AS(m.loss(0), UsageError);
  const UserItems h = UserItems::from_lists({{0}}, 4);
  CHECK_THROWS_WITH_AS(m.attach(data_of(h)), doctest::Contains("built for 5 items"), Error);
}
