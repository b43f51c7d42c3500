#include "ops/dropout.h"

#include <algorithm>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/dropout_mask.h"

namespace recgrad {
namespace {

// dst_i = src_i·(scale if element i is kept, else 0), spans of the tensor across threads.
// Whether i is kept depends only on (key, i) (ops/dropout_mask.h), so forward and backward, and
// any split over threads, see the same mask.
void apply_mask(const float* src, float* dst, int64_t n, uint64_t key, float p, float scale) {
  const uint32_t threshold = detail::dropout_threshold(p);
  detail::parallel_for(n, detail::kGrainCheap, [&](int64_t lo, int64_t hi) {
    detail::dropout_span(src + lo, dst + lo, lo, hi - lo, key, threshold, scale);
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
