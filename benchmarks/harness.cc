#include "benchmarks/harness.h"

#include <cstdio>

namespace recgrad::bench {

void CollectingReporter::ReportRuns(const std::vector<Run>& runs) {
  for (const Run& run : runs) {
    if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
    auto& slot = counters_[run.run_name.function_name];  // the registered name, no suffixes
    for (const auto& [name, c] : run.counters) slot[name] = c.value;
  }
  ConsoleReporter::ReportRuns(runs);
}

double CollectingReporter::counter(const std::string& benchmark, const std::string& name) const {
  auto b = counters_.find(benchmark);
  if (b == counters_.end()) return 0;
  auto c = b->second.find(name);
  return c == b->second.end() ? 0 : c->second;
}

void print_comparisons(const std::string& title, const std::vector<Comparison>& rows) {
  std::printf("\n%s\n", title.c_str());
  std::printf("  %-44s %12s   %-30s %12s %8s\n", "benchmark", "recgrad", "bound", "bound", "ratio");
  for (const Comparison& r : rows)
    std::printf("  %-44s %8.1f %-3s   %-30s %8.1f %-3s %7.0f%%\n", r.what.c_str(), r.ours,
                r.unit.c_str(), r.peak_label.c_str(), r.peak, r.unit.c_str(),
                r.peak > 0 ? 100.0 * r.ours / r.peak : 0.0);
}

}  // namespace recgrad::bench
