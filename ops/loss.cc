#include "ops/loss.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/fast_math.h"
#include "ops/reduce.h"

namespace recgrad {
namespace {

// Every transcendental call in the loss kernels goes through these two, so a faster (vectorised
// or approximate) exp/log1p can be swapped in at one place.
inline float exp_f(float x) { return detail::fast_exp(x); }
inline float log1p_f(float x) { return detail::fast_log1p_unit(x); }  // only called on [0, 1]

// softplus(x) = log(1 + eˣ) = max(x,0) + log1p(e^-|x|): the exponent is never positive, so
// neither overflows at |x| = 1000.
inline float softplus(float x) { return std::max(x, 0.f) + log1p_f(exp_f(-std::abs(x))); }

// σ(x) from e^-|x| on both sides of 0, for the same reason.
inline float sigmoid(float x) {
  const float e = exp_f(-std::abs(x));
  const float r = 1.f / (1.f + e);
  return detail::select(x >= 0.f, r, e * r);  // a blend, so the loop vectorises
}

// The scale a scalar loss's upstream gradient gets per counted element (kMean divides by the
// count; nothing counted gives 0 rather than 0/0).
float reduction_scale(Reduction reduction, float g, int64_t count) {
  if (reduction == Reduction::kSum) return g;
  return count > 0 ? static_cast<float>(static_cast<double>(g) / static_cast<double>(count)) : 0.f;
}

// The mean or sum of a loss whose terms were summed in double.
Tensor reduce_total(Reduction reduction, double total, int64_t count) {
  if (reduction == Reduction::kMean) total = count > 0 ? total / static_cast<double>(count) : 0.0;
  return scalar(static_cast<float>(total));
}

// Marks a loss whose gradient with respect to b is minus that with respect to a (mse, bpr):
// backward then negates da instead of evaluating a second derivative (and its exps).
struct NegatedGradA {};

// body(lo, hi) over [0, n) in chunks of exactly `grain` elements (the last may be shorter),
// in parallel. The boundaries depend only on n and grain: GCC compiles an elementwise loop into
// a vector body and a scalar remainder, which may round differently (FMA contraction, fast_exp),
// so chunks cut where the scheduler happens to split would make results vary run to run.
template <typename Body>
void fixed_chunks(int64_t n, int64_t grain, const Body& body) {
  detail::parallel_for((n + grain - 1) / grain, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) body(c * grain, std::min(n, (c + 1) * grain));
  });
}

// d_i = f(a_i, b_i)·g_i (per-element upstream gradient pg) or f(a_i, b_i)·s (shared scale).
template <typename F>
Tensor scaled_grad(const Tensor& a, const Tensor& b, const float* pg, float s, int64_t grain,
                   const F& f) {
  Tensor d = Tensor::empty(a.shape());
  const float* pa = a.data();
  const float* pb = b.data();
  float* pd = d.data();
  fixed_chunks(a.numel(), grain, [&](int64_t lo, int64_t hi) {
    if (pg) {
      detail::map_range(
          pd + lo, hi - lo, [&](float x, float y, float g) { return f(x, y) * g; }, pa + lo,
          pb + lo, pg + lo);
    } else {
      detail::map_range(
          pd + lo, hi - lo, [&](float x, float y) { return f(x, y) * s; }, pa + lo, pb + lo);
    }
  });
  return d;
}

// Σ value(a_i, b_i) over [lo, hi) in double. The terms are computed a block at a time into a
// float buffer (vectorised, see ops/fast_math.h) and added into one double accumulator per
// block lane, merged in lane order: a single running sum is a serial chain that cannot
// vectorise, and left bce_with_logits at 55% of a CDAE training step (benchmarks/e2e).
template <typename Value>
double sum_values(const Value& value, const float* pa, const float* pb, int64_t lo, int64_t hi) {
  constexpr int64_t kBlock = detail::kSimdBlock;
  double lanes[kBlock] = {};
  float terms[kBlock];
  int64_t i = lo;
  for (; i + kBlock <= hi; i += kBlock) {
    detail::map_block(terms, value, pa + i, pb + i);
    for (int64_t j = 0; j < kBlock; ++j) lanes[j] += static_cast<double>(terms[j]);
  }
  double acc = 0.0;
  for (; i < hi; ++i) acc += static_cast<double>(value(pa[i], pb[i]));
  for (int64_t j = 0; j < kBlock; ++j) acc += lanes[j];
  return acc;
}

