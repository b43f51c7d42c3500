#include "ops/rnn_cell.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/reduce.h"

using namespace recgrad;

namespace {

double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

}  // namespace

TEST_CASE("gru_cell_gates: one step matches the GRU equations in double") {
  // B = 1, H = 2; xp holds T = 2 steps and step 1 is read.
  const Tensor xp = tensor({9, 9, 9, 9, 9, 9,  // step 0: must be ignored
                            0.5f, -0.2f, 0.3f, 0.8f, -1.f, 0.4f},
                           {1, 2, 6});
  const Tensor hh = tensor({0.1f, 0.2f, -0.3f, 0.6f, 0.7f, -0.5f}, {1, 6});
  const Tensor b = tensor({0.05f, -0.1f, 0.2f, 0.0f, 0.3f, -0.4f});
  const Tensor h = tensor({0.25f, -0.75f}, {1, 2});
  const Tensor out = gru_cell_gates(xp, 1, hh, b, h);
  REQUIRE(out.shape() == Shape{1, 2});
  for (int j = 0; j < 2; ++j) {
    const double r = sig(xp.at({0, 1, j}) + hh.at({0, j}) + b.at({j}));
    const double z = sig(xp.at({0, 1, 2 + j}) + hh.at({0, 2 + j}) + b.at({2 + j}));
    const double n = std::tanh(xp.at({0, 1, 4 + j}) + r * (hh.at({0, 4 + j}) + b.at({4 + j})));
    CHECK(out.at({0, j}) == doctest::Approx((1 - z) * n + z * h.at({0, j})).epsilon(1e-6));
  }
  // Without a bias the same as with a zero bias.
  CHECK(gru_cell_gates(xp, 1, hh, Tensor(), h).to_vector() ==
        gru_cell_gates(xp, 1, hh, zeros({6}), h).to_vector());
}

TEST_CASE("lstm_cell_gates: one step matches the LSTM equations in double") {
  const Tensor xp = tensor({0.5f, -0.2f, 0.3f, 0.8f, -1.f, 0.4f, 0.9f, -0.6f}, {1, 8});
  const Tensor hh = tensor({0.1f, 0.2f, -0.3f, 0.6f, 0.7f, -0.5f, 0.2f, 0.1f}, {1, 8});
  const Tensor b = tensor({0.05f, -0.1f, 0.2f, 0.0f, 0.3f, -0.4f, 0.1f, 0.15f});
  const Tensor s = tensor({0.25f, -0.75f, 1.5f, -0.5f}, {1, 4});  // h | c
  const Tensor out = lstm_cell_gates(xp, 0, hh, b, s);
  REQUIRE(out.shape() == Shape{1, 4});
  for (int j = 0; j < 2; ++j) {
    auto a = [&](int q) { return xp.at({0, q}) + hh.at({0, q}) + b.at({q}); };
    const double i = sig(a(j)), f = sig(a(2 + j)), g = std::tanh(a(4 + j)), o = sig(a(6 + j));
    const double c = f * s.at({0, 2 + j}) + i * g;
    CHECK(out.at({0, 2 + j}) == doctest::Approx(c).epsilon(1e-6));
    CHECK(out.at({0, j}) == doctest::Approx(o * std::tanh(c)).epsilon(1e-6));
  }
}

TEST_CASE("gru_cell_gates: H = 37 (vectorised blocks of 16 and a tail) matches the equations") {
  const int64_t B = 2, H = 37;
  Generator gen(8);
  const Tensor xp = randn({B, 3 * H}, gen), hh = randn({B, 3 * H}, gen), b = randn({3 * H}, gen);
  const Tensor h = randn({B, H}, gen);
  const Tensor out = gru_cell_gates(xp, 0, hh, b, h);
  for (int64_t r = 0; r < B; ++r)
    for (int64_t j = 0; j < H; ++j) {
      CAPTURE(r);
      CAPTURE(j);
      auto a = [&](int64_t q) { return xp.at({r, q}) + hh.at({r, q}) + b.at({q}); };
      const double rg = sig(a(j)), z = sig(a(H + j));
      const double n =
          std::tanh(xp.at({r, 2 * H + j}) + rg * (hh.at({r, 2 * H + j}) + b.at({2 * H + j})));
      CHECK(out.at({r, j}) == doctest::Approx((1 - z) * n + z * h.at({r, j})).epsilon(1e-5));
    }
}

