#include "ops/attention.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/runtime.h"
#include "ops/softmax.h"

using namespace recgrad;

namespace {

const float kInf = std::numeric_limits<float>::infinity();

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.data()[i])) return false;
  return true;
}

// The op's definition written out in double: scores [N, Lq, Lk], pad [B, Lk] (or undefined).
std::vector<double> reference(const Tensor& s, const Tensor& pad, bool causal, double scale) {
  const int64_t lq = s.size(-2), lk = s.size(-1), n = s.numel() / (lq * lk);
  const int64_t per_b = pad.defined() ? n / pad.size(0) : 1;
  std::vector<double> y(s.numel(), 0.0);
  for (int64_t m = 0; m < n; ++m)
    for (int64_t i = 0; i < lq; ++i) {
      const float* row = s.data() + (m * lq + i) * lk;
      auto allowed = [&](int64_t j) {
        return !(causal && j > i) && !(pad.defined() && pad.data()[(m / per_b) * lk + j] != 0.f);
      };
      double mx = -1e300, sum = 0;
      for (int64_t j = 0; j < lk; ++j)
        if (allowed(j)) mx = std::max(mx, scale * row[j]);
      for (int64_t j = 0; j < lk; ++j)
        if (allowed(j)) sum += std::exp(scale * row[j] - mx);
      for (int64_t j = 0; j < lk; ++j)
        if (allowed(j)) y[(m * lq + i) * lk + j] = std::exp(scale * row[j] - mx) / sum;
    }
  return y;
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol = 1e-6) {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  for (int64_t i = 0; i < got.numel(); ++i) {
    INFO("flat index ", i);
    CHECK(got.data()[i] == doctest::Approx(want[i]).epsilon(tol).scale(1.0));
  }
}

}  // namespace

TEST_CASE("masked_softmax: known values with a causal mask, key padding and a scale") {
  // One matrix [1, 3, 3]; key 1 padded; causal. Row 0 sees key 0; row 1 sees key 0 (key 1 is
  // padded); row 2 sees keys 0 and 2: softmax(0.5·{1, 3}) = {1/(1+e), e/(1+e)}.
  const Tensor s = tensor({1, 2, 3, 4, 5, 6, 1, 2, 3}, {1, 3, 3});
  const Tensor pad = tensor({0, 1, 0}, {1, 3});
  const Tensor y = masked_softmax(s, pad, /*causal=*/true, 0.5f);
  const double e = std::exp(1.0);
  const std::vector<double> want{1, 0, 0, 1, 0, 0, 1 / (1 + e), 0, e / (1 + e)};
  check_close(y, want);
}

TEST_CASE("masked_softmax: without masks it is softmax(scale·s) along the last dim") {
  Generator gen(3);
  const Tensor s = randn({2, 3, 4, 5}, gen);
  const Tensor y = masked_softmax(s, Tensor(), false, 0.25f);
  const Tensor ref = softmax(mul(s, 0.25f), -1);
  for (int64_t i = 0; i < y.numel(); ++i)
    CHECK(y.data()[i] == doctest::Approx(ref.data()[i]).epsilon(1e-6));
}

TEST_CASE("masked_softmax: matches the double reference for heads sharing a padding row") {
  // N = 6 matrices over B = 3 batch rows: matrices 2b and 2b+1 (two heads) use pad row b.
  Generator gen(4);
  const Tensor s = normal({3, 2, 4, 5}, 0.f, 3.f, gen);
  const Tensor pad = tensor({0, 0, 1, 0, 1, /**/ 1, 1, 0, 0, 0, /**/ 0, 0, 0, 0, 0}, {3, 5});
  for (bool causal : {false, true}) {
    CAPTURE(causal);
    check_close(masked_softmax(s, pad, causal, 0.7f), reference(s, pad, causal, 0.7), 1e-5);
  }
  check_close(masked_softmax(s, Tensor(), true, 1.f), reference(s, Tensor(), true, 1.0), 1e-5);
}