// A loss l(a_i, b_i) over two inputs of one shape, reduced by `reduction`. `value` gives l,
// `grad_a` and `grad_b` give ∂l/∂a and ∂l/∂b (grad_b may be NegatedGradA). The sum runs over
// fixed chunks of `grain` elements, each accumulated in double, so it is the same at any
// thread count.
template <typename Value, typename GradA, typename GradB>
Tensor pointwise_loss(const char* op, const Tensor& a, const Tensor& b, Reduction reduction,
                      int64_t grain, const Value& value, const GradA& grad_a,
                      const GradB& grad_b) {
  RECGRAD_CHECK(a.shape() == b.shape(), op, ": shapes ", a.shape(), " and ", b.shape(),
                " differ (the loss pairs elements one to one; broadcast explicitly)");
  const int64_t n = a.numel();
  const float* pa = a.data();
  const float* pb = b.data();
  Tensor out;
  if (reduction == Reduction::kNone) {
    out = Tensor::empty(a.shape());
    float* po = out.data();
    fixed_chunks(n, grain, [&](int64_t lo, int64_t hi) {
      detail::map_range(po + lo, hi - lo, value, pa + lo, pb + lo);
    });
  } else {
    const double total = detail::chunked_reduce(
        n, grain, 0.0, [&](int64_t lo, int64_t hi) { return sum_values(value, pa, pb, lo, hi); },
        std::plus<double>());
    out = reduce_total(reduction, total, n);
  }

  return record(op, out, {a, b},
                [a, b, n, reduction, grain, grad_a, grad_b](const Tensor& g, GradSink& sink) {
                  const bool per_element = reduction == Reduction::kNone;
                  const float* pg = per_element ? g.data() : nullptr;
                  const float s = per_element ? 0.f : reduction_scale(reduction, g.item(), n);
                  constexpr bool negated = std::is_same_v<GradB, NegatedGradA>;
                  Tensor da;
                  if (sink.wants(0) || (negated && sink.wants(1)))
                    da = scaled_grad(a, b, pg, s, grain, grad_a);
                  if (sink.wants(1)) {
                    Tensor db;
                    if constexpr (negated) {
                      db = Tensor::empty(b.shape());
                      const float* src = da.data();
                      float* dst = db.data();
                      detail::parallel_for(n, detail::kGrainCheap, [&](int64_t lo, int64_t hi) {
                        for (int64_t i = lo; i < hi; ++i) dst[i] = -src[i];
                      });
                    } else {
                      db = scaled_grad(a, b, pg, s, grain, grad_b);
                    }
                    sink.add(1, std::move(db));
                  }
                  if (sink.wants(0)) sink.add(0, std::move(da));
                });
}

// Per-row losses (double) as the loss tensor: [B] for kNone, else their sum or their mean over
// `count` rows.
Tensor reduce_rows(Reduction reduction, const std::vector<double>& row_loss, int64_t count) {
  if (reduction == Reduction::kNone) {
    Tensor out = Tensor::empty({static_cast<int64_t>(row_loss.size())});
    for (size_t r = 0; r < row_loss.size(); ++r) out.data()[r] = static_cast<float>(row_loss[r]);
    return out;
  }
  double total = 0.0;
  for (double l : row_loss) total += l;
  return reduce_total(reduction, total, count);
}

