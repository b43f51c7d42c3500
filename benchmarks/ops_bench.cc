// Op microbenchmarks, forward and forward+backward, each printed beside the machine peak that
// bounds it (benchmarks/peaks.h, measured in the same run):
//   matmul at recommender shapes, all transposes   vs  cblas_sgemm at the same shapes
//   elementwise and reductions over 16M floats     vs  STREAM copy bandwidth
//   embedding lookup + sparse backward             vs  random row-gather bandwidth
//   (1M x 64 table, 64K ids)
//   softmax, log_softmax, cross-entropy over 3,706 and 100K classes, LayerNorm over 16M floats
//                                                  vs  STREAM copy bandwidth
//   sparse_linear on 4%-dense rows (the autoencoders' and CFGAN's first layers)
//                                                  vs  cblas_sgemm on the same rows made dense
// at 1 thread and at all of recgrad's threads. Targets (issue 7): matmul within 10% of raw
// sgemm; elementwise at least 60% of copy; embedding forward and backward at least 50% of
// gather.
//
// "fwd" runs the op with graph recording on (its inputs require grad), as in training; "fwd+bwd"
// adds backward from a fixed output gradient and drops the gradients. backward(grad) starts by
// copying that gradient (the engine's seed; a loss would write it instead), so fwd+bwd bounds
// include one copy of the output. Bytes are those a straightforward kernel must move, counted
// per op below; the bound is those bytes at the peak bandwidth.
//
// Run: bazel run -c opt //benchmarks:ops_bench [-- --benchmark_filter=matmul]
//      [--benchmark_min_time=0.1] [--threads=1,2] [--json FILE] [--benchmark_out=FILE]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "benchmarks/harness.h"
#include "benchmarks/peaks.h"
#include "ops/activation.h"
#include "ops/dropout.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/layer_norm.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/runtime.h"
#include "ops/softmax.h"
#include "ops/sparse_linear.h"

