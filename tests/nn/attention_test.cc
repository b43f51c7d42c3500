#include "nn/attention.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/attention.h"
#include "ops/causal_matmul.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/shape.h"
#include "tests/nn/param_gradcheck.h"
#include "tests/nn/rnn_test_util.h"

using namespace recgrad;
using namespace recgrad::nn;

namespace {

// The module's parameter `name`, or an undefined tensor when it has none by that name.
Tensor find_param(const Module& m, const std::string& name) {
  for (const auto& [n, p] : m.named_parameters())
    if (n == name) return p;
  return Tensor();
}

bool all_finite(const Tensor& t) {
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(t.data()[i])) return false;
  return true;
}

// Multi-head attention written out per element in double from the module's parameters: an
// independent reference. query [B,Lq,d], key/value [B,Lk,d], pad [B,Lk] or undefined.
std::vector<double> reference_mha(const MultiHeadAttention& m, const Tensor& query,
                                  const Tensor& key, const Tensor& value, const Tensor& pad,
                                  bool causal) {
  const int64_t B = query.size(0), Lq = query.size(1), Lk = key.size(1);
  const int64_t d = m.d_model(), h = m.num_heads(), dh = d / h;
  // rows x d -> rows x d: y = x·Wᵀ + b.
  auto proj = [&](const std::vector<double>& x, const std::string& name) {
    const Tensor w = find_param(m, name + ".weight"), b = find_param(m, name + ".bias");
    const int64_t rows = static_cast<int64_t>(x.size()) / d;
    std::vector<double> y(x.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < d; ++o) {
        double acc = b.defined() ? b.data()[o] : 0.0;
        for (int64_t i = 0; i < d; ++i) acc += x[r * d + i] * w.data()[o * d + i];
        y[r * d + o] = acc;
      }
    return y;
  };
  auto vec = [](const Tensor& t) { return std::vector<double>(t.data(), t.data() + t.numel()); };
  const std::vector<double> Q = proj(vec(query), "q_proj"), K = proj(vec(key), "k_proj"),
                            V = proj(vec(value), "v_proj");
  std::vector<double> O(B * Lq * d, 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t hd = 0; hd < h; ++hd)
      for (int64_t i = 0; i < Lq; ++i) {
        std::vector<double> s(Lk);
        std::vector<bool> ok(Lk);
        double mx = -1e300;
        bool any = false;
        for (int64_t j = 0; j < Lk; ++j) {
          ok[j] = !(causal && j > i) && !(pad.defined() && pad.data()[b * Lk + j] != 0.f);
          double dot = 0;
          for (int64_t e = 0; e < dh; ++e)
            dot += Q[(b * Lq + i) * d + hd * dh + e] * K[(b * Lk + j) * d + hd * dh + e];
          s[j] = dot / std::sqrt(static_cast<double>(dh));
          if (ok[j]) mx = std::max(mx, s[j]), any = true;
        }
        if (!any) continue;  // nothing to attend to: zero
        double sum = 0;
        for (int64_t j = 0; j < Lk; ++j) sum += ok[j] ? std::exp(s[j] - mx) : 0.0;
        for (int64_t j = 0; j < Lk; ++j) {
          const double a = ok[j] ? std::exp(s[j] - mx) / sum : 0.0;
          for (int64_t e = 0; e < dh; ++e)
            O[(b * Lq + i) * d + hd * dh + e] += a * V[(b * Lk + j) * d + hd * dh + e];
        }
      }
  return proj(O, "out_proj");
}

void check_close(const Tensor& got, const std::vector<double>& want, double tol) {
  REQUIRE(got.numel() == static_cast<int64_t>(want.size()));
  for (int64_t i = 0; i < got.numel(); ++i) {
    INFO("flat index ", i);
    CHECK(std::abs(got.data()[i] - want[i]) <= tol * (1 + std::abs(want[i])));
  }
}

// x with every position >= from (along dim 1 of [B, L, d]) replaced by fresh values.
Tensor change_from(const Tensor& x, int64_t from, Generator& gen) {
  Tensor y = x.clone();
  const int64_t L = x.size(1), d = x.size(2);
  for (int64_t b = 0; b < x.size(0); ++b)
    for (int64_t l = from; l < L; ++l)
      for (int64_t e = 0; e < d; ++e) y.data()[(b * L + l) * d + e] = 3.f * gen.next_float() - 1.f;
  return y;
}

