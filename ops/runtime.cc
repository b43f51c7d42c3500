#include "ops/runtime.h"

#include "autograd/error.h"

namespace recgrad {

void set_num_threads(int n) {
  RECGRAD_CHECK(n >= 1, "set_num_threads: thread count must be at least 1, got ", n);
  blas_info();  // load OpenBLAS (and pin it to one thread) before any kernel runs
  detail::set_arena_threads(n);
}

std::string runtime_summary() { return "recgrad: " + blas_info().str(); }

}  // namespace recgrad
