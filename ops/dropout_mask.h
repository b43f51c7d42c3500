#pragma once
// The keep-or-drop test behind dropout (ops/dropout.h), for code that must drop exactly the
// elements dropout would: recsys's sparse batches drop the non-zeros of a CSR matrix by their
// dense positions (recsys/model_utils.h).
//
// Element i is kept iff a 32-bit counter-based hash of (key, i) is at least p·2^32: the mask is
// the same at any thread count, and backward regenerates it instead of storing it. The hash is
// Wellons' "lowbias32" finalizer over a Weyl sequence. It is 32-bit, not the 64-bit mix64 the
// fills use, because AVX2 has an 8-lane 32-bit multiply and no 64-bit one: with the 64-bit hash
// dropout stayed scalar and took 44% of a SASRec training step (benchmarks/e2e). For a fixed
// key the hash is a bijection of i, so no draw repeats within a 2^32-element segment; each
// segment hashes with its own key.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "autograd/generator.h"
#include "ops/fast_math.h"

namespace recgrad::detail {

/// The hash of element i (its low 32 bits) under a segment key, for one uint32_t or, lane by
/// lane, for a vector of them (GCC's vector extension; see dropout_block).
template <typename U>
inline U dropout_hash_lanes(uint32_t segment_key, U i) {
  U z = i * 0x9E3779B9u + segment_key;
  z ^= z >> 16;
  z *= 0x7FEB352Du;
  z ^= z >> 15;
  z *= 0x846CA68Bu;
  z ^= z >> 16;
  return z;
}

/// The 32-bit hash of element i (its low 32 bits) under a segment key.
inline uint32_t dropout_hash(uint32_t segment_key, uint32_t i) {
  return dropout_hash_lanes(segment_key, i);
}

/// The key of the 2^32-element segment holding element i, from the dropout call's key.
inline uint32_t dropout_segment_key(uint64_t key, uint64_t i) {
  return static_cast<uint32_t>(mix64(key, i >> 32));
}

/// Hashes at or above this keep their element: probability 1 - p to within 2^-32.
inline uint32_t dropout_threshold(float p) {
  const double t = std::ldexp(static_cast<double>(p), 32);
  return static_cast<uint32_t>(std::min(t, 4294967295.0));
}

/// Whether dropout with this key and threshold keeps element i (one element at a time; the
/// dense kernel inlines the same steps a block at a time).
inline bool dropout_keeps(uint64_t key, uint32_t threshold, uint64_t i) {
  return dropout_hash(dropout_segment_key(key, i), static_cast<uint32_t>(i)) >= threshold;
}

// dropout_span's kernel over kSimdBlock elements, in 8-lane vectors written out with GCC's
// vector extension (clang has it too): dropout_hash, lane by lane. Left to the auto-vectoriser,
// GCC vectorised across blocks instead, which for short spans (one row of attention weights)
// ran the scalar remainder loop: 3x slower there.
typedef uint32_t DropoutU32x8 __attribute__((vector_size(32)));
typedef float DropoutF32x8 __attribute__((vector_size(32)));
static_assert(kSimdBlock % 8 == 0, "a block is whole 8-lane vectors");

inline void dropout_block(const float* src, float* dst, uint32_t key, uint32_t first,
                          uint32_t threshold, float scale) {
  const DropoutU32x8 lane = {0, 1, 2, 3, 4, 5, 6, 7};
  const DropoutF32x8 kept = {scale, scale, scale, scale, scale, scale, scale, scale};
  const DropoutF32x8 dropped = {};
  for (int64_t h = 0; h < kSimdBlock; h += 8) {
    const DropoutU32x8 z = dropout_hash_lanes(key, lane + (first + static_cast<uint32_t>(h)));
    DropoutF32x8 x;
    std::memcpy(&x, src + h, sizeof x);
    x *= z >= threshold ? kept : dropped;
    std::memcpy(dst + h, &x, sizeof x);
  }
}

/// dst[j] = src[j]·(scale if element first + j is kept, else 0) for j < count: dropout's kernel
/// over one span of a tensor (ops/dropout.cc splits a tensor into spans across threads;
/// ops/attention.cc masks one row of attention weights at a time). Multiplying by a selected
/// factor keeps the loop branch-free (a branch on a random bit mispredicts often) and, as in
/// PyTorch, lets a NaN in src show up even where it is dropped. Every element's value depends
/// on its index only, so any split gives the same result.
inline void dropout_span(const float* src, float* dst, int64_t first, int64_t count,
                         uint64_t key, uint32_t threshold, float scale) {
  int64_t i = first;
  const int64_t end = first + count;
  while (i < end) {
    // One 32-bit key per 2^32 elements (the segment of i).
    const uint32_t k = dropout_segment_key(key, static_cast<uint64_t>(i));
    const int64_t stop = std::min(end, ((i >> 32) + 1) << 32);
    for (; i + kSimdBlock <= stop; i += kSimdBlock)
      dropout_block(src + (i - first), dst + (i - first), k, static_cast<uint32_t>(i), threshold,
                    scale);
    if (i < stop) {  // the ragged end, through a padded block: a scalar hash is ~8x slower
      float in[kSimdBlock] = {}, out[kSimdBlock];
      std::copy(src + (i - first), src + (stop - first), in);
      dropout_block(in, out, k, static_cast<uint32_t>(i), threshold, scale);
      std::copy(out, out + (stop - i), dst + (i - first));
      i = stop;
    }
  }
}

}  // namespace recgrad::detail