AttentionMask causal_mask(Tensor pad = Tensor()) {
  AttentionMask m;
  m.causal = true;
  m.key_padding = std::move(pad);
  return m;
}

AttentionMask padding_mask(Tensor pad) {
  AttentionMask m;
  m.key_padding = std::move(pad);
  return m;
}

}  // namespace

TEST_CASE("MultiHeadAttention: parameters, their initialisation and the description") {
  Generator gen(1);
  MultiHeadAttention m(8, 2, gen);
  CHECK(m.describe() == "MultiHeadAttention(d_model=8, heads=2, bias)");
  CHECK(m.head_dim() == 4);
  std::vector<std::string> names;
  for (const auto& [n, p] : m.named_parameters()) names.push_back(n);
  CHECK(names == std::vector<std::string>{"q_proj.weight", "q_proj.bias", "k_proj.weight",
                                          "k_proj.bias", "v_proj.weight", "v_proj.bias",
                                          "out_proj.weight", "out_proj.bias"});
  const float bound = std::sqrt(6.f / 32.f);  // xavier_uniform of the packed [3d, d] = [24, 8]
  for (const char* w : {"q_proj.weight", "k_proj.weight", "v_proj.weight"}) {
    const Tensor p = find_param(m, w);
    float mx = 0;
    for (int64_t i = 0; i < p.numel(); ++i) mx = std::max(mx, std::abs(p.data()[i]));
    CHECK(mx <= bound);
    CHECK(mx > 0.5f * bound);
  }
  for (const char* b : {"q_proj.bias", "k_proj.bias", "v_proj.bias", "out_proj.bias"})
    CHECK(find_param(m, b).to_vector() == std::vector<float>(8, 0.f));

  MultiHeadAttentionOptions o;
  o.bias = false;
  o.dropout = 0.25f;
  MultiHeadAttention plain(4, 1, gen, o);
  CHECK(plain.describe() == "MultiHeadAttention(d_model=4, heads=1, dropout=0.25, no bias)");
  CHECK(plain.named_parameters().size() == 4);
}

TEST_CASE("MultiHeadAttention: output equals a reference computed by hand, 1 and 2 heads") {
  Generator gen(2);
  const Tensor q = randn({2, 3, 4}, gen), k = randn({2, 4, 4}, gen), v = randn({2, 4, 4}, gen);
  const Tensor pad = tensor({0, 1, 0, 0, /**/ 0, 0, 0, 1}, {2, 4});
  for (int64_t heads : {1, 2}) {
    for (bool bias : {true, false}) {
      CAPTURE(heads);
      CAPTURE(bias);
      MultiHeadAttentionOptions o;
      o.bias = bias;
      MultiHeadAttention m(4, heads, gen, o);
      rnn_test::set_known_parameters(m);
      check_close(m.forward(q, k, v), reference_mha(m, q, k, v, Tensor(), false), 1e-5);
      check_close(m.forward(q, k, v, padding_mask(pad)), reference_mha(m, q, k, v, pad, false),
                  1e-5);
      check_close(m.forward(q, k, v, causal_mask(pad)), reference_mha(m, q, k, v, pad, true),
                  1e-5);
      check_close(m.forward(k, causal_mask()), reference_mha(m, k, k, k, Tensor(), true), 1e-5);
    }
  }
}

