#include "ops/csr.h"

#include <algorithm>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad {
namespace {

}  // namespace

void CsrMatrix::validate(const char* op) const {
  RECGRAD_CHECK(rows >= 0 && cols >= 0, op, ": sparse input has shape [", rows, ", ", cols, "]");
  RECGRAD_CHECK(static_cast<int64_t>(offsets.size()) == rows + 1, op, ": sparse input [", rows,
                ", ", cols, "] has ", offsets.size(), " row offsets, expected ", rows + 1);
  RECGRAD_CHECK(offsets.front() == 0 && offsets.back() == nnz() &&
                    values.size() == columns.size(),
                op, ": sparse input [", rows, ", ", cols, "]: offsets run from ", offsets.front(),
                " to ", offsets.back(), " over ", columns.size(), " columns and ", values.size(),
                " values");
  std::vector<int64_t> seen_in_row(static_cast<size_t>(cols), -1);
  for (int64_t r = 0; r < rows; ++r) {
    RECGRAD_CHECK(offsets[r] <= offsets[r + 1], op, ": sparse input row ", r,
                  " has decreasing offsets ", offsets[r], " > ", offsets[r + 1]);
    for (int64_t k = offsets[r]; k < offsets[r + 1]; ++k) {
      const int64_t c = columns[k];
      RECGRAD_CHECK(c >= 0 && c < cols, op, ": sparse input row ", r, " has column ", c,
                    " outside [0, ", cols, ")");
      RECGRAD_CHECK(seen_in_row[c] != r, op, ": sparse input row ", r, " repeats column ", c);
      seen_in_row[c] = r;
    }
  }
}

Tensor CsrMatrix::to_dense() const {
  validate("CsrMatrix::to_dense");
  Tensor out = zeros({rows, cols});
  float* o = out.data();
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = offsets[r]; k < offsets[r + 1]; ++k) o[r * cols + columns[k]] = values[k];
  return out;
}

CsrMatrix csr_from_dense(const Tensor& x) {
  RECGRAD_CHECK(x.dim() == 2, "csr_from_dense: expected a [rows, cols] matrix, got ", x.shape());
  CsrMatrix m;
  m.rows = x.size(0);
  m.cols = x.size(1);
  const float* p = x.data();
  const int64_t n = m.cols;
  // Two passes, each parallel over rows: count each row's non-zeros, then fill at the offsets.
  m.offsets.assign(static_cast<size_t>(m.rows + 1), 0);
  detail::parallel_for(m.rows, detail::items_per_task(n), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r)
      m.offsets[r + 1] = std::count_if(p + r * n, p + (r + 1) * n, [](float v) { return v != 0; });
  });
  for (int64_t r = 0; r < m.rows; ++r) m.offsets[r + 1] += m.offsets[r];
  m.columns.resize(static_cast<size_t>(m.offsets.back()));
  m.values.resize(static_cast<size_t>(m.offsets.back()));
  detail::parallel_for(m.rows, detail::items_per_task(n), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t k = m.offsets[r];
      for (int64_t j = 0; j < n; ++j)
        if (p[r * n + j] != 0) {
          m.columns[k] = j;
          m.values[k++] = p[r * n + j];
        }
    }
  });
  return m;
}

}  // namespace recgrad
