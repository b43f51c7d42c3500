#include "benchmarks/peaks.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "autograd/error.h"
#include "autograd/parallel.h"
#include "ops/blas.h"
#include "ops/runtime.h"

namespace recgrad::bench {
namespace {

// Runs fn with recgrad's pool at `threads` threads, then restores the previous count.
template <typename Fn>
void with_threads(int threads, const Fn& fn) {
  const int previous = num_threads();
  set_num_threads(threads);
  fn();
  set_num_threads(previous);
}

// Splits [0, n) into `threads` contiguous blocks, one task each (the STREAM layout).
template <typename Body>
void blocks(int64_t n, int threads, const Body& body) {
  detail::parallel_for(threads, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) body(n * t / threads, n * (t + 1) / threads);
  });
}

std::vector<float> filled(int64_t n, uint64_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float& f : v) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    f = static_cast<float>(static_cast<int64_t>(x >> 40) - (int64_t{1} << 23)) * 0x1p-23f;
  }
  return v;
}

}  // namespace

std::string GemmShape::str() const {
  return std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n) + "/" +
         (trans_a ? "T" : "N") + (trans_b ? "T" : "N");
}

double seconds_per_call(const std::function<void()>& fn, double min_time, bool cpu_time,
                        int windows) {
  auto now = [cpu_time] {
    timespec ts{};
    clock_gettime(cpu_time ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  fn();  // warm-up: first-touch page faults, thread start-up, code and caches
  const double window = std::max(min_time, 1e-3) / std::max(windows, 1);
  std::vector<double> per_call;
  for (int w = 0; w < windows; ++w) {
    int64_t calls = 0;
    const double start = now();
    double elapsed = 0;
    do {
      fn();
      ++calls;
      elapsed = now() - start;
    } while (elapsed < window);
    per_call.push_back(elapsed / static_cast<double>(calls));
  }
  std::sort(per_call.begin(), per_call.end());
  return per_call[per_call.size() / 2];
}

double Peaks::cached(const std::string& name, int threads, const std::string& unit,
                     const std::function<double()>& measure) {
  RECGRAD_CHECK(threads >= 1, "peaks: ", name, ": thread count must be at least 1, got ", threads);
  const auto key = std::make_pair(name, threads);
  auto it = values_.find(key);
  if (it != values_.end()) return it->second;
  const double value = measure();
  values_[key] = value;
  records_.push_back({name, threads, value, unit});
  return value;
}

double Peaks::sgemm_seconds(const GemmShape& s, int threads) {
  const double gflops = cached("sgemm/" + s.str(), threads, "GFLOP/s", [&] {
    // Stored shapes: A is [m,k] or [k,m] when transposed, B [k,n] or [n,k]; same element count.
    const std::vector<float> a = filled(s.m * s.k, 1), b = filled(s.k * s.n, 2);
    std::vector<float> c(static_cast<size_t>(s.m * s.n));
    const int64_t lda = s.trans_a ? s.m : s.k, ldb = s.trans_b ? s.k : s.n;
    detail::set_blas_threads(threads);  // the reference: OpenBLAS's own threading
    const double sec = seconds_per_call(
        [&] {
          detail::raw_sgemm(s.trans_a, s.trans_b, s.m, s.n, s.k, 1.f, a.data(), lda, b.data(), ldb,
                            0.f, c.data(), s.n);
        },
        min_time_, cpu_time_);
    detail::set_blas_threads(1);  // recgrad keeps OpenBLAS at one thread (ops/blas.h)
    return s.flops() * 1e-9 / sec;
  });
  return s.flops() * 1e-9 / gflops;
}

double Peaks::copy_gbps(int threads) {
  return cached("copy", threads, "GB/s", [&] {
    // Kept for the process: a bound measured again after forget() does not pay for them again.
    static std::vector<float> src = filled(kCopyFloats, 3), dst(static_cast<size_t>(kCopyFloats));
    double sec = 0;
    with_threads(threads, [&] {
      sec = seconds_per_call(
          [&] {
            blocks(kCopyFloats, threads, [&](int64_t lo, int64_t hi) {
              const float* __restrict s = src.data();
              float* __restrict d = dst.data();
              // "+ 0.f" is not an identity for -0.f (without -ffast-math), so GCC cannot turn
              // the loop into a memcpy call: ordinary vector stores, as STREAM and our kernels.
              for (int64_t i = lo; i < hi; ++i) d[i] = s[i] + 0.f;
            });
          },
          min_time_, cpu_time_);
    });
    return 2.0 * sizeof(float) * static_cast<double>(kCopyFloats) * 1e-9 / sec;
  });
}

double Peaks::gather_gbps(int threads) {
  return cached("gather", threads, "GB/s", [&] {
    static const std::vector<float> table = filled(kGatherRows * kGatherWidth, 4);
    static const std::vector<int64_t> ids = [] {
      std::vector<int64_t> v(kGatherIds);
      uint64_t x = 5;
      for (int64_t& id : v) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        id = static_cast<int64_t>((x >> 33) % kGatherRows);
      }
      return v;
    }();
    static std::vector<float> out(static_cast<size_t>(kGatherIds * kGatherWidth));
    double sec = 0;
    with_threads(threads, [&] {
      sec = seconds_per_call(
          [&] {
            blocks(kGatherIds, threads, [&](int64_t lo, int64_t hi) {
              for (int64_t p = lo; p < hi; ++p) {
                const float* __restrict row = table.data() + ids[p] * kGatherWidth;
                float* __restrict o = out.data() + p * kGatherWidth;
                for (int64_t j = 0; j < kGatherWidth; ++j) o[j] = row[j];
              }
            });
          },
          min_time_, cpu_time_);
    });
    return 2.0 * sizeof(float) * static_cast<double>(kGatherIds * kGatherWidth) * 1e-9 / sec;
  });
}

Peaks& peaks() {
  static Peaks p;
  return p;
}

}  // namespace recgrad::bench