TEST_CASE("MultiHeadAttention: under a causal mask position t ignores positions after t") {
  Generator gen(3);
  MultiHeadAttention m(8, 2, gen);
  const Tensor x = randn({2, 5, 8}, gen);
  const Tensor y = m.forward(x, causal_mask());
  for (int64_t t : {0, 2, 3}) {
    CAPTURE(t);
    const Tensor y2 = m.forward(change_from(x, t + 1, gen), causal_mask());
    bool changed_later = false;
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t l = 0; l < 5; ++l)
        for (int64_t e = 0; e < 8; ++e) {
          const float a = y.at({b, l, e}), c = y2.at({b, l, e});
          if (l <= t) CHECK(a == c);
          else changed_later |= a != c;
        }
    CHECK(changed_later);  // the later outputs do see the change
    // The outputs up to t send no gradient to later inputs.
    Tensor xg = x.clone();
    xg.set_requires_grad();
    const Tensor out = m.forward(xg, causal_mask());
    Tensor r = zeros(out.shape());
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t l = 0; l <= t; ++l)
        for (int64_t e = 0; e < 8; ++e) r.data()[(b * 5 + l) * 8 + e] = 1.f + 0.1f * e;
    out.backward(r);
    const Tensor g = xg.grad();
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t l = 0; l < 5; ++l) {
        double norm = 0;
        for (int64_t e = 0; e < 8; ++e) norm += std::abs(g.at({b, l, e}));
        if (l > t) CHECK(norm == 0.0);
        else CHECK(norm > 0.0);
      }
    m.zero_grad();
  }
}

TEST_CASE("MultiHeadAttention: causal self-attention equals the dense products, with gradients") {
  // Causal self-attention takes the lower-triangle products (ops/causal_matmul.h); the dense
  // composition here (matmul, masked_softmax, matmul) is the general path. Output, input and
  // parameter gradients agree to float rounding, at lengths inside one tile and across ragged
  // tiles, with left padding.
  Generator gen(11);
  for (int64_t heads : {1, 2}) {
    for (int64_t len : {int64_t{1}, int64_t{6}, 2 * kCausalTile + 9}) {
      CAPTURE(heads);
      CAPTURE(len);
      const int64_t b = 2, d = 8, dh = d / heads;
      MultiHeadAttention m(d, heads, gen);
      rnn_test::set_known_parameters(m);
      Tensor pad = zeros({b, len});
      for (int64_t l = 0; l < len / 3; ++l) pad.data()[len + l] = 1.f;  // row 1 left-padded
      const Tensor x0 = randn({b, len, d}, gen), r = randn({b, len, d}, gen);
      auto split = [&](const Tensor& t) {
        return reshape(permute(reshape(t, {b, len, heads, dh}), {0, 2, 1, 3}),
                       {b * heads, len, dh});
      };
      auto param = [&](const std::string& name) { return find_param(m, name); };
      auto dense = [&](const Tensor& x) {
        const Tensor q = split(linear(x, param("q_proj.weight"), param("q_proj.bias")));
        const Tensor k = split(linear(x, param("k_proj.weight"), param("k_proj.bias")));
        const Tensor v = split(linear(x, param("v_proj.weight"), param("v_proj.bias")));
        const Tensor a = masked_softmax(matmul(q, k, false, true), pad, true,
                                        1.f / std::sqrt(static_cast<float>(dh)));
        const Tensor o = reshape(permute(reshape(matmul(a, v), {b, heads, len, dh}), {0, 2, 1, 3}),
                                 {b, len, d});
        return linear(o, param("out_proj.weight"), param("out_proj.bias"));
      };
      std::vector<Tensor> outs, grads;
      for (bool use_module : {true, false}) {
        m.zero_grad();
        Tensor x = x0.clone();
        x.set_requires_grad();
        const Tensor y = use_module ? m.forward(x, causal_mask(pad)) : dense(x);
        y.backward(r);
        outs.push_back(y);
        grads.push_back(x.grad().clone());
        for (const auto& [name, p] : m.named_parameters()) grads.push_back(p.grad().clone());
      }
      auto want = [](const Tensor& t) {
        return std::vector<double>(t.data(), t.data() + t.numel());
      };
      check_close(outs[0], want(outs[1]), 1e-5);
      const size_t per_run = grads.size() / 2;
      for (size_t i = 0; i < per_run; ++i) {
        CAPTURE(i);  // 0: the input, then the parameters in registration order
        check_close(grads[i], want(grads[per_run + i]), 1e-5);
      }
    }
  }
}

