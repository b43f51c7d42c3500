#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/dropout_mask.h"
#include "ops/fast_math.h"
#include "ops/reduce.h"

namespace recgrad {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Where each query row's keys come from: matrix n = row / lq, query i = row % lq; keys
// [0, limit) may be allowed (causal rows stop at i + 1), and among them those whose padding
// entry is 0.
struct Layout {
  int64_t rows, lq, lk;
  int64_t heads_per_batch;  // N / B: consecutive matrices sharing one key_padding row
  bool causal;
  int64_t limit(int64_t row) const { return causal ? std::min(lk, row % lq + 1) : lk; }
  int64_t pad_offset(int64_t row) const { return (row / lq / heads_per_batch) * lk; }
};

// y[0, lk) of one row. kPad: whether `pad` (that row's key_padding) is consulted; a template
// parameter so that the loops stay branch-free and vectorise.
template <bool kPad>
void forward_row(const float* s, const float* pad, int64_t limit, int64_t lk, float scale,
                 float* y) {
  float m = kNegInf;
  for (int64_t k = 0; k < limit; ++k) {
    const float v = scale * s[k];
    const bool better = (!kPad || pad[k] == 0.f) && v > m;
    m = better ? v : m;
  }
  if (m == kNegInf) {  // no allowed key (or only -inf scores): zeros, not 0/0
    std::fill(y, y + lk, 0.f);
    return;
  }
  const double sum = detail::lane_sum(0, limit, [&](int64_t k) {
    const float e = detail::fast_exp(scale * s[k] - m);
    return y[k] = kPad ? detail::select(pad[k] == 0.f, e, 0.f) : e;
  });
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t k = 0; k < limit; ++k) y[k] *= inv;
  std::fill(y + limit, y + lk, 0.f);
}

// ds = scale · y ⊙ (g − Σ g·y) over one row; keys past `limit` have y = 0 and get 0.
void backward_row(const float* y, const float* g, int64_t limit, int64_t lk, float scale,
                  float* ds) {
  const float t = static_cast<float>(
      detail::lane_sum(0, limit, [&](int64_t k) { return static_cast<double>(g[k]) * y[k]; }));
  for (int64_t k = 0; k < limit; ++k) ds[k] = scale * y[k] * (g[k] - t);
  std::fill(ds + limit, ds + lk, 0.f);
}

// body(row) for every query row, rows split across the pool (each row is written by one task).
template <typename Body>
void for_each_row(const Layout& l, const Body& body) {
  detail::parallel_for(l.rows,
                       std::max<int64_t>(1, detail::kGrainExpensive / std::max<int64_t>(l.lk, 1)),
                       [&](int64_t lo, int64_t hi) {
                         for (int64_t r = lo; r < hi; ++r) body(r);
                       });
}

// The checks and the row layout shared by masked_softmax and masked_softmax_dropout.
Layout layout_of(const char* op, const Tensor& scores, const Tensor& key_padding, bool causal,
                 float scale) {
  RECGRAD_CHECK(scores.dim() >= 2, op, ": scores ", scores.shape(),
                ": expected [..., Lq, Lk] (rank >= 2)");
  RECGRAD_CHECK(std::isfinite(scale), op, ": scores ", scores.shape(), ": scale ", scale,
                " is not finite");
  const int64_t lq = scores.size(-2), lk = scores.size(-1);
  const int64_t n = lq * lk == 0 ? 0 : scores.numel() / (lq * lk);
  int64_t heads_per_batch = 1;
  if (key_padding.defined()) {
    RECGRAD_CHECK(key_padding.dim() == 2 && key_padding.size(1) == lk, op, ": scores ",
                  scores.shape(), ", key_padding ", key_padding.shape(),
                  ": expected key_padding [B, ", lk, "]");
    const int64_t b = key_padding.size(0);
    RECGRAD_CHECK(b > 0 && n % b == 0, op, ": scores ", scores.shape(), ", key_padding ",
                  key_padding.shape(), ": ", n, " score matrices do not split evenly over ", b,
                  " batch rows");
    heads_per_batch = n / b;
  }
  return Layout{n * lq, lq, lk, heads_per_batch, causal};
}

