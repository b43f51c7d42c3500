#pragma once
// Seeded random numbers. A Generator is a small sequential stream (splitmix64); tensors are
// filled from a counter-based hash of (a key drawn from the stream, element index), so a fill
// can run in parallel and still give the same values for the same seed at any thread count.
#include <cstdint>

namespace recgrad {

/// A seeded random stream; pass one explicitly wherever randomness is used.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_(seed) {}
  /// Next 64 random bits.
  uint64_t next_u64();
  /// Uniform in [0, 1).
  float next_float();
  /// Uniform integer in [0, n).
  uint64_t next_below(uint64_t n);
  /// The stream position, for checkpoints; set_state resumes exactly there.
  uint64_t state() const { return state_; }
  void set_state(uint64_t s) { state_ = s; }

 private:
  uint64_t state_;
};

namespace detail {
/// A well-mixed 64-bit hash of (key, index): the counter-based random source for fills.
inline uint64_t mix64(uint64_t key, uint64_t index) {
  uint64_t z = key + 0x9E3779B97F4A7C15ull * (index + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
/// Uniform [0, 1) float from 24 random bits.
inline float bits_to_unit_float(uint64_t bits) {
  return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}
}  // namespace detail

}  // namespace recgrad
