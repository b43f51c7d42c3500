#include "ops/conv.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/reduce.h"
#include "ops/runtime.h"
#include "ops/shape.h"

using namespace recgrad;

namespace {

// Direct convolution in double, by the definition: every output sums every tap, reading zeros
// outside x. x [B,C,H,W], w [O,C,KH,KW], bias [O] or undefined. The reference for im2col.
Tensor naive_conv2d(const Tensor& x, const Tensor& w, const Tensor& bias, Size2d s, Size2d p,
                    Size2d d) {
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t O = w.size(0), KH = w.size(2), KW = w.size(3);
  const int64_t HO = (H + 2 * p.h - d.h * (KH - 1) - 1) / s.h + 1;
  const int64_t WO = (W + 2 * p.w - d.w * (KW - 1) - 1) / s.w + 1;
  Tensor y = zeros({B, O, HO, WO});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t r = 0; r < HO; ++r)
        for (int64_t q = 0; q < WO; ++q) {
          double acc = bias.defined() ? bias.data()[o] : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < KH; ++i)
              for (int64_t j = 0; j < KW; ++j) {
                const int64_t ih = r * s.h - p.h + i * d.h, iw = q * s.w - p.w + j * d.w;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                acc += static_cast<double>(x.at({b, c, ih, iw})) * w.at({o, c, i, j});
              }
          y.data()[((b * O + o) * HO + r) * WO + q] = static_cast<float>(acc);
        }
  return y;
}

void check_close(const Tensor& got, const Tensor& want, float tol = 1e-4f) {
  REQUIRE(got.shape() == want.shape());
  for (int64_t i = 0; i < got.numel(); ++i)
    REQUIRE_MESSAGE(
        std::abs(got.data()[i] - want.data()[i]) <= tol * (1 + std::abs(want.data()[i])),
        "element ", i, ": ", got.data()[i], " vs ", want.data()[i]);
}

struct Case1d {
  int64_t b, c_in, l, c_out, k, stride, padding, dilation;
};
struct Case2d {
  int64_t b, c_in, h, w, c_out;
  Size2d k, stride, padding, dilation;
};

}  // namespace

TEST_CASE("conv1d: a small case worked by hand") {
  // x = 1 2 3 4, w = (1, 10), bias 0.5, padding 1: y_l = x_{l-1} + 10·x_l + 0.5.
  Tensor x = tensor({1, 2, 3, 4}, {1, 1, 4});
  Tensor w = tensor({1, 10}, {1, 1, 2});
  Tensor y = conv1d(x, w, tensor({0.5f}, {1}), 1, 1, 1);
  CHECK(y.shape() == Shape{1, 1, 5});
  CHECK(y.to_vector() == std::vector<float>{10.5f, 21.5f, 32.5f, 43.5f, 4.5f});
  // Stride 2, dilation 2, no bias: y_l = x_{2l} + 10·x_{2l+2}; L_out = (4 - 2 - 1)/2 + 1 = 1.
  Tensor z = conv1d(x, w, Tensor(), 2, 0, 2);
  CHECK(z.shape() == Shape{1, 1, 1});
  CHECK(z.item() == 31.f);
}

TEST_CASE("conv1d: matches a direct convolution on varied shapes") {
  Generator gen(1);
  for (const Case1d& t : {Case1d{2, 3, 10, 4, 3, 1, 0, 1}, Case1d{2, 3, 11, 4, 3, 2, 1, 1},
                          Case1d{1, 2, 9, 3, 3, 1, 2, 2}, Case1d{3, 4, 7, 5, 1, 1, 0, 1},
                          Case1d{2, 1, 8, 2, 4, 3, 0, 1}, Case1d{1, 1, 5, 1, 5, 1, 0, 1},
                          Case1d{2, 2, 3, 3, 2, 2, 3, 1}, Case1d{4, 5, 20, 6, 3, 2, 2, 3}}) {
    INFO("B=", t.b, " C_in=", t.c_in, " L=", t.l, " C_out=", t.c_out, " K=", t.k,
         " s=", t.stride, " p=", t.padding, " d=", t.dilation);
    Tensor x = randn({t.b, t.c_in, t.l}, gen), w = randn({t.c_out, t.c_in, t.k}, gen);
    Tensor bias = randn({t.c_out}, gen);
    for (bool with_bias : {true, false}) {
      Tensor bb = with_bias ? bias : Tensor();
      Tensor want = naive_conv2d(reshape(x, {t.b, t.c_in, 1, t.l}),
                                 reshape(w, {t.c_out, t.c_in, 1, t.k}), bb, {1, t.stride},
                                 {0, t.padding}, {1, t.dilation});
      Tensor got = conv1d(x, w, bb, t.stride, t.padding, t.dilation);
      check_close(got, reshape(want, {t.b, t.c_out, want.size(3)}));
    }
  }
}

