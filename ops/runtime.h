#pragma once
// Process-wide settings of recgrad's compute: threads, and a report of what it runs on.
#include <string>

#include "autograd/parallel.h"
#include "ops/blas.h"

namespace recgrad {

/// Sets the threads of recgrad's kernels, matrix products included (OpenBLAS itself stays at
/// one thread and receives blocks from recgrad's pool). Same seed + same n -> same results.
void set_num_threads(int n);

/// One line describing the runtime: BLAS library and kernel, thread counts.
std::string runtime_summary();

}  // namespace recgrad
