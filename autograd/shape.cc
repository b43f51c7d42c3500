#include "autograd/shape.h"

#include <sstream>

#include "autograd/error.h"

namespace recgrad {

int64_t Shape::numel() const {
  int64_t n = 1;
  for (int64_t d : *this) n *= d;
  return n;
}

std::string Shape::str() const {
  std::ostringstream os;
  os << *this;
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Shape& shape) {
  os << '[';
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? "," : "") << shape[i];
  return os << ']';
}

int64_t normalize_dim(int64_t dim, int64_t rank, const char* op) {
  RECGRAD_CHECK(dim >= -rank && dim < rank && rank > 0, op, ": dimension ", dim,
                " is out of range for a tensor of rank ", rank);
  return dim < 0 ? dim + rank : dim;
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align at the right: missing leading dimensions count as 1.
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    RECGRAD_CHECK(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
                  " cannot be broadcast (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

}  // namespace recgrad
