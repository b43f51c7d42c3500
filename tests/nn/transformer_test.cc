#include "nn/transformer.h"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "tests/nn/param_gradcheck.h"
#include "tests/nn/rnn_test_util.h"

using namespace recgrad;
using namespace recgrad::nn;

namespace {

TransformerEncoderBlockOptions small(bool norm_first, float dropout = 0.f,
                                     Activation act = Activation::kGelu) {
  TransformerEncoderBlockOptions o;
  o.d_model = 4;
  o.num_heads = 2;
  o.d_ff = 6;
  o.dropout = dropout;
  o.activation = act;
  o.norm_first = norm_first;
  return o;
}

// The three layer-norm layouts, for loops over all of them.
enum class Layout { kPost, kPre, kNormalizedResidual };

TransformerEncoderBlockOptions small(Layout layout, float dropout = 0.f,
                                     Activation act = Activation::kGelu) {
  TransformerEncoderBlockOptions o = small(layout != Layout::kPost, dropout, act);
  o.normalized_residual = layout == Layout::kNormalizedResidual;
  return o;
}

const char* layout_name(Layout layout) {
  switch (layout) {
    case Layout::kPost: return "post-LN";
    case Layout::kPre: return "pre-LN";
    case Layout::kNormalizedResidual: return "normalized residual";
  }
  return "?";
}

constexpr Layout kLayouts[] = {Layout::kPost, Layout::kPre, Layout::kNormalizedResidual};

// The named submodule of `m`, as its type.
template <typename M>
std::shared_ptr<M> child(const Module& m, const std::string& name) {
  for (const auto& [n, c] : m.children())
    if (n == name) return std::dynamic_pointer_cast<M>(c);
  return nullptr;
}

AttentionMask mask_of(bool causal, Tensor pad) {
  AttentionMask m;
  m.causal = causal;
  m.key_padding = std::move(pad);
  return m;
}

// Small distinct parameter values, with the layer norms' scales kept near 1.
void set_parameters(Module& m) {
  rnn_test::set_known_parameters(m);
  for (const auto& [name, p] : m.named_parameters())
    if (name == "norm1.weight" || name == "norm2.weight") {
      Tensor h = p;
      for (int64_t i = 0; i < h.numel(); ++i) h.data()[i] = 1.f + 0.1f * static_cast<float>(i);
    }
}

// Keeps the initial weights (well-conditioned: rows of x + attn(x) keep a spread near x's)
// but gives every bias and layer-norm scale a distinct nonzero value, so that each is exercised.
void perturb_biases(Module& m, Generator& gen) {
  for (const auto& [name, p] : m.named_parameters()) {
    const bool norm_weight = name == "norm1.weight" || name == "norm2.weight";
    if (!norm_weight && name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") != 0) continue;
    Tensor h = p;
    const Tensor v = normal(p.shape(), norm_weight ? 1.f : 0.f, 0.2f, gen);
    std::copy(v.data(), v.data() + v.numel(), h.data());
  }
}

}  // namespace

TEST_CASE("TransformerEncoderBlock: submodules, parameter names and the description") {
  Generator gen(1);
  TransformerEncoderBlockOptions o;
  o.d_model = 8;
  o.num_heads = 2;
  o.d_ff = 16;
  o.norm_first = true;
  TransformerEncoderBlock block(o, gen);
  CHECK(block.describe() ==
        "TransformerEncoderBlock(d_model=8, heads=2, d_ff=16, ReLU, pre-LN, dropout=0.1)");
  std::vector<std::string> names;
  for (const auto& [n, p] : block.named_parameters()) names.push_back(n);
  CHECK(names.size() == 8 + 4 + 4);
  CHECK(names.front() == "self_attn.q_proj.weight");
  CHECK(names[8] == "linear1.weight");
  CHECK(names.back() == "norm2.bias");
  CHECK(block.num_parameters() == 4 * (8 * 8 + 8) + (8 * 16 + 16) + (16 * 8 + 8) + 4 * 8);
  CHECK(block.self_attn().describe() == "MultiHeadAttention(d_model=8, heads=2, dropout=0.1, bias)");
  TransformerEncoderBlock post(small(false), gen);
  CHECK(post.describe() == "TransformerEncoderBlock(d_model=4, heads=2, d_ff=6, GELU, post-LN)");
  TransformerEncoderBlock sasrec(small(Layout::kNormalizedResidual, 0.2f), gen);
  CHECK(sasrec.describe() ==
        "TransformerEncoderBlock(d_model=4, heads=2, d_ff=6, GELU, pre-LN, normalized residual, "
        "dropout=0.2)");
  CHECK(sasrec.num_parameters() == post.num_parameters());  // the same modules, rewired
}

TEST_CASE("TransformerEncoderBlock: each layout wires the residuals as documented") {
  Generator gen(2);
  const Tensor x = randn({2, 5, 4}, gen);
  const AttentionMask mask = mask_of(true, tensor({1, 0, 0, 0, 0, /**/ 0, 0, 0, 0, 1}, {2, 5}));
  std::vector<std::vector<float>> outputs;
  for (Layout layout : kLayouts) {
    CAPTURE(layout_name(layout));
    TransformerEncoderBlock block(small(layout, 0.f, Activation::kRelu), gen);
    set_parameters(block);
    auto& attn = block.self_attn();
    auto ln1 = child<LayerNorm>(block, "norm1"), ln2 = child<LayerNorm>(block, "norm2");
    auto l1 = child<Linear>(block, "linear1"), l2 = child<Linear>(block, "linear2");
    REQUIRE((ln1 && ln2 && l1 && l2));
    auto ffn = [&](const Tensor& h) { return l2->forward(relu(l1->forward(h))); };
    Tensor want;
    if (layout == Layout::kPre) {
      const Tensor h = add(x, attn.forward(ln1->forward(x), mask));
      want = add(h, ffn(ln2->forward(h)));
    } else if (layout == Layout::kPost) {
      const Tensor h = ln1->forward(add(x, attn.forward(x, mask)));
      want = ln2->forward(add(h, ffn(h)));
    } else {
      const Tensor q = ln1->forward(x);  // keys and values stay x
      const Tensor z = ln2->forward(add(q, attn.forward(q, x, x, mask)));
      want = add(z, ffn(z));
    }
    const Tensor y = block.forward(x, mask);
    CHECK(y.to_vector() == want.to_vector());
    CHECK(y.to_vector() != x.to_vector());
    outputs.push_back(y.to_vector());
  }
  // set_parameters gives every layout the same values: the outputs differ by the wiring alone.
  CHECK(outputs[0] != outputs[1]);
  CHECK(outputs[1] != outputs[2]);
}

TEST_CASE("TransformerEncoderBlock: post-LN output rows are normalised, pre-LN ones are not") {
  Generator gen(3);
  const Tensor x = normal({2, 3, 8}, 5.f, 4.f, gen);
  TransformerEncoderBlockOptions o;
  o.d_model = 8;
  o.d_ff = 16;
  o.dropout = 0.f;
  TransformerEncoderBlock post(o, gen);
  o.norm_first = true;
  TransformerEncoderBlock pre(o, gen);
  auto row_mean = [](const Tensor& y, int64_t r) {
    double s = 0;
    for (int64_t e = 0; e < 8; ++e) s += y.data()[r * 8 + e];
    return s / 8;
  };
  const Tensor yp = post.forward(x), yq = pre.forward(x);
  for (int64_t r = 0; r < 6; ++r) {
    CHECK(std::abs(row_mean(yp, r)) < 1e-5);  // norm2 at its initial w = 1, b = 0
    CHECK(std::abs(row_mean(yq, r)) > 1.0);   // the residual keeps x's mean of ~5
  }
}

TEST_CASE("TransformerEncoderBlock: gradients match central differences in every layout") {
  Generator gen(4);
  const Tensor x = randn({2, 3, 4}, gen);
  const Tensor pad = tensor({0, 0, 1, /**/ 1, 0, 0}, {2, 3});
  for (Layout layout : kLayouts)
    for (Activation act : {Activation::kGelu, Activation::kRelu}) {
      CAPTURE(layout_name(layout));
      CAPTURE(std::string(activation_name(act)));
      TransformerEncoderBlock block(small(layout, 0.f, act), gen);
      perturb_biases(block, gen);
      // ReLU: a smaller step, so that fewer hidden pre-activations lie within a step of the kink
      // at 0 (where a central difference straddles two slopes). At 5e-3 one did here.
      GradcheckOptions opts;
      if (act == Activation::kRelu) opts.eps = 1e-3f;
      for (const AttentionMask& mask : {AttentionMask{}, mask_of(true, pad)}) {
        CAPTURE(mask.causal);
        CHECK(gradcheck([&](const auto& in) { return block.forward(in[0], mask); }, {x}, opts));
        CHECK(testing::gradcheck_parameters(block, [&] { return block.forward(x, mask); }, opts));
      }
    }
}

TEST_CASE("TransformerEncoderBlock: under a causal mask position t ignores positions after t") {
  Generator gen(5);
  for (Layout layout : kLayouts) {
    CAPTURE(layout_name(layout));
    TransformerEncoderBlock block(small(layout), gen);
    const Tensor x = randn({2, 5, 4}, gen);
    const Tensor y = block.forward(x, mask_of(true, Tensor()));
    Tensor x2 = x.clone();
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t e = 0; e < 4; ++e) x2.data()[(b * 5 + 3) * 4 + e] += 0.5f * e - 0.3f;  // change t = 3 (not by a constant,
                                                              // which layer norm would hide)
    const Tensor y2 = block.forward(x2, mask_of(true, Tensor()));
    for (int64_t b = 0; b < 2; ++b)
      for (int64_t l = 0; l < 5; ++l)
        for (int64_t e = 0; e < 4; ++e) {
          if (l < 3) CHECK(y.at({b, l, e}) == y2.at({b, l, e}));
          else CHECK(y.at({b, l, e}) != y2.at({b, l, e}));
        }
  }
}

