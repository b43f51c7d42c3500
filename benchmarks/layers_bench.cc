// Layer benchmarks (issue 3): forward + backward throughput of the layers recommenders are built
// from, at recommender sizes, and the lazy sparse Adam step beside the dense one.
//   Linear            B=1024, 256 -> 256 (input gradient included)
//   Embedding         1M x 64 table, 64K ids per batch, row-sparse gradient
//   GRU               B=64, T=50, 64 -> 128
//   MultiHeadAttention / TransformerEncoderBlock (pre-LN, d_ff=64 as SASRec)
//                     B=64, L=50, d=64, 1 and 2 heads, causal + key padding, dropout 0.2
//   Conv1d            Caser's horizontal filters (h = 1..5, 16 each over a [B, 64, 5] window)
//                     and a wider 64 -> 64, kernel 3 over L=50
//   LayerNorm         [64, 50, 64]
//   Adam step         1M x 64 table: 4096 touched rows (sparse, lazy) vs the dense step
// Every benchmark counts examples/s (a batch row: a sequence for GRU/attention/conv, a row for
// Linear/LayerNorm, an id for Embedding). Runs at recgrad's default thread count.
// Run: bazel run -c opt //benchmarks:layers_bench [-- --benchmark_filter=adam]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "autograd/tensor.h"
#include "benchmarks/harness.h"
#include "nn/attention.h"
#include "nn/conv.h"
#include "nn/embedding.h"
#include "nn/gru.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/transformer.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/runtime.h"
#include "ops/shape.h"
#include "optim/adam.h"

