#include "autograd/generator.h"

namespace recgrad {

uint64_t Generator::next_u64() {
  // splitmix64: passes BigCrush, one add and a few multiplies per draw.
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

float Generator::next_float() { return detail::bits_to_unit_float(next_u64()); }

uint64_t Generator::next_below(uint64_t n) {
  // Lemire's multiply-shift with rejection: unbiased for every n.
  uint64_t x = next_u64();
  __uint128_t m = static_cast<__uint128_t>(x) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = -n % n;
    while (low < threshold) {
      x = next_u64();
      m = static_cast<__uint128_t>(x) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

}  // namespace recgrad