TEST_CASE("TransformerEncoderBlock: padded positions change no valid output; optionally zeroed") {
  Generator gen(6);
  const Tensor pad = tensor({1, 1, 0, 0, 0, /**/ 0, 0, 0, 0, 1}, {2, 5});
  const Tensor x = randn({2, 5, 4}, gen);
  Tensor x2 = x.clone();
  for (int64_t i = 0; i < 10; ++i)
    if (pad.data()[i] != 0.f)
      for (int64_t e = 0; e < 4; ++e) x2.data()[i * 4 + e] = 7.f * gen.next_float() - 3.f;
  for (Layout layout : kLayouts)
    for (bool causal : {false, true}) {
      CAPTURE(layout_name(layout));
      CAPTURE(causal);
      TransformerEncoderBlockOptions o = small(layout);
      TransformerEncoderBlock keep(o, gen);
      const AttentionMask mask = mask_of(causal, pad);
      const Tensor y = keep.forward(x, mask), y2 = keep.forward(x2, mask);
      for (int64_t i = 0; i < 10; ++i)
        for (int64_t e = 0; e < 4; ++e) {
          if (pad.data()[i] == 0.f) CHECK(y.data()[i * 4 + e] == y2.data()[i * 4 + e]);
          else CHECK(y.data()[i * 4 + e] != 0.f);  // left as computed by default
        }

      o.zero_padded_outputs = true;
      TransformerEncoderBlock zero(o, gen);
      Tensor xg = x.clone();
      xg.set_requires_grad();
      const Tensor z = zero.forward(xg, mask);
      CHECK(zero.forward(x2, mask).to_vector() == z.to_vector());
      z.backward(randn(z.shape(), gen));
      for (int64_t i = 0; i < 10; ++i)
        for (int64_t e = 0; e < 4; ++e) {
          if (pad.data()[i] != 0.f) {
            CHECK(z.data()[i * 4 + e] == 0.f);
            CHECK(xg.grad().data()[i * 4 + e] == 0.f);
          } else {
            CHECK(z.data()[i * 4 + e] != 0.f);
          }
        }
    }
}

