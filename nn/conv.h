#pragma once
// Convolution layers over ops/conv.h (im2col + one sgemm over the batch).
//
// Initialisation is PyTorch's default for Conv1d/Conv2d: weight and bias both uniform in
// [-b, b) with b = 1/sqrt(fan_in), fan_in = in · kernel area (what kaiming_uniform with
// a = sqrt(5) reduces to), drawn from the generator passed in (weight first, then bias).
//
// Caser (Tang & Wang, WSDM 2018) over an embedded sequence viewed as an image [B, 1, L, d]:
//   horizontal filters  Conv2d(1, n_h, {h, d})  -> [B, n_h, L-h+1, 1], then max over time:
//                       max(squeeze(y, 3), /*dim=*/2) -> [B, n_h]  (ops/reduce.h)
//   vertical filters    Conv2d(1, n_v, {L, 1})  -> [B, n_v, 1, d]
#include <cstdint>
#include <string>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/module.h"
#include "ops/conv.h"

namespace recgrad::nn {

/// Conv1d's optional settings (PyTorch's defaults).
struct Conv1dOptions {
  int64_t stride = 1;    ///< >= 1
  int64_t padding = 0;   ///< zeros on both ends, >= 0
  int64_t dilation = 1;  ///< spacing between kernel taps, >= 1
  bool bias = true;
};

/// y = conv1d(x, W, b).  x [B,in,L] -> [B,out,L_out];  W [out,in,kernel], b [out];
/// L_out = floor((L + 2·padding - dilation·(kernel-1) - 1)/stride) + 1.
class Conv1d : public Module {
 public:
  Conv1d(int64_t in, int64_t out, int64_t kernel, Generator& gen, Conv1dOptions opts = {});
  /// x [B,in,L] -> [B,out,L_out].
  Tensor forward(const Tensor& x) const;
  /// "Conv1d(16 -> 32, kernel=3, stride=2, padding=1, bias)"; defaults are left out.
  std::string describe() const override;
  /// The registered "weight" parameter.
  const Tensor& weight() const { return weight_; }
  /// The registered "bias" parameter; undefined when !opts.bias.
  const Tensor& bias() const { return bias_; }

 private:
  int64_t in_, out_, kernel_;
  Conv1dOptions opts_;
  Tensor weight_, bias_;  // bias_ undefined when !opts.bias
};

/// Conv2d's optional settings (PyTorch's defaults); a single number means (n, n).
struct Conv2dOptions {
  Size2d stride = 1;    ///< (h, w), each >= 1
  Size2d padding = 0;   ///< zeros on both sides of each axis, >= 0
  Size2d dilation = 1;  ///< spacing between kernel taps, each >= 1
  bool bias = true;
};

/// y = conv2d(x, W, b).  x [B,in,H,W] -> [B,out,H_out,W_out];  W [out,in,KH,KW], b [out];
/// each output size as in Conv1d.
class Conv2d : public Module {
 public:
  Conv2d(int64_t in, int64_t out, Size2d kernel, Generator& gen, Conv2dOptions opts = {});
  /// x [B,in,H,W] -> [B,out,H_out,W_out].
  Tensor forward(const Tensor& x) const;
  /// "Conv2d(1 -> 16, kernel=(3,50), bias)"; defaults are left out.
  std::string describe() const override;
  /// The registered "weight" parameter.
  const Tensor& weight() const { return weight_; }
  /// The registered "bias" parameter; undefined when !opts.bias.
  const Tensor& bias() const { return bias_; }

 private:
  int64_t in_, out_;
  Size2d kernel_;
  Conv2dOptions opts_;
  Tensor weight_, bias_;  // bias_ undefined when !opts.bias
};

}  // namespace recgrad::nn
