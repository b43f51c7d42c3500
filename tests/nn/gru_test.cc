#include "nn/gru.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "tests/nn/rnn_test_util.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"

using namespace recgrad;
using namespace recgrad::nn;
using namespace recgrad::rnn_test;

namespace {

// The GRU equations of nn/gru.h in double, written out per element: an independent reference.
// x [B,T,in]; lengths (empty: all T); h0 [L,B,H] or undefined. Returns {output, h_n} flattened.
struct Ref {
  std::vector<double> output, h_n;
};
Ref reference_gru(const GRU& m, const Tensor& x, std::vector<int64_t> lengths, const Tensor& h0) {
  const int64_t B = x.size(0), T = x.size(1), H = m.hidden_size(), L = m.num_layers();
  if (lengths.empty()) lengths.assign(B, T);
  std::vector<double> in(x.data(), x.data() + x.numel());
  int64_t width = x.size(2);
  Ref ref;
  auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
  for (int64_t l = 0; l < L; ++l) {
    const std::string s = "_l" + std::to_string(l);
    const Tensor wi = param(m, "weight_ih" + s), wh = param(m, "weight_hh" + s);
    const bool bias = m.named_parameters().size() == static_cast<size_t>(4 * L);
    const Tensor bi = bias ? param(m, "bias_ih" + s) : zeros({3 * H});
    const Tensor bh = bias ? param(m, "bias_hh" + s) : zeros({3 * H});
    std::vector<double> out(B * T * H, 0.0);
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(H, 0.0);
      if (h0.defined())
        for (int64_t j = 0; j < H; ++j) h[j] = h0.at({l, b, j});
      for (int64_t t = 0; t < lengths[b]; ++t) {
        const double* xt = in.data() + (b * T + t) * width;
        // Row q of W_ih·x + b_ih and of W_hh·h + b_hh.
        auto gi = [&](int64_t q) {
          double a = bi.data()[q];
          for (int64_t k = 0; k < width; ++k) a += wi.at({q, k}) * xt[k];
          return a;
        };
        auto gh = [&](int64_t q) {
          double a = bh.data()[q];
          for (int64_t k = 0; k < H; ++k) a += wh.at({q, k}) * h[k];
          return a;
        };
        std::vector<double> hn(H);
        for (int64_t j = 0; j < H; ++j) {
          const double r = sig(gi(j) + gh(j));
          const double z = sig(gi(H + j) + gh(H + j));
          const double n = std::tanh(gi(2 * H + j) + r * gh(2 * H + j));
          hn[j] = (1 - z) * n + z * h[j];
        }
        h = hn;
        for (int64_t j = 0; j < H; ++j) out[(b * T + t) * H + j] = h[j];
      }
      ref.h_n.insert(ref.h_n.end(), h.begin(), h.end());
    }
    in = out;
    width = H;
    ref.output = out;
  }
  return ref;
}

}  // namespace

TEST_CASE("GRU: parameters carry PyTorch's names, shapes and default init range") {
  Generator gen(3);
  GRU gru(2, 3, gen, {/*num_layers=*/2});
  std::vector<std::string> names;
  for (auto& [name, p] : gru.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"weight_ih_l0", "weight_hh_l0", "bias_ih_l0",
                                          "bias_hh_l0", "weight_ih_l1", "weight_hh_l1",
                                          "bias_ih_l1", "bias_hh_l1"});
  CHECK(param(gru, "weight_ih_l0").shape() == Shape{9, 2});
  CHECK(param(gru, "weight_hh_l0").shape() == Shape{9, 3});
  CHECK(param(gru, "bias_hh_l0").shape() == Shape{9});
  CHECK(param(gru, "weight_ih_l1").shape() == Shape{9, 3});
  const float k = 1.f / std::sqrt(3.f);
  for (const Tensor& p : gru.parameters()) {
    CHECK(p.requires_grad());
    for (float v : p.to_vector()) CHECK((v >= -k && v <= k));
  }
  CHECK(gru.describe() == "GRU(2 -> 3, 2 layers, bias)");

  GRU no_bias(2, 3, gen, {1, /*bias=*/false, 0.f});
  CHECK(no_bias.named_parameters().size() == 2);
  CHECK(no_bias.describe() == "GRU(2 -> 3, 1 layer, no bias)");
}