TEST_CASE("TransformerEncoderBlock: eval() disables dropout; training with the same seed repeats") {
  Generator g1(7), g2(7), g3(7);
  TransformerEncoderBlockOptions o = small(true, 0.3f);
  TransformerEncoderBlock a(o, g1), b(o, g2);
  o.dropout = 0.f;
  TransformerEncoderBlock plain(o, g3);
  for (size_t i = 0; i < plain.parameters().size(); ++i)
    CHECK(a.parameters()[i].to_vector() == plain.parameters()[i].to_vector());
  Generator gen(8);
  const Tensor x = randn({3, 6, 4}, gen);
  const std::vector<float> ref = plain.forward(x).to_vector();
  const Tensor a1 = a.forward(x), a2 = a.forward(x);
  CHECK(a1.to_vector() != ref);
  CHECK(a1.to_vector() != a2.to_vector());
  CHECK(b.forward(x).to_vector() == a1.to_vector());
  CHECK(b.forward(x).to_vector() == a2.to_vector());
  a.eval();
  CHECK(!a.self_attn().is_training());
  CHECK(a.forward(x).to_vector() == ref);
  CHECK(a.forward(x).to_vector() == ref);
  a.train();
  CHECK(a.forward(x).to_vector() != ref);
}

TEST_CASE("TransformerEncoderBlock: bad options and shapes are rejected naming the block") {
  Generator gen(9);
  TransformerEncoderBlockOptions o;
  o.d_model = 6;
  o.num_heads = 4;
  CHECK_THROWS_WITH_AS(TransformerEncoderBlock(o, gen),
                       doctest::Contains("d_model=6, heads=4, d_ff=256): d_model is not divisible"),
                       Error);
  o = small(true);
  o.d_ff = 0;
  CHECK_THROWS_AS(TransformerEncoderBlock(o, gen), Error);
  o = small(true);
  o.dropout = -0.1f;
  CHECK_THROWS_WITH_AS(TransformerEncoderBlock(o, gen), doctest::Contains("dropout p = -0.1"),
                       Error);
  o = small(true);
  o.layer_norm_eps = -1.f;
  CHECK_THROWS_AS(TransformerEncoderBlock(o, gen), Error);
  o = small(false);
  o.normalized_residual = true;
  CHECK_THROWS_WITH_AS(TransformerEncoderBlock(o, gen),
                       doctest::Contains("normalized_residual is a pre-LN layout"), Error);

  TransformerEncoderBlock block(small(false), gen);
  CHECK_THROWS_WITH_AS(block.forward(zeros({2, 3, 5})),
                       doctest::Contains("post-LN): input [2,3,5]: expected [B, L, 4]"), Error);
  CHECK_THROWS_AS(block.forward(zeros({3, 4})), Error);
  CHECK_THROWS_WITH_AS(block.forward(zeros({2, 3, 4}), mask_of(false, zeros({2, 4}))),
                       doctest::Contains("key_padding [2,4] for input [2,3,4]: expected [2,3]"),
                       Error);
}
