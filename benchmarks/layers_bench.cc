// Layer benchmarks: forward and forward+backward of the layers recommenders are built from, at
// recommender sizes, each beside the machine peak that bounds it (benchmarks/peaks.h):
//   Linear            B=1024, 256 -> 256
//   GRU step          B=64, one step of a 64 -> 128 GRU (h·W_hhᵀ, then the fused gates)
//   GRU sequence      B=64, T=50, 64 -> 128
//   MultiHeadAttention / TransformerEncoderBlock (pre-LN, d_ff=64 as SASRec)
//                     B=64, L=50, d=64, 1 and 2 heads, causal + key padding, dropout 0.2
//   Conv1d            Caser's horizontal filters (h = 1..5, 16 each over a [B, 64, 5] window)
//                     and a wider 64 -> 64, kernel 3 over L=50
//   LayerNorm         [64, 50, 64] (SASRec's size; in cache, so copy bandwidth is loose)
//   Adam step         1M x 64 table: 4096 touched rows (sparse, lazy) vs the dense step
// The bound of a layer with matrix products is the time its products take in raw cblas_sgemm
// at the same shapes (the products listed beside each benchmark; small batched products, as
// attention heads, at the single-thread rate spread over the threads): the ratio is then the
// share of the layer's time spent in sgemm-speed products, and what is left is the layer's
// other work (gates, softmax, im2col, copies) and overhead. Adam is bounded by bandwidth: 7
// floats per parameter (read p, g, m, v; write p, m, v), dense at copy speed, sparse rows at
// gather speed. Every benchmark also counts examples/s (a batch row: a sequence for GRU,
// attention and conv, a row for Linear and LayerNorm).
// Run: bazel run -c opt //benchmarks:layers_bench [-- --benchmark_filter=adam]
//      [--benchmark_min_time=0.1] [--threads=1,2] [--json FILE] [--benchmark_out=FILE]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "autograd/tensor.h"
#include "benchmarks/harness.h"
#include "benchmarks/peaks.h"
#include "nn/attention.h"
#include "nn/conv.h"
#include "nn/gru.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/transformer.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/rnn_cell.h"
#include "ops/runtime.h"
#include "ops/shape.h"
#include "optim/adam.h"

