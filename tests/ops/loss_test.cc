#include "ops/loss.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/reduce.h"
#include "ops/runtime.h"
#include "ops/shape.h"

using namespace recgrad;

namespace {

constexpr Reduction kAllReductions[] = {Reduction::kMean, Reduction::kSum, Reduction::kNone};

const char* name(Reduction r) {
  return r == Reduction::kMean ? "mean" : r == Reduction::kSum ? "sum" : "none";
}

// Reduces per-element reference losses (double) the way the op should.
std::vector<double> reduce_ref(const std::vector<double>& l, Reduction r, int64_t count) {
  if (r == Reduction::kNone) return l;
  double s = 0;
  for (double v : l) s += v;
  if (r == Reduction::kMean) s = count > 0 ? s / count : 0.0;
  return {s};
}

void check_values(const Tensor& got, const std::vector<double>& want, double tol = 1e-5) {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i)
    CHECK_MESSAGE(std::abs(got.data()[i] - want[i]) <= tol * (1 + std::abs(want[i])), "element ",
                  i, ": ", got.data()[i], " vs ", want[i]);
}

// Per-row losses [B] and the gradient of their sum, computed at 1 thread and then at 2.
struct RowLossRuns {
  std::vector<std::vector<float>> losses, grads;
};

template <typename RowLoss>
RowLossRuns at_1_and_2_threads(const Tensor& x, const RowLoss& row_loss) {
  const int restore = num_threads();
  RowLossRuns runs;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor xi = x.clone().set_requires_grad();
    Tensor y = row_loss(xi);
    y.backward(ones(y.shape()));
    runs.losses.push_back(y.to_vector());
    runs.grads.push_back(xi.grad().to_vector());
  }
  set_num_threads(restore);
  return runs;
}

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector())
    if (!std::isfinite(v)) return false;
  return true;
}