TEST_CASE("GRU: a 2-step sequence matches the equations computed by hand in double") {
  const Tensor x = tensor({0.5f, -1.f, 0.25f, 2.f,     // sequence 0: steps 0, 1
                           -0.75f, 0.1f, 1.5f, -0.3f},  // sequence 1
                          {2, 2, 2});
  for (int64_t layers : {1, 2})
    for (bool bias : {true, false})
      for (bool with_h0 : {false, true})
        for (bool ragged : {false, true}) {
          INFO("layers=", layers, " bias=", bias, " h0=", with_h0, " ragged=", ragged);
          Generator gen(1);
          GRU gru(2, 3, gen, {layers, bias, 0.f});
          set_known_parameters(gru);
          Tensor h0;
          if (with_h0) {
            h0 = Tensor::empty({layers, 2, 3});
            for (int64_t i = 0; i < h0.numel(); ++i) h0.data()[i] = 0.3f - 0.11f * i;
          }
          const std::vector<int64_t> lengths = ragged ? std::vector<int64_t>{2, 1}
                                                      : std::vector<int64_t>{};
          const GRUOutput y = ragged ? gru.forward(x, lengths, h0) : gru.forward(x, h0);
          const Ref ref = reference_gru(gru, x, lengths, h0);
          REQUIRE(y.output.shape() == Shape{2, 2, 3});
          REQUIRE(y.h_n.shape() == Shape{layers, 2, 3});
          CHECK(max_abs_diff(y.output, ref.output) < 1e-5);
          CHECK(max_abs_diff(y.h_n, ref.h_n) < 1e-5);
        }
}

TEST_CASE("GRU: gradients w.r.t. the input and the initial state match central differences") {
  for (int64_t layers : {1, 2})
    for (bool ragged : {false, true}) {
      INFO("layers=", layers, " ragged=", ragged);
      Generator gen(7);
      GRU gru(2, 3, gen, {layers});
      const std::vector<int64_t> lengths{3, 2};
      std::vector<Tensor> in{randn({2, 3, 2}, gen), randn({layers, 2, 3}, gen)};
      CHECK(gradcheck(
          [&](const std::vector<Tensor>& v) {
            const GRUOutput y = ragged ? gru.forward(v[0], lengths, v[1]) : gru.forward(v[0], v[1]);
            return flat_concat({y.output, y.h_n});
          },
          in));
    }
}

TEST_CASE("GRU: gradients w.r.t. every parameter match central differences") {
  for (int64_t layers : {1, 2})
    for (bool bias : {true, false})
      for (bool ragged : {false, true}) {
        INFO("layers=", layers, " bias=", bias, " ragged=", ragged);
        Generator gen(11);
        GRU gru(2, 3, gen, {layers, bias, 0.f});
        const Tensor x = randn({2, 3, 2}, gen), h0 = randn({layers, 2, 3}, gen);
        CHECK(check_parameter_grads(gru, [&] {
          const GRUOutput y = ragged ? gru.forward(x, {1, 3}, h0) : gru.forward(x, h0);
          return flat_concat({y.output, y.h_n});
        }));
      }
}