TEST_CASE("conv2d: matches a direct convolution, incl. Caser's horizontal and vertical filters") {
  Generator gen(2);
  for (const Case2d& t :
       {Case2d{2, 3, 6, 5, 4, {3, 3}, 1, 0, 1}, Case2d{2, 3, 7, 6, 4, {3, 2}, {2, 1}, {1, 0}, 1},
        Case2d{1, 2, 9, 8, 3, {3, 3}, 1, 2, 2},
        Case2d{2, 2, 7, 9, 3, {2, 3}, {2, 3}, {1, 2}, {2, 1}},
        Case2d{3, 4, 5, 5, 2, {1, 1}, 1, 0, 1},
        // Caser: an L x d "image" [B, 1, L, d] under horizontal [h x d] and vertical [L x 1].
        Case2d{4, 1, 5, 8, 3, {2, 8}, 1, 0, 1}, Case2d{4, 1, 5, 8, 3, {5, 8}, 1, 0, 1},
        Case2d{4, 1, 5, 8, 2, {5, 1}, 1, 0, 1}}) {
    INFO("B=", t.b, " C_in=", t.c_in, " H=", t.h, " W=", t.w, " C_out=", t.c_out, " K=", t.k,
         " s=", t.stride, " p=", t.padding, " d=", t.dilation);
    Tensor x = randn({t.b, t.c_in, t.h, t.w}, gen);
    Tensor w = randn({t.c_out, t.c_in, t.k.h, t.k.w}, gen), bias = randn({t.c_out}, gen);
    check_close(conv2d(x, w, bias, t.stride, t.padding, t.dilation),
                naive_conv2d(x, w, bias, t.stride, t.padding, t.dilation));
    check_close(conv2d(x, w, Tensor(), t.stride, t.padding, t.dilation),
                naive_conv2d(x, w, Tensor(), t.stride, t.padding, t.dilation));
  }
}

TEST_CASE("conv2d: a batch large enough to split across threads matches the direct convolution") {
  Generator gen(3);
  Tensor x = randn({32, 4, 12, 10}, gen), w = randn({8, 4, 3, 3}, gen), b = randn({8}, gen);
  check_close(conv2d(x, w, b, {2, 1}, 1, {1, 2}), naive_conv2d(x, w, b, {2, 1}, 1, {1, 2}));
}

TEST_CASE("conv2d: Caser's horizontal filters then max over time give one value per filter") {
  Generator gen(4);
  Tensor e = randn({3, 1, 5, 6}, gen), w = randn({2, 1, 3, 6}, gen), b = randn({2}, gen);
  Tensor h = squeeze(conv2d(e, w, b), 3);  // [3, 2, 3]
  Tensor pooled = max(h, 2);               // [3, 2]
  Tensor ref = naive_conv2d(e, w, b, 1, 0, 1);
  REQUIRE(pooled.shape() == Shape{3, 2});
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t o = 0; o < 2; ++o) {
      float m = ref.at({i, o, 0, 0});
      for (int64_t t = 1; t < 3; ++t) m = std::max(m, ref.at({i, o, t, 0}));
      CHECK(pooled.at({i, o}) == doctest::Approx(m).epsilon(1e-5));
    }
}

