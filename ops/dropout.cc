#include "ops/dropout.h"

#include <algorithm>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/dropout_mask.h"
#include "ops/fast_math.h"

namespace recgrad {
namespace {

// dst[j] = src[j]·(scale if kept, else 0) for one block of kSimdBlock elements: a fixed trip
// count and __restrict, which GCC vectorises (see ops/fast_math.h).
inline void mask_block(const float* __restrict src, float* __restrict dst, uint32_t key,
                       uint32_t first, uint32_t threshold, float scale) {
  for (int64_t j = 0; j < detail::kSimdBlock; ++j) {
    const uint32_t h = detail::dropout_hash(key, first + static_cast<uint32_t>(j));
    dst[j] = src[j] * (h >= threshold ? scale : 0.f);
  }
}

// dst_i = src_i·(scale if element i is kept, else 0). Whether i is kept depends only on
// (key, i) (ops/dropout_mask.h), so forward and backward, and any split over threads, see the
// same mask. Multiplying by a selected factor keeps the loop branch-free (a branch on a random
// bit mispredicts often) and, as in PyTorch, lets a NaN in src show up even where it is dropped.
void apply_mask(const float* src, float* dst, int64_t n, uint64_t key, float p, float scale) {
  const uint32_t threshold = detail::dropout_threshold(p);
  detail::parallel_for(n, detail::kGrainCheap, [&](int64_t lo, int64_t hi) {
    int64_t i = lo;
    while (i < hi) {
      // One 32-bit key per 2^32 elements (the segment of i).
      const uint32_t k = detail::dropout_segment_key(key, static_cast<uint64_t>(i));
      const int64_t segment_end = ((i >> 32) + 1) << 32;
      const int64_t end = std::min(hi, segment_end);
      for (; i + detail::kSimdBlock <= end; i += detail::kSimdBlock)
        mask_block(src + i, dst + i, k, static_cast<uint32_t>(i), threshold, scale);
      for (; i < end; ++i)
        dst[i] =
            src[i] * (detail::dropout_hash(k, static_cast<uint32_t>(i)) >= threshold ? scale : 0.f);
    }
  });
}

}  // namespace

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  RECGRAD_CHECK(p >= 0.f && p < 1.f, "dropout: p = ", p, " for input ", x.shape(),
                ": p must lie in [0, 1)");
  if (!training || p == 0.f) return x;
  const uint64_t key = gen.next_u64();
  const float scale = 1.f / (1.f - p);
  const int64_t n = x.numel();
  Tensor out = Tensor::empty(x.shape());
  apply_mask(x.data(), out.data(), n, key, p, scale);
  // Backward regenerates the mask from the key (a few integer operations per element) instead
  // of saving it: the graph then holds 8 bytes instead of a mask as large as the activation,
  // for every dropout layer, until backward runs.
  return record("dropout", out, {x}, [key, p, scale, n](const Tensor& g, GradSink& sink) {
    if (!sink.wants(0)) return;
    Tensor d = Tensor::empty(g.shape());
    apply_mask(g.data(), d.data(), n, key, p, scale);
    sink.add(0, std::move(d));
  });
}

}  // namespace recgrad
