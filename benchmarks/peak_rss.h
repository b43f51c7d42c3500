#pragma once
// The process's memory as the memory benchmarks report it: peak resident set size from
// getrusage (ru_maxrss, the high-water mark since start) and the current one from
// /proc/self/statm (Linux), both in MiB.
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

namespace recgrad::bench {

/// Peak resident memory of this process so far, MiB (ru_maxrss is in KiB on Linux).
inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

/// Resident memory of this process now, MiB; 0 where /proc/self/statm is absent.
inline double current_rss_mib() {
  long pages_total = 0, pages_resident = 0;
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  const int got = std::fscanf(f, "%ld %ld", &pages_total, &pages_resident);
  std::fclose(f);
  if (got != 2) return 0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

}  // namespace recgrad::bench
