#include "autograd/storage.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace recgrad {
namespace {

constexpr size_t kAlignment = 64;                   // a cache line; also an AVX-512 vector
constexpr size_t kMaxCachedBytes = size_t{1} << 31;  // keep at most 2 GiB idle

// Rounds a request up to a bucket so nearby sizes share free lists: multiples of 256 bytes
// below 64 KiB, then four buckets per power of two (at most 25% slack).
size_t bucket_size(size_t bytes) {
  if (bytes <= 65536) return std::max<size_t>(256, (bytes + 255) / 256 * 256);
  size_t pow2 = 65536;
  while (pow2 * 2 < bytes) pow2 *= 2;
  const size_t step = pow2 / 4;
  return (bytes + step - 1) / step * step;
}

class Cache {
 public:
  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.live_bytes += bytes;
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        stats_.cached_bytes -= bytes;
        ++stats_.hits;
        return p;
      }
      ++stats_.misses;
    }
    void* p = std::aligned_alloc(kAlignment, bytes);
    if (!p) {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.live_bytes -= bytes;
      throw std::bad_alloc();
    }
    return p;
  }

  void give_back(void* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stats_.live_bytes -= bytes;
      if (stats_.cached_bytes + bytes <= kMaxCachedBytes) {
        free_[bytes].push_back(p);
        stats_.cached_bytes += bytes;
        return;
      }
    }
    std::free(p);
  }

  void release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [bytes, list] : free_)
      for (void* p : list) std::free(p);
    free_.clear();
    stats_.cached_bytes = 0;
  }

  StorageCacheStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  StorageCacheStats stats_;
};

// Leaked on purpose: storages owned by static tensors may be destroyed after any static cache.
Cache& cache() {
  static Cache* c = new Cache();
  return *c;
}

}  // namespace

Storage::Storage(int64_t n)
    : size_(n), bucket_bytes_(bucket_size(static_cast<size_t>(n) * sizeof(float))) {
  data_ = static_cast<float*>(cache().take(bucket_bytes_));
}

Storage::~Storage() { cache().give_back(data_, bucket_bytes_); }

StorageCacheStats storage_cache_stats() { return cache().stats(); }

void release_cached_storage() { cache().release(); }

}  // namespace recgrad