TEST_CASE("lstm_cell_gates: H = 37 (vectorised blocks of 16 and a tail) matches the equations") {
  const int64_t B = 2, H = 37;
  Generator gen(9);
  const Tensor xp = randn({B, 4 * H}, gen), hh = randn({B, 4 * H}, gen), b = randn({4 * H}, gen);
  const Tensor s = randn({B, 2 * H}, gen);
  const Tensor out = lstm_cell_gates(xp, 0, hh, b, s);
  for (int64_t r = 0; r < B; ++r)
    for (int64_t j = 0; j < H; ++j) {
      CAPTURE(r);
      CAPTURE(j);
      auto a = [&](int64_t q) { return xp.at({r, q}) + hh.at({r, q}) + b.at({q}); };
      const double i = sig(a(j)), f = sig(a(H + j)), g = std::tanh(a(2 * H + j));
      const double o = sig(a(3 * H + j)), c = f * s.at({r, H + j}) + i * g;
      CHECK(out.at({r, H + j}) == doctest::Approx(c).epsilon(1e-5));
      CHECK(out.at({r, j}) == doctest::Approx(o * std::tanh(c)).epsilon(1e-5));
    }
}

TEST_CASE("gru_cell_gates: gradients match central differences, with and without mask and bias") {
  for (int64_t H : {4, 21})  // 21: one vectorised block of 16 and a scalar tail of 5
    for (bool masked : {false, true})
      for (bool bias : {true, false})
        for (bool seq : {false, true}) {
          INFO("H=", H, " masked=", masked, " bias=", bias, " xp over steps=", seq);
          Generator gen(3);
          const int64_t B = 3, T = 3;
          const Tensor mask = masked ? tensor({1.f, 0.f, 1.f}) : Tensor();
          std::vector<Tensor> in{randn(seq ? Shape{B, T, 3 * H} : Shape{B, 3 * H}, gen),
                                 randn({B, 3 * H}, gen), randn({3 * H}, gen), randn({B, H}, gen)};
          const int64_t t = seq ? 1 : 0;
          CHECK(gradcheck(
              [&](const std::vector<Tensor>& v) {
                return gru_cell_gates(v[0], t, v[1], bias ? v[2] : Tensor(), v[3], mask);
              },
              in));  // without bias v[2] is unused: analytic and numeric gradients are both 0
        }
}

TEST_CASE("lstm_cell_gates: gradients match central differences, with and without mask and bias") {
  for (int64_t H : {4, 21})  // 21: one vectorised block of 16 and a scalar tail of 5
    for (bool masked : {false, true})
      for (bool bias : {true, false})
        for (bool seq : {false, true}) {
          INFO("H=", H, " masked=", masked, " bias=", bias, " xp over steps=", seq);
          Generator gen(4);
          const int64_t B = 3, T = 3;
          const Tensor mask = masked ? tensor({0.f, 1.f, 1.f}) : Tensor();
          std::vector<Tensor> in{randn(seq ? Shape{B, T, 4 * H} : Shape{B, 4 * H}, gen),
                                 randn({B, 4 * H}, gen), randn({4 * H}, gen),
                                 randn({B, 2 * H}, gen)};
          const int64_t t = seq ? 2 : 0;
          CHECK(gradcheck(
              [&](const std::vector<Tensor>& v) {
                return lstm_cell_gates(v[0], t, v[1], bias ? v[2] : Tensor(), v[3], mask);
              },
              in));
        }
}