// logsumexp of each row of logits [B, C], in double.
std::vector<double> row_logsumexp(const Tensor& logits) {
  const int64_t batch = logits.size(0), classes = logits.size(1);
  // logsumexp per row, stable: lse = m + log Σ exp(x - m). Rows are cut into fixed blocks of
  // kBlock classes so that a few rows of 100k classes still spread over the pool; each block
  // keeps (its max, Σ exp(x - its max)) in double, and a row's blocks are merged in order,
  // which depends only on C, never on the thread count.
  constexpr int64_t kBlock = int64_t{1} << 13;
  const int64_t blocks = (classes + kBlock - 1) / kBlock;
  const float* px = logits.data();
  std::vector<float> block_max(static_cast<size_t>(batch * blocks));
  std::vector<double> block_sum(static_cast<size_t>(batch * blocks));
  detail::parallel_for(batch * blocks,
                       std::max<int64_t>(1, detail::kGrainExpensive / std::min(classes, kBlock)),
                       [&](int64_t lo, int64_t hi) {
                         for (int64_t task = lo; task < hi; ++task) {
                           const int64_t r = task / blocks, k = task % blocks;
                           const float* x = px + r * classes + k * kBlock;
                           const int64_t len = std::min(kBlock, classes - k * kBlock);
                           const float m = detail::max_of(x, len);
                           block_max[task] = m;
                           block_sum[task] = detail::lane_sum(
                               0, len, [&](int64_t i) { return exp_f(x[i] - m); });
                         }
                       });
  std::vector<double> lse(static_cast<size_t>(batch));
  for (int64_t r = 0; r < batch; ++r) {
    const float* bm = block_max.data() + r * blocks;
    const double* bs = block_sum.data() + r * blocks;
    const float m = *std::max_element(bm, bm + blocks);
    double s = 0.0;
    for (int64_t k = 0; k < blocks; ++k) s += bs[k] * std::exp(static_cast<double>(bm[k] - m));
    lse[r] = static_cast<double>(m) + std::log(s);
  }
  return lse;
}

// d[r, j] = s_r·(exp(x[r, j] − lse_r)·mass_r − t[r, j]), the gradient of a softmax
// cross-entropy whose row r has target weights t summing to mass_r, scaled by s_r; rows with
// s_r = 0 get exact zeros, even for infinite logits. subtract_targets(r, j0, j1, dr) subtracts
// s_r·t[r, j] for j in [j0, j1) of row r (dr points at the row). The pass is split over
// elements, not rows, so B = 1 with 100k classes runs in parallel too.
template <typename SubtractTargets>
Tensor softmax_grad(const Tensor& logits, const std::vector<float>& lse,
                    const std::vector<float>& mass, const std::vector<float>& row_scale,
                    const SubtractTargets& subtract_targets) {
  const int64_t batch = logits.size(0), classes = logits.size(1);
  Tensor d = Tensor::empty(logits.shape());
  const float* x = logits.data();
  float* pd = d.data();
  detail::parallel_for(batch * classes, detail::kGrainExpensive, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi;) {
      const int64_t r = i / classes, row = r * classes;
      const int64_t j0 = i - row, j1 = std::min(hi, row + classes) - row;
      const float gr = row_scale[r], l = lse[r], scale = gr * mass[r];
      const float* xr = x + row;
      float* dr = pd + row;
      if (gr == 0.f) {
        for (int64_t j = j0; j < j1; ++j) dr[j] = 0.f;
      } else {
        for (int64_t j = j0; j < j1; ++j) dr[j] = exp_f(xr[j] - l) * scale;
        subtract_targets(r, j0, j1, dr);
      }
      i = row + j1;
    }
  });
  return d;
}

}  // namespace

Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction) {
  return pointwise_loss(
      "mse_loss", pred, target, reduction, detail::kGrainCheap,
      [](float p, float t) { return (p - t) * (p - t); },
      [](float p, float t) { return 2.f * (p - t); }, NegatedGradA{});
}

Tensor bce_with_logits(const Tensor& logits, const Tensor& targets, Reduction reduction) {
  return pointwise_loss(
      "bce_with_logits", logits, targets, reduction, detail::kGrainExpensive,
      [](float x, float t) { return std::max(x, 0.f) - x * t + log1p_f(exp_f(-std::abs(x))); },
      [](float x, float t) { return sigmoid(x) - t; }, [](float x, float) { return -x; });
}

Tensor bpr_loss(const Tensor& pos_scores, const Tensor& neg_scores, Reduction reduction) {
  // l = softplus(neg - pos):  ∂l/∂pos = -σ(neg - pos),  ∂l/∂neg = +σ(neg - pos).
  return pointwise_loss(
      "bpr_loss", pos_scores, neg_scores, reduction, detail::kGrainExpensive,
      [](float pos, float neg) { return softplus(neg - pos); },
      [](float pos, float neg) { return -sigmoid(neg - pos); }, NegatedGradA{});
}

