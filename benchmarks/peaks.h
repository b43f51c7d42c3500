#pragma once
// The machine's peaks, measured in the benchmark's own process so that every result can be
// printed beside the bound that limits it:
//   sgemm   cblas_sgemm GFLOP/s at a given shape and transposes, OpenBLAS at 1 or N threads
//           (the bound of matmul, and of the products inside layers);
//   copy    STREAM-style copy b[i] = a[i] over 16M floats with ordinary stores (the bound of
//           elementwise ops, which write with ordinary stores too; glibc's memcpy switches to
//           non-temporal stores at this size); bytes counted as STREAM does: read + written;
//   gather  out[p] = table[ids[p]]: 64-float rows from a 1M-row table, 64K uniform random ids
//           (the bound of embedding lookups and their sparse backward); bytes read + written.
// Each peak is measured on first use and cached; forget() drops the cache so that a benchmark
// suite can measure its bounds again right after each result (on a shared machine the load
// changes within a run, and a bound is only fair when measured under the same load). A peak is
// the median of a few timed windows (a median rather than the best window: the op results are
// means over many iterations). Time is wall-clock, or this process's CPU time with
// set_cpu_time(true) (steadier under time-slicing, but meaningful at one thread only: idle
// worker threads spin).
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace recgrad::bench {

/// op(A)·op(B) with op(A) [m,k], op(B) [k,n]; A and B stored row-major, transposed by flag.
struct GemmShape {
  int64_t m = 0, k = 0, n = 0;
  bool trans_a = false, trans_b = false;
  double flops() const { return 2.0 * double(m) * double(n) * double(k); }
  /// "2048x64x3706/NT": m x k x n, then N or T for A and for B.
  std::string str() const;
};

/// One measured peak, for reports.
struct PeakRecord {
  std::string name;  ///< "sgemm/2048x64x3706/NT", "copy", "gather"
  int threads = 1;
  double value = 0;  ///< GFLOP/s for sgemm, GB/s otherwise
  std::string unit;  ///< "GFLOP/s" or "GB/s"
};

/// Sizes of the bandwidth peaks.
constexpr int64_t kCopyFloats = int64_t{1} << 24;  // 16M floats, 64 MiB per array
constexpr int64_t kGatherRows = 1'000'000, kGatherWidth = 64, kGatherIds = 64 * 1024;

/// Seconds per call of fn: the median over `windows` windows, each running fn until at least
/// min_time / windows seconds have passed (one untimed warm-up call first). Wall-clock time, or
/// the process's CPU time when cpu_time.
double seconds_per_call(const std::function<void()>& fn, double min_time, bool cpu_time = false,
                        int windows = 5);

/// The process's peaks, each measured on first use and cached.
class Peaks {
 public:
  /// Timing per peak, in seconds (parse_flags sets it from --benchmark_min_time).
  void set_min_time(double seconds) { min_time_ = seconds; }
  /// Measures process CPU time instead of wall-clock time.
  void set_cpu_time(bool on) { cpu_time_ = on; }
  /// Drops the cached values: the next request of each peak measures it again.
  void forget() { values_.clear(); }

  /// Seconds per cblas_sgemm call at this shape (beta = 0), OpenBLAS at `threads` threads.
  double sgemm_seconds(const GemmShape& s, int threads);
  /// GFLOP/s of the same.
  double sgemm_gflops(const GemmShape& s, int threads) {
    return s.flops() * 1e-9 / sgemm_seconds(s, threads);
  }
  /// STREAM copy bandwidth over 16M floats with `threads` threads, GB/s (read + written).
  double copy_gbps(int threads);
  /// Random row-gather bandwidth (64-float rows, 1M-row table, 64K ids), GB/s (read + written).
  double gather_gbps(int threads);

  /// Every measurement so far, in order (a peak measured again after forget() appears again).
  const std::vector<PeakRecord>& measured() const { return records_; }

 private:
  double cached(const std::string& name, int threads, const std::string& unit,
                const std::function<double()>& measure);
  double min_time_ = 0.5;
  bool cpu_time_ = false;
  std::vector<PeakRecord> records_;
  std::map<std::pair<std::string, int>, double> values_;
};

/// The process-wide instance.
Peaks& peaks();

}  // namespace recgrad::bench