TEST_CASE("conv1d: gradients of x, weight and bias match central differences") {
  for (const Case1d& t : {Case1d{2, 3, 7, 2, 3, 1, 0, 1}, Case1d{2, 2, 9, 3, 3, 2, 1, 1},
                          Case1d{1, 2, 9, 2, 2, 1, 2, 2}, Case1d{2, 1, 6, 2, 1, 2, 0, 1},
                          Case1d{1, 3, 5, 2, 4, 3, 3, 2},
                          // L_out >= 8: im2col/col2im copy along the output row, not the batch.
                          Case1d{2, 2, 20, 2, 3, 2, 1, 1}, Case1d{1, 2, 12, 2, 3, 1, 2, 2}}) {
    INFO("B=", t.b, " C_in=", t.c_in, " L=", t.l, " C_out=", t.c_out, " K=", t.k,
         " s=", t.stride, " p=", t.padding, " d=", t.dilation);
    Generator gen(5);
    std::vector<Tensor> in{randn({t.b, t.c_in, t.l}, gen), randn({t.c_out, t.c_in, t.k}, gen),
                           randn({t.c_out}, gen)};
    CHECK(gradcheck([&](const auto& v) { return conv1d(v[0], v[1], v[2], t.stride, t.padding,
                                                       t.dilation); },
                    in));
    CHECK(gradcheck([&](const auto& v) { return conv1d(v[0], v[1], Tensor(), t.stride,
                                                       t.padding, t.dilation); },
                    {in[0], in[1]}));
  }
}

TEST_CASE("conv2d: gradients of x, weight and bias match central differences") {
  for (const Case2d& t :
       {Case2d{2, 2, 5, 4, 3, {3, 2}, 1, 0, 1}, Case2d{2, 2, 6, 7, 2, {3, 3}, {2, 1}, {1, 2}, 1},
        Case2d{1, 2, 7, 6, 2, {2, 2}, 1, {1, 0}, {2, 3}}, Case2d{3, 1, 4, 5, 2, {4, 5}, 1, 0, 1},
        Case2d{2, 1, 4, 5, 3, {4, 1}, 1, 0, 1}, Case2d{2, 1, 4, 10, 2, {2, 3}, 1, 1, {1, 2}}}) {
    INFO("B=", t.b, " C_in=", t.c_in, " H=", t.h, " W=", t.w, " C_out=", t.c_out, " K=", t.k,
         " s=", t.stride, " p=", t.padding, " d=", t.dilation);
    Generator gen(6);
    std::vector<Tensor> in{randn({t.b, t.c_in, t.h, t.w}, gen),
                           randn({t.c_out, t.c_in, t.k.h, t.k.w}, gen), randn({t.c_out}, gen)};
    CHECK(gradcheck([&](const auto& v) { return conv2d(v[0], v[1], v[2], t.stride, t.padding,
                                                       t.dilation); },
                    in));
  }
}

TEST_CASE("conv2d: only the inputs that require grad receive one") {
  Generator gen(7);
  Tensor x = randn({2, 2, 5, 5}, gen), w = randn({3, 2, 3, 3}, gen).set_requires_grad();
  Tensor b = randn({3}, gen);
  sum(conv2d(x, w, b, 1, 1)).backward();
  CHECK(w.grad().defined());
  CHECK_FALSE(x.grad().defined());
  CHECK_FALSE(b.grad().defined());
  // The bias gradient is the count of outputs per channel: B·H_out·W_out = 2·5·5.
  Tensor b2 = randn({3}, gen).set_requires_grad();
  sum(conv2d(x, w.detach(), b2, 1, 1)).backward();
  CHECK(b2.grad().to_vector() == std::vector<float>{50.f, 50.f, 50.f});
}

TEST_CASE("conv1d: an empty batch gives an empty output and zero gradients") {
  Tensor x = zeros({0, 2, 6}).set_requires_grad(), w = ones({3, 2, 3}).set_requires_grad();
  Tensor y = conv1d(x, w, Tensor(), 1, 1);
  CHECK(y.shape() == Shape{0, 3, 6});
  sum(y).backward();
  CHECK(w.grad().to_vector() == std::vector<float>(18, 0.f));
}