Tensor cross_entropy(const Tensor& logits, const Ids& targets, Reduction reduction,
                     int64_t ignore_index) {
  RECGRAD_CHECK(logits.dim() == 2, "cross_entropy: logits ", logits.shape(),
                " must be 2-D [B,C] (batch, classes)");
  const int64_t batch = logits.size(0), classes = logits.size(1);
  RECGRAD_CHECK(classes >= 1, "cross_entropy: logits ", logits.shape(), " have no classes");
  RECGRAD_CHECK(targets.shape.size() == 1 && targets.numel() == batch, "cross_entropy: logits ",
                logits.shape(), " and targets ", targets.shape, ": targets must be [", batch,
                "], one class id per row");
  int64_t count = 0;  // rows that are not ignored: the mean's denominator
  for (int64_t r = 0; r < batch; ++r) {
    const int64_t t = targets.values[r];
    if (t == ignore_index) continue;
    RECGRAD_CHECK(t >= 0 && t < classes, "cross_entropy: target ", t, " in row ", r,
                  " is out of range for ", classes, " classes (logits ", logits.shape(),
                  ", ignore_index ", ignore_index, ")");
    ++count;
  }

  const float* px = logits.data();
  const std::vector<double> row_lse = row_logsumexp(logits);
  std::vector<float> lse(static_cast<size_t>(batch));
  std::vector<double> row_loss(static_cast<size_t>(batch));
  for (int64_t r = 0; r < batch; ++r) {
    lse[r] = static_cast<float>(row_lse[r]);
    const int64_t t = targets.values[r];
    row_loss[r] =
        t == ignore_index ? 0.0 : row_lse[r] - static_cast<double>(px[r * classes + t]);
  }

  const Tensor out = reduce_rows(reduction, row_loss, count);

  // dx = (softmax(x) - onehot(t))·g_r with softmax = exp(x - lse): only lse [B] is saved, and
  // backward is one pass over the logits.
  return record("cross_entropy", out, {logits},
                [logits, ids = targets.values, lse = std::move(lse), batch, count,
                 reduction, ignore_index](const Tensor& g, GradSink& sink) {
                  if (!sink.wants(0)) return;
                  std::vector<float> row_scale(static_cast<size_t>(batch));
                  const float shared = reduction == Reduction::kNone
                                           ? 0.f
                                           : reduction_scale(reduction, g.item(), count);
                  for (int64_t r = 0; r < batch; ++r)
                    row_scale[r] = ids[r] == ignore_index               ? 0.f
                                   : reduction == Reduction::kNone ? g.data()[r]
                                                                   : shared;
                  const std::vector<float> mass(static_cast<size_t>(batch), 1.f);
                  Tensor d = softmax_grad(logits, lse, mass, row_scale,
                                          [&](int64_t r, int64_t j0, int64_t j1, float* dr) {
                                            const int64_t t = ids[r];
                                            if (t >= j0 && t < j1) dr[t] -= row_scale[r];
                                          });
                  sink.add(0, std::move(d));
                });
}

