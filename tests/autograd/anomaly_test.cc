// Anomaly mode names the op that produced the first NaN/inf, in forward or in backward; off, it
// changes nothing; it is per thread; -inf masks are not anomalies.
#include "autograd/anomaly.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <thread>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "ops/softmax.h"

using namespace recgrad;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

Tensor leaf(std::vector<float> v, Shape s = {}) { return tensor(std::move(v), std::move(s)).set_requires_grad(); }

// An identity whose backward hands its input a row-sparse gradient: `bad` lands at (row, col).
Tensor sparse_identity(const Tensor& table, int64_t row, int64_t col, float bad) {
  return record("sparse_identity", table.detach().clone(), {table},
                [row, col, bad, shape = table.shape()](const Tensor&, GradSink& s) {
                  RowSparseGrad g;
                  g.rows = {0, row};
                  Shape vs = shape;
                  vs[0] = 2;
                  g.values = zeros(vs);
                  g.values.data()[shape[1] + col] = bad;
                  s.add_sparse(0, g);
                });
}

}  // namespace

TEST_CASE("anomaly mode: log of a negative is named in forward with its shapes and element") {
  Tensor x = leaf({1.f, -1.f, 2.f}, {3});
  AnomalyModeGuard anomaly;
  CHECK_THROWS_WITH_AS(log(x),
                       "anomaly mode: 'log' produced nan in its forward output [3] at [1] "
                       "(inputs: [3])",
                       NonFiniteError);
}

TEST_CASE("anomaly mode: sqrt at 0 is fine forward and named in backward") {
  Tensor x = leaf({0.f, 4.f, 1.f, 9.f}, {2, 2});
  AnomalyModeGuard anomaly;
  Tensor y = sum(sqrt(x));  // sqrt(0) = 0: finite
  CHECK(y.item() == doctest::Approx(6.f));
  CHECK_THROWS_WITH_AS(y.backward(),
                       "anomaly mode: the backward of 'sqrt' (output [2,2], inputs [2,2]) produced "
                       "inf in the gradient of input 0 [2,2] at [0,0] from a finite output "
                       "gradient",
                       NonFiniteError);
}

TEST_CASE("anomaly mode: the op named is the first to go wrong, not a later one") {
  Tensor x = leaf({-1.f, 1.f}, {2});
  AnomalyModeGuard anomaly;
  // log makes the NaN; mul and sum would only pass it on.
  CHECK_THROWS_WITH_AS(sum(mul(log(x), 2.f)), doctest::Contains("'log' produced nan"), NonFiniteError);
}

TEST_CASE("anomaly mode: off, the same computations run through and give NaN/inf") {
  CHECK_FALSE(anomaly_mode_enabled());
  Tensor x = leaf({1.f, -1.f}, {2});
  CHECK(std::isnan(log(x).at({1})));
  Tensor z = leaf({0.f, 4.f}, {2});
  sum(sqrt(z)).backward();
  CHECK(std::isinf(z.grad().at({0})));
}

TEST_CASE("anomaly mode: an infinity made from finite inputs is named; one passed on is not") {
  AnomalyModeGuard anomaly;
  CHECK_THROWS_WITH_AS(log(leaf({0.f, 1.f}, {2})),
                       doctest::Contains("'log' produced -inf in its forward output [2] at [0]"),
                       NonFiniteError);
  // A +inf leaf is outside data: the op consuming it is not blamed for passing it on...
  Tensor big = tensor({kInf, 1.f}, {2});
  CHECK(std::isinf(add(big, 1.f).at({0})));
  // ...but a NaN it makes from it is, and the message says which input held the infinity.
  CHECK_THROWS_WITH_AS(sub(big, big),
                       "anomaly mode: 'sub' produced nan in its forward output [2] at [0] "
                       "(inputs: [2] holding inf at [0], [2] holding inf at [0])",
                       NonFiniteError);
}

