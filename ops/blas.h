#pragma once
// OpenBLAS, loaded by recgrad itself so that it runs the right kernel.
//
// Debian's OpenBLAS (DYNAMIC_ARCH) picks its kernel when the library is loaded, from the CPU
// model or the OPENBLAS_CORETYPE variable. It falls back to the slow generic "Prescott" kernel
// on CPUs it does not know (4-5x slower on AVX-512 machines). Linking it normally would load it
// before any of our code runs, so instead recgrad dlopen()s libopenblas.so.0 on first use,
// after choosing OPENBLAS_CORETYPE from the CPU's features (AVX-512 -> SkylakeX, AVX2+FMA ->
// Haswell) unless the environment already sets it. If the host program has already loaded
// OpenBLAS, that instance is used as it is.
//
// Threads: OpenBLAS is kept at one thread. Large products are split into row or column blocks
// that run as tasks in recgrad's TBB arena, so a single pool owns the cores (OpenBLAS's own
// spinning threads beside a TBB pool slowed small-op models 1.35-2.4x here).
#include <cstdint>
#include <string>

namespace recgrad {

/// Which BLAS recgrad runs on and why.
struct BlasInfo {
  std::string library;     ///< the shared object loaded, e.g. "libopenblas.so.0"
  std::string core;        ///< OpenBLAS's kernel, from openblas_get_corename(): "Haswell"
  std::string config;      ///< openblas_get_config(): version and build options
  std::string how_chosen;  ///< where the kernel choice came from (environment, CPU features, ...)
  int blas_threads = 1;    ///< OpenBLAS's own threads (recgrad keeps this at 1)
  /// One line: "OpenBLAS 0.3.21 core=Haswell (chosen by recgrad: CPU has AVX2+FMA), ..."
  std::string str() const;
};

/// Loads OpenBLAS if needed and describes it. Throws recgrad::Error if it cannot be loaded.
const BlasInfo& blas_info();

namespace detail {

/// C = alpha·op(A)·op(B) + beta·C, row-major, op(X) = X or Xᵀ by flag; op(A) [m,k], op(B) [k,n],
/// C [m,n] with leading dimensions lda/ldb/ldc. Large products are split into blocks across
/// recgrad's arena; the split depends only on the shape and the thread count.
void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

/// One call straight to cblas_sgemm in the calling thread (benchmarks' reference).
void raw_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc);

/// Sets OpenBLAS's own thread count (benchmarks compare against threaded sgemm).
void set_blas_threads(int n);

/// A ← A⁻¹ in place for a symmetric positive-definite A [n,n] (row-major, leading dimension
/// lda): a Cholesky factorisation A = LLᵀ (LAPACK spotrf) and the inverse from it (spotri),
/// both from the loaded OpenBLAS; both triangles of the result are written. Only one triangle
/// of the input is read, so A must be symmetric. Runs in the calling thread on OpenBLAS's
/// single thread (deterministic). Throws recgrad::Error naming the leading minor when A is not
/// positive definite (A is then unspecified), or when OpenBLAS lacks LAPACK.
void spd_inverse(int64_t n, float* a, int64_t lda);

}  // namespace detail
}  // namespace recgrad
