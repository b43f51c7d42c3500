#pragma once
// One helper, one policy for CPU parallelism. recgrad runs its kernels in its own oneTBB arena
// (so an embedding program's TBB work is not throttled); OpenBLAS is kept single-threaded and
// fed from this arena (see ops/blas.h), so one pool owns the cores.
//
// Determinism: parallel_for bodies write disjoint outputs, so scheduling cannot change results;
// reductions use chunked_reduce, whose chunks depend only on n and the chunk size, never on the
// thread count, and whose partial results are combined in chunk order.
//
// Under ThreadSanitizer (--config=tsan) the loops run on std::threads forked and joined per call
// instead of TBB. The system's oneTBB is not instrumented, so TSan cannot see its task hand-offs:
// it reports TBB's own task objects as races on every parallel_for and spins ~100x slower.
// Thread creation and join are happens-before edges TSan knows exactly, the same guarantee
// TBB gives (everything before the call happens before every body; every body happens before the
// return), so what TSan checks is what could be our bug: bodies running at once that touch the
// same memory. TBB's scheduler itself is exercised by the other builds only.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_sort.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#if defined(__SANITIZE_THREAD__)  // GCC's -fsanitize=thread
#define RECGRAD_FORK_JOIN_THREADS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)  // clang's
#define RECGRAD_FORK_JOIN_THREADS 1
#endif
#endif

namespace recgrad {

/// Threads used by recgrad's kernels (defaults to the machine's cores, or RECGRAD_NUM_THREADS).
int num_threads();

/// Flush denormal floats to zero (x86's FTZ and DAZ flags): results and inputs below ~1.2e-38
/// count as 0. Off by default (IEEE gradual underflow), as in PyTorch (torch.set_flush_denormal).
/// Why turn it on: each operation on a denormal costs ~100 cycles, and an optimizer can push
/// weights there, e.g. Adam's L2 decay on the weights of dead ReLU units (NeuMF with weight
/// decay trained 10x slower). Set for the calling thread at once and for every other thread as
/// it next runs a recgrad kernel; the recgrad CLI turns it on. No effect off x86; returns
/// whether the setting is supported.
bool set_flush_denormals(bool on);
/// The setting of set_flush_denormals.
bool flush_denormals();

namespace detail {

/// The arena every recgrad kernel runs in; rebuilt by set_num_threads.
tbb::task_arena& arena();
/// Rebuilds the arena with `n` threads (use recgrad::set_num_threads, which also sets BLAS).
void set_arena_threads(int n);

/// Grain sizes (elements per task), chosen by measurement in benchmarks/elementwise_bench:
/// a task should cost ~100k cycles so scheduling overhead stays under a few percent.
constexpr int64_t kGrainCheap = 1 << 15;     // add, mul, copy: ~1 cycle/element
constexpr int64_t kGrainExpensive = 1 << 12;  // exp, log, tanh: ~10-20 cycles/element

/// Items (rows, columns, tiles) per task when each costs `cost` elements' work: about `grain`
/// elements a task, and at least one item.
constexpr int64_t items_per_task(int64_t cost, int64_t grain = kGrainCheap) {
  return grain / (cost > 1 ? cost : 1) > 1 ? grain / (cost > 1 ? cost : 1) : 1;
}

/// Brings the calling thread's FTZ/DAZ flags to set_flush_denormals' setting (a thread-local
/// check when they already match). parallel_for and sgemm call it.
void sync_denormal_mode();

/// The TSan build's parallel_for: chunks of `grain` handed out to num_threads() std::threads
/// (the caller included), forked and joined in this call; the first exception is rethrown.
void fork_join_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& body);

/// body(begin, end) over [0, n) in chunks of at least `grain`; serial when n <= grain.
template <typename Body>
void parallel_for(int64_t n, int64_t grain, const Body& body) {
  if (n <= 0) return;
  // The workers run with this thread's FTZ/DAZ: oneTBB hands the caller's floating-point
  // settings to the tasks of its parallel_for (and std::threads inherit them).
  sync_denormal_mode();
  if (n <= grain || num_threads() == 1) {
    body(int64_t{0}, n);
    return;
  }
#ifdef RECGRAD_FORK_JOIN_THREADS
  fork_join_for(n, grain, body);
#else
  arena().execute([&] {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                      [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
  });
#endif
}

/// Sorts [first, last) like std::sort, in parallel in recgrad's arena (serially under TSan).
template <typename It>
void parallel_sort(It first, It last) {
#ifdef RECGRAD_FORK_JOIN_THREADS
  std::sort(first, last);
#else
  arena().execute([&] { tbb::parallel_sort(first, last); });
#endif
}

/// Reduces [0, n) deterministically: chunk(begin, end) -> T over fixed chunks of `chunk`
/// elements (in parallel), then combine(acc, part) in chunk order (serially).
template <typename T, typename ChunkFn, typename Combine>
T chunked_reduce(int64_t n, int64_t chunk, T init, const ChunkFn& chunk_fn, const Combine& combine) {
  const int64_t n_chunks = n <= 0 ? 0 : (n + chunk - 1) / chunk;
  std::vector<T> parts(static_cast<size_t>(n_chunks));
  parallel_for(n_chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) parts[c] = chunk_fn(c * chunk, std::min(n, (c + 1) * chunk));
  });
  T acc = init;
  for (const T& p : parts) acc = combine(acc, p);
  return acc;
}

}  // namespace detail
}  // namespace recgrad
