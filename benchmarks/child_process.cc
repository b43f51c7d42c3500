#include "benchmarks/child_process.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace recgrad::bench {

ChildOutcome run_logged(const std::vector<std::string>& argv, const std::string& log,
                        const std::vector<std::pair<std::string, std::string>>& env,
                        double timeout) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&start] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const pid_t pid = fork();
  if (pid == 0) {
    if (FILE* f = std::fopen(log.c_str(), "a")) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    for (const auto& [key, value] : env) setenv(key.c_str(), value.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    std::perror(args[0]);
    _exit(127);
  }
  ChildOutcome o;
  if (pid < 0) return o;
  int status = 0;
  rusage usage{};
  // Without a timeout, one blocking wait; with one, a poll every 50 ms.
  for (;;) {
    const pid_t done = wait4(pid, &status, timeout > 0 ? WNOHANG : 0, &usage);
    if (done == pid) break;
    if (done < 0) return o;
    if (elapsed() > timeout && !o.timed_out) {
      o.timed_out = true;
      kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.peak_rss_mib = static_cast<double>(usage.ru_maxrss) / 1024.0;
  o.seconds = elapsed();
  return o;
}

}  // namespace recgrad::bench