TEST_CASE("conv: results are bit-identical across runs at 1 and at 2 threads") {
  // Large enough that im2col, col2im and the products all split into several tasks, in both
  // im2col loop orders (long output rows; Caser's one-column rows). As for matmul, the
  // contract is per thread count (sgemm's block split depends on it).
  Generator gen(8);
  Tensor x = randn({64, 16, 64}, gen), w = randn({16, 16, 5}, gen), b = randn({16}, gen);
  Tensor r = randn({64, 16, 30}, gen);  // L_out = floor((64 + 4 - 8 - 1) / 2) + 1
  Tensor e = randn({256, 1, 5, 40}, gen), wh = randn({8, 1, 2, 40}, gen), bh = randn({8}, gen);
  Tensor rh = randn({256, 8, 4, 1}, gen);
  auto run = [](const std::vector<Tensor>& in, const Tensor& r,
                const std::function<Tensor(const std::vector<Tensor>&)>& f) {
    std::vector<Tensor> leaves;
    for (const Tensor& t : in) leaves.push_back(t.clone().set_requires_grad());
    Tensor y = f(leaves);
    y.backward(r);
    std::vector<float> all = y.to_vector();
    for (const Tensor& t : leaves) {
      std::vector<float> v = t.grad().to_vector();
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  const int restore = num_threads();
  std::vector<std::vector<float>> runs;
  for (int threads : {1, 1, 2, 2}) {
    set_num_threads(threads);
    std::vector<float> all = run({x, w, b}, r, [](const auto& v) {
      return conv1d(v[0], v[1], v[2], 2, 2, 2);
    });
    std::vector<float> caser = run({e, wh, bh}, rh, [](const auto& v) {
      return conv2d(v[0], v[1], v[2]);
    });
    all.insert(all.end(), caser.begin(), caser.end());
    runs.push_back(all);
  }
  set_num_threads(restore);
  CHECK(runs[0] == runs[1]);
  CHECK(runs[2] == runs[3]);
  for (size_t i = 0; i < runs[0].size(); ++i)
    REQUIRE(runs[0][i] == doctest::Approx(runs[2][i]).epsilon(1e-4));
}

TEST_CASE("conv1d: bad shapes and hyperparameters are rejected with the shapes named") {
  Tensor x = zeros({2, 3, 10}), w = zeros({4, 3, 3});
  CHECK_THROWS_WITH_AS(conv1d(x, zeros({4, 5, 3}), Tensor()),
                       doctest::Contains("x [2,3,10], weight [4,5,3]: x has 3 input channels but "
                                         "weight expects 5"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(conv1d(zeros({2, 3, 4}), zeros({4, 3, 5}), Tensor()),
                       doctest::Contains("output size 0 < 1"), recgrad::Error);
  // L + 2p - d(K-1) - 1 = 4 - 4 - 1 = -1 with stride 2: floor(-1/2) + 1 = 0, not 1.
  CHECK_THROWS_WITH_AS(conv1d(zeros({2, 3, 4}), zeros({4, 3, 3}), Tensor(), 2, 0, 2),
                       doctest::Contains("output size 0 < 1"), recgrad::Error);
  CHECK_THROWS_WITH_AS(conv1d(x, w, zeros({3})),
                       doctest::Contains("bias [3]: bias must have shape [4]"), recgrad::Error);
  CHECK_THROWS_WITH_AS(conv1d(x, w, Tensor(), 0), doctest::Contains("stride 0 must be >= 1"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(conv1d(x, w, Tensor(), 1, -1), doctest::Contains("padding -1 must be >= 0"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(conv1d(x, w, Tensor(), 1, 0, 0),
                       doctest::Contains("dilation 0 must be >= 1"), recgrad::Error);
  CHECK_THROWS_WITH_AS(conv1d(zeros({3, 10}), w, Tensor()),
                       doctest::Contains("x [3,10], weight [4,3,3]: x must be [B,C_in,L]"),
                       recgrad::Error);
  CHECK_THROWS_AS(conv1d(x, zeros({0, 3, 3}), Tensor()), recgrad::Error);
}

TEST_CASE("conv2d: bad shapes and hyperparameters are rejected with the shapes named") {
  Tensor x = zeros({2, 3, 5, 8});
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({4, 1, 3, 8}), Tensor()),
                       doctest::Contains("x [2,3,5,8], weight [4,1,3,8]: x has 3 input channels"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({4, 3, 6, 1}), Tensor()),
                       doctest::Contains("output size (0,8) < 1"), recgrad::Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({4, 3, 3, 3}), Tensor(), {1, 0}),
                       doctest::Contains("stride (1,0) must be >= 1"), recgrad::Error);
  CHECK_THROWS_WITH_AS(conv2d(x, zeros({4, 3, 3}), Tensor()),
                       doctest::Contains("weight [4,3,3]: x must be [B,C_in,H,W] and weight "
                                         "[C_out,C_in,KH,KW]"),
                       recgrad::Error);
}
