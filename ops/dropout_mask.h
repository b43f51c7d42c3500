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

#include "autograd/generator.h"

namespace recgrad::detail {

/// The 32-bit hash of element i (its low 32 bits) under a segment key.
inline uint32_t dropout_hash(uint32_t segment_key, uint32_t i) {
  uint32_t z = i * 0x9E3779B9u + segment_key;
  z ^= z >> 16;
  z *= 0x7FEB352Du;
  z ^= z >> 15;
  z *= 0x846CA68Bu;
  z ^= z >> 16;
  return z;
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

}  // namespace recgrad::detail
