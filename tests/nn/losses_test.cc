#include "nn/losses.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"

using namespace recgrad;
using namespace recgrad::nn;

namespace {

// -log(e^p / (e^p + Σ_k e^{n_k})) in double, over the negatives not skipped.
double softmax_nll(double p, const std::vector<double>& negs, const std::vector<bool>& skip = {}) {
  double z = std::exp(p);
  for (size_t k = 0; k < negs.size(); ++k)
    if (skip.empty() || !skip[k]) z += std::exp(negs[k]);
  return -(p - std::log(z));
}

}  // namespace

TEST_CASE("losses: the re-exported ops give their values") {
  const Tensor a = tensor({1, 2}), b = tensor({0, 0});
  CHECK(nn::mse_loss(a, b).item() == doctest::Approx(2.5));
  CHECK(nn::bpr_loss(tensor({2.f}), tensor({0.f})).item() ==
        doctest::Approx(std::log1p(std::exp(-2.0))).epsilon(1e-6));
  CHECK(nn::bce_with_logits(tensor({0.f}), tensor({1.f})).item() ==
        doctest::Approx(std::log(2.0)).epsilon(1e-6));
  CHECK(nn::cross_entropy(tensor({0, 0}, {1, 2}), Ids({1}), Reduction::kSum).item() ==
        doctest::Approx(std::log(2.0)).epsilon(1e-6));
}

TEST_CASE("sampled_softmax_loss: scores form equals -log softmax of the positive, by hand") {
  const Tensor pos = tensor({1.f, -0.5f});
  const Tensor neg = tensor({0.f, 2.f, -1.f, 0.5f, 0.5f, -3.f}, {2, 3});
  const double l0 = softmax_nll(1.0, {0, 2, -1}), l1 = softmax_nll(-0.5, {0.5, 0.5, -3});
  CHECK(sampled_softmax_loss(pos, neg).item() == doctest::Approx((l0 + l1) / 2).epsilon(1e-6));
  SampledSoftmaxOptions none;
  none.reduction = Reduction::kNone;
  const Tensor per_row = sampled_softmax_loss(pos, neg, none);
  CHECK(per_row.at({0}) == doctest::Approx(l0).epsilon(1e-6));
  CHECK(per_row.at({1}) == doctest::Approx(l1).epsilon(1e-6));
}

TEST_CASE("sampled_softmax_loss: log-Q correction subtracts log q from every logit") {
  const Tensor pos = tensor({1.f, -0.5f});
  const Tensor neg = tensor({0.f, 2.f, -1.f, 0.5f, 0.5f, -3.f}, {2, 3});
  const std::vector<double> lq_neg{-1.0, -3.0, -0.5};  // shared over rows
  SampledSoftmaxOptions opts;
  opts.reduction = Reduction::kNone;
  opts.pos_log_q = tensor({-2.f, -0.25f});
  opts.neg_log_q = tensor({-1.f, -3.f, -0.5f});
  const Tensor l = sampled_softmax_loss(pos, neg, opts);
  CHECK(l.at({0}) == doctest::Approx(softmax_nll(1 + 2, {0 + 1, 2 + 3, -1 + 0.5})).epsilon(1e-6));
  CHECK(l.at({1}) == doctest::Approx(softmax_nll(-0.5 + 0.25, {0.5 + 1, 0.5 + 3, -3 + 0.5}))
                         .epsilon(1e-6));
  // Per-row [B,K] log q gives the same when its rows repeat the shared one.
  opts.neg_log_q = tensor({-1.f, -3.f, -0.5f, -1.f, -3.f, -0.5f}, {2, 3});
  CHECK(sampled_softmax_loss(pos, neg, opts).to_vector() == l.to_vector());
}

TEST_CASE("sampled_softmax_loss: accidental hits are masked out and get no gradient") {
  const Tensor pos = tensor({1.f, -0.5f});
  const Tensor neg = tensor({0.f, 2.f, -1.f, 0.5f, 0.5f, -3.f}, {2, 3});
  SampledSoftmaxOptions opts;
  opts.reduction = Reduction::kNone;
  opts.pos_ids = Ids({7, 4});
  opts.neg_ids = Ids({3, 7, 9, 4, 4, 1}, {2, 3});  // row 0 samples 7 once; row 1 samples 4 twice
  Tensor neg_leaf = neg.clone().set_requires_grad();
  const Tensor l = sampled_softmax_loss(pos, neg_leaf, opts);
  CHECK(l.at({0}) == doctest::Approx(softmax_nll(1, {0, 2, -1}, {false, true, false})).epsilon(1e-6));
  CHECK(l.at({1}) ==
        doctest::Approx(softmax_nll(-0.5, {0.5, 0.5, -3}, {true, true, false})).epsilon(1e-6));
  sum(l).backward();
  const Tensor g = neg_leaf.grad();
  CHECK(g.at({0, 1}) == 0.f);
  CHECK(g.at({1, 0}) == 0.f);
  CHECK(g.at({1, 1}) == 0.f);
  CHECK(g.at({0, 0}) > 0.f);
  // Shared negative ids [K]: the hit is looked up against each row's positive.
  opts.neg_ids = Ids({4, 8, 7});
  const Tensor shared = sampled_softmax_loss(pos, neg, opts);
  CHECK(shared.at({0}) ==
        doctest::Approx(softmax_nll(1, {0, 2, -1}, {false, false, true})).epsilon(1e-6));
  CHECK(shared.at({1}) ==
        doctest::Approx(softmax_nll(-0.5, {0.5, 0.5, -3}, {true, false, false})).epsilon(1e-6));
}

