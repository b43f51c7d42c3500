// Op microbenchmarks beside the machine peaks that bound them:
//   matmul at recommender shapes  vs  raw cblas_sgemm on the same shapes (OpenBLAS threaded)
//   add / mul / sigmoid, 16M floats  vs  memcpy bandwidth at the same thread count
// Run: bazel run -c opt //benchmarks:ops_bench [-- --benchmark_filter=matmul]
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "benchmarks/harness.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/runtime.h"

namespace recgrad::bench {
namespace {

struct GemmShape {
  const char* role;  // where the shape occurs in a recommender
  int64_t m, k, n;
  bool trans_b;
};

const GemmShape kShapes[] = {
    {"score 256 users x 3706 items", 256, 64, 3706, true},
    {"score 6040 users x 3706 items", 6040, 64, 3706, true},
    {"MLP layer 1024x256->256", 1024, 256, 256, true},
    {"MLP layer 256x64->64", 256, 64, 64, true},
    {"square 1024", 1024, 1024, 1024, false},
};

constexpr int64_t kElementwiseSize = int64_t{1} << 24;  // 16M floats, 64 MiB per tensor

std::string gemm_name(const char* who, const GemmShape& s, int threads) {
  return std::string(who) + "/" + std::to_string(s.m) + "x" + std::to_string(s.k) + "x" +
         std::to_string(s.n) + "/threads:" + std::to_string(threads);
}

std::string ew_name(const char* op, int threads) {
  return std::string(op) + "/16M/threads:" + std::to_string(threads);
}

void register_gemm(const GemmShape& s, int threads) {
  const double flops = 2.0 * s.m * s.n * s.k;
  benchmark::RegisterBenchmark(gemm_name("sgemm", s, threads).c_str(), [=](benchmark::State& st) {
    Generator gen(1);
    Tensor a = randn({s.m, s.k}, gen), b = randn(s.trans_b ? Shape{s.n, s.k} : Shape{s.k, s.n}, gen);
    Tensor c = Tensor::empty({s.m, s.n});
    detail::set_blas_threads(threads);  // the reference: OpenBLAS's own threading
    for (auto _ : st)
      detail::raw_sgemm(false, s.trans_b, s.m, s.n, s.k, 1.f, a.data(), s.k, b.data(),
                        s.trans_b ? s.k : s.n, 0.f, c.data(), s.n);
    detail::set_blas_threads(1);
    st.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  })->UseRealTime()->MinTime(0.5);
  benchmark::RegisterBenchmark(gemm_name("matmul", s, threads).c_str(), [=](benchmark::State& st) {
    Generator gen(1);
    Tensor a = randn({s.m, s.k}, gen), b = randn(s.trans_b ? Shape{s.n, s.k} : Shape{s.k, s.n}, gen);
    set_num_threads(threads);
    for (auto _ : st) benchmark::DoNotOptimize(matmul(a, b, false, s.trans_b).data());
    st.counters["GFLOP/s"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  })->UseRealTime()->MinTime(0.5);
}

void register_elementwise(int threads) {
  const int64_t n = kElementwiseSize;
  const double bytes = sizeof(float) * static_cast<double>(n);
  benchmark::RegisterBenchmark(ew_name("memcpy", threads).c_str(), [=](benchmark::State& st) {
    Tensor src = ones({n}), dst = zeros({n});
    set_num_threads(threads);
    for (auto _ : st) {
      // One contiguous block per thread: the plain-memcpy bound at this thread count.
      detail::parallel_for(threads, 1, [&](int64_t b, int64_t e) {
        const int64_t lo = n * b / threads, hi = n * e / threads;
        std::memcpy(dst.data() + lo, src.data() + lo, sizeof(float) * (hi - lo));
      });
      benchmark::ClobberMemory();
    }
    st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * 2 * bytes));
  })->UseRealTime()->MinTime(0.5);
  auto unary = [=](const char* name, Tensor (*op)(const Tensor&)) {
    benchmark::RegisterBenchmark(ew_name(name, threads).c_str(), [=](benchmark::State& st) {
      Generator gen(2);
      Tensor x = randn({n}, gen);
      set_num_threads(threads);
      for (auto _ : st) benchmark::DoNotOptimize(op(x).data());
      st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * 2 * bytes));
    })->UseRealTime()->MinTime(0.5);
  };
  auto binary = [=](const char* name, Tensor (*op)(const Tensor&, const Tensor&)) {
    benchmark::RegisterBenchmark(ew_name(name, threads).c_str(), [=](benchmark::State& st) {
      Generator gen(3);
      Tensor x = randn({n}, gen), y = randn({n}, gen);
      set_num_threads(threads);
      for (auto _ : st) benchmark::DoNotOptimize(op(x, y).data());
      st.SetBytesProcessed(static_cast<int64_t>(st.iterations() * 3 * bytes));
    })->UseRealTime()->MinTime(0.5);
  };
  binary("add", [](const Tensor& a, const Tensor& b) { return add(a, b); });
  binary("mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); });
  unary("sigmoid", [](const Tensor& a) { return sigmoid(a); });
}

}  // namespace
}  // namespace recgrad::bench

int main(int argc, char** argv) {
  using namespace recgrad;
  using namespace recgrad::bench;
  std::printf("%s\n", runtime_summary().c_str());
  const int all = num_threads();
  std::vector<int> thread_counts{1};
  if (all > 1) thread_counts.push_back(all);
  NoGradGuard no_grad;  // forward only: no graph is recorded
  for (int t : thread_counts) {
    for (const GemmShape& s : kShapes) register_gemm(s, t);
    register_elementwise(t);
  }
  benchmark::Initialize(&argc, argv);
  CollectingReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);

  std::vector<Comparison> gemm, ew;
  for (int t : thread_counts) {
    for (const GemmShape& s : kShapes) {
      const double ours = reporter.counter(gemm_name("matmul", s, t), "GFLOP/s");
      const double peak = reporter.counter(gemm_name("sgemm", s, t), "GFLOP/s");
      if (ours > 0 || peak > 0)
        gemm.push_back({gemm_name("matmul", s, t), "GF/s", ours, peak, "cblas_sgemm, same shape"});
    }
    const double copy = reporter.counter(ew_name("memcpy", t), "bytes_per_second") * 1e-9;
    for (const char* op : {"add", "mul", "sigmoid"}) {
      const double ours = reporter.counter(ew_name(op, t), "bytes_per_second") * 1e-9;
      if (ours > 0) ew.push_back({ew_name(op, t), "GB/s", ours, copy, "memcpy, same threads"});
    }
  }
  print_comparisons("matmul vs raw sgemm (GFLOP/s; target: within 10%)", gemm);
  print_comparisons("elementwise vs memcpy (GB/s moved; target: at least 60%)", ew);
  benchmark::Shutdown();
  return 0;
}
