#include "ops/matmul.h"

#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/blas.h"

namespace recgrad {
namespace {

// A matrix operand: its stored (rows, cols) and whether it enters the product transposed.
struct Operand {
  int64_t rows, cols;
  bool trans;
  int64_t op_rows() const { return trans ? cols : rows; }  // rows of op(X)
  int64_t op_cols() const { return trans ? rows : cols; }
};

std::string describe(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  return detail::str_cat(a.shape(), ta ? "ᵀ" : "", " x ", b.shape(), tb ? "ᵀ" : "");
}

// Runs gemm(i, parallel_inside) for each batch entry. Many small products (attention heads)
// run side by side, one single-threaded sgemm per task; few large ones run in turn, each split
// across the pool by detail::sgemm. Entries write disjoint outputs either way.
template <typename Gemm>
void for_each_batch(int64_t batch, int64_t macs_each, const Gemm& gemm) {
  if (batch > 1 && macs_each < (int64_t{1} << 21)) {
    detail::parallel_for(batch, std::max<int64_t>(1, (int64_t{1} << 18) / std::max<int64_t>(macs_each, 1)),
                         [&](int64_t lo, int64_t hi) {
                           for (int64_t i = lo; i < hi; ++i) gemm(i, false);
                         });
  } else {
    for (int64_t i = 0; i < batch; ++i) gemm(i, true);
  }
}

void gemm(bool parallel_inside, bool ta, bool tb, int64_t m, int64_t n, int64_t k,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc) {
  if (parallel_inside) detail::sgemm(ta, tb, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
  else detail::raw_sgemm(ta, tb, m, n, k, 1.f, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) { return matmul(a, b, false, false); }

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b) {
  RECGRAD_CHECK((a.dim() == 2 || a.dim() == 3) && (b.dim() == 2 || b.dim() == 3),
                "matmul: ", describe(a, b, trans_a, trans_b),
                ": operands must be 2-D matrices or 3-D batches of matrices");
  RECGRAD_CHECK(!(a.dim() == 2 && b.dim() == 3), "matmul: ", describe(a, b, trans_a, trans_b),
                ": a 2-D left operand with a batched right operand is not supported");
  const int64_t batch = a.dim() == 3 ? a.size(0) : 1;
  RECGRAD_CHECK(b.dim() == 2 || b.size(0) == batch, "matmul: ", describe(a, b, trans_a, trans_b),
                ": batch sizes ", batch, " and ", b.size(0), " differ");
  const Operand A{a.size(-2), a.size(-1), trans_a}, B{b.size(-2), b.size(-1), trans_b};
  RECGRAD_CHECK(A.op_cols() == B.op_rows(), "matmul: ", describe(a, b, trans_a, trans_b),
                ": inner dimensions ", A.op_cols(), " and ", B.op_rows(), " differ");
  const bool b_shared = b.dim() == 2;  // one B for every batch entry
  Tensor out = Tensor::empty(a.dim() == 3 ? Shape{batch, A.op_rows(), B.op_cols()}
                                          : Shape{A.op_rows(), B.op_cols()});
  // [B,m,k]·[k,n] is one [B·m,k]·[k,n] product (forward and backward): one large sgemm.
  const bool fold = b_shared && !trans_a;
  const int64_t n_gemms = fold ? 1 : batch;
  const int64_t m = fold ? batch * A.op_rows() : A.op_rows(), k = A.op_cols(), n = B.op_cols();
  const int64_t sa = A.rows * A.cols, sb = b_shared ? 0 : B.rows * B.cols, sc = m * n;
  {
    const float* pa = a.data();
    const float* pb = b.data();
    float* pc = out.data();
    for_each_batch(n_gemms, m * n * k, [&](int64_t i, bool par) {
      gemm(par, trans_a, trans_b, m, n, k, pa + i * sa, A.cols, pb + i * sb, B.cols, 0.f,
           pc + i * sc, n);
    });
  }

  // C = op(A)·op(B):  d op(A) = dC·op(B)ᵀ,  d op(B) = op(A)ᵀ·dC. Each is one sgemm whose flags
  // fold in the stored layout; beta=1 accumulates into the gradient buffer. A shared B
  // accumulates over batch entries in order.
  return record("matmul", out, {a, b},
                [a, b, A, B, m, n, k, n_gemms, sa, sb, sc](const Tensor& dc, GradSink& g) {
                  const float* pdc = dc.data();
                  if (g.wants(0)) {
                    float* da = g.dense(0).data();
                    for_each_batch(n_gemms, m * n * k, [&](int64_t i, bool par) {
                      const float* pb = b.data() + i * sb;
                      if (!A.trans)  // dA[m,k] += dC[m,n]·op(B)ᵀ
                        gemm(par, false, !B.trans, m, k, n, pdc + i * sc, n, pb, B.cols, 1.f,
                             da + i * sa, A.cols);
                      else  // dA[k,m] += op(B)[k,n]·dCᵀ
                        gemm(par, B.trans, true, k, m, n, pb, B.cols, pdc + i * sc, n, 1.f,
                             da + i * sa, A.cols);
                    });
                  }
                  if (g.wants(1)) {
                    float* db = g.dense(1).data();
                    auto grad_b = [&](int64_t i, bool par) {
                      const float* pa = a.data() + i * sa;
                      if (!B.trans)  // dB[k,n] += op(A)ᵀ·dC
                        gemm(par, !A.trans, false, k, n, m, pa, A.cols, pdc + i * sc, n, 1.f,
                             db + i * sb, B.cols);
                      else  // dB[n,k] += dCᵀ·op(A)
                        gemm(par, true, A.trans, n, k, m, pdc + i * sc, n, pa, A.cols, 1.f,
                             db + i * sb, B.cols);
                    };
                    // A shared B sums over batch entries into one buffer: strictly in turn.
                    if (sb == 0) for (int64_t i = 0; i < n_gemms; ++i) grad_b(i, true);
                    else for_each_batch(n_gemms, m * n * k, grad_b);
                  }
                });
}

}  // namespace recgrad
