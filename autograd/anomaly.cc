#include "autograd/anomaly.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>

#include "autograd/error.h"
#include "autograd/parallel.h"

// AnomalyModeGuard and the thread-local flag it sets live in graph.cc, beside NoGradGuard: record()
// and the engine read the flag there, so the check costs one branch when off.

namespace recgrad {
namespace detail {
namespace {

thread_local bool g_expect_infinities = false;

constexpr uint32_t kExponentBits = 0x7f800000u;  // all ones: ±inf (mantissa 0) or NaN

int64_t first_nan(const float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    if (std::isnan(p[i])) return i;
  return -1;
}

}  // namespace

int64_t first_non_finite(const float* p, int64_t n) {
  // The largest magnitude bit pattern decides whether anything is non-finite; a max reduction
  // over uint32 vectorises. Only then is the first offender located, serially.
  const uint32_t largest = chunked_reduce(
      n, kGrainCheap, uint32_t{0},
      [p](int64_t b, int64_t e) {
        uint32_t m = 0;
        for (int64_t i = b; i < e; ++i) {
          uint32_t u;
          std::memcpy(&u, p + i, sizeof u);
          m = std::max(m, u & 0x7fffffffu);
        }
        return m;
      },
      [](uint32_t a, uint32_t b) { return std::max(a, b); });
  if (largest < kExponentBits) return -1;
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, p + i, sizeof u);
    if ((u & kExponentBits) == kExponentBits) return i;
  }
  return -1;  // unreachable: the scan above saw one
}

std::string value_str(float v) {
  if (std::isnan(v)) return "nan";
  std::ostringstream os;
  os << v;
  return os.str();
}

std::string index_str(const Shape& shape, int64_t flat) {
  std::vector<int64_t> index(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    const int64_t size = std::max<int64_t>(1, shape[d]);
    index[d] = flat % size;
    flat /= size;
  }
  std::ostringstream os;
  os << '[';
  for (size_t d = 0; d < index.size(); ++d) os << (d ? "," : "") << index[d];
  os << ']';
  return os.str();
}

ExpectInfinities::ExpectInfinities(bool expected) : previous_(g_expect_infinities) {
  g_expect_infinities = expected;
}
ExpectInfinities::~ExpectInfinities() { g_expect_infinities = previous_; }

void check_forward_anomaly(const char* op, const Tensor& out, const std::vector<Tensor>& inputs) {
  if (!out.defined()) return;
  const float* p = out.data();
  const int64_t at = first_non_finite(p, out.numel());
  if (at < 0) return;
  // Describe the inputs: their shapes, and which already held non-finite values.
  std::ostringstream in;
  bool input_non_finite = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    in << (i ? ", " : "");
    if (!inputs[i].defined()) {
      in << "undefined";
      continue;
    }
    in << inputs[i].shape();
    const int64_t k = first_non_finite(inputs[i].data(), inputs[i].numel());
    if (k >= 0) {
      input_non_finite = true;
      in << " holding " << value_str(inputs[i].data()[k]) << " at " << index_str(inputs[i].shape(), k);
    }
  }
  const int64_t nan_at = std::isnan(p[at]) ? at : first_nan(p, out.numel());
  if (nan_at < 0 && (input_non_finite || g_expect_infinities)) return;  // infinities passed on
  const int64_t report = nan_at >= 0 ? nan_at : at;
  throw NonFiniteError(str_cat("anomaly mode: '", op, "' produced ", value_str(p[report]),
                               " in its forward output ", out.shape(), " at ",
                               index_str(out.shape(), report), " (inputs: ", in.str(), ")"));
}

}  // namespace detail
}  // namespace recgrad
