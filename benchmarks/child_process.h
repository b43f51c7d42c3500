#pragma once
// Running one child program for the benchmark runners (//benchmarks:all, //benchmarks:reproduce):
// its output goes to a log file, and what the runners report about it (exit code, wall time,
// peak memory) is measured here the same way for both.
#include <string>
#include <utility>
#include <vector>

namespace recgrad::bench {

/// How a child ended.
struct ChildOutcome {
  int exit_code = -1;      ///< its exit status, 128 + the signal if one killed it, -1: not run
  bool timed_out = false;  ///< killed after the timeout
  double seconds = 0;      ///< wall time from start to exit
  double peak_rss_mib = 0;  ///< its peak resident memory (wait4's ru_maxrss), the whole process
};

/// Runs argv (argv[0] a path, not looked up in PATH) with `env` added to the environment and
/// stdout and stderr appended to `log`, and waits for it; kills it (SIGKILL) after `timeout`
/// seconds when timeout > 0. The child stays in the caller's process group, so Ctrl-C on
/// `bazel run` reaches it too.
ChildOutcome run_logged(const std::vector<std::string>& argv, const std::string& log,
                        const std::vector<std::pair<std::string, std::string>>& env = {},
                        double timeout = 0);

}  // namespace recgrad::bench