namespace recgrad::bench {
namespace {

constexpr double kFloat = sizeof(float);
constexpr int64_t kTableRows = 1'000'000, kTableDim = 64, kTouchedRows = 4096;

void examples_per_second(benchmark::State& st, int64_t examples) {
  st.counters["examples/s"] = benchmark::Counter(static_cast<double>(examples),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// A product C = op(A)·op(B) and the two products of its backward (as ops/matmul.cc issues
// them; a layer whose input needs no gradient skips the first).
GemmShape grad_a(const GemmShape& s) {
  return s.trans_a ? GemmShape{s.k, s.n, s.m, s.trans_b, true}
                   : GemmShape{s.m, s.n, s.k, false, !s.trans_b};
}
GemmShape grad_b(const GemmShape& s) {
  return s.trans_b ? GemmShape{s.n, s.m, s.k, true, s.trans_a}
                   : GemmShape{s.k, s.m, s.n, !s.trans_a, false};
}

// The products of a layer: each with how often it runs per forward and whether it is one of
// many small independent products run side by side.
struct Product {
  GemmShape shape;
  double count = 1;
  bool batched = false;
};

void add_products(Bound& b, const std::vector<Product>& products, bool backward) {
  for (const Product& p : products) {
    std::vector<GemmShape> shapes{p.shape};
    if (backward) {
      shapes.push_back(grad_a(p.shape));
      shapes.push_back(grad_b(p.shape));
    }
    for (const GemmShape& s : shapes) p.batched ? b.gemm_batched(s, p.count) : b.gemm(s, p.count);
  }
}

double flops(const std::vector<Product>& products) {
  double f = 0;
  for (const Product& p : products) f += p.count * p.shape.flops();
  return f;
}

// Registers "name/fwd" and "name/fwd+bwd" of a layer bounded by its products. `setup` builds the
// layer and its input and returns the forward; `leaves` are the tensors whose gradients to drop.
struct LayerCase {
  std::function<Tensor()> forward;
  std::vector<Tensor> leaves;
  std::shared_ptr<void> keep;  // the layer the forward refers to
};

void add_layer(Suite& suite, const std::string& name, int threads, int64_t examples,
               const std::vector<Product>& products, double seed_floats,
               std::function<LayerCase()> setup) {
  const std::string section =
      "layers: GFLOP/s of their matrix products vs the same products in raw cblas_sgemm";
  suite.add(
      section, name + "/fwd", threads, "GFLOP/s", flops(products) * 1e-9, 0,
      [products](Bound& b) { add_products(b, products, false); },
      [setup, examples](benchmark::State& st) {
        LayerCase c = setup();
        forward_loop(st, c.forward);
        examples_per_second(st, examples);
      });
  suite.add(
      section, name + "/fwd+bwd", threads, "GFLOP/s", 3 * flops(products) * 1e-9, 0,
      [products, seed_floats](Bound& b) {
        add_products(b, products, true);
        b.copy_bytes(2 * kFloat * seed_floats);  // the engine's copy of the seed
      },
      [setup, examples](benchmark::State& st) {
        LayerCase c = setup();
        fwd_bwd_loop(st, c.leaves, c.forward);
        examples_per_second(st, examples);
      });
}

// Rows of the input times a Linear(in -> out): y = x·Wᵀ.
Product linear_product(int64_t rows, int64_t in, int64_t out, double count = 1) {
  return {{rows, in, out, false, true}, count, false};
}

// Attention over [B, L, d] with h heads: the q, k, v and output projections, then per head
// S = Q·Kᵀ [L, L] and O = A·V [L, d/h], B·h of each side by side.
std::vector<Product> attention_products(int64_t b, int64_t l, int64_t d, int64_t heads) {
  const int64_t dh = d / heads;
  return {linear_product(b * l, d, d, 4),
          {{l, dh, l, false, true}, double(b * heads), true},
          {{l, l, dh, false, false}, double(b * heads), true}};
}

// SASRec's masks: causal, and left padding of a fixed share of each history.
nn::AttentionMask sasrec_mask(int64_t batch, int64_t len) {
  nn::AttentionMask mask;
  mask.causal = true;
  mask.key_padding = zeros({batch, len});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t l = 0; l < (b * 7) % (len / 2); ++l) mask.key_padding.data()[b * len + l] = 1.f;
  return mask;
}

// Caser's horizontal convolutions over an embedded window of L = 5 items (d = 64), as Conv1d
// with d input channels: filters of heights 1..5, 16 each, each max-pooled over time.
class CaserHorizontal : public nn::Module {
 public:
  explicit CaserHorizontal(Generator& gen) {
    for (int64_t h = 1; h <= 5; ++h)
      convs_.push_back(
          register_module("h" + std::to_string(h), std::make_shared<nn::Conv1d>(64, 16, h, gen)));
  }
  Tensor forward(const Tensor& x) const {  // x [B, 64, 5] -> [B, 80]
    std::vector<Tensor> pooled;
    for (const auto& c : convs_) pooled.push_back(max(c->forward(x), /*dim=*/2));
    return concat(pooled, 1);
  }

 private:
  std::vector<std::shared_ptr<nn::Conv1d>> convs_;
};

// A convolution as ops/conv.h computes it: W [C_out, C_in·K] · cols [C_in·K, B·L_out].
Product conv_product(int64_t batch, int64_t c_in, int64_t c_out, int64_t k, int64_t l_out) {
  return {{c_out, c_in * k, batch * l_out, false, false}, 1, false};
}

void register_layers(Suite& suite, int threads) {
  add_layer(suite, "linear/1024x256->256", threads, 1024, {linear_product(1024, 256, 256)},
            1024 * 256, [] {
              Generator gen(1);
              auto layer = std::make_shared<nn::Linear>(256, 256, gen);
              Tensor x = randn({1024, 256}, gen).set_requires_grad();
              return LayerCase{[layer, x] { return layer->forward(x); },
                               {x, layer->weight(), layer->bias()},
                               layer};
            });

  // One GRU step: hh = h·W_hhᵀ [64, 384], then the gates (xp given, as a layer projects every
  // step's input at once).
  add_layer(suite, "gru_step/B64/64->128", threads, 64, {linear_product(64, 128, 384)}, 64 * 128,
            [] {
              Generator gen(2);
              Tensor xp = randn({64, 384}, gen).set_requires_grad();
              Tensor h = randn({64, 128}, gen).set_requires_grad();
              Tensor w_hh = normal({384, 128}, 0.f, 0.1f, gen).set_requires_grad();
              Tensor b_hh = normal({384}, 0.f, 0.1f, gen).set_requires_grad();
              return LayerCase{
                  [=] { return gru_cell_gates(xp, 0, matmul(h, w_hh, false, true), b_hh, h); },
                  {xp, h, w_hh, b_hh},
                  nullptr};
            });

  add_layer(suite, "gru/B64_T50/64->128", threads, 64,
            {linear_product(64 * 50, 64, 384), linear_product(64, 128, 384, 50)}, 64 * 50 * 128,
            [] {
              Generator gen(3);
              auto gru = std::make_shared<nn::GRU>(64, 128, gen);
              Tensor x = randn({64, 50, 64}, gen).set_requires_grad();
              std::vector<Tensor> leaves{x};
              for (const auto& p : gru->parameters()) leaves.push_back(p);
              return LayerCase{[gru, x] { return gru->forward(x).output; }, leaves, gru};
            });

  for (int64_t heads : {1, 2}) {
    const std::string h = "/heads:" + std::to_string(heads);
    add_layer(suite, "mha/B64_L50_d64" + h, threads, 64, attention_products(64, 50, 64, heads),
              64 * 50 * 64, [heads] {
                Generator gen(4);
                nn::MultiHeadAttentionOptions o;
                o.dropout = 0.2f;
                auto attn = std::make_shared<nn::MultiHeadAttention>(64, heads, gen, o);
                Tensor x = randn({64, 50, 64}, gen).set_requires_grad();
                const nn::AttentionMask mask = sasrec_mask(64, 50);
                std::vector<Tensor> leaves{x};
                for (const auto& p : attn->parameters()) leaves.push_back(p);
                return LayerCase{[attn, x, mask] { return attn->forward(x, mask); }, leaves, attn};
              });
    std::vector<Product> block = attention_products(64, 50, 64, heads);
    block.push_back(linear_product(64 * 50, 64, 64, 2));  // the feed-forward's two layers
    add_layer(
        suite, "encoder_block_preLN/B64_L50_d64" + h, threads, 64, block, 64 * 50 * 64, [heads] {
          Generator gen(5);
          nn::TransformerEncoderBlockOptions o;
          o.d_model = 64;
          o.num_heads = heads;
          o.d_ff = 64;
          o.dropout = 0.2f;
          o.norm_first = true;
          o.zero_padded_outputs = true;
          auto layer = std::make_shared<nn::TransformerEncoderBlock>(o, gen);
          Tensor x = randn({64, 50, 64}, gen).set_requires_grad();
          const nn::AttentionMask mask = sasrec_mask(64, 50);
          std::vector<Tensor> leaves{x};
          for (const auto& p : layer->parameters()) leaves.push_back(p);
          return LayerCase{[layer, x, mask] { return layer->forward(x, mask); }, leaves, layer};
        });
  }

  std::vector<Product> caser;
  for (int64_t h = 1; h <= 5; ++h) caser.push_back(conv_product(512, 64, 16, h, 5 - h + 1));
  add_layer(suite, "conv1d_caser/B512_d64_L5_h1..5x16", threads, 512, caser, 512 * 80, [] {
    Generator gen(6);
    auto layer = std::make_shared<CaserHorizontal>(gen);
    Tensor x = randn({512, 64, 5}, gen).set_requires_grad();
    std::vector<Tensor> leaves{x};
    for (const auto& p : layer->parameters()) leaves.push_back(p);
    return LayerCase{[layer, x] { return layer->forward(x); }, leaves, layer};
  });

  add_layer(suite, "conv1d/B64_64->64_k3_L50", threads, 64, {conv_product(64, 64, 64, 3, 50)},
            64 * 64 * 50, [] {
              Generator gen(7);
              nn::Conv1dOptions o;
              o.padding = 1;
              auto layer = std::make_shared<nn::Conv1d>(64, 64, 3, gen, o);
              Tensor x = randn({64, 64, 50}, gen).set_requires_grad();
              std::vector<Tensor> leaves{x};
              for (const auto& p : layer->parameters()) leaves.push_back(p);
              return LayerCase{[layer, x] { return layer->forward(x); }, leaves, layer};
            });

  // LayerNorm: bandwidth-bound, 2 floats per element forward (read x, write y), 3 more in
  // backward (read g and x, write dx) plus 2 for the seed copy.
  const std::string ln_section = "LayerNorm at SASRec's size vs STREAM copy (GB/s moved)";
  const double n = 64 * 50 * 64;
  auto make_ln = [] {
    Generator gen(8);
    auto ln = std::make_shared<nn::LayerNorm>(64);
    Tensor x = randn({64, 50, 64}, gen).set_requires_grad();
    std::vector<Tensor> leaves{x};
    for (const auto& p : ln->parameters()) leaves.push_back(p);
    return LayerCase{[ln, x] { return ln->forward(x); }, leaves, ln};
  };
  suite.add(
      ln_section, "layer_norm/64x50x64/fwd", threads, "GB/s", 2 * n * kFloat * 1e-9, 0,
      [n](Bound& b) { b.copy_bytes(2 * n * kFloat); },
      [make_ln](benchmark::State& st) {
        LayerCase c = make_ln();
        forward_loop(st, c.forward);
        examples_per_second(st, 64 * 50);
      });
  suite.add(
      ln_section, "layer_norm/64x50x64/fwd+bwd", threads, "GB/s", 7 * n * kFloat * 1e-9, 0,
      [n](Bound& b) { b.copy_bytes(7 * n * kFloat); },
      [make_ln](benchmark::State& st) {
        LayerCase c = make_ln();
        fwd_bwd_loop(st, c.leaves, c.forward);
        examples_per_second(st, 64 * 50);
      });
}

// One Adam step over a 1M x 64 table whose gradient is already in place: row-sparse over
// kTouchedRows spread-out rows (an embedding's backward), or dense over the whole table.
void adam_step(benchmark::State& st, bool sparse) {
  Generator gen(9);
  Tensor table = normal({kTableRows, kTableDim}, 0.f, 0.1f, gen);
  table.set_requires_grad();
  if (sparse) {
    std::vector<int64_t> rows(kTouchedRows);
    const int64_t stride = kTableRows / kTouchedRows;
    for (int64_t k = 0; k < kTouchedRows; ++k)
      rows[k] = k * stride + static_cast<int64_t>(gen.next_below(stride));
    embedding(table, Ids(rows)).backward(randn({kTouchedRows, kTableDim}, gen));
  } else {
    mul(table, 1.f).backward(randn({kTableRows, kTableDim}, gen));
  }
  if (sparse != table.has_sparse_grad()) st.SkipWithError("the gradient is not of the kind wanted");
  optim::Adam adam({{"table", table}});
  adam.step();  // the first step allocates the moments (2 x 256 MB of zeros): not timed
  for (auto _ : st) adam.step();
  st.counters["steps/s"] = benchmark::Counter(1.0, benchmark::Counter::kIsIterationInvariantRate);
}

void register_adam(Suite& suite, int threads) {
  const std::string section =
      "Adam step on a 1M x 64 table vs bandwidth (7 floats per parameter; GB/s moved)";
  const double dense_bytes = 7 * kFloat * kTableRows * kTableDim;
  const double sparse_bytes = 7 * kFloat * kTouchedRows * kTableDim;
  suite.add(
      section, "adam_step/1Mx64/sparse_4096_rows", threads, "GB/s", sparse_bytes * 1e-9, 0,
      [sparse_bytes](Bound& b) { b.gather_bytes(sparse_bytes); },
      [](benchmark::State& st) { adam_step(st, true); });
  suite.add(
      section, "adam_step/1Mx64/dense", threads, "GB/s", dense_bytes * 1e-9, 0,
      [dense_bytes](Bound& b) { b.copy_bytes(dense_bytes); },
      [](benchmark::State& st) { adam_step(st, false); });
}

}  // namespace
}  // namespace recgrad::bench

int main(int argc, char** argv) {
  using namespace recgrad;
  using namespace recgrad::bench;
  const Flags flags = parse_flags(argc, argv);
  std::printf("%s\n", machine_summary().c_str());
  Suite suite(flags);
  for (int t : flags.threads) {
    register_layers(suite, t);
    register_adam(suite, t);
  }
  const int status = suite.run(argc, argv, "layers_bench");
  for (int t : flags.threads) {
    const double sparse = suite.seconds(with_threads("adam_step/1Mx64/sparse_4096_rows", t));
    const double dense = suite.seconds(with_threads("adam_step/1Mx64/dense", t));
    if (sparse > 0 && dense > 0)
      std::printf(
          "\nAdam step on a 1M x 64 table, %d thread(s): sparse (4096 touched rows) "
          "%.3f ms, dense %.1f ms: sparse is %.0fx faster (expected >= 50x)\n",
          t, 1e3 * sparse, 1e3 * dense, dense / sparse);
  }
  return status;
}
