#pragma once
// Shared pieces of recgrad's benchmarks: a Google Benchmark reporter that remembers results,
// rows that put each result beside the machine peak that bounds it (benchmarks/peaks.h), the
// closing tables, and the same as JSON for other tools (--json FILE).
#include <benchmark/benchmark.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "benchmarks/peaks.h"

namespace recgrad::bench {

/// Console output as usual, plus every run's time and counters kept by benchmark name.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  /// Keeps CPU time (the process's, for benchmarks that MeasureProcessCPUTime) instead of real
  /// time.
  explicit CollectingReporter(bool cpu_time = false) : cpu_time_(cpu_time) {}
  void ReportRuns(const std::vector<Run>& runs) override;
  /// Called with each benchmark's name once its results are kept and printed.
  std::function<void(const std::string&)> on_result;
  /// The named counter of a finished benchmark (e.g. "examples/s"); 0 if absent.
  double counter(const std::string& benchmark, const std::string& name) const;
  /// Every counter of a finished benchmark, by name (empty if it did not run).
  std::map<std::string, double> counters(const std::string& benchmark) const;
  /// Seconds per iteration of a finished benchmark, real or CPU time as constructed (the median
  /// under --benchmark_repetitions); 0 if it did not run.
  double seconds(const std::string& benchmark) const;

 private:
  struct Result {
    double seconds = 0;
    std::map<std::string, double> counters;
    bool median = false;  // from the median aggregate: kept over single repetitions
  };
  bool cpu_time_;
  std::map<std::string, Result> results_;
};

/// The time some work takes at the machine's peak rates, summed over its parts, and a label
/// naming the parts ("sgemm x3 + copy").
class Bound {
 public:
  /// Peaks at `threads` threads.
  explicit Bound(int threads) : threads_(threads) {}
  /// `count` products of this shape run one after another, each at OpenBLAS's threaded rate.
  Bound& gemm(const GemmShape& s, double count = 1);
  /// `count` independent small products run side by side (attention heads): single-thread
  /// sgemm time x count / threads.
  Bound& gemm_batched(const GemmShape& s, double count);
  /// Bytes read + written at the STREAM copy bandwidth.
  Bound& copy_bytes(double bytes);
  /// Bytes read + written at the random row-gather bandwidth.
  Bound& gather_bytes(double bytes);
  double seconds() const { return seconds_; }
  std::string label() const;

 private:
  void add(const std::string& part, double seconds, double count);
  int threads_;
  double seconds_ = 0;
  std::vector<std::pair<std::string, double>> parts_;  // part name, count
};

/// One row of a closing table: our time for some work beside the time the bound allows.
struct Comparison {
  std::string what;          ///< the benchmark's name
  std::string unit;          ///< "GFLOP/s" or "GB/s"
  double work = 0;           ///< per iteration: GFLOP or GB
  double seconds = 0;        ///< ours, per iteration (0: the benchmark did not run)
  double bound_seconds = 0;  ///< the same work at the peaks' rates
  std::string bound;         ///< what bounds it
  double target = 0;         ///< required share of the bound's rate (0.9: within 10%); 0: none
  std::map<std::string, double> counters;  ///< the benchmark's own counters ("examples/s")
  double rate() const { return seconds > 0 ? work / seconds : 0; }
  double bound_rate() const { return bound_seconds > 0 ? work / bound_seconds : 0; }
  double ratio() const { return seconds > 0 ? bound_seconds / seconds : 0; }
  bool met() const { return target <= 0 || ratio() >= target; }
};

/// A titled table of comparisons.
struct Section {
  std::string title;
  std::vector<Comparison> rows;
};

/// recgrad's own flags, read before Google Benchmark's.
struct Flags {
  std::string json;          ///< --json FILE: write the sections and peaks as JSON
  std::vector<int> threads;  ///< --threads=1,2 (default: 1 and all of recgrad's threads)
  /// --cpu_time: time ops and peaks by this process's CPU time rather than wall-clock time.
  /// Steadier when other programs share the cores (time-slicing does not count), but only
  /// meaningful at one thread: idle pool and OpenBLAS threads spin and count too.
  bool cpu_time = false;
};

/// Removes --json FILE (or --json=FILE), --threads=LIST and --cpu_time from argv, leaving
/// Google Benchmark's flags; times each peak for --benchmark_min_time seconds when given.
Flags parse_flags(int& argc, char** argv);

/// "name/threads:N".
std::string with_threads(const std::string& name, int threads);

/// Prints each section as an aligned table: ours, bound, ratio, target met or missed.
void print_sections(const std::vector<Section>& sections);

/// Writes {"binary", "timing", "machine": {...}, "peaks": [...], "sections": [{"title",
/// "rows": [...]}]} to `path`. Throws recgrad::Error when the file cannot be written.
void write_json(const std::string& path, const std::string& binary, const Flags& flags,
                const std::vector<Section>& sections);

/// Benchmarks registered together with the comparisons to build from their results. Peaks are
/// measured after the run and only for benchmarks that ran (a --benchmark_filter skips the
/// rest).
class Suite {
 public:
  explicit Suite(Flags flags) : flags_(std::move(flags)) {}
  /// Registers `body` as Google Benchmark "name/threads:N" (real time, in ms), run with
  /// recgrad at N threads, and plans its row in the table titled `section`: `work` (GFLOP or
  /// GB per iteration, per `unit`) beside the bound that `bound` builds, with an optional target.
  void add(const std::string& section, const std::string& name, int threads,
           const std::string& unit, double work, double target, std::function<void(Bound&)> bound,
           std::function<void(benchmark::State&)> body);
  /// Runs the benchmarks (Google Benchmark's flags in argv), measuring each one's bound right
  /// after it (fresh peaks: the load of a shared machine drifts during a run), then prints the
  /// tables and writes flags.json. Returns the process exit code.
  int run(int argc, char** argv, const std::string& binary);
  /// After run(): real seconds per iteration of "name/threads:N", 0 if it did not run.
  double seconds(const std::string& name) const;

 private:
  struct Planned {
    size_t section;
    std::string name, unit;
    double work, target;
    int threads;
    std::function<void(Bound&)> bound;
  };
  Flags flags_;
  std::vector<Section> sections_;
  std::vector<Planned> plan_;
  std::map<std::string, double> seconds_;
};

/// Times the forward pass: fwd() with graph recording as in training (inputs require grad).
void forward_loop(benchmark::State& st, const std::function<Tensor()>& fwd);
/// Times forward + backward from a fixed random (uniform) output gradient (backward() when the
/// output is a scalar), then drops the leaves' gradients, as zero_grad does between steps.
void fwd_bwd_loop(benchmark::State& st, std::vector<Tensor> leaves,
                  const std::function<Tensor()>& fwd);

/// The machine line printed first and stored in the JSON: CPU, cores, load average, runtime.
std::string machine_summary();

}  // namespace recgrad::bench