TEST_CASE("MultiHeadAttention: padded keys and values change nothing and get no gradient") {
  Generator gen(4);
  MultiHeadAttention m(8, 2, gen);
  const Tensor q = randn({2, 3, 8}, gen), k = randn({2, 5, 8}, gen), v = randn({2, 5, 8}, gen);
  const Tensor pad = tensor({0, 0, 0, 1, 1, /**/ 1, 0, 0, 0, 0}, {2, 5});
  const Tensor y = m.forward(q, k, v, padding_mask(pad));
  // Replace every padded key and value row.
  Tensor k2 = k.clone(), v2 = v.clone();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t j = 0; j < 5; ++j)
      if (pad.at({b, j}) != 0.f)
        for (int64_t e = 0; e < 8; ++e) {
          k2.data()[(b * 5 + j) * 8 + e] = 100.f * gen.next_float();
          v2.data()[(b * 5 + j) * 8 + e] = -50.f * gen.next_float();
        }
  CHECK(m.forward(q, k2, v2, padding_mask(pad)).to_vector() == y.to_vector());
  CHECK(m.forward(q, k2, v2).to_vector() != y.to_vector());  // unmasked, they do matter

  Tensor kg = k.clone(), vg = v.clone();
  kg.set_requires_grad();
  vg.set_requires_grad();
  m.forward(q, kg, vg, padding_mask(pad)).backward(randn({2, 3, 8}, gen));
  for (const Tensor& g : {kg.grad(), vg.grad()})
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t j = 0; j < 5; ++j)
        for (int64_t e = 0; e < 8; ++e) {
          if (pad.at({b, j}) != 0.f) CHECK(g.at({b, j, e}) == 0.f);
        }
}

TEST_CASE("MultiHeadAttention: a query with every key masked outputs the bias, gradients finite") {
  Generator gen(5);
  MultiHeadAttention m(4, 2, gen);
  rnn_test::set_known_parameters(m);  // out_proj.bias nonzero
  // Left-padded histories under a causal mask: in row 0, queries 0 and 1 see only padded keys.
  const Tensor pad = key_padding_mask(Ids({0, 0, 3, 4, /**/ 1, 2, 3, 4}, {2, 4}), 0);
  Tensor x = randn({2, 4, 4}, gen);
  x.set_requires_grad();
  const Tensor y = m.forward(x, causal_mask(pad));
  const Tensor bias = find_param(m, "out_proj.bias");
  for (int64_t l : {0, 1})
    for (int64_t e = 0; e < 4; ++e) CHECK(y.at({0, l, e}) == doctest::Approx(bias.data()[e]));
  CHECK(all_finite(y));
  y.backward(randn(y.shape(), gen));
  CHECK(all_finite(x.grad()));
  for (const auto& [name, p] : m.named_parameters()) {
    CAPTURE(name);
    CHECK(all_finite(p.grad()));
  }
  // Row 0's padded positions influence nothing: their inputs get no gradient.
  for (int64_t l : {0, 1})
    for (int64_t e = 0; e < 4; ++e) CHECK(x.grad().at({0, l, e}) == 0.f);
}

TEST_CASE("MultiHeadAttention: gradients of inputs and parameters match central differences") {
  Generator gen(6);
  const Tensor q = randn({2, 3, 4}, gen), k = randn({2, 4, 4}, gen), v = randn({2, 4, 4}, gen);
  const Tensor pad = tensor({0, 1, 0, 0, /**/ 1, 0, 0, 1}, {2, 4});
  for (int64_t heads : {1, 2}) {
    CAPTURE(heads);
    MultiHeadAttention m(4, heads, gen);
    rnn_test::set_known_parameters(m);
    for (const AttentionMask& mask : {AttentionMask{}, causal_mask(pad), padding_mask(pad)}) {
      CAPTURE(mask.causal);
      CHECK(gradcheck([&](const auto& in) { return m.forward(in[0], in[1], in[2], mask); },
                      {q, k, v}));
      CHECK(testing::gradcheck_parameters(m, [&] { return m.forward(q, k, v, mask); }));
    }
    // Self-attention: x feeds query, key and value, so its gradient sums three paths.
    CHECK(gradcheck([&](const auto& in) { return m.forward(in[0], causal_mask(pad)); }, {k}));
    CHECK(testing::gradcheck_parameters(m, [&] { return m.forward(k, causal_mask(pad)); }));
  }
}

