#include "ops/broadcast.h"

#include <cstring>

namespace recgrad::detail {

std::vector<int64_t> broadcast_strides(const Shape& shape, const Shape& out) {
  std::vector<int64_t> strides(out.size(), 0);
  const std::vector<int64_t> own = contiguous_strides(shape);
  const size_t offset = out.size() - shape.size();
  for (size_t d = 0; d < shape.size(); ++d)
    strides[offset + d] = (shape[d] == 1 && out[offset + d] != 1) ? 0 : own[d];
  return strides;
}

void sum_middle_axis(const float* x, float* y, int64_t outer, int64_t r, int64_t inner) {
  if (inner == 1) {  // contiguous rows: one sum per row, accumulated in double
    parallel_for(outer, std::max<int64_t>(1, kGrainCheap / std::max<int64_t>(r, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t o = lo; o < hi; ++o) {
                     // Eight independent double accumulators: the adds pipeline and vectorise
                     // instead of waiting on one chain; the lane layout is fixed, so the
                     // result is too.
                     const float* row = x + o * r;
                     double acc[8] = {};
                     int64_t k = 0;
                     for (; k + 8 <= r; k += 8)
                       for (int l = 0; l < 8; ++l) acc[l] += row[k + l];
                     double s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) +
                                ((acc[4] + acc[5]) + (acc[6] + acc[7]));
                     for (; k < r; ++k) s += row[k];
                     y[o] = static_cast<float>(s);
                   }
                 });
    return;
  }
  // Accumulate whole rows of `inner` elements: vectorised, and each output element still sums
  // its r terms in order. Work is split over (outer, inner-block) pairs.
  constexpr int64_t kBlock = 1024;
  const int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallel_for(outer * blocks, std::max<int64_t>(1, kGrainCheap / std::max<int64_t>(r * kBlock, 1)),
               [&](int64_t lo, int64_t hi) {
                 for (int64_t t = lo; t < hi; ++t) {
                   const int64_t o = t / blocks, j0 = (t % blocks) * kBlock;
                   const int64_t len = std::min(kBlock, inner - j0);
                   float* out = y + o * inner + j0;
                   std::memset(out, 0, sizeof(float) * len);
                   for (int64_t k = 0; k < r; ++k) {
                     const float* row = x + (o * r + k) * inner + j0;
                     for (int64_t j = 0; j < len; ++j) out[j] += row[j];
                   }
                 }
               });
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const Shape& gs = grad.shape();
  const size_t offset = gs.size() - shape.size();
  // Reduce runs of dimensions from the outside in: each reduced dimension d (a leading extra
  // one, or one where `shape` has 1) is summed as the middle axis of [outer, gs[d], inner].
  Tensor cur = grad;
  Shape cur_shape = gs;
  for (size_t d = 0; d < gs.size(); ++d) {
    const bool reduce = d < offset || (shape[d - offset] == 1 && gs[d] != 1);
    if (!reduce) continue;
    int64_t outer = 1, inner = 1;
    for (size_t i = 0; i < d; ++i) outer *= cur_shape[i];
    for (size_t i = d + 1; i < cur_shape.size(); ++i) inner *= cur_shape[i];
    Shape next_shape = cur_shape;
    next_shape[d] = 1;
    Tensor next = Tensor::empty(next_shape);
    sum_middle_axis(cur.data(), next.data(), outer, cur_shape[d], inner);
    cur = next;
    cur_shape = next_shape;
  }
  Tensor out = cur.detach();
  out.impl()->shape = shape;  // same numel: drop the leading 1s
  return out;
}

}  // namespace recgrad::detail
