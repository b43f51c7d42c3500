#pragma once
// Pooling layers over ops/pool.h: max and average (count_include_pad), 1-D and 2-D. They have
// no parameters.
//
// Global max over time (Caser's horizontal convolutions keep each channel's largest response
// over the whole sequence) needs no layer: max(y, /*dim=*/2) from ops/reduce.h on [B,C,L]
// gives [B,C] and routes the gradient to the first maximum, like MaxPool1d with kernel L.
#include <cstdint>
#include <string>

#include "autograd/tensor.h"
#include "nn/module.h"
#include "ops/conv.h"

namespace recgrad::nn {

/// MaxPool1d's and AvgPool1d's optional settings.
struct Pool1dOptions {
  int64_t stride = 0;   ///< >= 1, or 0 for the kernel size (PyTorch's stride=None)
  int64_t padding = 0;  ///< between 0 and kernel/2
};

/// MaxPool2d's and AvgPool2d's optional settings; a single number means (n, n).
struct Pool2dOptions {
  Size2d stride = 0;   ///< (h, w), each >= 1, or 0 for the kernel size
  Size2d padding = 0;  ///< each between 0 and half the kernel
};

/// y[b,c,l] = max over window l of x[b,c,:] (padding never wins).  x [B,C,L] -> [B,C,L_out],
/// L_out = floor((L + 2·padding - kernel)/stride) + 1. Gradient to the first maximum.
class MaxPool1d : public Module {
 public:
  explicit MaxPool1d(int64_t kernel, Pool1dOptions opts = {});
  /// x [B,C,L] -> [B,C,L_out].
  Tensor forward(const Tensor& x) const;
  /// "MaxPool1d(kernel=3, stride=3, padding=0)"
  std::string describe() const override;

 private:
  int64_t kernel_;
  Pool1dOptions opts_;  // stride already resolved (never 0)
};

/// y[b,c,l] = mean of window l of x[b,c,:], padding counted as zeros.  x [B,C,L] -> [B,C,L_out].
class AvgPool1d : public Module {
 public:
  explicit AvgPool1d(int64_t kernel, Pool1dOptions opts = {});
  /// x [B,C,L] -> [B,C,L_out].
  Tensor forward(const Tensor& x) const;
  /// "AvgPool1d(kernel=3, stride=3, padding=0)"
  std::string describe() const override;

 private:
  int64_t kernel_;
  Pool1dOptions opts_;
};

/// y[b,c,r,s] = max over window (r,s) of x[b,c,:,:].  x [B,C,H,W] -> [B,C,H_out,W_out].
class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2d kernel, Pool2dOptions opts = {});
  /// x [B,C,H,W] -> [B,C,H_out,W_out].
  Tensor forward(const Tensor& x) const;
  /// "MaxPool2d(kernel=(2,2), stride=(2,2), padding=(0,0))"
  std::string describe() const override;

 private:
  Size2d kernel_;
  Pool2dOptions opts_;
};

/// y[b,c,r,s] = mean of window (r,s) of x[b,c,:,:], padding counted as zeros.
/// x [B,C,H,W] -> [B,C,H_out,W_out].
class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2d kernel, Pool2dOptions opts = {});
  /// x [B,C,H,W] -> [B,C,H_out,W_out].
  Tensor forward(const Tensor& x) const;
  /// "AvgPool2d(kernel=(2,2), stride=(2,2), padding=(0,0))"
  std::string describe() const override;

 private:
  Size2d kernel_;
  Pool2dOptions opts_;
};

}  // namespace recgrad::nn
