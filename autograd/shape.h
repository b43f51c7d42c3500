#pragma once
// Tensor shapes: a list of dimension sizes, row-major, printed as [2,3].
#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <string>
#include <vector>

namespace recgrad {

/// Dimension sizes of a tensor, outermost first. A scalar has the empty shape [].
struct Shape : std::vector<int64_t> {
  using std::vector<int64_t>::vector;
  Shape() = default;
  Shape(const std::vector<int64_t>& dims) : std::vector<int64_t>(dims) {}  // NOLINT: implicit by design

  /// Product of the dimensions (1 for a scalar).
  int64_t numel() const;
  /// "[2,3]"
  std::string str() const;
};

std::ostream& operator<<(std::ostream& os, const Shape& shape);

/// Maps a possibly negative dimension index into [0, rank); throws naming `op` when out of range.
int64_t normalize_dim(int64_t dim, int64_t rank, const char* op);

/// numpy broadcasting of two shapes: aligned at the right, sizes equal or 1. Throws naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

/// Row-major strides (in elements) of a contiguous tensor of this shape.
std::vector<int64_t> contiguous_strides(const Shape& shape);

}  // namespace recgrad
