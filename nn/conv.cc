#include "nn/conv.h"

#include <cmath>

#include "ops/conv.h"

namespace recgrad::nn {
namespace {

// PyTorch's default: U(-b, b) with b = 1/sqrt(fan_in) for the weight and the bias.
float init_bound(int64_t fan_in) { return 1.f / std::sqrt(static_cast<float>(fan_in)); }

std::string conv1d_name(int64_t in, int64_t out, int64_t kernel, const Conv1dOptions& o) {
  std::string s = detail::str_cat("Conv1d(", in, " -> ", out, ", kernel=", kernel);
  if (o.stride != 1) s += detail::str_cat(", stride=", o.stride);
  if (o.padding != 0) s += detail::str_cat(", padding=", o.padding);
  if (o.dilation != 1) s += detail::str_cat(", dilation=", o.dilation);
  return s + (o.bias ? ", bias)" : ", no bias)");
}

std::string conv2d_name(int64_t in, int64_t out, Size2d kernel, const Conv2dOptions& o) {
  std::string s = detail::str_cat("Conv2d(", in, " -> ", out, ", kernel=", kernel);
  if (o.stride != Size2d{1}) s += detail::str_cat(", stride=", o.stride);
  if (o.padding != Size2d{0}) s += detail::str_cat(", padding=", o.padding);
  if (o.dilation != Size2d{1}) s += detail::str_cat(", dilation=", o.dilation);
  return s + (o.bias ? ", bias)" : ", no bias)");
}

// Runs the op, prefixing any input error (e.g. an output size < 1) with the layer's description.
template <typename Op>
Tensor as_layer(const Module& layer, const Op& op) {
  try {
    return op();
  } catch (const Error& e) {
    throw Error(layer.describe() + ": " + e.what());
  }
}

}  // namespace

Conv1d::Conv1d(int64_t in, int64_t out, int64_t kernel, Generator& gen, Conv1dOptions opts)
    : in_(in), out_(out), kernel_(kernel), opts_(opts) {
  RECGRAD_CHECK(in >= 1 && out >= 1 && kernel >= 1, conv1d_name(in, out, kernel, opts),
                ": in, out and kernel must be >= 1");
  RECGRAD_CHECK(opts.stride >= 1 && opts.padding >= 0 && opts.dilation >= 1,
                conv1d_name(in, out, kernel, opts),
                ": stride and dilation must be >= 1 and padding >= 0");
  const float b = init_bound(in * kernel);
  weight_ = register_parameter("weight", uniform({out, in, kernel}, -b, b, gen));
  if (opts.bias) bias_ = register_parameter("bias", uniform({out}, -b, b, gen));
}

Tensor Conv1d::forward(const Tensor& x) const {
  RECGRAD_CHECK(x.dim() == 3 && x.size(1) == in_, describe(), ": x ", x.shape(),
                " must be [B,", in_, ",L]");
  return as_layer(*this, [&] {
    return conv1d(x, weight_, bias_, opts_.stride, opts_.padding, opts_.dilation);
  });
}

std::string Conv1d::describe() const { return conv1d_name(in_, out_, kernel_, opts_); }

Conv2d::Conv2d(int64_t in, int64_t out, Size2d kernel, Generator& gen, Conv2dOptions opts)
    : in_(in), out_(out), kernel_(kernel), opts_(opts) {
  RECGRAD_CHECK(in >= 1 && out >= 1 && kernel.h >= 1 && kernel.w >= 1,
                conv2d_name(in, out, kernel, opts), ": in, out and kernel sizes must be >= 1");
  RECGRAD_CHECK(opts.stride.h >= 1 && opts.stride.w >= 1 && opts.padding.h >= 0 &&
                    opts.padding.w >= 0 && opts.dilation.h >= 1 && opts.dilation.w >= 1,
                conv2d_name(in, out, kernel, opts),
                ": stride and dilation must be >= 1 and padding >= 0");
  const float b = init_bound(in * kernel.h * kernel.w);
  weight_ = register_parameter("weight", uniform({out, in, kernel.h, kernel.w}, -b, b, gen));
  if (opts.bias) bias_ = register_parameter("bias", uniform({out}, -b, b, gen));
}

Tensor Conv2d::forward(const Tensor& x) const {
  RECGRAD_CHECK(x.dim() == 4 && x.size(1) == in_, describe(), ": x ", x.shape(),
                " must be [B,", in_, ",H,W]");
  return as_layer(*this, [&] {
    return conv2d(x, weight_, bias_, opts_.stride, opts_.padding, opts_.dilation);
  });
}

std::string Conv2d::describe() const { return conv2d_name(in_, out_, kernel_, opts_); }

}  // namespace recgrad::nn