TEST_CASE("MultiHeadAttention: eval() disables dropout; training with the same seed repeats") {
  MultiHeadAttentionOptions o;
  o.dropout = 0.5f;
  Generator g1(9), g2(9), g3(9);
  MultiHeadAttention a(8, 2, g1, o), b(8, 2, g2, o), plain(8, 2, g3);
  for (size_t i = 0; i < plain.parameters().size(); ++i)
    CHECK(a.parameters()[i].to_vector() == plain.parameters()[i].to_vector());
  Generator gen(10);
  const Tensor x = randn({2, 6, 8}, gen);
  const std::vector<float> ref = plain.forward(x).to_vector();
  // Training: dropout is active and the same seed gives the same masks, call for call.
  const Tensor a1 = a.forward(x), a2 = a.forward(x);
  CHECK(a1.to_vector() != ref);
  CHECK(a1.to_vector() != a2.to_vector());
  CHECK(b.forward(x).to_vector() == a1.to_vector());
  CHECK(b.forward(x).to_vector() == a2.to_vector());
  // Evaluation: deterministic and equal to the module without dropout.
  a.eval();
  CHECK(a.forward(x).to_vector() == ref);
  CHECK(a.forward(x).to_vector() == ref);
}

TEST_CASE("MultiHeadAttention: bad sizes and mismatched shapes are rejected naming the layer") {
  Generator gen(11);
  CHECK_THROWS_WITH_AS(MultiHeadAttention(6, 4, gen),
                       doctest::Contains("d_model=6, heads=4): d_model is not divisible"), Error);
  CHECK_THROWS_AS(MultiHeadAttention(0, 1, gen), Error);
  CHECK_THROWS_AS(MultiHeadAttention(4, 0, gen), Error);
  MultiHeadAttentionOptions o;
  o.dropout = 1.f;
  CHECK_THROWS_WITH_AS(MultiHeadAttention(4, 2, gen, o), doctest::Contains("dropout p = 1"),
                       Error);

  MultiHeadAttention m(4, 2, gen);
  const std::string who = "MultiHeadAttention(d_model=4, heads=2, bias): ";
  CHECK_THROWS_WITH_AS(m.forward(zeros({2, 3, 5})),
                       doctest::Contains((who + "query [2,3,5]: expected [B, L, 4]").c_str()), Error);
  CHECK_THROWS_WITH_AS(m.forward(zeros({3, 4})), doctest::Contains("query [3,4]"), Error);
  CHECK_THROWS_WITH_AS(m.forward(zeros({2, 3, 4}), zeros({3, 5, 4}), zeros({3, 5, 4})),
                       doctest::Contains("query [2,3,4], key [3,5,4], value [3,5,4]: batch sizes"),
                       Error);
  CHECK_THROWS_WITH_AS(m.forward(zeros({2, 3, 4}), zeros({2, 5, 4}), zeros({2, 6, 4})),
                       doctest::Contains("key and value must have the same length"), Error);
  CHECK_THROWS_WITH_AS(m.forward(zeros({2, 3, 4}), padding_mask(zeros({2, 4}))),
                       doctest::Contains("key_padding [2,4] for key [2,3,4]: expected [2,3]"),
                       Error);
  CHECK_THROWS_AS(m.forward(zeros({2, 3, 4}), Tensor(), zeros({2, 3, 4})), Error);
}

TEST_CASE("key_padding_mask and key_padding_from_lengths: 1 marks padded keys") {
  CHECK(key_padding_mask(Ids({0, 0, 5, 7, 1, 0}, {2, 3}), 0).to_vector() ==
        std::vector<float>{1, 1, 0, 0, 0, 1});
  CHECK(key_padding_mask(Ids({0, 0, 5, 7, 1, 0}, {2, 3}), 0).shape() == (Shape{2, 3}));
  CHECK(key_padding_from_lengths({1, 3, 0}, 3).to_vector() ==
        std::vector<float>{0, 1, 1, 0, 0, 0, 1, 1, 1});
  CHECK_THROWS_WITH_AS(key_padding_mask(Ids({1, 2, 3}), 0), doctest::Contains("ids [3]"), Error);
  CHECK_THROWS_WITH_AS(key_padding_from_lengths({2, 4}, 3),
                       doctest::Contains("length 4 of row 1 is outside [0, 3]"), Error);
}
