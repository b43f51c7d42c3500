#pragma once
// Float buffers behind tensors, recycled through a size-bucketed cache.
//
// Training allocates the same buffer sizes every step (activations, gradients); returning them
// to glibc and asking again costs page faults and lock traffic (measured here: 30-77% of a
// BPR-MF step in libtorch). Freed buffers therefore go back to a per-size free list and are
// handed out again, up to a cap on cached bytes.
#include <cstddef>
#include <cstdint>
#include <memory>

namespace recgrad {

/// A 64-byte aligned float buffer, returned to the cache when the last owner lets go.
class Storage {
 public:
  /// Uninitialised buffer of `n` floats (from the cache when one of the right size is free).
  explicit Storage(int64_t n);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  int64_t size() const { return size_; }

 private:
  float* data_;
  int64_t size_;
  size_t bucket_bytes_;
};

/// Counters of the buffer cache, for benchmarks and leak tests.
struct StorageCacheStats {
  size_t cached_bytes = 0;   ///< bytes held in free lists, ready for reuse
  size_t live_bytes = 0;     ///< bytes owned by live storages
  uint64_t hits = 0;         ///< allocations served from the cache
  uint64_t misses = 0;       ///< allocations that went to the system allocator
};
StorageCacheStats storage_cache_stats();

/// Returns every cached (unused) buffer to the system allocator.
void release_cached_storage();

}  // namespace recgrad
