#pragma once
// Matrices of mostly zeros in compressed sparse row form: recommenders' user-item rows (a user
// has ~130 of 3,706 items), which the sparse ops read by their non-zeros only
// (ops/sparse_linear.h, and soft_cross_entropy's sparse targets in ops/loss.h).
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"

namespace recgrad {

/// A [rows, cols] matrix of mostly zeros in compressed sparse row form: row r holds the entries
/// (columns[k], values[k]) for k in [offsets[r], offsets[r + 1]). Columns within a row must be
/// distinct (their order is free). The ops treat it as data: no gradient flows to its values.
struct CsrMatrix {
  int64_t rows = 0, cols = 0;
  std::vector<int64_t> offsets{0};  ///< rows + 1 entries, offsets[0] = 0, non-decreasing
  std::vector<int64_t> columns;     ///< nnz column ids in [0, cols)
  std::vector<float> values;        ///< nnz values

  int64_t nnz() const { return static_cast<int64_t>(columns.size()); }
  /// Throws recgrad::Error naming `op` when the offsets, columns or values are inconsistent
  /// (sizes, order, a column out of range or repeated within a row).
  void validate(const char* op) const;
  /// The matrix with its zeros.  -> [rows, cols]
  Tensor to_dense() const;
};

/// The non-zero entries of a dense matrix, row by row in column order.  x [rows, cols] -> CSR
CsrMatrix csr_from_dense(const Tensor& x);

}  // namespace recgrad