TEST_CASE("anomaly mode: -inf masks through masked_fill and cross_entropy are not anomalies") {
  Generator gen(3);
  Tensor logits = randn({2, 4}, gen).set_requires_grad();
  AnomalyModeGuard anomaly;
  const Tensor mask = tensor({0, 1, 0, 0, 0, 0, 1, 1}, {2, 4});
  Tensor masked = masked_fill(logits, mask, -kInf);
  Tensor loss = cross_entropy(masked, Ids({0, 1}));
  CHECK(std::isfinite(loss.item()));
  loss.backward();
  CHECK(logits.grad().at({0, 1}) == 0.f);
  CHECK(std::isfinite(logits.grad().at({0, 0})));
  // A NaN fill is still an anomaly.
  CHECK_THROWS_WITH_AS(masked_fill(logits, mask, kNaN), doctest::Contains("'masked_fill' produced nan"),
                       NonFiniteError);
}

TEST_CASE("anomaly mode: forward outputs are checked under NoGradGuard too") {
  AnomalyModeGuard anomaly;
  NoGradGuard no_grad;
  CHECK_THROWS_AS(log(tensor({-2.f}, {1})), NonFiniteError);
}

TEST_CASE("anomaly mode: a row-sparse gradient is checked on its rows, in table coordinates") {
  Tensor table = leaf(std::vector<float>(12, 1.f), {4, 3});
  AnomalyModeGuard anomaly;
  Tensor y = sum(sparse_identity(table, /*row=*/2, /*col=*/1, kNaN));
  CHECK_THROWS_WITH_AS(y.backward(),
                       "anomaly mode: the backward of 'sparse_identity' (output [4,3], inputs "
                       "[4,3]) produced nan in the gradient of input 0 [4,3] at [2,1] from a finite "
                       "output gradient",
                       NonFiniteError);
}

TEST_CASE("anomaly mode: a non-finite gradient passed to backward() is named as such") {
  Tensor x = leaf({1.f, 2.f}, {2});
  AnomalyModeGuard anomaly;
  Tensor y = mul(x, 3.f);
  CHECK_THROWS_WITH_AS(y.backward(tensor({1.f, kInf}, {2})),
                       "anomaly mode: the gradient passed to backward() holds inf at [1]",
                       NonFiniteError);
}

TEST_CASE("anomaly mode: guards nest, restore, and are per thread") {
  CHECK_FALSE(anomaly_mode_enabled());
  {
    AnomalyModeGuard on;
    CHECK(anomaly_mode_enabled());
    bool other_thread = true;
    std::thread([&] { other_thread = anomaly_mode_enabled(); }).join();
    CHECK_FALSE(other_thread);
    {
      AnomalyModeGuard off(false);
      CHECK_FALSE(anomaly_mode_enabled());
      CHECK_NOTHROW(log(tensor({-1.f}, {1})));
    }
    CHECK(anomaly_mode_enabled());
  }
  CHECK_FALSE(anomaly_mode_enabled());
}

TEST_CASE("first_non_finite: finds the first NaN or inf past the parallel chunk size") {
  std::vector<float> v(200000, 1.f);
  CHECK(detail::first_non_finite(v.data(), static_cast<int64_t>(v.size())) == -1);
  CHECK(detail::first_non_finite(v.data(), 0) == -1);
  v[150001] = -kInf;
  v[190000] = kNaN;
  CHECK(detail::first_non_finite(v.data(), static_cast<int64_t>(v.size())) == 150001);
  v[3] = kNaN;
  CHECK(detail::first_non_finite(v.data(), static_cast<int64_t>(v.size())) == 3);
  // The largest finite float is finite; the index helper prints row-major multi-indices.
  v.assign(5, std::numeric_limits<float>::max());
  CHECK(detail::first_non_finite(v.data(), 5) == -1);
  CHECK(detail::index_str({2, 3, 4}, 23) == "[1,2,3]");
  CHECK(detail::index_str({}, 0) == "[]");
}