namespace recgrad::bench {
namespace {

constexpr double kFloat = sizeof(float);
constexpr int64_t kBig = int64_t{1} << 24;  // 16M floats, 64 MiB per tensor
constexpr int64_t kBigRows = 16384, kBigCols = 1024;

// ---------------------------------------------------------------------------------------------
// matmul: C = op(A)·op(B), A and B both requiring grad.

const GemmShape kMatmuls[] = {
    {2048, 64, 3706, false, false},  // 2048 users' factors x item factors stored [64, 3706]
    {2048, 64, 3706, false, true},   // ... item factors stored [3706, 64] (an embedding table)
    {2048, 64, 3706, true, false},   // ... user factors stored [64, 2048]
    {256, 600, 3706, false, false},  // AutoRec / Mult-VAE decoder, weight stored [600, 3706]
    {256, 600, 3706, false, true},   // ... as a Linear weight [3706, 600]
    {1024, 256, 256, false, true},   // an MLP layer (NeuMF towers), Linear weight [256, 256]
    {256, 64, 64, false, true},      // a small MLP layer
};

// The two backward products, as ops/matmul.cc issues them (transposes as flags).
GemmShape grad_a(const GemmShape& s) {
  return s.trans_a ? GemmShape{s.k, s.n, s.m, s.trans_b, true}     // dA[k,m] = op(B)·dCᵀ
                   : GemmShape{s.m, s.n, s.k, false, !s.trans_b};  // dA[m,k] = dC·op(B)ᵀ
}
GemmShape grad_b(const GemmShape& s) {
  return s.trans_b ? GemmShape{s.n, s.m, s.k, true, s.trans_a}     // dB[n,k] = dCᵀ·op(A)
                   : GemmShape{s.k, s.m, s.n, !s.trans_a, false};  // dB[k,n] = op(A)ᵀ·dC
}

void register_matmul(Suite& suite, int threads) {
  const std::string sec = "matmul vs raw cblas_sgemm, same shapes (GFLOP/s; target: within 10%)";
  for (const GemmShape& s : kMatmuls) {
    const std::string name = "matmul/" + s.str();
    auto make = [s](Generator& gen, Tensor& a, Tensor& b) {
      a = uniform(s.trans_a ? Shape{s.k, s.m} : Shape{s.m, s.k}, -2.f, 2.f, gen)
              .set_requires_grad();
      b = uniform(s.trans_b ? Shape{s.n, s.k} : Shape{s.k, s.n}, -2.f, 2.f, gen)
              .set_requires_grad();
    };
    suite.add(
        sec, name + "/fwd", threads, "GFLOP/s", s.flops() * 1e-9, 0.9, [s](Bound& b) { b.gemm(s); },
        [s, make](benchmark::State& st) {
          Generator gen(1);
          Tensor a, b;
          make(gen, a, b);
          forward_loop(st, [&] { return matmul(a, b, s.trans_a, s.trans_b); });
        });
    suite.add(
        sec, name + "/fwd+bwd", threads, "GFLOP/s", 3 * s.flops() * 1e-9, 0.9,
        [s](Bound& b) {
          b.gemm(s).gemm(grad_a(s)).gemm(grad_b(s)).copy_bytes(2 * kFloat * s.m * s.n);
        },
        [s, make](benchmark::State& st) {
          Generator gen(1);
          Tensor a, b;
          make(gen, a, b);
          fwd_bwd_loop(st, {a, b}, [&] { return matmul(a, b, s.trans_a, s.trans_b); });
        });
  }
}

// ---------------------------------------------------------------------------------------------
// Elementwise ops and reductions over 16M floats. Floats moved per element (N = 16M):
//   add       fwd 3 (read a, b; write y)      bwd 2 (dA takes the gradient's buffer, dB a copy)
//   mul       fwd 3                           bwd 6 (dA = g·b, dB = g·a)
//   add_bias  fwd 2 (the bias row is cached)  bwd 1 (dx takes g; dbias reads g)
//   sigmoid, exp, relu   fwd 2                bwd 3 (read g and y or x; write dx)
//   dropout   fwd 2                           bwd 2 (read g, write dx; the mask is recomputed)
//   sum, sum over rows or columns, max over rows   fwd 1 (the output is small)
//                                             bwd 1 (write dx)
// plus 2 for the engine's copy of a full-size seed gradient in fwd+bwd.

struct Elementwise {
  const char* name;
  double fwd_floats, bwd_floats;  // per element
  bool binary;
  Tensor (*op)(const Tensor& x, const Tensor& y);  // y unused when unary
};

const Elementwise kElementwise[] = {
    {"add", 3, 2, true, [](const Tensor& x, const Tensor& y) { return add(x, y); }},
    {"mul", 3, 6, true, [](const Tensor& x, const Tensor& y) { return mul(x, y); }},
    {"add_bias", 2, 1, true, [](const Tensor& x, const Tensor& b) { return add(x, b); }},
    {"sigmoid", 2, 3, false, [](const Tensor& x, const Tensor&) { return sigmoid(x); }},
    {"exp", 2, 3, false, [](const Tensor& x, const Tensor&) { return exp(x); }},
    {"relu", 2, 3, false, [](const Tensor& x, const Tensor&) { return relu(x); }},
    // p = 0.2 (SASRec's); the mask is a hash of the index, recomputed backward (bwd: read g,
    // write dx). A fresh key per call, as in training.
    {"dropout", 2, 2, false,
     [](const Tensor& x, const Tensor&) {
       static Generator gen(12);
       return dropout(x, 0.2f, /*training=*/true, gen);
     }},
};

struct Reduction {
  const char* name;
  Tensor (*op)(const Tensor& x);
};

const Reduction kReductions[] = {
    {"sum", [](const Tensor& x) { return sum(x); }},
    {"sum_rows", [](const Tensor& x) { return sum(x, {1}); }},
    {"sum_cols", [](const Tensor& x) { return sum(x, {0}); }},
    {"max_rows", [](const Tensor& x) { return max(x, 1); }},
};

void register_elementwise(Suite& suite, int threads) {
  const std::string sec =
      "elementwise, 16M floats, vs STREAM copy (GB/s moved; target: at least 60%)";
  const double n = static_cast<double>(kBig);
  for (const Elementwise& e : kElementwise) {
    const bool bias = std::string(e.name) == "add_bias";
    auto make = [bias, e](Generator& gen, Tensor& x, Tensor& y) {
      x = uniform({kBigRows, kBigCols}, -2.f, 2.f, gen).set_requires_grad();
      if (e.binary)
        y = uniform(bias ? Shape{kBigCols} : Shape{kBigRows, kBigCols}, -2.f, 2.f, gen)
                .set_requires_grad();
    };
    const std::string name = std::string(e.name) + "/16M";
    const double fwd_gb = e.fwd_floats * n * kFloat * 1e-9;
    const double bwd_gb = (e.bwd_floats + 2) * n * kFloat * 1e-9;
    suite.add(
        sec, name + "/fwd", threads, "GB/s", fwd_gb, 0.6,
        [fwd_gb](Bound& b) { b.copy_bytes(fwd_gb * 1e9); },
        [e, make](benchmark::State& st) {
          Generator gen(2);
          Tensor x, y;
          make(gen, x, y);
          forward_loop(st, [&] { return e.op(x, y); });
        });
    suite.add(
        sec, name + "/fwd+bwd", threads, "GB/s", fwd_gb + bwd_gb, 0.6,
        [gb = fwd_gb + bwd_gb](Bound& b) { b.copy_bytes(gb * 1e9); },
        [e, make](benchmark::State& st) {
          Generator gen(2);
          Tensor x, y;
          make(gen, x, y);
          std::vector<Tensor> leaves{x};
          if (y.defined()) leaves.push_back(y);
          fwd_bwd_loop(st, leaves, [&] { return e.op(x, y); });
        });
  }
  const std::string red = "reductions, 16M floats as [16384, 1024], vs STREAM copy (GB/s moved)";
  for (const Reduction& r : kReductions) {
    const std::string name = std::string(r.name) + "/16M";
    const double fwd_gb = n * kFloat * 1e-9, bwd_gb = n * kFloat * 1e-9;
    suite.add(
        red, name + "/fwd", threads, "GB/s", fwd_gb, 0,
        [fwd_gb](Bound& b) { b.copy_bytes(fwd_gb * 1e9); },
        [r](benchmark::State& st) {
          Generator gen(3);
          Tensor x = uniform({kBigRows, kBigCols}, -2.f, 2.f, gen).set_requires_grad();
          forward_loop(st, [&] { return r.op(x); });
        });
    suite.add(
        red, name + "/fwd+bwd", threads, "GB/s", fwd_gb + bwd_gb, 0,
        [gb = fwd_gb + bwd_gb](Bound& b) { b.copy_bytes(gb * 1e9); },
        [r](benchmark::State& st) {
          Generator gen(3);
          Tensor x = uniform({kBigRows, kBigCols}, -2.f, 2.f, gen).set_requires_grad();
          fwd_bwd_loop(st, {x}, [&] { return r.op(x); });
        });
  }
}

// ---------------------------------------------------------------------------------------------
// Embedding: 64K uniform ids into a 1M x 64 table. Forward gathers 64K rows (read + write
// 16 MiB each); the sparse backward sums the output gradient's rows per unique id (reads them
// in id order: a gather) and writes one row per unique id. fwd+bwd adds the seed copy.

void register_embedding(Suite& suite, int threads) {
  const std::string sec =
      "embedding, 1M x 64 table, 64K ids, vs random row gather (GB/s moved; target: at least "
      "50%)";
  const double rows_gb = 2 * kFloat * kGatherIds * kGatherWidth * 1e-9;  // read + write
  auto make = [](Tensor& table, Ids& ids) {
    Generator gen(4);
    table = uniform({kGatherRows, kGatherWidth}, -0.1f, 0.1f, gen).set_requires_grad();
    std::vector<int64_t> v(kGatherIds);
    for (auto& id : v) id = static_cast<int64_t>(gen.next_below(kGatherRows));
    ids = Ids(std::move(v));
  };
  suite.add(
      sec, "embedding/1Mx64/64K_ids/fwd", threads, "GB/s", rows_gb, 0.5,
      [rows_gb](Bound& b) { b.gather_bytes(rows_gb * 1e9); },
      [make](benchmark::State& st) {
        Tensor table;
        Ids ids;
        make(table, ids);
        forward_loop(st, [&] { return embedding(table, ids); });
      });
  suite.add(
      sec, "embedding/1Mx64/64K_ids/fwd+bwd_sparse", threads, "GB/s", 2 * rows_gb, 0.5,
      [rows_gb](Bound& b) { b.gather_bytes(2 * rows_gb * 1e9).copy_bytes(rows_gb * 1e9); },
      [make](benchmark::State& st) {
        Tensor table;
        Ids ids;
        make(table, ids);
        fwd_bwd_loop(st, {table}, [&] { return embedding(table, ids); });
      });
}

// ---------------------------------------------------------------------------------------------
// Softmax family over [256, C] logits, C = 3,706 (ML-1M items) and 100K (a large catalogue);
// LayerNorm over 16M floats as [262144, 64]. Floats moved per element:
//   softmax, log_softmax   fwd 2 (read x, write y)    bwd 3 (read g, y; write dx) + 2 seed
//   cross_entropy          fwd 1 (read the logits)    bwd 2 (read the logits, write dlogits)
//   layer_norm             fwd 2                      bwd 3 (read g, x; write dx) + 2 seed
// At C = 3,706 the logits (3.8 MB) fit in cache, so copy bandwidth is not a true bound there.

void register_softmax(Suite& suite, int threads) {
  const std::string sec = "softmax, cross-entropy and LayerNorm vs STREAM copy (GB/s moved)";
  for (int64_t classes : {int64_t{3706}, int64_t{100000}}) {
    const int64_t batch = 256;
    const double n = static_cast<double>(batch * classes);
    const std::string shape = "/256x" + std::to_string(classes);
    auto logits = [batch, classes] {
      Generator gen(5);
      return uniform({batch, classes}, -2.f, 2.f, gen).set_requires_grad();
    };
    auto add_pair = [&](const std::string& op, double fwd_floats, double bwd_floats,
                        std::function<Tensor(const Tensor&)> f) {
      const double fwd_gb = fwd_floats * n * kFloat * 1e-9,
                   all_gb = (fwd_floats + bwd_floats) * n * kFloat * 1e-9;
      suite.add(
          sec, op + shape + "/fwd", threads, "GB/s", fwd_gb, 0,
          [fwd_gb](Bound& b) { b.copy_bytes(fwd_gb * 1e9); },
          [logits, f](benchmark::State& st) {
            Tensor x = logits();
            forward_loop(st, [&] { return f(x); });
          });
      suite.add(
          sec, op + shape + "/fwd+bwd", threads, "GB/s", all_gb, 0,
          [all_gb](Bound& b) { b.copy_bytes(all_gb * 1e9); },
          [logits, f](benchmark::State& st) {
            Tensor x = logits();
            fwd_bwd_loop(st, {x}, [&] { return f(x); });
          });
    };
    add_pair("softmax", 2, 5, [](const Tensor& x) { return softmax(x, 1); });
    add_pair("log_softmax", 2, 5, [](const Tensor& x) { return log_softmax(x, 1); });
    std::vector<int64_t> t(batch);
    for (int64_t b = 0; b < batch; ++b) t[b] = (b * 7919) % classes;
    const Ids targets(t);
    add_pair("cross_entropy", 1, 2,
             [targets](const Tensor& x) { return cross_entropy(x, targets); });
  }
  const int64_t rows = kBig / 64;
  const double n = static_cast<double>(kBig);
  const double fwd_gb = 2 * n * kFloat * 1e-9, all_gb = 7 * n * kFloat * 1e-9;
  auto make = [rows](Tensor& x, Tensor& w, Tensor& b) {
    Generator gen(6);
    x = uniform({rows, 64}, -2.f, 2.f, gen).set_requires_grad();
    w = normal({64}, 1.f, 0.1f, gen).set_requires_grad();
    b = normal({64}, 0.f, 0.1f, gen).set_requires_grad();
  };
  suite.add(
      sec, "layer_norm/262144x64/fwd", threads, "GB/s", fwd_gb, 0,
      [fwd_gb](Bound& b) { b.copy_bytes(fwd_gb * 1e9); },
      [make](benchmark::State& st) {
        Tensor x, w, b;
        make(x, w, b);
        forward_loop(st, [&] { return layer_norm(x, w, b); });
      });
  suite.add(
      sec, "layer_norm/262144x64/fwd+bwd", threads, "GB/s", all_gb, 0,
      [all_gb](Bound& b) { b.copy_bytes(all_gb * 1e9); },
      [make](benchmark::State& st) {
        Tensor x, w, b;
        make(x, w, b);
        fwd_bwd_loop(st, {x, w, b}, [&] { return layer_norm(x, w, b); });
      });
}

// ---------------------------------------------------------------------------------------------
// sparse_linear: x·Wᵀ + b for CSR rows with 4% non-zeros at uniform columns (ML-1M's training
// matrices are 3.6-4.5% dense), against the dense product it replaces: GFLOP/s are those of
// that dense product, so a ratio above 1 means the sparse op beats sgemm on the zeros.
// Shapes: Mult-VAE's and Mult-DAE's encoder (batch 500, 3,706 items -> 600) and CFGAN's
// generator (batch 64, 3,706 -> 400), whose small batch leaves the O(in·out) passes over the
// weight dominant.

void register_sparse_linear(Suite& suite, int threads) {
  const std::string sec =
      "sparse_linear, 4% non-zeros, vs cblas_sgemm on the dense rows (dense GFLOP/s)";
  for (const GemmShape& s : {GemmShape{500, 3706, 600, false, true},
                             GemmShape{64, 3706, 400, false, true}}) {
    const std::string name = "sparse_linear/" + s.str();
    auto make = [s](CsrMatrix& x, Tensor& w, Tensor& b) {
      Generator gen(7);
      Tensor dense = zeros({s.m, s.k});
      float* p = dense.data();
      for (int64_t i = 0; i < s.m * s.k; ++i)
        if (gen.next_below(100) < 4) p[i] = 1.f;
      x = csr_from_dense(dense);
      w = uniform({s.n, s.k}, -0.1f, 0.1f, gen).set_requires_grad();
      b = zeros({s.n}).set_requires_grad();
    };
    suite.add(
        sec, name + "/fwd", threads, "GFLOP/s", s.flops() * 1e-9, 0, [s](Bound& b) { b.gemm(s); },
        [make](benchmark::State& st) {
          CsrMatrix x;
          Tensor w, b;
          make(x, w, b);
          forward_loop(st, [&] { return sparse_linear(x, w, b); });
        });
    suite.add(
        sec, name + "/fwd+bwd", threads, "GFLOP/s", 2 * s.flops() * 1e-9, 0,
        [s](Bound& b) { b.gemm(s).gemm(grad_b(s)); },
        [make](benchmark::State& st) {
          CsrMatrix x;
          Tensor w, b;
          make(x, w, b);
          fwd_bwd_loop(st, {w, b}, [&] { return sparse_linear(x, w, b); });
        });
  }
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
    register_matmul(suite, t);
    register_elementwise(suite, t);
    register_embedding(suite, t);
    register_softmax(suite, t);
    register_sparse_linear(suite, t);
  }
  return suite.run(argc, argv, "ops_bench");
}
