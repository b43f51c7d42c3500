#include "ops/sparse_linear.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/column_reduce.h"

#ifdef __AVX__
#include <immintrin.h>
#endif

namespace recgrad {
namespace {

// y[0, n) += a·x[0, n). The restrict qualifiers let GCC vectorise it (-O3 -march=native).
inline void axpy(int64_t n, float a, const float* __restrict x, float* __restrict y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

// Σ x[i]·y[i] in 8 interleaved partial sums, added up in a fixed order: GCC may not reorder a
// single float sum (no -ffast-math), so a one-accumulator loop runs scalar at one add per FMA
// latency; eight independent lanes vectorise into one AVX register. Same order on any thread.
inline float dot(int64_t n, const float* __restrict x, const float* __restrict y) {
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) lane[l] += x[i + l] * y[i + l];
  for (int l = 0; i < n; ++i, ++l) lane[l] += x[i] * y[i];
  return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

// The CSR matrix regrouped by column (a counting sort, stable: within a column the entries keep
// their CSR order, so rows ascend). Column c's entries are [offsets[c], offsets[c + 1]); each
// names its row and its index in the CSR arrays. The weight gradients are sums over a column's
// entries, and walking them in this fixed order is what makes those sums deterministic.
struct ByColumn {
  std::vector<int64_t> offsets, rows, entries;
};

ByColumn by_column(const CsrMatrix& x) {
  ByColumn t;
  t.offsets.assign(static_cast<size_t>(x.cols + 1), 0);
  for (int64_t c : x.columns) ++t.offsets[c + 1];
  for (int64_t c = 0; c < x.cols; ++c) t.offsets[c + 1] += t.offsets[c];
  t.rows.resize(x.columns.size());
  t.entries.resize(x.columns.size());
  std::vector<int64_t> next(t.offsets.begin(), t.offsets.end() - 1);
  for (int64_t r = 0; r < x.rows; ++r)
    for (int64_t k = x.offsets[r]; k < x.offsets[r + 1]; ++k) {
      const int64_t slot = next[x.columns[k]]++;
      t.rows[slot] = r;
      t.entries[slot] = k;
    }
  return t;
}

// db[o] += Σ_r dy[r, o], rows in fixed chunks summed in double in chunk order (as linear's).
void add_bias_grad(const float* dy, int64_t rows, int64_t width, float* db) {
  const std::vector<double> total =
      detail::column_reduce(rows, width, width, [&](int64_t r0, int64_t r1, double* acc) {
        for (int64_t r = r0; r < r1; ++r) detail::add_row(acc, dy + r * width, width);
      });
  for (int64_t j = 0; j < width; ++j) db[j] += static_cast<float>(total[j]);
}

void check_weight(const char* op, const Tensor& weight, const Tensor& bias) {
  RECGRAD_CHECK(weight.defined() && weight.dim() == 2, op, ": weight ",
                weight.defined() ? weight.shape().str() : "(undefined)",
                " must be 2-D [out, in]");
  RECGRAD_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == weight.size(0)), op,
                ": bias ", bias.defined() ? bias.shape().str() : "", " does not match weight ",
                weight.shape(), ": expected [", weight.size(0), "]");
}

// sparse_linear works on chunks of kChunk output units at a time, one chunk per task: the
// chunk's slice of W, transposed into a scratch Wᵀ [in, kChunk] (in·128 B: 475 KB at in = 3,706),
// stays in L2 while every non-zero reads its 128-byte row of it, and a row's kChunk sums stay in
// registers. Reading whole rows of Wᵀ [in, out] instead makes each non-zero fetch out·4 bytes
// from a table far larger than L2: measured 4x slower (memory-bound) at ML-1M's shapes.
constexpr int64_t kChunk = 32;

int64_t num_chunks(int64_t out_f) { return (out_f + kChunk - 1) / kChunk; }

// The transposes between W's rows [out, in] and a chunk's Wᵀ [in, kChunk] move 8 x 8 blocks
// through AVX registers (8 loads, 24 shuffles, 8 stores per 64 floats). Moved element by
// element, with one side strided, they were most of the op for small batches (CFGAN's 64
// users): at [64, 3706] -> 400 the forward took 3.0 ms so, 1.0 ms in 16 x 32 blocks of
// single floats, 0.7 ms like this (benchmarks/ops_bench, 1 thread).
constexpr int64_t kBlock = 8;

#ifdef __AVX__
// The 8 x 8 block at src (row stride src_stride) transposed into dst (row stride dst_stride),
// dst[j, o] = src[o, j]; added to dst's values when Add.
template <bool Add>
inline void transpose8x8(const float* src, int64_t src_stride, float* dst, int64_t dst_stride) {
  __m256 r[8], t[8], u[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * src_stride);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
  for (int i = 0; i < 8; ++i) {
    float* d = dst + i * dst_stride;
    _mm256_storeu_ps(d, Add ? _mm256_add_ps(_mm256_loadu_ps(d), r[i]) : r[i]);
  }
}
#endif

// dst[j, o] (+)= src[o, j] for o < rows, j < cols: whole 8 x 8 blocks through registers, the
// ragged edges element by element.
template <bool Add>
void transpose(const float* src, int64_t src_stride, int64_t rows, int64_t cols, float* dst,
               int64_t dst_stride) {
  auto scalar = [&](int64_t o_lo, int64_t o_hi, int64_t j_lo, int64_t j_hi) {
    for (int64_t o = o_lo; o < o_hi; ++o)
      for (int64_t j = j_lo; j < j_hi; ++j) {
        float& d = dst[j * dst_stride + o];
        d = Add ? d + src[o * src_stride + j] : src[o * src_stride + j];
      }
  };
#ifdef __AVX__
  const int64_t block_rows = rows - rows % kBlock, block_cols = cols - cols % kBlock;
  for (int64_t o = 0; o < block_rows; o += kBlock)
    for (int64_t j = 0; j < block_cols; j += kBlock)
      transpose8x8<Add>(src + o * src_stride + j, src_stride, dst + j * dst_stride + o,
                        dst_stride);
#else
  const int64_t block_rows = 0, block_cols = 0;
#endif
  scalar(0, block_rows, block_cols, cols);
  scalar(block_rows, rows, 0, cols);
}

// wt[j·kChunk + o] = W[o0 + o, j] for o < n (the chunk's width), 0 for the padding o >= n.
void transpose_chunk(const float* w, int64_t in_f, int64_t o0, int64_t n, float* wt) {
  if (n < kChunk) std::fill(wt, wt + in_f * kChunk, 0.f);
  transpose<false>(w + o0 * in_f, in_f, n, in_f, wt, kChunk);
}

// kChunk floats as four 8-float vectors, held in registers across a row's non-zeros. GCC's
// vector extension (clang has it too) spells this out because the auto-vectoriser, given a
// 32-trip inner loop, unrolls it fully and vectorises the loop over non-zeros with gathers
// instead: measured ~5x slower.
typedef float Vec8 __attribute__((vector_size(32)));
constexpr int kVecs = kChunk / 8;
static_assert(kChunk % 8 == 0, "a chunk is whole vectors");

inline Vec8 load8(const float* p) {
  Vec8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, Vec8 v) { std::memcpy(p, &v, sizeof v); }

// Lists of weighted rows of a [*, kChunk] table, summed: list i is the entries p in
// [offsets[i], offsets[i + 1]), each adding values[p]·table[index[p], :]. The forward's lists
// are x's rows (table Wᵀ, indexed by column); the weight gradient's are x's columns (table dy,
// indexed by row).
struct WeightedRows {
  const int64_t* offsets;
  const int64_t* index;
  const float* values;
};

// acc += Σ_(p in [p0, p1)) values[p]·table[index[p], :], in p order.
inline void accumulate(const WeightedRows& l, int64_t p0, int64_t p1, const float* table,
                       Vec8* acc) {
  for (int64_t p = p0; p < p1; ++p) {
    const float a = l.values[p];
    const float* src = table + l.index[p] * kChunk;
    for (int v = 0; v < kVecs; ++v) acc[v] += a * load8(src + 8 * v);
  }
}

// For each list i in [0, count): store(i, init + its sum), the sum in entry order. Lists go in
// pairs, their entries interleaved: one list's kVecs sums are kVecs dependency chains of FMAs,
// too few to hide the FMA latency, and two lists' sums (each still in its own order, so the
// results are those of one list at a time) give twice as many: ~1.2x faster.
template <class Store>
void sum_lists(const WeightedRows& l, int64_t count, const float* table, const float* init,
               Store store) {
  for (int64_t i = 0; i < count; i += 2) {
    Vec8 acc[kVecs], acc2[kVecs];
    for (int v = 0; v < kVecs; ++v) acc[v] = acc2[v] = load8(init + 8 * v);
    int64_t p = l.offsets[i];
    if (i + 1 < count) {
      int64_t p2 = l.offsets[i + 1];
      const int64_t both = std::min(l.offsets[i + 1] - p, l.offsets[i + 2] - p2);
      for (int64_t q = 0; q < both; ++q, ++p, ++p2) {
        const float a = l.values[p], a2 = l.values[p2];
        const float* src = table + l.index[p] * kChunk;
        const float* src2 = table + l.index[p2] * kChunk;
        for (int v = 0; v < kVecs; ++v) {
          acc[v] += a * load8(src + 8 * v);
          acc2[v] += a2 * load8(src2 + 8 * v);
        }
      }
      accumulate(l, p2, l.offsets[i + 2], table, acc2);
      store(i + 1, acc2);
    }
    accumulate(l, p, l.offsets[i + 1], table, acc);
    store(i, acc);
  }
}

// y[r, o0:o0+n] = b[o0:o0+n] + Σ_k v_k·W[o0:o0+n, c_k] for every row, sums in CSR order.
void forward_chunk(const CsrMatrix& x, const float* w, const float* bias, int64_t out_f,
                   int64_t o0, float* wt, float* y) {
  const int64_t n = std::min(kChunk, out_f - o0);
  transpose_chunk(w, x.cols, o0, n, wt);
  float init[kChunk] = {};
  if (bias) std::copy(bias + o0, bias + o0 + n, init);
  const WeightedRows rows{x.offsets.data(), x.columns.data(), x.values.data()};
  sum_lists(rows, x.rows, wt, init, [&](int64_t r, const Vec8* acc) {
    float out[kChunk];
    for (int v = 0; v < kVecs; ++v) store8(out + 8 * v, acc[v]);
    std::copy(out, out + n, y + r * out_f + o0);
  });
}

// dW[o0 + o, c] = Σ_(entries k in column c) v_k·dy[r_k, o0 + o] for o < n, sums over ascending
// rows (CSR order): the chunk's columns of dy are copied into a zero-padded [B, kChunk] table,
// each input column's sum is formed in registers and stored once into a dWᵀ [in, kChunk]
// scratch, which is then transposed into dW's rows. (Adding each entry into the scratch as it comes,
// row by row, made every entry a load and a store: measured ~1.5x slower.)
void weight_grad_chunk(const CsrMatrix& x, const ByColumn& t, const float* column_values,
                       const float* dy, int64_t out_f, int64_t o0, float* dyt, float* dwt,
                       float* dw) {
  const int64_t n = std::min(kChunk, out_f - o0), in_f = x.cols;
  for (int64_t r = 0; r < x.rows; ++r) {
    float* row = dyt + r * kChunk;
    std::copy(dy + r * out_f + o0, dy + r * out_f + o0 + n, row);
    std::fill(row + n, row + kChunk, 0.f);
  }
  const float zero[kChunk] = {};
  const WeightedRows columns{t.offsets.data(), t.rows.data(), column_values};
  sum_lists(columns, in_f, dyt, zero, [&](int64_t c, const Vec8* acc) {
    for (int v = 0; v < kVecs; ++v) store8(dwt + c * kChunk + 8 * v, acc[v]);
  });
  // dW[o0 + o, j] = dWᵀ[j, o], untouched columns included (their sums are 0): every element
  // of dW is written, so it needs no zero-filling first.
  transpose<false>(dwt, kChunk, in_f, n, dw + o0 * in_f, in_f);
}

// dW = the weight gradient of sparse_linear (every element written), one chunk of output units
// per task.
void weight_grad(const CsrMatrix& x, const float* dy, int64_t out_f, float* dw) {
  const ByColumn t = by_column(x);
  std::vector<float> column_values(t.entries.size());
  for (size_t e = 0; e < t.entries.size(); ++e) column_values[e] = x.values[t.entries[e]];
  detail::parallel_for(num_chunks(out_f), 1, [&](int64_t lo, int64_t hi) {
    std::unique_ptr<float[]> dyt(new float[static_cast<size_t>(x.rows * kChunk)]);
    std::unique_ptr<float[]> dwt(new float[static_cast<size_t>(x.cols * kChunk)]);
    for (int64_t c = lo; c < hi; ++c)
      weight_grad_chunk(x, t, column_values.data(), dy, out_f, c * kChunk, dyt.get(), dwt.get(),
                        dw);
  });
}

}  // namespace

