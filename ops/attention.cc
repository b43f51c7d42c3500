#include "ops/attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "autograd/graph.h"
#include "autograd/parallel.h"
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
  detail::parallel_for(l.rows, std::max<int64_t>(1, detail::kGrainExpensive / std::max<int64_t>(l.lk, 1)),
                       [&](int64_t lo, int64_t hi) {
                         for (int64_t r = lo; r < hi; ++r) body(r);
                       });
}

}  // namespace

Tensor masked_softmax(const Tensor& scores, const Tensor& key_padding, bool causal, float scale) {
  RECGRAD_CHECK(scores.dim() >= 2, "masked_softmax: scores ", scores.shape(),
                ": expected [..., Lq, Lk] (rank >= 2)");
  RECGRAD_CHECK(std::isfinite(scale), "masked_softmax: scores ", scores.shape(), ": scale ",
                scale, " is not finite");
  const int64_t lq = scores.size(-2), lk = scores.size(-1);
  const int64_t n = lq * lk == 0 ? 0 : scores.numel() / (lq * lk);
  int64_t heads_per_batch = 1;
  if (key_padding.defined()) {
    RECGRAD_CHECK(key_padding.dim() == 2 && key_padding.size(1) == lk, "masked_softmax: scores ",
                  scores.shape(), ", key_padding ", key_padding.shape(),
                  ": expected key_padding [B, ", lk, "]");
    const int64_t b = key_padding.size(0);
    RECGRAD_CHECK(b > 0 && n % b == 0, "masked_softmax: scores ", scores.shape(),
                  ", key_padding ", key_padding.shape(), ": ", n,
                  " score matrices do not split evenly over ", b, " batch rows");
    heads_per_batch = n / b;
  }
  const Layout l{n * lq, lq, lk, heads_per_batch, causal};
  Tensor out = Tensor::empty(scores.shape());
  {
    const float* ps = scores.data();
    const float* pp = key_padding.defined() ? key_padding.data() : nullptr;
    float* py = out.data();
    for_each_row(l, [&](int64_t r) {
      if (pp)
        forward_row<true>(ps + r * lk, pp + l.pad_offset(r), l.limit(r), lk, scale, py + r * lk);
      else
        forward_row<false>(ps + r * lk, nullptr, l.limit(r), lk, scale, py + r * lk);
    });
  }
  // Backward needs only y (masked keys are exactly the zeros of y), captured detached.
  return record("masked_softmax", out, {scores},
                [y = out.detach(), l, scale](const Tensor& grad_out, GradSink& g) {
                  if (!g.wants(0)) return;
                  Tensor ds = Tensor::empty(y.shape());
                  const float* py = y.data();
                  const float* pg = grad_out.data();
                  float* pd = ds.data();
                  for_each_row(l, [&](int64_t r) {
                    backward_row(py + r * l.lk, pg + r * l.lk, l.limit(r), l.lk, scale,
                                 pd + r * l.lk);
                  });
                  g.add(0, std::move(ds));
                });
}

}  // namespace recgrad