TEST_CASE("masked_softmax: huge scores stay finite and -inf scores count as masked") {
  const Tensor s = tensor({1000, -1000, 999, -kInf, 0, 5}, {1, 2, 3});
  const Tensor y = masked_softmax(s, Tensor(), false, 1.f);
  CHECK(all_finite(y));
  CHECK(y.at({0, 0, 0}) == doctest::Approx(1 / (1 + std::exp(-1.0))));
  CHECK(y.at({0, 0, 1}) == 0.f);
  CHECK(y.at({0, 1, 0}) == 0.f);
  CHECK(y.at({0, 1, 2}) == doctest::Approx(1 / (1 + std::exp(-5.0))));
}

TEST_CASE("masked_softmax: a row with every key masked is zero, with a zero finite gradient") {
  // Batch row 0 has every key padded: both its query rows attend to nothing. With causal and
  // left padding, batch row 1's first query sees only the padded key 0.
  Tensor s = tensor({1, 2, 3, 4, 5, 6, /**/ 1, 2, 3, 4, 5, 6}, {2, 2, 3});
  s.set_requires_grad();
  const Tensor pad = tensor({1, 1, 1, /**/ 1, 0, 0}, {2, 3});
  const Tensor y = masked_softmax(s, pad, /*causal=*/true, 1.f);
  for (int64_t j = 0; j < 3; ++j) {
    CHECK(y.at({0, 0, j}) == 0.f);
    CHECK(y.at({0, 1, j}) == 0.f);
    CHECK(y.at({1, 0, j}) == 0.f);
  }
  CHECK(y.at({1, 1, 1}) == 1.f);  // query 1 sees keys 0 (padded) and 1
  Generator gen(5);
  y.backward(randn(y.shape(), gen));
  const Tensor g = s.grad();
  REQUIRE(g.defined());
  CHECK(all_finite(g));
  for (int64_t j = 0; j < 3; ++j) {
    CHECK(g.at({0, 0, j}) == 0.f);
    CHECK(g.at({0, 1, j}) == 0.f);
    CHECK(g.at({1, 0, j}) == 0.f);
    CHECK(g.at({1, 1, j}) == 0.f);  // a single allowed key: y = 1 whatever its score
  }
}

TEST_CASE("masked_softmax: gradients match central differences with and without masks") {
  Generator gen(6);
  const std::vector<std::tuple<Shape, Shape, bool, float>> cases = {
      {{3, 4}, {}, false, 1.f},          {{3, 4}, {}, true, 0.5f},
      {{2, 3, 4}, {2, 4}, false, 0.7f},  {{2, 3, 4}, {2, 4}, true, 0.7f},
      {{2, 2, 4, 3}, {2, 3}, true, 2.f},  {{4, 1, 5}, {1, 5}, false, 1.f},
      {{2, 5, 3}, {}, true, 1.f},  // Lq > Lk under causal: later rows see every key
  };
  for (const auto& [shape, pad_shape, causal, scale] : cases) {
    CAPTURE(shape);
    CAPTURE(causal);
    Tensor pad;
    if (!pad_shape.empty()) {
      pad = zeros(pad_shape);
      for (int64_t i = 0; i < pad.numel(); i += 3) pad.data()[i] = 1.f;  // some padded keys
    }
    const Tensor s = randn(shape, gen);
    CHECK(gradcheck([&](const auto& in) { return masked_softmax(in[0], pad, causal, scale); },
                    {s}));
  }
}

TEST_CASE("masked_softmax: bit-identical at one thread and at all threads") {
  Generator gen(7);
  const Tensor s = randn({64, 20, 50}, gen);
  Tensor pad = zeros({16, 50});
  for (int64_t i = 0; i < pad.numel(); i += 7) pad.data()[i] = 1.f;
  const int all = num_threads();
  set_num_threads(1);
  const std::vector<float> one = masked_softmax(s, pad, true, 0.3f).to_vector();
  set_num_threads(all);
  CHECK(masked_softmax(s, pad, true, 0.3f).to_vector() == one);
}

