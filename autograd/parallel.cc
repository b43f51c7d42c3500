#include "autograd/parallel.h"

#include <tbb/info.h>

#include <atomic>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>

namespace recgrad {
namespace {

int default_threads() {
  if (const char* env = std::getenv("RECGRAD_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  return tbb::info::default_concurrency();
}

struct ArenaState {
  int threads = default_threads();
  std::unique_ptr<tbb::task_arena> arena = std::make_unique<tbb::task_arena>(threads);
};

ArenaState& state() {
  static ArenaState* s = new ArenaState();  // leaked: kernels may run during static teardown
  return *s;
}

}  // namespace

int num_threads() { return state().threads; }

namespace detail {

tbb::task_arena& arena() { return *state().arena; }

void fork_join_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body) {
  const int64_t chunks = (n + grain - 1) / grain;
  const int64_t workers = std::min<int64_t>(num_threads(), chunks);
  std::atomic<int64_t> next{0};  // chunks are claimed dynamically, so which thread runs which
                                 // chunk varies from call to call, as under TBB
  std::mutex mu;
  std::exception_ptr error;
  auto work = [&] {
    try {
      for (int64_t c; (c = next.fetch_add(1)) < chunks;)
        body(c * grain, std::min(n, (c + 1) * grain));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
      next = chunks;  // the others stop claiming
    }
  };
  std::vector<std::thread> threads;
  for (int64_t t = 1; t < workers; ++t) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

void set_arena_threads(int n) {
  ArenaState& s = state();
  if (n == s.threads) return;
  s.arena = std::make_unique<tbb::task_arena>(n);
  s.threads = n;
}

}  // namespace detail
}  // namespace recgrad