double sigmoid_ref(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// log softmax of one row in double, the textbook way (inputs here are small).
std::vector<double> log_softmax_ref(const float* x, int64_t c) {
  double m = x[0];
  for (int64_t j = 1; j < c; ++j) m = std::max(m, static_cast<double>(x[j]));
  double s = 0;
  for (int64_t j = 0; j < c; ++j) s += std::exp(x[j] - m);
  std::vector<double> out(c);
  for (int64_t j = 0; j < c; ++j) out[j] = x[j] - m - std::log(s);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// mse_loss

TEST_CASE("mse_loss: values match a double computation for every reduction") {
  Tensor p = tensor({1.f, -2.f, 0.5f, 3.f, 0.f, 4.f}, {2, 3});
  Tensor t = tensor({0.f, 1.f, 0.5f, -1.f, 2.f, 4.5f}, {2, 3});
  std::vector<double> l;
  for (int i = 0; i < 6; ++i) l.push_back(std::pow(double(p.data()[i]) - t.data()[i], 2));
  for (Reduction r : kAllReductions) {
    INFO("reduction=", name(r));
    Tensor y = mse_loss(p, t, r);
    CHECK(y.shape() == (r == Reduction::kNone ? Shape{2, 3} : Shape{}));
    check_values(y, reduce_ref(l, r, 6));
  }
  CHECK(mse_loss(p, t).item() == doctest::Approx((1 + 9 + 0 + 16 + 4 + 0.25) / 6.0));
}

TEST_CASE("mse_loss: gradients reach both inputs for every reduction and edge shape") {
  for (Shape s : {Shape{1}, Shape{3, 4}, Shape{1, 5}, Shape{2, 1, 3}}) {
    for (Reduction r : kAllReductions) {
      INFO("shape=", s, " reduction=", name(r));
      Generator gen(11);
      std::vector<Tensor> in{randn(s, gen), randn(s, gen)};
      CHECK(gradcheck([r](const auto& x) { return mse_loss(x[0], x[1], r); }, in));
    }
  }
}

TEST_CASE("mse_loss: the gradient is 2(pred - target)/n and the target's is its negative") {
  Tensor p = tensor({3.f, 1.f}).set_requires_grad();
  Tensor t = tensor({1.f, 2.f}).set_requires_grad();
  mse_loss(p, t).backward();
  CHECK(p.grad().to_vector() == std::vector<float>{2.f, -1.f});
  CHECK(t.grad().to_vector() == std::vector<float>{-2.f, 1.f});
}

TEST_CASE("mse_loss: shapes that differ are named in the error") {
  CHECK_THROWS_WITH_AS(mse_loss(zeros({4, 3}), zeros({4})),
                       doctest::Contains("mse_loss: shapes [4,3] and [4] differ"), recgrad::Error);
  CHECK_THROWS_WITH_AS(mse_loss(zeros({2, 3}), zeros({3, 2}), Reduction::kNone),
                       doctest::Contains("[2,3] and [3,2]"), recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// bce_with_logits

TEST_CASE("bce_with_logits: values match -[t log σ(x) + (1-t) log(1-σ(x))] in double") {
  Tensor x = tensor({0.f, 2.f, -3.f, 0.7f, -0.2f, 5.f}, {3, 2});
  Tensor t = tensor({1.f, 0.f, 0.f, 1.f, 0.3f, 0.9f}, {3, 2});
  std::vector<double> l;
  for (int i = 0; i < 6; ++i) {
    const double s = sigmoid_ref(x.data()[i]), ti = t.data()[i];
    l.push_back(-(ti * std::log(s) + (1 - ti) * std::log(1 - s)));
  }
  for (Reduction r : kAllReductions) {
    INFO("reduction=", name(r));
    check_values(bce_with_logits(x, t, r), reduce_ref(l, r, 6));
  }
  CHECK(bce_with_logits(scalar(0.f), scalar(1.f)).item() == doctest::Approx(std::log(2.0)));
}

TEST_CASE("bce_with_logits: gradients reach logits and soft targets for every reduction") {
  for (Shape s : {Shape{1}, Shape{4, 3}, Shape{1, 1}, Shape{5}}) {
    for (Reduction r : kAllReductions) {
      INFO("shape=", s, " reduction=", name(r));
      Generator gen(12);
      std::vector<Tensor> in{randn(s, gen), uniform(s, 0.1f, 0.9f, gen)};
      CHECK(gradcheck([r](const auto& x) { return bce_with_logits(x[0], x[1], r); }, in));
    }
  }
}

TEST_CASE("bce_with_logits: the logit gradient is σ(x) - t and the target gradient is -x") {
  Tensor x = tensor({0.f, 2.f}).set_requires_grad();
  Tensor t = tensor({1.f, 0.25f}).set_requires_grad();
  bce_with_logits(x, t, Reduction::kSum).backward();
  CHECK(x.grad().at({0}) == doctest::Approx(-0.5));
  CHECK(x.grad().at({1}) == doctest::Approx(sigmoid_ref(2.0) - 0.25));
  CHECK(t.grad().at({0}) == doctest::Approx(0.0));
  CHECK(t.grad().at({1}) == doctest::Approx(-2.0));
}

TEST_CASE("bce_with_logits: logits of ±1000 give finite losses and gradients") {
  Tensor x = tensor({1000.f, -1000.f, 1000.f, -1000.f}).set_requires_grad();
  Tensor t = tensor({0.f, 1.f, 1.f, 0.f});
  Tensor y = bce_with_logits(x, t, Reduction::kNone);
  REQUIRE(all_finite(y));
  check_values(y, {1000.0, 1000.0, 0.0, 0.0});
  bce_with_logits(x, t).backward();
  REQUIRE(all_finite(x.grad()));
  check_values(x.grad(), {0.25, -0.25, 0.0, 0.0});
}

TEST_CASE("bce_with_logits: gradients are bit-identical run to run and at 1 or 2 threads") {
  // Regression: the gradient loop was cut where the scheduler split it, and a chunk's vector
  // body and scalar remainder round differently, so the same call gave different bits.
  Generator gen(11);
  const Tensor x = randn({64, 1700}, gen), t = uniform({64, 1700}, 0.f, 1.f, gen);
  const int restore = num_threads();
  auto grad_of = [&](Reduction r) {
    Tensor xl = x.clone().set_requires_grad();
    Tensor y = bce_with_logits(xl, t, r);
    (r == Reduction::kNone ? sum(y) : y).backward();
    return xl.grad().to_vector();
  };
  for (Reduction r : kAllReductions) {
    set_num_threads(1);
    const std::vector<float> serial = grad_of(r);
    set_num_threads(2);
    for (int rep = 0; rep < 20; ++rep) CHECK(grad_of(r) == serial);
  }
  set_num_threads(restore);
}

TEST_CASE("bce_with_logits: shapes that differ are named in the error") {
  CHECK_THROWS_WITH_AS(bce_with_logits(zeros({8, 1}), zeros({8})),
                       doctest::Contains("bce_with_logits: shapes [8,1] and [8] differ"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// cross_entropy

TEST_CASE("cross_entropy: values match a double log-softmax for every reduction") {
  Tensor x = tensor({1.f, 2.f, 0.5f, -1.f, 0.f, 3.f, 3.f, 0.2f, -0.4f, 2.f, 2.f, 2.f}, {3, 4});
  Ids t{3, 0, 2};
  std::vector<double> l;
  for (int64_t b = 0; b < 3; ++b) l.push_back(-log_softmax_ref(x.data() + 4 * b, 4)[t.values[b]]);
  for (Reduction r : kAllReductions) {
    INFO("reduction=", name(r));
    Tensor y = cross_entropy(x, t, r);
    CHECK(y.shape() == (r == Reduction::kNone ? Shape{3} : Shape{}));
    check_values(y, reduce_ref(l, r, 3));
  }
  // Uniform logits over 4 classes: log 4 whatever the target.
  CHECK(cross_entropy(full({1, 4}, 2.f), Ids{1}).item() == doctest::Approx(std::log(4.0)));
}

TEST_CASE("cross_entropy: the gradient is (softmax - onehot)/B under the mean") {
  Tensor x = tensor({0.f, 1.f, 2.f, 1.f, 1.f, 1.f}, {2, 3}).set_requires_grad();
  cross_entropy(x, Ids{2, 0}).backward();
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<double> ls = log_softmax_ref(x.data() + 3 * b, 3);
    for (int64_t j = 0; j < 3; ++j) {
      const double onehot = j == (b == 0 ? 2 : 0) ? 1.0 : 0.0;
      CHECK(x.grad().at({b, j}) == doctest::Approx((std::exp(ls[j]) - onehot) / 2));
    }
  }
}

TEST_CASE("cross_entropy: gradients match central differences on edge shapes") {
  for (auto [b, c] : {std::tuple{1, 1}, {1, 5}, {4, 1}, {3, 7}, {6, 2}}) {
    for (Reduction r : kAllReductions) {
      INFO("B=", b, " C=", c, " reduction=", name(r));
      Generator gen(13);
      std::vector<int64_t> ids(b);
      for (auto& id : ids) id = static_cast<int64_t>(gen.next_below(c));
      Ids t(ids);
      std::vector<Tensor> in{randn({b, c}, gen)};
      CHECK(gradcheck([&](const auto& x) { return cross_entropy(x[0], t, r); }, in));
      if (b > 1) {  // one ignored row
        Ids t2 = t;
        t2.values[1] = -100;
        CHECK(gradcheck([&](const auto& x) { return cross_entropy(x[0], t2, r); }, in));
      }
    }
  }
}

TEST_CASE("cross_entropy: ignored rows add nothing and leave the mean over the other rows") {
  Generator gen(14);
  Tensor x = randn({4, 5}, gen).set_requires_grad();
  Tensor kept = tensor({x.data()[5], x.data()[6], x.data()[7], x.data()[8], x.data()[9],
                        x.data()[15], x.data()[16], x.data()[17], x.data()[18], x.data()[19]},
                       {2, 5})
                    .set_requires_grad();
  Tensor y = cross_entropy(x, Ids{-100, 3, -100, 1});
  Tensor y_kept = cross_entropy(kept, Ids{3, 1});
  CHECK(y.item() == doctest::Approx(y_kept.item()).epsilon(1e-6));
  y.backward();
  y_kept.backward();
  for (int64_t j = 0; j < 5; ++j) {
    CHECK(x.grad().at({0, j}) == 0.f);
    CHECK(x.grad().at({2, j}) == 0.f);
    CHECK(x.grad().at({1, j}) == doctest::Approx(kept.grad().at({0, j})));
    CHECK(x.grad().at({3, j}) == doctest::Approx(kept.grad().at({1, j})));
  }
  Tensor none = cross_entropy(x, Ids{-100, 3, -100, 1}, Reduction::kNone);
  CHECK(none.at({0}) == 0.f);
  CHECK(none.at({2}) == 0.f);
  CHECK(none.at({1}) > 0.f);
  // A custom ignore_index may itself be a valid class id.
  CHECK(cross_entropy(x, Ids{0, 3, 0, 1}, Reduction::kMean, 0).item() ==
        doctest::Approx(y_kept.item()).epsilon(1e-6));
}

TEST_CASE("cross_entropy: all rows ignored gives 0 loss and a zero gradient, not NaN") {
  for (Reduction r : kAllReductions) {
    INFO("reduction=", name(r));
    Tensor x = tensor({1.f, 2.f, std::numeric_limits<float>::infinity(), 0.f}, {2, 2})
                   .set_requires_grad();
    Tensor y = cross_entropy(x, Ids{-100, -100}, r);
    for (float v : y.to_vector()) CHECK(v == 0.f);
    y.backward(ones(y.shape()));
    CHECK(x.grad().to_vector() == std::vector<float>(4, 0.f));
  }
}

TEST_CASE("cross_entropy: logits of ±1000 give finite losses and gradients") {
  Tensor x = tensor({1000.f, -1000.f, 0.f, -1000.f, 1000.f, 1000.f}, {2, 3}).set_requires_grad();
  Tensor y = cross_entropy(x, Ids{1, 0}, Reduction::kNone);
  REQUIRE(all_finite(y));
  CHECK(y.at({0}) == doctest::Approx(2000.0));
  CHECK(y.at({1}) == doctest::Approx(2000.0 + std::log(2.0)));
  cross_entropy(x, Ids{1, 0}, Reduction::kSum).backward();
  REQUIRE(all_finite(x.grad()));
  check_values(x.grad(), {1.0, -1.0, 0.0, -1.0, 0.5, 0.5});
}

TEST_CASE("cross_entropy: the row max is found wherever it sits, beside -inf logits") {
  // A logit of 1000 overflows exp unless the row max it is shifted by is exactly that logit, so
  // a max pass that skipped any position (vector body, lane tail, scalar tail, a later block of
  // 8192 classes) would give an infinite or NaN loss.
  for (int64_t c : {1, 7, 8, 9, 31, 32, 33, 63, 100, 8192, 8193, 20000}) {
    for (int64_t at : {int64_t{0}, c / 2, c - 9, c - 2, c - 1}) {
      if (at < 0) continue;
      INFO("classes=", c, " max at ", at);
      Generator gen(static_cast<uint64_t>(c * 31 + at));
      Tensor x = normal({1, c}, 0.f, 1.f, gen);
      float* px = x.data();
      for (int64_t j = 3; j < c; j += 5) px[j] = -std::numeric_limits<float>::infinity();
      px[at] = 1000.f;
      const Tensor hit = cross_entropy(x, Ids{at}, Reduction::kNone);
      REQUIRE(std::isfinite(hit.item()));
      CHECK(std::abs(hit.item()) < 1e-6);  // softmax puts all its mass on the 1000
      if (c > 1) {
        const int64_t other = at == 0 ? 1 : 0;
        const Tensor miss = cross_entropy(x, Ids{other}, Reduction::kNone);
        if (std::isinf(px[other])) {
          CHECK(std::isinf(miss.item()));
        } else {
          CHECK(miss.item() == doctest::Approx(1000.0 - px[other]).epsilon(1e-6));
        }
      }
    }
  }
}

TEST_CASE("cross_entropy: 100k classes match a double reference at 1 and 2 threads") {
  const int64_t b = 3, c = 100000;
  Generator gen(15);
  Tensor x = normal({b, c}, 0.f, 3.f, gen);
  Ids t{7, c - 1, 50000};
  std::vector<double> l;
  for (int64_t r = 0; r < b; ++r) l.push_back(-log_softmax_ref(x.data() + r * c, c)[t.values[r]]);
  const RowLossRuns runs = at_1_and_2_threads(
      x, [&](const Tensor& xi) { return cross_entropy(xi, t, Reduction::kNone); });
  check_values(tensor(runs.losses[0]), l, 1e-5);
  CHECK(runs.losses[0] == runs.losses[1]);
  CHECK(runs.grads[0] == runs.grads[1]);
  // Each row's gradient is softmax - onehot: it sums to 0.
  for (int64_t r = 0; r < b; ++r) {
    double s = 0;
    for (int64_t j = 0; j < c; ++j) s += runs.grads[0][r * c + j];
    CHECK(std::abs(s) < 1e-4);
  }
}

TEST_CASE("cross_entropy: an out-of-range target names its value, row and class count") {
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({3, 4}), Ids{0, 1, 4}),
                       doctest::Contains("target 4 in row 2 is out of range for 4 classes"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 4}), Ids{-1, 1}),
                       doctest::Contains("target -1 in row 0 is out of range for 4 classes"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({3, 4}), Ids{0, 1}),
                       doctest::Contains("logits [3,4] and targets [2]"), recgrad::Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({4}), Ids{0}),
                       doctest::Contains("logits [4] must be 2-D [B,C]"), recgrad::Error);
  CHECK_THROWS_WITH_AS(cross_entropy(zeros({2, 0}), Ids{-100, -100}),
                       doctest::Contains("have no classes"), recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// bpr_loss

TEST_CASE("soft_cross_entropy: values match -Σ t·log_softmax in double, for every reduction") {
  // Rows: 0/1 interactions (mass 2), probabilities (mass 1), all-zero targets (loss 0), and
  // fractional weights with a large logit.
  Tensor x = tensor({1.f, 2.f, 0.5f, -1.f, 0.f, 3.f, 3.f, 0.2f, -0.4f, 2.f, 2.f, 2.f, 50.f, 0.f,
                     -3.f, 1.f},
                    {4, 4});
  Tensor t = tensor({1.f, 0.f, 1.f, 0.f, 0.25f, 0.25f, 0.5f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 1.5f,
                     0.f, 0.5f},
                    {4, 4});
  std::vector<double> l;
  for (int64_t b = 0; b < 4; ++b) {
    const std::vector<double> ls = log_softmax_ref(x.data() + 4 * b, 4);
    double v = 0;
    for (int64_t j = 0; j < 4; ++j) v -= t.data()[4 * b + j] * ls[j];
    l.push_back(v);
  }
  for (Reduction r : kAllReductions) {
    INFO("reduction=", name(r));
    Tensor y = soft_cross_entropy(x, t, r);
    CHECK(y.shape() == (r == Reduction::kNone ? Shape{4} : Shape{}));
    check_values(y, reduce_ref(l, r, 4));
  }
  // One-hot targets give cross_entropy's loss.
  Tensor onehot = tensor({0.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 0.f}, {2, 4});
  const Tensor x2 = narrow(x, 0, 0, 2);
  CHECK(soft_cross_entropy(x2, onehot).item() ==
        doctest::Approx(cross_entropy(x2, Ids{3, 0}).item()).epsilon(1e-6));
}

TEST_CASE("soft_cross_entropy: gradients match central differences on edge shapes") {
  for (auto [b, c] : {std::tuple{1, 1}, {1, 5}, {4, 1}, {3, 7}, {6, 2}, {2, 40}}) {
    for (Reduction r : kAllReductions) {
      INFO("B=", b, " C=", c, " reduction=", name(r));
      Generator gen(16);
      const Tensor t = uniform({b, c}, 0.f, 1.f, gen);
      std::vector<Tensor> in{randn({b, c}, gen)};
      CHECK(gradcheck([&](const auto& x) { return soft_cross_entropy(x[0], t, r); }, in));
    }
  }
}

TEST_CASE("soft_cross_entropy: gradient rows sum to 0, targets get none, ±1000 stays finite") {
  Tensor x = tensor({1000.f, -1000.f, 0.f, -1000.f, 1000.f, 1000.f}, {2, 3}).set_requires_grad();
  Tensor t = tensor({0.f, 1.f, 1.f, 1.f, 0.f, 0.f}, {2, 3}).set_requires_grad();
  Tensor y = soft_cross_entropy(x, t, Reduction::kSum);
  CHECK(std::isfinite(y.item()));
  CHECK(y.item() == doctest::Approx(2000.0 + 1000.0 + 2000.0 + std::log(2.0)).epsilon(1e-6));
  y.backward();
  REQUIRE(all_finite(x.grad()));
  // Σ_j (softmax_j·mass − t_j) = 0, up to lse rounded to float at 1000 (ulp 6e-5).
  for (int64_t b = 0; b < 2; ++b)
    CHECK(std::abs(x.grad().at({b, 0}) + x.grad().at({b, 1}) + x.grad().at({b, 2})) < 1e-4);
  CHECK_FALSE(t.grad().defined());
}

TEST_CASE("soft_cross_entropy: 100k classes are bit-identical at 1 and 2 threads") {
  const int64_t b = 3, c = 100000;
  Generator gen(17);
  const Tensor x = normal({b, c}, 0.f, 3.f, gen);
  const Tensor t = uniform({b, c}, 0.f, 1.f, gen);
  const RowLossRuns runs = at_1_and_2_threads(
      x, [&](const Tensor& xi) { return soft_cross_entropy(xi, t, Reduction::kNone); });
  CHECK(runs.losses[0] == runs.losses[1]);
  CHECK(runs.grads[0] == runs.grads[1]);
  // CSR targets: each row's gradient pass is split into many chunks here, and every chunk
  // subtracts only its own columns' targets; the same bits as the dense targets at 1 and 2.
  Tensor sparse_t = zeros({b, c});
  for (int64_t i = 0; i < b * c; i += 97) sparse_t.data()[i] = t.data()[i];
  const CsrMatrix csr = csr_from_dense(sparse_t);
  const RowLossRuns dense_runs = at_1_and_2_threads(
      x, [&](const Tensor& xi) { return soft_cross_entropy(xi, sparse_t, Reduction::kNone); });
  const RowLossRuns csr_runs = at_1_and_2_threads(
      x, [&](const Tensor& xi) { return soft_cross_entropy(xi, csr, Reduction::kNone); });
  for (int i = 0; i < 2; ++i) {
    CHECK(csr_runs.losses[i] == dense_runs.losses[i]);
    CHECK(csr_runs.grads[i] == dense_runs.grads[i]);
  }
}

TEST_CASE("soft_cross_entropy: mismatched shapes name both") {
  CHECK_THROWS_WITH_AS(soft_cross_entropy(zeros({2, 3}), zeros({2, 4})),
                       doctest::Contains("targets [2,4] must have the logits' shape [2,3]"),
                       Error);
  CHECK_THROWS_AS(soft_cross_entropy(zeros({6}), zeros({6})), Error);
}

// Sparse targets are defined as the dense ones: checked bit for bit against them (columns
// ascending), across widths on both sides of the 8-lane blocks, with empty rows and explicit
// zeros, and for every reduction.
TEST_CASE("soft_cross_entropy: CSR targets give the dense targets' loss and gradient exactly") {
  for (auto [b, c] : {std::tuple{5, 3706}, {4, 13}, {3, 8}, {2, 1}}) {
    for (Reduction r : kAllReductions) {
      INFO("B=", b, " C=", c, " reduction=", name(r));
      Generator gen(18);
      Tensor dense = zeros({b, c});
      for (int64_t i = 0; i < b * c; ++i)
        if (i / c != 1 && gen.next_float() < 0.3f) dense.data()[i] = gen.next_float() + 0.5f;
      const CsrMatrix sparse = csr_from_dense(dense);
      const Tensor x0 = normal({b, c}, 0.f, 2.f, gen);
      Tensor x1 = x0.detach().clone().set_requires_grad();
      Tensor x2 = x0.detach().clone().set_requires_grad();
      const Tensor want = soft_cross_entropy(x1, dense, r), got = soft_cross_entropy(x2, sparse, r);
      CHECK(got.to_vector() == want.to_vector());
      const Tensor g = r == Reduction::kNone ? normal({b}, 0.f, 1.f, gen) : tensor({0.7f}, {});
      want.backward(g);
      got.backward(g);
      CHECK(x2.grad().to_vector() == x1.grad().to_vector());
    }
  }
}

TEST_CASE("soft_cross_entropy: CSR targets in any column order; gradients by central differences") {
  Generator gen(19);
  CsrMatrix t;
  t.rows = 3;
  t.cols = 11;
  t.offsets = {0, 3, 3, 5};  // row 1 has no targets
  t.columns = {9, 2, 10, 4, 0};
  t.values = {1.f, 0.5f, 2.f, 1.f, 0.25f};
  const Tensor x = randn({3, 11}, gen);
  const Tensor dense = t.to_dense();
  CHECK(soft_cross_entropy(x, t, Reduction::kSum).item() ==
        doctest::Approx(soft_cross_entropy(x, dense, Reduction::kSum).item()).epsilon(1e-6));
  for (Reduction r : kAllReductions) {
    INFO("reduction=", name(r));
    CHECK(gradcheck([&](const auto& in) { return soft_cross_entropy(in[0], t, r); }, {x}));
  }
  CsrMatrix wrong = t;
  wrong.cols = 12;
  CHECK_THROWS_WITH_AS(soft_cross_entropy(x, wrong),
                       doctest::Contains("sparse targets [3, 12] must have the logits' shape "
                                         "[3,11]"),
                       Error);
  wrong = t;
  wrong.columns[0] = 11;
  CHECK_THROWS_WITH_AS(soft_cross_entropy(x, wrong), doctest::Contains("outside [0, 11)"),
                       Error);
}

TEST_CASE("bpr_loss: values match -log σ(pos - neg) in double for every reduction") {
  Tensor pos = tensor({2.f, 0.f, -1.f, 0.3f});
  Tensor neg = tensor({1.f, 0.f, 2.f, -4.f});
  std::vector<double> l;
  for (int i = 0; i < 4; ++i) l.push_back(-std::log(sigmoid_ref(double(pos.data()[i]) - neg.data()[i])));
  for (Reduction r : kAllReductions) {
    INFO("reduction=", name(r));
    check_values(bpr_loss(pos, neg, r), reduce_ref(l, r, 4));
  }
  CHECK(bpr_loss(scalar(1.f), scalar(1.f)).item() == doctest::Approx(std::log(2.0)));
}

TEST_CASE("bpr_loss: gradients reach both scores for every reduction and edge shape") {
  for (Shape s : {Shape{1}, Shape{6}, Shape{2, 3}}) {
    for (Reduction r : kAllReductions) {
      INFO("shape=", s, " reduction=", name(r));
      Generator gen(16);
      std::vector<Tensor> in{randn(s, gen), randn(s, gen)};
      CHECK(gradcheck([r](const auto& x) { return bpr_loss(x[0], x[1], r); }, in));
    }
  }
}

TEST_CASE("bpr_loss: scores 1000 apart give finite losses and gradients") {
  Tensor pos = tensor({1000.f, -1000.f}).set_requires_grad();
  Tensor neg = tensor({-1000.f, 1000.f}).set_requires_grad();
  Tensor y = bpr_loss(pos, neg, Reduction::kNone);
  REQUIRE(all_finite(y));
  check_values(y, {0.0, 2000.0});
  bpr_loss(pos, neg, Reduction::kSum).backward();
  REQUIRE(all_finite(pos.grad()));
  REQUIRE(all_finite(neg.grad()));
  check_values(pos.grad(), {0.0, -1.0});
  check_values(neg.grad(), {0.0, 1.0});
}

TEST_CASE("bpr_loss: shapes that differ are named in the error") {
  CHECK_THROWS_WITH_AS(bpr_loss(zeros({32}), zeros({32, 1})),
                       doctest::Contains("bpr_loss: shapes [32] and [32,1] differ"),
                       recgrad::Error);
}
