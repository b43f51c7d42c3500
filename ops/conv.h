#pragma once
// Convolutions (cross-correlations, like PyTorch's) by im2col + one sgemm over the whole batch.
//
// A convolution is a matrix product once the input windows are unrolled into columns:
//
//   cols [C_in·KH·KW, B·H_out·W_out]   cols[(c,i,j), (b,oh,ow)] = x[b, c, oh·sh - ph + i·dh,
//                                                                        ow·sw - pw + j·dw]
//                                      (0 where that falls in the padding)
//   Y    [C_out, B·H_out·W_out]   = W [C_out, C_in·KH·KW] · cols
//   y    [B, C_out, H_out, W_out] = Y with its first two axes swapped, + bias[c_out]
//
// One sgemm covers the whole batch (rather than one per batch entry) because recommender
// convolutions are small and batches are large: Caser's horizontal filters are [16, 1, h, 50]
// over [512, 1, 5, 50], so a per-entry product would be [16 x 250]·[250 x 5], a few thousand
// multiply-adds dominated by call overhead, 512 times. One [16 x 250]·[250 x 2560] product is
// efficient and detail::sgemm splits it across the thread pool itself. The price is the
// [C_out, B, P] -> [B, C_out, P] permute (P = H_out·W_out), O(output) next to the product's
// O(output · C_in·KH·KW), with the bias added in the same pass.
//
// Backward, with dY = dy permuted to [C_out, B·P]:
//   dW    += dY · colsᵀ                        one sgemm, transpose as a BLAS flag
//   dcols  = Wᵀ · dY                           one sgemm, transpose as a BLAS flag
//   dx    += col2im(dcols)                     scatter-add, parallel over (b, c) planes
//   dbias += row sums of dY                    parallel over c_out
// The columns are recomputed in backward rather than saved: the graph then holds only x and W
// (saved columns would be about KH·KW times the size of x, kept for the life of the graph),
// at the price of a second im2col pass. im2col and col2im give each (b, c) input plane to one
// task; col2im adds each plane's contributions in a fixed order (tap i, tap j, oh, ow), so
// they do not depend on the thread count. The products follow detail::sgemm's contract:
// bit-identical for a fixed thread count (its block split depends on the count).
//
// Output sizes follow PyTorch: n_out = floor((n + 2p - d·(k-1) - 1) / s) + 1, which must be
// at least 1.
#include <cstdint>
#include <iosfwd>

#include "autograd/tensor.h"

namespace recgrad {

/// A (height, width) pair for 2-D kernels, strides, paddings and dilations. A single number
/// means the same value for both: conv2d(x, w, b, /*stride=*/2) is stride (2, 2).
struct Size2d {
  int64_t h = 0, w = 0;
  /// (h, w).
  constexpr Size2d(int64_t h_, int64_t w_) : h(h_), w(w_) {}
  /// (both, both).
  constexpr Size2d(int64_t both) : h(both), w(both) {}  // NOLINT: implicit by design
  bool operator==(const Size2d& o) const { return h == o.h && w == o.w; }
  bool operator!=(const Size2d& o) const { return !(*this == o); }
};

/// Prints "(3,50)".
std::ostream& operator<<(std::ostream& os, const Size2d& s);

/// y[b,o,l] = bias[o] + Σ_{c,k} W[o,c,k] · x[b, c, l·stride - padding + k·dilation] (zero
/// outside x).  x [B,C_in,L], weight [C_out,C_in,K], bias [C_out] or undefined
/// -> [B,C_out,L_out], L_out = floor((L + 2·padding - dilation·(K-1) - 1)/stride) + 1.
Tensor conv1d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride = 1,
              int64_t padding = 0, int64_t dilation = 1);

/// y[b,o,r,s] = bias[o] + Σ_{c,i,j} W[o,c,i,j] · x[b, c, r·sh - ph + i·dh, s·sw - pw + j·dw]
/// (zero outside x).  x [B,C_in,H,W], weight [C_out,C_in,KH,KW], bias [C_out] or undefined
/// -> [B,C_out,H_out,W_out], each output size as in conv1d.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Size2d stride = 1,
              Size2d padding = 0, Size2d dilation = 1);

namespace detail {

/// floor((n + 2·padding - dilation·(kernel-1) - 1) / stride) + 1 (PyTorch's output size; may
/// be < 1, which callers reject). Requires stride >= 1.
int64_t conv_output_size(int64_t n, int64_t kernel, int64_t stride, int64_t padding,
                         int64_t dilation);

}  // namespace detail
}  // namespace recgrad
