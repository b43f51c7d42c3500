#include "autograd/parallel.h"

#include <tbb/info.h>

#include <cstdlib>
#include <memory>
#include <mutex>

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

void set_arena_threads(int n) {
  ArenaState& s = state();
  if (n == s.threads) return;
  s.arena = std::make_unique<tbb::task_arena>(n);
  s.threads = n;
}

}  // namespace detail
}  // namespace recgrad
