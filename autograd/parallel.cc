#include "autograd/parallel.h"

#include <tbb/info.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define RECGRAD_HAS_MXCSR 1
#endif

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

// set_flush_denormals' setting, and a generation that each change bumps: a thread whose
// applied generation differs re-reads the setting.
std::atomic<bool> flush_setting{false};
std::atomic<uint64_t> flush_generation{0};
thread_local uint64_t applied_generation = 0;  // generation 0: the IEEE default every thread has

void apply_flush_mode(bool on) {
#ifdef RECGRAD_HAS_MXCSR
  constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bits 15 (flush to zero) and 6 (denormals are 0)
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(on ? (csr | kFtzDaz) : (csr & ~kFtzDaz));
#else
  (void)on;
#endif
}

}  // namespace

int num_threads() { return state().threads; }

bool set_flush_denormals(bool on) {
  flush_setting = on;
  const uint64_t generation = ++flush_generation;
  apply_flush_mode(on);
  applied_generation = generation;
#ifdef RECGRAD_HAS_MXCSR
  return true;
#else
  return false;
#endif
}

bool flush_denormals() { return flush_setting; }

namespace detail {

tbb::task_arena& arena() { return *state().arena; }

void sync_denormal_mode() {
  const uint64_t generation = flush_generation.load(std::memory_order_acquire);
  if (applied_generation == generation) return;
  apply_flush_mode(flush_setting.load(std::memory_order_acquire));
  applied_generation = generation;
}

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