// y = the masked softmax of every row of scores; then(r, y's row r) runs right after the row is
// written, while it is in cache.
template <typename Then>
Tensor softmax_rows(const Layout& l, const Tensor& scores, const Tensor& key_padding, float scale,
                    const Then& then) {
  Tensor out = Tensor::empty(scores.shape());
  const float* ps = scores.data();
  const float* pp = key_padding.defined() ? key_padding.data() : nullptr;
  float* py = out.data();
  for_each_row(l, [&](int64_t r) {
    if (pp)
      forward_row<true>(ps + r * l.lk, pp + l.pad_offset(r), l.limit(r), l.lk, scale,
                        py + r * l.lk);
    else
      forward_row<false>(ps + r * l.lk, nullptr, l.limit(r), l.lk, scale, py + r * l.lk);
    then(r, py + r * l.lk);
  });
  return out;
}

// ds, row by row: row(r, y's row, the output gradient's row, ds's row) writes ds's row r.
template <typename Row>
Tensor grad_rows(const Layout& l, const Tensor& y, const Tensor& grad_out, const Row& row) {
  Tensor ds = Tensor::empty(y.shape());
  const float* py = y.data();
  const float* pg = grad_out.data();
  float* pd = ds.data();
  for_each_row(l, [&](int64_t r) { row(r, py + r * l.lk, pg + r * l.lk, pd + r * l.lk); });
  return ds;
}

// Dropout's mask over one row's allowed keys [0, limit) (row r of the [N·Lq, Lk] weights, so
// element r·Lk + k of the tensor, as dropout indexes it); the keys past limit are 0 already.
struct RowDropout {
  uint64_t key;
  uint32_t threshold;
  float scale;
  void apply(const float* src, float* dst, int64_t r, int64_t lk, int64_t limit) const {
    detail::dropout_span(src, dst, r * lk, limit, key, threshold, scale);
  }
};

}  // namespace

Tensor masked_softmax(const Tensor& scores, const Tensor& key_padding, bool causal, float scale) {
  const Layout l = layout_of("masked_softmax", scores, key_padding, causal, scale);
  Tensor out = softmax_rows(l, scores, key_padding, scale, [](int64_t, const float*) {});
  // Backward needs only y (masked keys are exactly the zeros of y), captured detached.
  return record(
      "masked_softmax", out, {scores},
      [y = out.detach(), l, scale](const Tensor& grad_out, GradSink& g) {
        if (!g.wants(0)) return;
        g.add(0, grad_rows(l, y, grad_out,
                           [&](int64_t r, const float* y_row, const float* g_row, float* ds_row) {
                             backward_row(y_row, g_row, l.limit(r), l.lk, scale, ds_row);
                           }));
      });
}

Tensor masked_softmax_dropout(const Tensor& scores, const Tensor& key_padding, bool causal,
                              float scale, float p, bool training, Generator& gen) {
  RECGRAD_CHECK(p >= 0.f && p < 1.f, "masked_softmax_dropout: p = ", p, " for scores ",
                scores.shape(), ": p must lie in [0, 1)");
  if (!training || p == 0.f) return masked_softmax(scores, key_padding, causal, scale);
  const Layout l = layout_of("masked_softmax_dropout", scores, key_padding, causal, scale);
  const RowDropout drop{gen.next_u64(), detail::dropout_threshold(p), 1.f / (1.f - p)};
  // y, the weights before dropout, is what backward needs; out = dropout(y), each row written
  // right after y's.
  Tensor out = Tensor::empty(scores.shape());
  float* po = out.data();
  const Tensor y = softmax_rows(l, scores, key_padding, scale, [&](int64_t r, const float* y_row) {
    const int64_t limit = l.limit(r);
    drop.apply(y_row, po + r * l.lk, r, l.lk, limit);
    std::fill(po + r * l.lk + limit, po + (r + 1) * l.lk, 0.f);
  });
  return record(
      "masked_softmax_dropout", out, {scores},
      [y, l, scale, drop](const Tensor& grad_out, GradSink& g) {
        if (!g.wants(0)) return;
        g.add(0, grad_rows(l, y, grad_out,
                           [&](int64_t r, const float* y_row, const float* g_row, float* ds_row) {
                             // dropout's backward (the masked gradient, into ds's row), then the
                             // softmax's, reading that row as its gradient.
                             const int64_t limit = l.limit(r);
                             drop.apply(g_row, ds_row, r, l.lk, limit);
                             backward_row(y_row, ds_row, limit, l.lk, scale, ds_row);
                           }));
      });
}

}  // namespace recgrad
