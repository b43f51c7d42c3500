#pragma once
// Max and average pooling over 1-D sequences [B,C,L] and 2-D planes [B,C,H,W], PyTorch's
// semantics with ceil_mode = false:
//  - stride 0 means "equal to the kernel" (PyTorch's stride=None);
//  - n_out = floor((n + 2·padding - kernel) / stride) + 1 must be >= 1, and padding may be at
//    most half the kernel (so every window holds at least one real element);
//  - max pooling never picks padding; average pooling counts padded zeros in the window
//    (count_include_pad = true, PyTorch's default), i.e. always divides by the kernel area.
//
// Max pooling saves, in the forward, the position of each window's maximum: the first one in
// row-major window order on ties (a NaN counts as the largest value, as in ops/reduce.h), and
// backward routes each output's gradient there. Both backwards give each (b, c) plane to one
// task, which adds overlapping windows' contributions in output order: results do not depend
// on the thread count.
//
// Global max over time (Caser's horizontal convolutions, max over all L of each channel) is
// ops/reduce.h's max(x, /*dim=*/2) on [B,C,L], which routes its gradient the same way.
#include <cstdint>

#include "autograd/tensor.h"
#include "ops/conv.h"

namespace recgrad {

/// y[b,c,l] = max_{k<K} x[b, c, l·stride - padding + k] (padding excluded).
/// x [B,C,L] -> [B,C,L_out], L_out = floor((L + 2·padding - K)/stride) + 1.
Tensor max_pool1d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);

/// y[b,c,r,s] = max_{i<KH, j<KW} x[b, c, r·sh - ph + i, s·sw - pw + j] (padding excluded).
/// x [B,C,H,W] -> [B,C,H_out,W_out], sizes as in max_pool1d per axis.
Tensor max_pool2d(const Tensor& x, Size2d kernel, Size2d stride = 0, Size2d padding = 0);

/// y[b,c,l] = (1/K) Σ_{k<K} x[b, c, l·stride - padding + k] (padding counts as 0).
/// x [B,C,L] -> [B,C,L_out], L_out as in max_pool1d.
Tensor avg_pool1d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);

/// y[b,c,r,s] = (1/(KH·KW)) Σ_{i,j} x[b, c, r·sh - ph + i, s·sw - pw + j] (padding counts
/// as 0).
/// x [B,C,H,W] -> [B,C,H_out,W_out].
Tensor avg_pool2d(const Tensor& x, Size2d kernel, Size2d stride = 0, Size2d padding = 0);

}  // namespace recgrad