Tensor sparse_linear(const CsrMatrix& x_in, const Tensor& weight, const Tensor& bias) {
  check_weight("sparse_linear", weight, bias);
  x_in.validate("sparse_linear");
  const int64_t out_f = weight.size(0), in_f = weight.size(1), rows = x_in.rows;
  RECGRAD_CHECK(x_in.cols == in_f, "sparse_linear: sparse input [", rows, ", ", x_in.cols,
                "] x weight ", weight.shape(), ": the input's ", x_in.cols,
                " columns differ from in_features ", in_f);
  // Backward reads the pattern and values again: share one copy rather than copy per closure.
  const auto x = std::make_shared<const CsrMatrix>(x_in);

  Tensor out = Tensor::empty({rows, out_f});
  float* po = out.data();
  const float* pw = weight.data();
  const float* pb = bias.defined() ? bias.data() : nullptr;
  if (rows > 0)
    detail::parallel_for(num_chunks(out_f), 1, [&](int64_t lo, int64_t hi) {
      std::unique_ptr<float[]> wt(new float[static_cast<size_t>(in_f * kChunk)]);
      for (int64_t c = lo; c < hi; ++c) forward_chunk(*x, pw, pb, out_f, c * kChunk, wt.get(), po);
    });

  return record("sparse_linear", out, {weight, bias},
                [x, rows, out_f](const Tensor& dy, GradSink& g) {
                  if (rows == 0 || out_f == 0) return;
                  if (g.wants(0) && x->nnz() > 0) {
                    // Written whole into a fresh buffer, which the first gradient of the weight
                    // adopts: no zero-filled one to add into (~1% of Mult-VAE's step).
                    Tensor dw = Tensor::empty({out_f, x->cols});
                    weight_grad(*x, dy.data(), out_f, dw.data());
                    g.add(0, std::move(dw));
                  }
                  if (g.wants(1)) add_bias_grad(dy.data(), rows, out_f, g.dense(1).data());
                });
}