namespace recgrad::bench {
namespace {

constexpr int64_t kTableRows = 1'000'000, kTableDim = 64;
constexpr int64_t kLookups = 64 * 1024, kTouchedRows = 4096;

void examples_per_second(benchmark::State& st, int64_t examples) {
  st.counters["examples/s"] =
      benchmark::Counter(static_cast<double>(examples), benchmark::Counter::kIsIterationInvariantRate);
}

// Runs forward, then backward from a fixed random output gradient, then forgets the gradients:
// one training step's work for the layer, without the optimizer.
template <typename Forward>
void train_loop(benchmark::State& st, nn::Module& m, Tensor& x, const Forward& forward) {
  Generator gen(7);
  const Tensor gy = randn(forward().shape(), gen);
  m.zero_grad();
  if (x.defined()) x.zero_grad();
  for (auto _ : st) {
    forward().backward(gy);
    m.zero_grad();
    if (x.defined()) x.zero_grad();
  }
}

void BM_Linear(benchmark::State& st) {
  Generator gen(1);
  nn::Linear layer(256, 256, gen);
  Tensor x = randn({1024, 256}, gen);
  x.set_requires_grad();
  train_loop(st, layer, x, [&] { return layer.forward(x); });
  examples_per_second(st, 1024);
}

void BM_EmbeddingSparse(benchmark::State& st) {
  Generator gen(2);
  nn::Embedding table(kTableRows, kTableDim, gen);
  std::vector<int64_t> ids(kLookups);
  for (auto& id : ids) id = static_cast<int64_t>(gen.next_below(kTableRows));
  const Ids batch(ids);
  Tensor none;
  train_loop(st, table, none, [&] { return table.forward(batch); });
  examples_per_second(st, kLookups);
}

void BM_GRU(benchmark::State& st) {
  Generator gen(3);
  nn::GRU gru(64, 128, gen);
  Tensor x = randn({64, 50, 64}, gen);
  x.set_requires_grad();
  train_loop(st, gru, x, [&] { return gru.forward(x).output; });
  examples_per_second(st, 64);
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

void BM_MultiHeadAttention(benchmark::State& st) {
  const int64_t heads = st.range(0);
  Generator gen(4);
  nn::MultiHeadAttentionOptions o;
  o.dropout = 0.2f;
  nn::MultiHeadAttention attn(64, heads, gen, o);
  Tensor x = randn({64, 50, 64}, gen);
  x.set_requires_grad();
  const nn::AttentionMask mask = sasrec_mask(64, 50);
  train_loop(st, attn, x, [&] { return attn.forward(x, mask); });
  examples_per_second(st, 64);
}

void BM_TransformerEncoderBlock(benchmark::State& st) {
  Generator gen(5);
  nn::TransformerEncoderBlockOptions o;
  o.d_model = 64;
  o.num_heads = st.range(0);
  o.d_ff = 64;
  o.dropout = 0.2f;
  o.norm_first = true;
  o.zero_padded_outputs = true;
  nn::TransformerEncoderBlock block(o, gen);
  Tensor x = randn({64, 50, 64}, gen);
  x.set_requires_grad();
  const nn::AttentionMask mask = sasrec_mask(64, 50);
  train_loop(st, block, x, [&] { return block.forward(x, mask); });
  examples_per_second(st, 64);
}

// Caser's horizontal convolutions over an embedded window of L = 5 items (d = 64), as Conv1d
// with d input channels: filters of heights 1..5, 16 each, each max-pooled over time.
class CaserHorizontal : public nn::Module {
 public:
  explicit CaserHorizontal(Generator& gen) {
    for (int64_t h = 1; h <= 5; ++h)
      convs_.push_back(register_module("h" + std::to_string(h),
                                       std::make_shared<nn::Conv1d>(64, 16, h, gen)));
  }
  Tensor forward(const Tensor& x) const {  // x [B, 64, 5] -> [B, 80]
    std::vector<Tensor> pooled;
    for (const auto& c : convs_) pooled.push_back(max(c->forward(x), /*dim=*/2));
    return concat(pooled, 1);
  }

 private:
  std::vector<std::shared_ptr<nn::Conv1d>> convs_;
};

void BM_Conv1dCaser(benchmark::State& st) {
  Generator gen(6);
  CaserHorizontal caser(gen);
  Tensor x = randn({512, 64, 5}, gen);
  x.set_requires_grad();
  train_loop(st, caser, x, [&] { return caser.forward(x); });
  examples_per_second(st, 512);
}

void BM_Conv1dWide(benchmark::State& st) {
  Generator gen(7);
  nn::Conv1dOptions o;
  o.padding = 1;
  nn::Conv1d conv(64, 64, 3, gen, o);
  Tensor x = randn({64, 64, 50}, gen);
  x.set_requires_grad();
  train_loop(st, conv, x, [&] { return conv.forward(x); });
  examples_per_second(st, 64);
}

void BM_LayerNorm(benchmark::State& st) {
  Generator gen(8);
  nn::LayerNorm ln(64);
  Tensor x = randn({64, 50, 64}, gen);
  x.set_requires_grad();
  train_loop(st, ln, x, [&] { return ln.forward(x); });
  examples_per_second(st, 64 * 50);
}

// One Adam step over a 1M x 64 table whose gradient is already in place: row-sparse over
// kTouchedRows spread-out rows (an embedding's backward), or dense over the whole table.
void BM_AdamStep(benchmark::State& st, bool sparse) {
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

}  // namespace
}  // namespace recgrad::bench

int main(int argc, char** argv) {
  using namespace recgrad;
  using namespace recgrad::bench;
  std::printf("%s\n", runtime_summary().c_str());
  benchmark::RegisterBenchmark("linear/1024x256->256", BM_Linear)->UseRealTime();
  benchmark::RegisterBenchmark("embedding_sparse/1Mx64/64K_ids", BM_EmbeddingSparse)->UseRealTime();
  benchmark::RegisterBenchmark("gru/B64_T50/64->128", BM_GRU)->UseRealTime();
  benchmark::RegisterBenchmark("mha/B64_L50_d64", BM_MultiHeadAttention)
      ->Arg(1)->Arg(2)->ArgName("heads")->UseRealTime();
  benchmark::RegisterBenchmark("encoder_block_preLN/B64_L50_d64", BM_TransformerEncoderBlock)
      ->Arg(1)->Arg(2)->ArgName("heads")->UseRealTime();
  benchmark::RegisterBenchmark("conv1d_caser/B512_d64_L5_h1..5x16", BM_Conv1dCaser)->UseRealTime();
  benchmark::RegisterBenchmark("conv1d/B64_64->64_k3_L50", BM_Conv1dWide)->UseRealTime();
  benchmark::RegisterBenchmark("layer_norm/64x50x64", BM_LayerNorm)->UseRealTime();
  // Two names, not one with an argument: the reporter keeps counters by registered name.
  benchmark::RegisterBenchmark("adam_step/1Mx64/sparse_4096_rows", BM_AdamStep, true)
      ->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("adam_step/1Mx64/dense", BM_AdamStep, false)
      ->UseRealTime()->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  const double sparse = reporter.counter("adam_step/1Mx64/sparse_4096_rows", "steps/s");
  const double dense = reporter.counter("adam_step/1Mx64/dense", "steps/s");
  if (sparse > 0 && dense > 0)
    std::printf("\nAdam step on a 1M x 64 table: sparse (4096 touched rows) %.3f ms, dense %.1f ms: "
                "sparse is %.0fx faster (expected >= 50x)\n",
                1e3 / sparse, 1e3 / dense, sparse / dense);
  benchmark::Shutdown();
  return 0;
}
