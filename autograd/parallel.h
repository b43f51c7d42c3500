#pragma once
// One helper, one policy for CPU parallelism. recgrad runs its kernels in its own oneTBB arena
// (so an embedding program's TBB work is not throttled); OpenBLAS is kept single-threaded and
// fed from this arena (see ops/blas.h), so one pool owns the cores.
//
// Determinism: parallel_for bodies write disjoint outputs, so scheduling cannot change results;
// reductions use chunked_reduce, whose chunks depend only on n and the chunk size, never on the
// thread count, and whose partial results are combined in chunk order.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cstdint>
#include <vector>

namespace recgrad {

/// Threads used by recgrad's kernels (defaults to the machine's cores, or RECGRAD_NUM_THREADS).
int num_threads();

namespace detail {

/// The arena every recgrad kernel runs in; rebuilt by set_num_threads.
tbb::task_arena& arena();
/// Rebuilds the arena with `n` threads (use recgrad::set_num_threads, which also sets BLAS).
void set_arena_threads(int n);

/// Grain sizes (elements per task), chosen by measurement in benchmarks/elementwise_bench:
/// a task should cost ~100k cycles so scheduling overhead stays under a few percent.
constexpr int64_t kGrainCheap = 1 << 15;     // add, mul, copy: ~1 cycle/element
constexpr int64_t kGrainExpensive = 1 << 12;  // exp, log, tanh: ~10-20 cycles/element

/// body(begin, end) over [0, n) in chunks of at least `grain`; serial when n <= grain.
template <typename Body>
void parallel_for(int64_t n, int64_t grain, const Body& body) {
  if (n <= 0) return;
  if (n <= grain || num_threads() == 1) {
    body(int64_t{0}, n);
    return;
  }
  arena().execute([&] {
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, grain),
                      [&](const tbb::blocked_range<int64_t>& r) { body(r.begin(), r.end()); });
  });
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
