#pragma once
// Shared pieces of recgrad's benchmarks: a Google Benchmark reporter that remembers results, so
// a run can end with a table of each result beside the machine peak that bounds it.
#include <benchmark/benchmark.h>

#include <map>
#include <string>
#include <vector>

namespace recgrad::bench {

/// Console output as usual, plus every run's counters kept by benchmark name.
class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override;
  /// The named counter of a finished benchmark (e.g. "GFLOP/s", "bytes_per_second"); 0 if absent.
  double counter(const std::string& benchmark, const std::string& name) const;

 private:
  std::map<std::string, std::map<std::string, double>> counters_;
};

/// One row of the closing table: ours, the bound it is compared with, and the ratio.
struct Comparison {
  std::string what;
  std::string unit;
  double ours = 0;
  double peak = 0;
  std::string peak_label;
};

/// Prints the comparisons as an aligned table under a title.
void print_comparisons(const std::string& title, const std::vector<Comparison>& rows);

}  // namespace recgrad::bench
