#include "ops/blas.h"

#include <cblas.h>
#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad {
namespace {

using SgemmFn = decltype(&cblas_sgemm);
using GetNameFn = char* (*)();
using SetThreadsFn = void (*)(int);
using GetThreadsFn = int (*)();
// LAPACK's Fortran interface (OpenBLAS is built with 32-bit integers): arguments by pointer,
// column-major, and a hidden trailing length for each character argument (gfortran's ABI;
// OpenBLAS's own C potrf ignores it).
using PotrfFn = void (*)(const char* uplo, const int* n, float* a, const int* lda, int* info,
                         size_t uplo_len);
using PotriFn = PotrfFn;

struct Blas {
  SgemmFn sgemm = nullptr;
  SetThreadsFn set_threads = nullptr;
  PotrfFn spotrf = nullptr;  // null when the library has no LAPACK
  PotriFn spotri = nullptr;
  BlasInfo info;
};

// The kernel OpenBLAS should use on this CPU, or "" to let OpenBLAS decide.
std::pair<std::string, std::string> kernel_for_cpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    return {"SkylakeX", "CPU has AVX-512"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"Haswell", "CPU has AVX2+FMA"};
  return {"", "no AVX2 on this CPU"};
}

template <typename Fn>
Fn symbol(void* handle, const char* name) {
  void* p = dlsym(handle, name);
  RECGRAD_CHECK(p != nullptr, "blas: libopenblas has no symbol '", name, "'");
  return reinterpret_cast<Fn>(p);
}

Blas load() {
  Blas blas;
  constexpr const char* kLibrary = "libopenblas.so.0";
  void* handle = dlopen(kLibrary, RTLD_NOW | RTLD_NOLOAD);
  if (handle) {
    blas.info.how_chosen = "OpenBLAS was already loaded by the host program";
  } else {
    const char* env = std::getenv("OPENBLAS_CORETYPE");
    if (env && *env) {
      blas.info.how_chosen = std::string("OPENBLAS_CORETYPE=") + env + " from the environment";
    } else {
      auto [core, why] = kernel_for_cpu();
      if (!core.empty()) {
        setenv("OPENBLAS_CORETYPE", core.c_str(), /*overwrite=*/0);
        blas.info.how_chosen = "chosen by recgrad: " + why;
      } else {
        blas.info.how_chosen = "OpenBLAS's own detection (" + why + ")";
      }
    }
    // Start without a thread pool of OpenBLAS's own; see the header.
    setenv("OPENBLAS_NUM_THREADS", "1", /*overwrite=*/0);
    handle = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    RECGRAD_CHECK(handle != nullptr, "blas: cannot load ", kLibrary, " (", dlerror(),
                  "); install Debian's libopenblas0 (tools/setup.sh does)");
  }
  blas.sgemm = symbol<SgemmFn>(handle, "cblas_sgemm");
  blas.set_threads = symbol<SetThreadsFn>(handle, "openblas_set_num_threads");
  blas.spotrf = reinterpret_cast<PotrfFn>(dlsym(handle, "spotrf_"));
  blas.spotri = reinterpret_cast<PotriFn>(dlsym(handle, "spotri_"));
  blas.set_threads(1);
  blas.info.library = kLibrary;
  blas.info.core = symbol<GetNameFn>(handle, "openblas_get_corename")();
  blas.info.config = symbol<GetNameFn>(handle, "openblas_get_config")();
  blas.info.blas_threads = symbol<GetThreadsFn>(handle, "openblas_get_num_threads")();
  return blas;
}

Blas& blas() {
  static Blas* b = new Blas(load());  // leaked: BLAS may be used during static teardown
  return *b;
}

// Below this many multiply-adds a product runs as one call: splitting costs more than it saves.
constexpr int64_t kMinSplitMacs = int64_t{1} << 18;

}  // namespace

std::string BlasInfo::str() const {
  std::ostringstream os;
  os << config << " core=" << core << " (" << how_chosen << "), " << blas_threads
     << " OpenBLAS thread(s), " << num_threads() << " recgrad thread(s)";
  return os.str();
}

const BlasInfo& blas_info() { return blas().info; }

namespace detail {

void raw_sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
               int64_t ldc) {
  if (m == 0 || n == 0) return;
  blas().sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
               static_cast<int>(k), alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb),
               beta, c, static_cast<int>(ldc));
}

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc) {
  const int threads = num_threads();
  if (threads == 1 || m * n * k < kMinSplitMacs) {
    sync_denormal_mode();  // parallel_for syncs the split path
    raw_sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // Split the larger of m and n into one block per thread; each block is an independent sgemm
  // over a sub-matrix addressed by pointer offset and the same leading dimensions.
  const bool split_rows = m >= n;
  const int64_t extent = split_rows ? m : n;
  const int64_t parts = std::min<int64_t>(threads, std::max<int64_t>(1, extent / 16));
  const int64_t block = (extent + parts - 1) / parts;
  parallel_for(parts, 1, [&](int64_t pb, int64_t pe) {
    for (int64_t p = pb; p < pe; ++p) {
      const int64_t lo = p * block, hi = std::min(extent, lo + block);
      if (lo >= hi) continue;
      if (split_rows) {
        // Rows lo..hi of op(A): row offset in A, or column offset when A is transposed.
        const float* a_block = trans_a ? a + lo : a + lo * lda;
        raw_sgemm(trans_a, trans_b, hi - lo, n, k, alpha, a_block, lda, b, ldb, beta,
                  c + lo * ldc, ldc);
      } else {
        const float* b_block = trans_b ? b + lo * ldb : b + lo;
        raw_sgemm(trans_a, trans_b, m, hi - lo, k, alpha, a, lda, b_block, ldb, beta, c + lo,
                  ldc);
      }
    }
  });
}

void set_blas_threads(int n) { blas().set_threads(n); }

void spd_inverse(int64_t n, float* a, int64_t lda) {
  RECGRAD_CHECK(n >= 0 && lda >= std::max<int64_t>(1, n) && lda <= INT32_MAX,
                "spd_inverse: bad sizes n=", n, ", lda=", lda);
  if (n == 0) return;
  Blas& b = blas();
  RECGRAD_CHECK(b.spotrf != nullptr && b.spotri != nullptr, "spd_inverse: ", b.info.library,
                " has no LAPACK (spotrf_/spotri_)");
  // Row-major A is column-major Aᵀ = A; LAPACK's 'L' (column-major lower) triangle is our upper
  // one, which is all it reads and writes.
  const int ni = static_cast<int>(n), ld = static_cast<int>(lda);
  const char uplo = 'L';
  int info = 0;
  b.spotrf(&uplo, &ni, a, &ld, &info, 1);
  RECGRAD_CHECK(info >= 0, "spd_inverse: spotrf rejected argument ", -info);
  RECGRAD_CHECK(info == 0, "spd_inverse: [", n, ",", n, "] matrix is not positive definite ",
                "(spotrf: the leading minor of order ", info, " is not positive)");
  b.spotri(&uplo, &ni, a, &ld, &info, 1);
  RECGRAD_CHECK(info == 0, "spd_inverse: spotri failed (info ", info, ") on a [", n, ",", n,
                "] matrix");
  // Mirror the upper triangle into the lower one: disjoint rows per task.
  parallel_for(n, std::max<int64_t>(1, kGrainCheap / std::max<int64_t>(1, n)),
               [&](int64_t rb, int64_t re) {
                 for (int64_t r = rb; r < re; ++r)
                   for (int64_t c = 0; c < r; ++c) a[r * lda + c] = a[c * lda + r];
               });
}

}  // namespace detail
}  // namespace recgrad