TEST_CASE("GRU: padded steps change nothing and receive no gradient") {
  Generator gen(5);
  GRU gru(3, 4, gen, {2});
  const std::vector<int64_t> lengths{5, 2, 4};
  const Tensor clean = randn({3, 5, 3}, gen);
  Tensor noisy = clean.clone();
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t t = lengths[b]; t < 5; ++t)
      for (int64_t k = 0; k < 3; ++k)
        noisy.data()[(b * 5 + t) * 3 + k] =
            k == 0 ? std::numeric_limits<float>::quiet_NaN() : 1e4f * (t + k);

  auto run = [&](const Tensor& x) {
    Tensor xg = x.clone().set_requires_grad(true);
    gru.zero_grad();
    const GRUOutput y = gru.forward(xg, lengths);
    (sum(y.output) + sum(y.h_n)).backward();
    std::vector<Tensor> grads{xg.grad()};
    for (const Tensor& p : gru.parameters()) grads.push_back(p.grad().clone());
    return std::make_pair(y, grads);
  };
  const auto [y_clean, g_clean] = run(clean);
  const auto [y_noisy, g_noisy] = run(noisy);
  CHECK(same(y_clean.output, y_noisy.output));
  CHECK(same(y_clean.h_n, y_noisy.h_n));
  for (size_t i = 1; i < g_clean.size(); ++i) CHECK(same(g_clean[i], g_noisy[i]));
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t t = lengths[b]; t < 5; ++t)
      for (int64_t k = 0; k < 4; ++k) {
        CHECK(y_noisy.output.at({b, t, k}) == 0.f);
        if (k < 3) CHECK(g_noisy[0].at({b, t, k}) == 0.f);
      }
  // Valid steps do receive gradient.
  CHECK(g_noisy[0].at({1, 1, 0}) != 0.f);

  // Each row equals the same sequence run alone, cut at its length.
  for (int64_t b = 0; b < 3; ++b) {
    const GRUOutput alone = gru.forward(narrow(narrow(clean, 0, b, 1), 1, 0, lengths[b]));
    for (int64_t t = 0; t < lengths[b]; ++t)
      for (int64_t k = 0; k < 4; ++k)
        CHECK(y_clean.output.at({b, t, k}) ==
              doctest::Approx(alone.output.at({0, t, k})).epsilon(1e-6));
    for (int64_t l = 0; l < 2; ++l)
      for (int64_t k = 0; k < 4; ++k)
        CHECK(y_clean.h_n.at({l, b, k}) == doctest::Approx(alone.h_n.at({l, 0, k})).epsilon(1e-6));
  }
}

TEST_CASE("GRU: lengths all equal to T give the mask-free result bit for bit") {
  Generator gen(9);
  GRU gru(3, 5, gen, {2});
  const Tensor x = randn({4, 6, 3}, gen), h0 = randn({2, 4, 5}, gen);
  const GRUOutput a = gru.forward(x, h0);
  const GRUOutput b = gru.forward(x, {6, 6, 6, 6}, h0);
  CHECK(same(a.output, b.output));
  CHECK(same(a.h_n, b.h_n));
  // The final state is the output at the last step.
  CHECK(same(last_valid_output(a.output, {6, 6, 6, 6}), reshape(narrow(a.h_n, 0, 1, 1), {4, 5})));
}

TEST_CASE("GRU: last_valid_output picks each sequence's last valid step") {
  Generator gen(13);
  GRU gru(2, 3, gen, {2});
  const std::vector<int64_t> lengths{1, 4, 3};
  const Tensor x = randn({3, 4, 2}, gen);
  const GRUOutput y = gru.forward(x, lengths);
  const Tensor last = last_valid_output(y.output, lengths);
  CHECK(same(last, reshape(narrow(y.h_n, 0, 1, 1), {3, 3})));
  Tensor out = y.output.detach().set_requires_grad(true);
  sum(last_valid_output(out, lengths)).backward();
  for (int64_t b = 0; b < 3; ++b)
    for (int64_t t = 0; t < 4; ++t)
      CHECK(out.grad().at({b, t, 0}) == (t == lengths[b] - 1 ? 1.f : 0.f));
  CHECK_THROWS_WITH_AS(last_valid_output(y.output, {1, 5, 3}),
                       doctest::Contains("length 5 of sequence 1 is outside [1, 4]"), Error);
  CHECK_THROWS_WITH_AS(last_valid_output(y.output, {1, 2}),
                       doctest::Contains("2 lengths for a batch of 3"), Error);
  CHECK_THROWS_WITH_AS(last_valid_output(x.detach().clone(), {1}), doctest::Contains("[3,4,2]"),
                       Error);
  CHECK_THROWS_WITH_AS(last_valid_output(zeros({3, 4}), {1, 1, 1}), doctest::Contains("[3,4]"),
                       Error);
}