namespace {

// The targets of soft_cross_entropy, dense or CSR: per row, the target mass Σ_j t[r, j] and
// Σ_j t[r, j]·x[r, j] (sums()), and dr[j] -= s·t[r, j] over j in [j0, j1) (subtract()).
struct DenseTargets {
  Tensor t;
  int64_t classes;
  // Zero targets add nothing, even against an infinite logit (a blend, so the loop still
  // vectorises).
  std::pair<double, double> sums(int64_t r, const float* x) const {
    const float* tr = t.data() + r * classes;
    const double mass = detail::lane_sum(0, classes, [&](int64_t j) { return tr[j]; });
    const double tx = detail::lane_sum(0, classes, [&](int64_t j) {
      return detail::select(tr[j] != 0.f, tr[j] * x[j], 0.f);
    });
    return {mass, tx};
  }
  void subtract(int64_t r, int64_t j0, int64_t j1, float s, float* dr) const {
    const float* tr = t.data() + r * classes;
    for (int64_t j = j0; j < j1; ++j) dr[j] -= s * tr[j];
  }
};

struct SparseTargets {
  std::shared_ptr<const CsrMatrix> t;
  // lane_sum's sums over the non-zeros only: each term goes to the lane of its column and the
  // columns past the last whole 8-lane block are added after the lanes, as lane_sum does, so
  // the zeros' absence changes no bit when a row's columns ascend.
  template <typename Term>
  double lane_sum_nonzeros(int64_t r, const Term& term) const {
    constexpr int64_t kLanes = 8;
    const int64_t full = t->cols - t->cols % kLanes;
    double acc[kLanes] = {};
    for (int64_t k = t->offsets[r]; k < t->offsets[r + 1]; ++k)
      if (t->columns[k] < full) acc[t->columns[k] % kLanes] += static_cast<double>(term(k));
    double s = 0;
    for (int64_t l = 0; l < kLanes; ++l) s += acc[l];
    for (int64_t k = t->offsets[r]; k < t->offsets[r + 1]; ++k)
      if (t->columns[k] >= full) s += static_cast<double>(term(k));
    return s;
  }
  std::pair<double, double> sums(int64_t r, const float* x) const {
    const double mass = lane_sum_nonzeros(r, [&](int64_t k) { return t->values[k]; });
    const double tx = lane_sum_nonzeros(r, [&](int64_t k) {
      const float v = t->values[k];
      return v != 0.f ? v * x[t->columns[k]] : 0.f;
    });
    return {mass, tx};
  }
  void subtract(int64_t r, int64_t j0, int64_t j1, float s, float* dr) const {
    for (int64_t k = t->offsets[r]; k < t->offsets[r + 1]; ++k) {
      const int64_t j = t->columns[k];
      if (j >= j0 && j < j1) dr[j] -= s * t->values[k];
    }
  }
};

// l_r = lse_r·Σt − Σ t·x per row, then reduced; backward one softmax_grad pass.
template <typename Targets>
Tensor soft_cross_entropy_of(const Tensor& logits, Targets targets, Reduction reduction) {
  const int64_t batch = logits.size(0), classes = logits.size(1);
  const std::vector<double> row_lse = row_logsumexp(logits);
  const float* px = logits.data();
  std::vector<double> row_loss(static_cast<size_t>(batch));
  std::vector<float> lse(static_cast<size_t>(batch)), mass(static_cast<size_t>(batch));
  detail::parallel_for(batch, std::max<int64_t>(1, detail::kGrainCheap / classes),
                       [&](int64_t lo, int64_t hi) {
                         for (int64_t r = lo; r < hi; ++r) {
                           const auto [m, tx] = targets.sums(r, px + r * classes);
                           row_loss[r] = row_lse[r] * m - tx;
                           lse[r] = static_cast<float>(row_lse[r]);
                           mass[r] = static_cast<float>(m);
                         }
                       });
  const Tensor out = reduce_rows(reduction, row_loss, batch);
  return record("soft_cross_entropy", out, {logits},
                [logits, targets = std::move(targets), lse = std::move(lse),
                 mass = std::move(mass), batch, reduction](const Tensor& g, GradSink& sink) {
                  if (!sink.wants(0)) return;
                  std::vector<float> row_scale(static_cast<size_t>(batch));
                  for (int64_t r = 0; r < batch; ++r)
                    row_scale[r] = reduction == Reduction::kNone
                                       ? g.data()[r]
                                       : reduction_scale(reduction, g.item(), batch);
                  Tensor d = softmax_grad(logits, lse, mass, row_scale,
                                          [&](int64_t r, int64_t j0, int64_t j1, float* dr) {
                                            targets.subtract(r, j0, j1, row_scale[r], dr);
                                          });
                  sink.add(0, std::move(d));
                });
}

void check_soft_logits(const Tensor& logits) {
  RECGRAD_CHECK(logits.dim() == 2 && logits.size(1) >= 1, "soft_cross_entropy: logits ",
                logits.shape(), " must be 2-D [B,C] with C >= 1");
}

}  // namespace

Tensor soft_cross_entropy(const Tensor& logits, const Tensor& targets, Reduction reduction) {
  check_soft_logits(logits);
  RECGRAD_CHECK(targets.shape() == logits.shape(), "soft_cross_entropy: targets ",
                targets.shape(), " must have the logits' shape ", logits.shape());
  return soft_cross_entropy_of(logits, DenseTargets{targets, logits.size(1)}, reduction);
}

Tensor soft_cross_entropy(const Tensor& logits, const CsrMatrix& targets, Reduction reduction) {
  check_soft_logits(logits);
  targets.validate("soft_cross_entropy");
  RECGRAD_CHECK(targets.rows == logits.size(0) && targets.cols == logits.size(1),
                "soft_cross_entropy: sparse targets [", targets.rows, ", ", targets.cols,
                "] must have the logits' shape ", logits.shape());
  return soft_cross_entropy_of(
      logits, SparseTargets{std::make_shared<const CsrMatrix>(targets)}, reduction);
}

}  // namespace recgrad