Tensor sampled_linear(const Tensor& h, const Tensor& weight, const Tensor& bias,
                      const CsrMatrix& at_in) {
  check_weight("sampled_linear", weight, bias);
  at_in.validate("sampled_linear");
  const int64_t out_f = weight.size(0), in_f = weight.size(1);
  RECGRAD_CHECK(h.dim() == 2 && h.size(1) == in_f, "sampled_linear: input ", h.shape(),
                " x weight ", weight.shape(), ": expected an input [B, ", in_f, "]");
  RECGRAD_CHECK(at_in.rows == h.size(0) && at_in.cols == out_f, "sampled_linear: entries of a [",
                at_in.rows, ", ", at_in.cols, "] pattern, but input ", h.shape(), " x weight ",
                weight.shape(), " gives [", h.size(0), ", ", out_f, "]");
  const auto at = std::make_shared<const CsrMatrix>(at_in);
  const int64_t rows = at->rows, nnz = at->nnz();

  Tensor out = Tensor::empty({nnz});
  float* po = out.data();
  const float* ph = h.data();
  const float* pw = weight.data();
  const float* pb = bias.defined() ? bias.data() : nullptr;
  const int64_t per_row = rows > 0 ? (nnz / rows + 1) * in_f : in_f;
  // y_k = h[r, :]·W[c_k, :] + b[c_k]: both rows are contiguous, one dot product per entry.
  detail::parallel_for(rows, detail::items_per_task(per_row), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      for (int64_t k = at->offsets[r]; k < at->offsets[r + 1]; ++k) {
        const int64_t c = at->columns[k];
        po[k] = dot(in_f, ph + r * in_f, pw + c * in_f) + (pb ? pb[c] : 0.f);
      }
  });

  return record("sampled_linear", out, {h, weight, bias},
                [at, h, weight, rows, in_f, out_f, per_row](const Tensor& dy, GradSink& g) {
                  const int64_t nnz = at->nnz();
                  if (nnz == 0) return;
                  const float* pdy = dy.data();
                  const float* ph = h.data();
                  const float* pw = weight.data();
                  if (g.wants(0) && in_f > 0) {
                    // dh[r, :] += Σ_(k in row r) dy_k·W[c_k, :]: one task per row.
                    float* dh = g.dense(0).data();
                    detail::parallel_for(
                        rows, detail::items_per_task(per_row), [&](int64_t lo, int64_t hi) {
                          for (int64_t r = lo; r < hi; ++r)
                            for (int64_t k = at->offsets[r]; k < at->offsets[r + 1]; ++k)
                              axpy(in_f, pdy[k], pw + at->columns[k] * in_f, dh + r * in_f);
                        });
                  }
                  if (!g.wants(1) && !g.wants(2)) return;
                  // dW[c, :] += Σ_(k in column c) dy_k·h[r_k, :] and db[c] += Σ dy_k: one task
                  // per column, entries in ascending rows.
                  const ByColumn t = by_column(*at);
                  float* dw = g.wants(1) ? g.dense(1).data() : nullptr;
                  float* db = g.wants(2) ? g.dense(2).data() : nullptr;
                  const int64_t per_col = (nnz / std::max<int64_t>(out_f, 1) + 1) * in_f;
                  detail::parallel_for(
                      out_f, detail::items_per_task(per_col), [&](int64_t lo, int64_t hi) {
                        for (int64_t c = lo; c < hi; ++c) {
                          float bias_sum = 0.f;
                          for (int64_t e = t.offsets[c]; e < t.offsets[c + 1]; ++e) {
                            const float d = pdy[t.entries[e]];
                            if (dw) axpy(in_f, d, ph + t.rows[e] * in_f, dw + c * in_f);
                            bias_sum += d;
                          }
                          if (db) db[c] += bias_sum;
                        }
                      });
                });
}

}  // namespace recgrad
