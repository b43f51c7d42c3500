#include "ops/causal_matmul.h"

#include <algorithm>
#include <vector>

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/blas.h"

namespace recgrad {
namespace {

// N matrices of L rows, each cut into row blocks [begin(b), end(b)) of `tile` rows (the last
// one shorter); d is the width of the [N, L, d] operands.
struct Blocks {
  int64_t n, l, d, tile;
  int64_t per_matrix() const { return (l + tile - 1) / tile; }
  int64_t begin(int64_t b) const { return b * tile; }
  int64_t end(int64_t b) const { return std::min(l, (b + 1) * tile); }
};

// body(matrix, scratch) for every matrix, matrices in parallel. Each call writes only its
// matrix's output and runs single-threaded sgemms (OpenBLAS is never threaded inside a task), so
// results do not depend on the thread count. `scratch` holds a tile² diagonal tile: one
// buffer per thread, kept between calls (a task runs start to finish on one thread).
template <typename Body>
void for_each_matrix(const Blocks& bl, const Body& body) {
  // ~2^18 multiply-adds per task, as matmul's batched products; a matrix takes L²/2 · d.
  const int64_t macs = std::max<int64_t>(1, bl.l * bl.l / 2 * bl.d);
  const size_t scratch_size = static_cast<size_t>(bl.tile * bl.tile);
  detail::parallel_for(bl.n, std::max<int64_t>(1, (int64_t{1} << 18) / macs),
                       [&](int64_t lo, int64_t hi) {
                         thread_local std::vector<float> scratch;
                         if (scratch.size() < scratch_size) scratch.resize(scratch_size);
                         for (int64_t n = lo; n < hi; ++n) body(n, scratch.data());
                       });
}

// The diagonal tile a[b0:b0+w, b0:b0+w] of an [L, L] matrix into tile [w, w], its strict upper
// part zeroed: the one place a masked operand is copied (a tile per row block), so that an sgemm
// never reads a's upper triangle.
void copy_lower_tile(const float* a, int64_t l, int64_t b0, int64_t w, float* tile) {
  for (int64_t r = 0; r < w; ++r) {
    const float* row = a + (b0 + r) * l + b0;
    std::copy(row, row + r + 1, tile + r * w);
    std::fill(tile + r * w + r + 1, tile + (r + 1) * w, 0.f);
  }
}

// out[n] = tril(x[n]·y[n]ᵀ), x, y [N, L, d], out [N, L, L]. Block b takes one sgemm over the
// columns it can see, [0, end(b)), y's transpose a BLAS flag; the diagonal tile's upper part
// and the columns past end(b) are then set to 0, so every entry is written.
void lower_x_yt(const Blocks& bl, int64_t n, const float* x, const float* y, float* out,
                float*) {
  const int64_t l = bl.l, d = bl.d;
  const float* xm = x + n * l * d;
  const float* ym = y + n * l * d;
  float* om = out + n * l * l;
  for (int64_t b = 0; b < bl.per_matrix(); ++b) {
    const int64_t b0 = bl.begin(b), e = bl.end(b);
    detail::raw_sgemm(false, true, e - b0, e, d, 1.f, xm + b0 * d, d, ym, d, 0.f, om + b0 * l, l);
    for (int64_t i = b0; i < e; ++i) std::fill(om + i * l + i + 1, om + (i + 1) * l, 0.f);
  }
}

// out[n] = tril(a[n])·y[n], a [N, L, L], y and out [N, L, d]. Rows [b0, e) of tril(a) are zero
// past column e: the columns left of the diagonal tile enter one sgemm straight from a, the
// diagonal tile, copied into scratch with its upper part zeroed (so a's upper triangle is never
// read), a second one that accumulates.
void tril_a_y(const Blocks& bl, int64_t n, const float* a, const float* y, float* out,
              float* scratch) {
  const int64_t l = bl.l, d = bl.d;
  const float* am = a + n * l * l;
  const float* ym = y + n * l * d;
  for (int64_t b = 0; b < bl.per_matrix(); ++b) {
    const int64_t b0 = bl.begin(b), w = bl.end(b) - b0;
    float* ob = out + n * l * d + b0 * d;
    if (b0 > 0) detail::raw_sgemm(false, false, w, d, b0, 1.f, am + b0 * l, l, ym, d, 0.f, ob, d);
    copy_lower_tile(am, l, b0, w, scratch);
    detail::raw_sgemm(false, false, w, d, w, 1.f, scratch, w, ym + b0 * d, d, b0 > 0 ? 1.f : 0.f,
                      ob, d);
  }
}

// out[n] = tril(a[n])ᵀ·y[n], a [N, L, L], y and out [N, L, d]: row j of tril(a)ᵀ is column j of
// tril(a), nonzero from row j down. For block b (columns [b0, e) of a), the rows below the
// diagonal tile enter one sgemm straight from a, its transpose a BLAS flag; the diagonal tile,
// copied into scratch with its upper part zeroed (a's upper triangle is never read), a second
// one that accumulates.
void tril_at_y(const Blocks& bl, int64_t n, const float* a, const float* y, float* out,
               float* scratch) {
  const int64_t l = bl.l, d = bl.d;
  const float* am = a + n * l * l;
  const float* ym = y + n * l * d;
  for (int64_t b = 0; b < bl.per_matrix(); ++b) {
    const int64_t b0 = bl.begin(b), e = bl.end(b), w = e - b0;
    float* ob = out + n * l * d + b0 * d;
    copy_lower_tile(am, l, b0, w, scratch);
    detail::raw_sgemm(true, false, w, d, w, 1.f, scratch, w, ym + b0 * d, d, 0.f, ob, d);
    if (e < l)
      detail::raw_sgemm(true, false, w, d, l - e, 1.f, am + e * l + b0, l, ym + e * d, d, 1.f, ob,
                        d);
  }
}

}  // namespace

Tensor causal_scores(const Tensor& q, const Tensor& k, int64_t tile) {
  RECGRAD_CHECK(q.dim() == 3 && q.shape() == k.shape() && q.size(1) >= 1 && q.size(2) >= 1,
                "causal_scores: q ", q.shape(), ", k ", k.shape(),
                ": expected equal shapes [N, L, d] with L, d >= 1");
  RECGRAD_CHECK(tile >= 1, "causal_scores: q ", q.shape(), ": tile ", tile, " must be >= 1");
  const Blocks bl{q.size(0), q.size(1), q.size(2), tile};
  Tensor out = Tensor::empty({bl.n, bl.l, bl.l});
  {
    const float* pq = q.data();
    const float* pk = k.data();
    float* po = out.data();
    for_each_matrix(bl, [&](int64_t n, float* scratch) { lower_x_yt(bl, n, pq, pk, po, scratch); });
  }
  // s = tril(q·kᵀ): dq = tril(ds)·k, dk = tril(ds)ᵀ·q. ds above the diagonal belongs to the
  // constant zeros and is never read.
  return record("causal_scores", out, {q, k}, [q, k, bl](const Tensor& ds, GradSink& g) {
    const float* pds = ds.data();
    if (g.wants(0)) {
      Tensor dq = Tensor::empty(q.shape());
      const float* pk = k.data();
      float* pdq = dq.data();
      for_each_matrix(bl,
                      [&](int64_t n, float* scratch) { tril_a_y(bl, n, pds, pk, pdq, scratch); });
      g.add(0, std::move(dq));
    }
    if (g.wants(1)) {
      Tensor dk = Tensor::empty(k.shape());
      const float* pq = q.data();
      float* pdk = dk.data();
      for_each_matrix(bl,
                      [&](int64_t n, float* scratch) { tril_at_y(bl, n, pds, pq, pdk, scratch); });
      g.add(1, std::move(dk));
    }
  });
}

Tensor causal_mix(const Tensor& a, const Tensor& v, int64_t tile) {
  RECGRAD_CHECK(a.dim() == 3 && v.dim() == 3 && a.size(1) == a.size(2) && v.size(0) == a.size(0) &&
                    v.size(1) == a.size(1) && a.size(1) >= 1 && v.size(2) >= 1,
                "causal_mix: a ", a.shape(), ", v ", v.shape(),
                ": expected a [N, L, L] and v [N, L, d] with L, d >= 1");
  RECGRAD_CHECK(tile >= 1, "causal_mix: a ", a.shape(), ": tile ", tile, " must be >= 1");
  const Blocks bl{v.size(0), v.size(1), v.size(2), tile};
  Tensor out = Tensor::empty(v.shape());
  {
    const float* pa = a.data();
    const float* pv = v.data();
    float* po = out.data();
    for_each_matrix(bl, [&](int64_t n, float* scratch) { tril_a_y(bl, n, pa, pv, po, scratch); });
  }
  // o = tril(a)·v: da = tril(do·vᵀ) (exact zeros above the diagonal, where a is not read),
  // dv = tril(a)ᵀ·do.
  return record("causal_mix", out, {a, v}, [a, v, bl](const Tensor& dout, GradSink& g) {
    const float* pdo = dout.data();
    if (g.wants(0)) {
      Tensor da = Tensor::empty(a.shape());
      const float* pv = v.data();
      float* pda = da.data();
      for_each_matrix(bl,
                      [&](int64_t n, float* scratch) { lower_x_yt(bl, n, pdo, pv, pda, scratch); });
      g.add(0, std::move(da));
    }
    if (g.wants(1)) {
      Tensor dv = Tensor::empty(v.shape());
      const float* pa = a.data();
      float* pdv = dv.data();
      for_each_matrix(bl,
                      [&](int64_t n, float* scratch) { tril_at_y(bl, n, pa, pdo, pdv, scratch); });
      g.add(1, std::move(dv));
    }
  });
}

}  // namespace recgrad