TEST_CASE("GRU: same seed, same parameters and outputs; dropout has its own seeded stream") {
  auto make = [](float p) {
    Generator gen(21);
    return std::make_unique<GRU>(3, 4, gen, GRUOptions{2, true, p});
  };
  Generator data(2);
  const Tensor x = randn({3, 5, 3}, data);
  auto a = make(0.5f), b = make(0.5f), plain = make(0.f);
  const GRUOutput ya = a->forward(x, {5, 3, 4}), yb = b->forward(x, {5, 3, 4});
  CHECK(same(ya.output, yb.output));
  CHECK(same(ya.h_n, yb.h_n));
  // Dropout between layers, training only: eval equals the module without dropout.
  const GRUOutput y_plain = plain->forward(x, {5, 3, 4});
  CHECK_FALSE(same(ya.output, y_plain.output));
  CHECK(same(narrow(ya.h_n, 0, 0, 1), narrow(y_plain.h_n, 0, 0, 1)));  // layer 0: no dropout yet
  CHECK_FALSE(same(a->forward(x, {5, 3, 4}).output, ya.output));       // the stream advances
  a->eval();
  CHECK(same(a->forward(x, {5, 3, 4}).output, y_plain.output));
  // One layer: nothing to drop between.
  Generator g1(4), g2(4);
  GRU one(3, 4, g1, {1, true, 0.5f}), one_plain(3, 4, g2, {1, true, 0.f});
  CHECK(same(one.forward(x).output, one_plain.forward(x).output));
  CHECK(a->describe() == "GRU(3 -> 4, 2 layers, bias, dropout 0.5)");
}

TEST_CASE("GRU: bad input names the layer, the shapes and the reason") {
  Generator gen(1);
  GRU gru(2, 3, gen, {2});
  const Tensor x = zeros({2, 4, 2});
  CHECK_THROWS_WITH_AS(gru.forward(zeros({2, 4, 5})),
                       doctest::Contains(
                           "GRU(2 -> 3, 2 layers, bias): x [2,4,5]: expected [B, T, 2]"),
                       Error);
  CHECK_THROWS_WITH_AS(gru.forward(zeros({4, 2})), doctest::Contains("x [4,2]"), Error);
  CHECK_THROWS_WITH_AS(gru.forward(x, {4, 0}),
                       doctest::Contains("length 0 of sequence 1 is outside [1, 4] ([2,4,2])"),
                       Error);
  CHECK_THROWS_WITH_AS(gru.forward(x, {5, 1}),
                       doctest::Contains("length 5 of sequence 0 is outside [1, 4]"), Error);
  CHECK_THROWS_WITH_AS(gru.forward(x, {4, 4, 4}), doctest::Contains("3 lengths for a batch of 2"),
                       Error);
  CHECK_THROWS_WITH_AS(gru.forward(x, zeros({1, 2, 3})),
                       doctest::Contains("h0 [1,2,3]: expected [2,2,3]"), Error);
  CHECK_THROWS_WITH_AS(GRU(2, 3, gen, {0}), doctest::Contains("num_layers 0"), Error);
  CHECK_THROWS_WITH_AS(GRU(2, 3, gen, {1, true, 1.f}), doctest::Contains("dropout 1"), Error);
  CHECK_THROWS_WITH_AS(GRU(2, 0, gen), doctest::Contains("hidden size 0"), Error);
}

TEST_CASE("GRU: a 2000-step sequence runs forward and backward") {
  Generator gen(17);
  GRU gru(3, 8, gen, {2});
  const int64_t T = 2000;
  Tensor x = randn({2, T, 3}, gen).set_requires_grad(true);
  const GRUOutput y = gru.forward(x, {T, 1500});
  (sum(y.output) + sum(y.h_n)).backward();
  const Tensor g = x.grad();
  bool finite = true;
  for (float v : g.to_vector()) finite = finite && std::isfinite(v);
  CHECK(finite);
  CHECK(g.at({0, 0, 0}) != 0.f);     // reaches the first step
  CHECK(g.at({1, 1600, 0}) == 0.f);  // padded
  for (const Tensor& p : gru.parameters()) CHECK(p.grad().defined());
}
