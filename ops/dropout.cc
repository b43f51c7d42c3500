#include "ops/dropout.h"

#include "autograd/graph.h"
#include "autograd/parallel.h"

namespace recgrad {
namespace {

// dst_i = src_i·(scale if element i is kept, else 0). Whether i is kept depends only on
// (key, i), so forward and backward, and any split over threads, see the same mask.
// Multiplying by a selected factor keeps the loop branch-free (a branch on a random bit
// mispredicts often; measured ~5x slower at p = 0.3) and, as in PyTorch, lets a NaN in src
// show up even where it is dropped.
void apply_mask(const float* src, float* dst, int64_t n, uint64_t key, float p, float scale) {
  detail::parallel_for(n, detail::kGrainExpensive, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      const bool keep =
          detail::bits_to_unit_float(detail::mix64(key, static_cast<uint64_t>(i))) >= p;
      dst[i] = src[i] * (keep ? scale : 0.f);
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
  // Backward regenerates the mask from the key (one hash per element) instead of saving it:
  // the graph then holds 8 bytes instead of a mask as large as the activation, for every
  // dropout layer, until backward runs.
  return record("dropout", out, {x}, [key, p, scale, n](const Tensor& g, GradSink& sink) {
    if (!sink.wants(0)) return;
    Tensor d = Tensor::empty(g.shape());
    apply_mask(g.data(), d.data(), n, key, p, scale);
    sink.add(0, std::move(d));
  });
}

}  // namespace recgrad