TEST_CASE("masked_softmax: bad shapes and scales are rejected naming the shapes") {
  CHECK_THROWS_WITH_AS(masked_softmax(zeros({4}), Tensor(), false),
                       doctest::Contains("masked_softmax: scores [4]"), Error);
  CHECK_THROWS_WITH_AS(masked_softmax(zeros({2, 3, 5}), zeros({2, 4}), false),
                       doctest::Contains("scores [2,3,5], key_padding [2,4]"), Error);
  CHECK_THROWS_WITH_AS(masked_softmax(zeros({4, 3, 5}), zeros({3, 5}), false),
                       doctest::Contains("4 score matrices do not split evenly over 3"), Error);
  CHECK_THROWS_WITH_AS(masked_softmax(zeros({2, 2}), Tensor(), false, NAN),
                       doctest::Contains("is not finite"), Error);
}

// masked_softmax_dropout is defined as dropout(masked_softmax(...)): checked bit for bit,
// forward and backward, against that composition, including the generators' draws.
TEST_CASE("masked_softmax_dropout: equals dropout(masked_softmax) bit for bit, with gradients") {
  Generator data(8);
  const std::vector<std::tuple<Shape, Shape, bool>> cases = {
      {{6, 40, 40}, {3, 40}, true},  // self-attention, 2 heads per batch row, padded keys
      {{4, 7, 33}, {}, false},       // no masks; rows not a multiple of the SIMD block
      {{2, 9, 5}, {2, 5}, true},     // Lq > Lk under causal
  };
  for (const auto& [shape, pad_shape, causal] : cases) {
    CAPTURE(shape);
    Tensor pad;
    if (!pad_shape.empty()) {
      pad = zeros(pad_shape);
      for (int64_t i = 0; i < pad.numel(); i += 4) pad.data()[i] = 1.f;
    }
    const Tensor s0 = randn(shape, data), g = randn(shape, data);
    Tensor s1 = s0.detach().clone().set_requires_grad();
    Tensor s2 = s0.detach().clone().set_requires_grad();
    Generator fused_gen(5), plain_gen(5);
    const Tensor fused = masked_softmax_dropout(s1, pad, causal, 0.6f, 0.3f, true, fused_gen);
    const Tensor plain = dropout(masked_softmax(s2, pad, causal, 0.6f), 0.3f, true, plain_gen);
    CHECK(fused.to_vector() == plain.to_vector());
    CHECK(fused_gen.next_u64() == plain_gen.next_u64());
    fused.backward(g);
    plain.backward(g);
    CHECK(s1.grad().to_vector() == s2.grad().to_vector());
    int64_t dropped = 0, allowed = 0;  // the mask did something: ~30% of the non-zeros
    const std::vector<float> y = masked_softmax(s0, pad, causal, 0.6f).to_vector();
    for (size_t i = 0; i < y.size(); ++i)
      if (y[i] != 0.f) {
        ++allowed;
        dropped += fused.data()[i] == 0.f;
      }
    CHECK(dropped > allowed / 5);
    CHECK(dropped < allowed / 2);
  }
}

TEST_CASE("masked_softmax_dropout: gradients match central differences under a fixed mask") {
  Generator data(9);
  Tensor pad = zeros({2, 6});
  pad.data()[5] = 1.f;
  const Tensor s = randn({2, 6, 6}, data);
  // A fresh generator per evaluation: every call draws the same key, so the same mask.
  CHECK(gradcheck(
      [&](const auto& in) {
        Generator gen(3);
        return masked_softmax_dropout(in[0], pad, true, 0.8f, 0.25f, true, gen);
      },
      {s}));
}

TEST_CASE("masked_softmax_dropout: outside training it is masked_softmax and draws nothing") {
  Generator data(10), gen(4), untouched(4);
  const Tensor s = randn({3, 5, 5}, data);
  const std::vector<float> want = masked_softmax(s, Tensor(), true, 1.f).to_vector();
  CHECK(masked_softmax_dropout(s, Tensor(), true, 1.f, 0.5f, false, gen).to_vector() == want);
  CHECK(masked_softmax_dropout(s, Tensor(), true, 1.f, 0.f, true, gen).to_vector() == want);
  CHECK(gen.next_u64() == untouched.next_u64());
  CHECK_THROWS_WITH_AS(masked_softmax_dropout(s, Tensor(), true, 1.f, 1.f, true, gen),
                       doctest::Contains("masked_softmax_dropout: p = 1 for scores [3,5,5]"),
                       Error);
}
