// set_flush_denormals (autograd/parallel.h): denormal results and inputs become 0 on every
// thread that runs a recgrad kernel, and the IEEE values come back when it is turned off.
#include <doctest/doctest.h>

#include <atomic>
#include <cfloat>
#include <chrono>
#include <thread>
#include <vector>

#include "autograd/parallel.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// y[i] = x[i] * s over `n` elements through parallel_for, in chunks of `grain`. With
// `need_worker`, the first chunk waits (up to 10 s) until a thread other than the caller has run
// a chunk, so that the pool's worker thread certainly computes some of y; returns via
// `worker_ran` whether one did.
std::vector<float> scaled(const std::vector<float>& x, float s, int64_t grain,
                          bool need_worker = false, bool* worker_ran = nullptr) {
  std::vector<float> y(x.size());
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<bool> other{false};
  detail::parallel_for(static_cast<int64_t>(x.size()), grain, [&](int64_t b, int64_t e) {
    if (std::this_thread::get_id() != caller) other = true;
    if (need_worker && b == 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (!other && std::chrono::steady_clock::now() < until) std::this_thread::yield();
    }
    for (int64_t i = b; i < e; ++i) y[i] = x[i] * s;
  });
  if (worker_ran) *worker_ran = other;
  return y;
}

int zeros_in(const std::vector<float>& v) {
  int n = 0;
  for (float f : v) n += f == 0.f;
  return n;
}

// Restores the process-wide settings a test case changes, even when a check fails.
struct RestoreSettings {
  int threads = num_threads();
  ~RestoreSettings() {
    set_flush_denormals(false);
    set_num_threads(threads);
  }
};

}  // namespace

#if defined(__x86_64__) || defined(__i386__)

TEST_CASE("set_flush_denormals: denormal results and inputs are 0 on every thread, until off") {
  RestoreSettings restore;
  set_num_threads(2);
  const int64_t n = 1 << 16;
  // FLT_MIN / 4 is a denormal result of two normal floats (flush to zero); a denormal input
  // times 1 stays itself under IEEE and becomes 0 when denormals read as 0.
  const std::vector<float> tiny(n, FLT_MIN), denormal(n, FLT_MIN / 8);
  // The worker thread exists (and ran with the IEEE default) before the setting changes, so the
  // chunks it runs below show that the caller's flags reach it (oneTBB passes them to tasks).
  bool worker_ran = false;
  CHECK(zeros_in(scaled(tiny, 0.25f, 1024, true, &worker_ran)) == 0);
  REQUIRE(worker_ran);
  CHECK(zeros_in(scaled(denormal, 1.f, 1024)) == 0);

  CHECK(set_flush_denormals(true));
  CHECK(flush_denormals());
  CHECK(zeros_in(scaled(tiny, 0.25f, 1024, true, &worker_ran)) == n);  // both threads' chunks
  CHECK(worker_ran);
  CHECK(zeros_in(scaled(denormal, 1.f, 1024, true, &worker_ran)) == n);
  CHECK(zeros_in(scaled(tiny, 0.25f, n)) == n);  // the serial path, on this thread

  set_flush_denormals(false);
  CHECK_FALSE(flush_denormals());
  CHECK(zeros_in(scaled(tiny, 0.25f, 1024, true, &worker_ran)) == 0);
  CHECK(worker_ran);
  CHECK(zeros_in(scaled(denormal, 1.f, 1024, true)) == 0);
}

TEST_CASE("set_flush_denormals: a thread that never set it follows it in recgrad's kernels") {
  RestoreSettings restore;
  set_num_threads(1);
  const std::vector<float> tiny(1000, FLT_MIN);
  // The thread starts before the setting changes (a thread started after would inherit the
  // caller's flags), then runs a kernel once it has changed.
  std::atomic<bool> go{false};
  int zeros = -1;
  std::thread other([&] {
    while (!go) std::this_thread::yield();
    zeros = zeros_in(scaled(tiny, 0.25f, 1000));
  });
  set_flush_denormals(true);
  go = true;
  other.join();
  CHECK(zeros == 1000);
}

#endif