TEST_CASE("sampled_softmax_loss: the embedding form scores by dot products (shared and per row)") {
  Generator gen(1);
  const int64_t b = 3, k = 4, d = 5;
  const Tensor q = randn({b, d}, gen), p = randn({b, d}, gen);
  const Tensor shared = randn({k, d}, gen), per_row = randn({b, k, d}, gen);
  std::vector<float> pos(b), neg_s(b * k), neg_r(b * k);
  for (int64_t i = 0; i < b; ++i) {
    double s = 0;
    for (int64_t j = 0; j < d; ++j) s += double(q.at({i, j})) * p.at({i, j});
    pos[i] = static_cast<float>(s);
    for (int64_t n = 0; n < k; ++n) {
      double a = 0, c = 0;
      for (int64_t j = 0; j < d; ++j) {
        a += double(q.at({i, j})) * shared.at({n, j});
        c += double(q.at({i, j})) * per_row.at({i, n, j});
      }
      neg_s[i * k + n] = static_cast<float>(a);
      neg_r[i * k + n] = static_cast<float>(c);
    }
  }
  CHECK(sampled_softmax_loss(q, p, shared).item() ==
        doctest::Approx(sampled_softmax_loss(tensor(pos), tensor(neg_s, {b, k})).item()).epsilon(1e-5));
  CHECK(sampled_softmax_loss(q, p, per_row).item() ==
        doctest::Approx(sampled_softmax_loss(tensor(pos), tensor(neg_r, {b, k})).item()).epsilon(1e-5));
}

TEST_CASE("sampled_softmax_loss: gradients match central differences in every form") {
  Generator gen(2);
  const Tensor pos = randn({3}, gen), neg = randn({3, 4}, gen);
  SampledSoftmaxOptions opts;
  opts.pos_log_q = normal({3}, -2.f, 0.5f, gen);
  opts.neg_log_q = normal({4}, -2.f, 0.5f, gen);
  opts.pos_ids = Ids({1, 2, 3});
  opts.neg_ids = Ids({5, 1, 6, 7, 2, 2, 0, 9, 8, 9, 3, 4}, {3, 4});
  for (Reduction r : {Reduction::kMean, Reduction::kSum, Reduction::kNone}) {
    opts.reduction = r;
    CHECK(gradcheck([&](const auto& x) { return sampled_softmax_loss(x[0], x[1], opts); },
                    {pos, neg}));
  }
  const Tensor q = randn({3, 5}, gen), p = randn({3, 5}, gen);
  const Tensor shared = randn({4, 5}, gen), per_row = randn({3, 4, 5}, gen);
  opts.reduction = Reduction::kMean;
  CHECK(gradcheck([&](const auto& x) { return sampled_softmax_loss(x[0], x[1], x[2], opts); },
                  {q, p, shared}));
  CHECK(gradcheck([&](const auto& x) { return sampled_softmax_loss(x[0], x[1], x[2]); },
                  {q, p, per_row}));
}

TEST_CASE("sampled_softmax_loss: mismatched shapes and half-given hit ids are rejected") {
  CHECK_THROWS_WITH_AS(sampled_softmax_loss(zeros({3}), zeros({2, 4})),
                       doctest::Contains("positive logits [3] and negative logits [2,4]"), Error);
  SampledSoftmaxOptions opts;
  opts.neg_log_q = zeros({5});
  CHECK_THROWS_WITH_AS(sampled_softmax_loss(zeros({2}), zeros({2, 4}), opts),
                       doctest::Contains("neg_log_q [5] must be [2,4] or shared [4]"), Error);
  SampledSoftmaxOptions half;
  half.pos_ids = Ids({1, 2});
  CHECK_THROWS_WITH_AS(sampled_softmax_loss(zeros({2}), zeros({2, 4}), half),
                       doctest::Contains("needs both pos_ids"), Error);
  half.neg_ids = Ids({1, 2, 3});
  CHECK_THROWS_WITH_AS(sampled_softmax_loss(zeros({2}), zeros({2, 4}), half),
                       doctest::Contains("neg_ids [3] must be [2,4] or shared [4]"), Error);
  CHECK_THROWS_WITH_AS(sampled_softmax_loss(zeros({2, 3}), zeros({2, 3}), zeros({4, 2})),
                       doctest::Contains("query [2,3] and negative items [4,2]"), Error);
}

TEST_CASE("kl_normal: matches the closed form by hand and is zero at the prior") {
  const Tensor mu = tensor({0.5f, -1.f, 0.f, 2.f}, {2, 2});
  const Tensor logvar = tensor({0.f, -1.f, 1.f, 0.5f}, {2, 2});
  double total = 0;
  for (int i = 0; i < 4; ++i) {
    const double m = mu.data()[i], lv = logvar.data()[i];
    total += -0.5 * (1 + lv - m * m - std::exp(lv));
  }
  CHECK(kl_normal(mu, logvar).item() == doctest::Approx(total / 2).epsilon(1e-6));
  CHECK(kl_normal(zeros({3, 4}), zeros({3, 4})).item() == 0.f);
  Generator gen(3);
  CHECK(gradcheck([](const auto& x) { return kl_normal(x[0], x[1]); },
                  {randn({3, 4}, gen), mul(randn({3, 4}, gen), 0.5f)}));
  CHECK_THROWS_WITH_AS(kl_normal(zeros({2, 3}), zeros({2, 4})),
                       doctest::Contains("kl_normal: mu [2,3] and logvar [2,4]"), Error);
}
