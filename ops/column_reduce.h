#pragma once
// Deterministic per-column sums over the rows of a [rows, width] layout, in parallel over rows:
// the reduction behind bias gradients (Σ over rows of dy) and layer_norm's dweight/dbias.
//
// Rows are cut into fixed chunks (their size depends only on rows and width, never on the thread
// count); each chunk accumulates into its own zeroed double buffer, in parallel, and the buffers
// are added up in chunk order. The result is bit-identical at any thread count. At most
// kMaxChunks buffers exist, so a huge width (a scoring layer over 100k items) costs at most
// kMaxChunks·width doubles of scratch.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "autograd/parallel.h"
#include "ops/fast_math.h"

namespace recgrad::detail {

namespace column_reduce_internal {
template <int64_t N>
inline void add_block(double* __restrict acc, const float* __restrict row) {
  for (int64_t j = 0; j < N; ++j) acc[j] += row[j];
}
}  // namespace column_reduce_internal

/// acc[j] += row[j] for j in [0, n): a row's share of a column sum. GCC leaves the plain loop
/// scalar at -O2 (unknown trip count) and vectorises fixed kSimdBlock blocks over __restrict
/// parameters (ops/fast_math.h); each acc[j] gets the same additions in the same order.
inline void add_row(double* acc, const float* row, int64_t n) {
  const int64_t full = n - n % kSimdBlock;
  for (int64_t j = 0; j < full; j += kSimdBlock)
    column_reduce_internal::add_block<kSimdBlock>(acc + j, row + j);
  for (int64_t j = full; j < n; ++j) acc[j] += row[j];
}

/// Rows per chunk for column_reduce: a fixed function of (rows, width).
inline int64_t column_chunk_rows(int64_t rows, int64_t width) {
  constexpr int64_t kMaxChunks = 256;       // bounds the scratch buffers
  constexpr int64_t kChunkElems = 1 << 14;  // ~a task's worth of work per chunk
  return std::max({int64_t{1}, (rows + kMaxChunks - 1) / kMaxChunks,
                   kChunkElems / std::max<int64_t>(width, 1)});
}

/// For each fixed chunk [r0, r1) of [0, rows), body(r0, r1, acc) adds its rows' contributions
/// into acc[0, n_acc) (zeroed doubles; it may also write per-row outputs of its own rows). The
/// chunks' accumulators are then summed in chunk order and returned (n_acc doubles). `width`
/// (elements per row) only sets the chunk size.
template <typename Body>
std::vector<double> column_reduce(int64_t rows, int64_t width, int64_t n_acc, const Body& body) {
  const int64_t chunk = column_chunk_rows(rows, width);
  const int64_t n_chunks = rows <= 0 ? 0 : (rows + chunk - 1) / chunk;
  std::vector<double> acc(static_cast<size_t>(n_chunks * n_acc), 0.0);
  parallel_for(n_chunks, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t c = lo; c < hi; ++c)
      body(c * chunk, std::min(rows, (c + 1) * chunk), acc.data() + c * n_acc);
  });
  // The combine is O(n_chunks·n_acc), small beside the O(rows·width) pass above.
  std::vector<double> total(static_cast<size_t>(n_acc), 0.0);
  for (int64_t c = 0; c < n_chunks; ++c) {
    const double* part = acc.data() + c * n_acc;
    for (int64_t j = 0; j < n_acc; ++j) total[j] += part[j];
  }
  return total;
}

}  // namespace recgrad::detail