TEST_CASE("gru_cell_gates: a masked row passes its state and gradient through, even from NaN") {
  Generator gen(5);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor xp = randn({2, 6}, gen);
  for (int j = 0; j < 6; ++j) xp.data()[6 + j] = nan;  // row 1 is padding
  xp.set_requires_grad(true);
  Tensor hh = randn({2, 6}, gen).set_requires_grad(true);
  Tensor b = randn({6}, gen).set_requires_grad(true);
  Tensor h = randn({2, 2}, gen).set_requires_grad(true);
  const Tensor out = gru_cell_gates(xp, 0, hh, b, h, tensor({1.f, 0.f}));
  CHECK(out.at({1, 0}) == h.at({1, 0}));
  CHECK(out.at({1, 1}) == h.at({1, 1}));
  sum(out).backward();
  CHECK(h.grad().at({1, 0}) == 1.f);
  for (int j = 0; j < 6; ++j) {
    CHECK(xp.grad().at({1, j}) == 0.f);
    CHECK(hh.grad().at({1, j}) == 0.f);
    CHECK(std::isfinite(b.grad().at({j})));
  }
  CHECK(xp.grad().at({0, 0}) != 0.f);
}

TEST_CASE("lstm_cell_gates: a masked row passes its state and gradient through, even from NaN") {
  Generator gen(6);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor xp = randn({2, 2, 8}, gen);
  for (int j = 0; j < 8; ++j) xp.data()[(0 * 2 + 1) * 8 + j] = nan;  // row 0, step 1: padding
  xp.set_requires_grad(true);
  Tensor hh = randn({2, 8}, gen).set_requires_grad(true);
  Tensor s = randn({2, 4}, gen).set_requires_grad(true);
  const Tensor out = lstm_cell_gates(xp, 1, hh, Tensor(), s, tensor({0.f, 1.f}));
  for (int j = 0; j < 4; ++j) CHECK(out.at({0, j}) == s.at({0, j}));
  sum(out).backward();
  for (int j = 0; j < 4; ++j) CHECK(s.grad().at({0, j}) == 1.f);
  for (int j = 0; j < 8; ++j) {
    CHECK(xp.grad().at({0, 1, j}) == 0.f);
    CHECK(xp.grad().at({1, 0, j}) == 0.f);  // step 0 is not this op's step
    CHECK(hh.grad().at({0, j}) == 0.f);
  }
  CHECK(xp.grad().at({1, 1, 0}) != 0.f);
}

TEST_CASE("rnn cell ops: mismatched shapes and steps name the operands") {
  const Tensor h = zeros({2, 3});
  CHECK_THROWS_WITH_AS(gru_cell_gates(zeros({2, 9}), 0, zeros({2, 8}), Tensor(), h),
                       doctest::Contains("gru_cell_gates: xp [2,9], hh [2,8], b_hh none, h [2,3]: "
                                         "hh must be [B, 3H] = [2,9]"),
                       Error);
  CHECK_THROWS_WITH_AS(gru_cell_gates(zeros({2, 4, 9}), 4, zeros({2, 9}), Tensor(), h),
                       doctest::Contains("step 4 is outside [0, 4)"), Error);
  CHECK_THROWS_WITH_AS(gru_cell_gates(zeros({2, 9}), 1, zeros({2, 9}), Tensor(), h),
                       doctest::Contains("step 1 given for a single-step xp"), Error);
  CHECK_THROWS_WITH_AS(gru_cell_gates(zeros({3, 9}), 0, zeros({2, 9}), Tensor(), h),
                       doctest::Contains("xp must be"), Error);
  CHECK_THROWS_WITH_AS(gru_cell_gates(zeros({2, 9}), 0, zeros({2, 9}), zeros({8}), h),
                       doctest::Contains("b_hh must be [3H] = [9]"), Error);
  CHECK_THROWS_WITH_AS(gru_cell_gates(zeros({2, 9}), 0, zeros({2, 9}), Tensor(), h, zeros({3})),
                       doctest::Contains("mask [3]: mask must be [B] = [2]"), Error);
  CHECK_THROWS_WITH_AS(
      lstm_cell_gates(zeros({2, 12}), 0, zeros({2, 12}), Tensor(), zeros({2, 5})),
      doctest::Contains("lstm_cell_gates: xp [2,12], hh [2,12], b_hh none, s [2,5]: "
                        "s must be [B, 2H]"),
      Error);
  CHECK_THROWS_WITH_AS(
      lstm_cell_gates(zeros({2, 2, 10}), 0, zeros({2, 12}), Tensor(), zeros({2, 6})),
      doctest::Contains("xp must be [B, T, 4H] = [2, T, 12]"), Error);
}
