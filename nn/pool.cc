#include "nn/pool.h"

#include "ops/pool.h"

namespace recgrad::nn {
namespace {

// Validates the options (the op checks them again against each input) and resolves stride 0.
Pool1dOptions resolve(const char* layer, int64_t kernel, Pool1dOptions o) {
  RECGRAD_CHECK(kernel >= 1 && o.stride >= 0 && o.padding >= 0 && 2 * o.padding <= kernel,
                layer, "(kernel=", kernel, ", stride=", o.stride, ", padding=", o.padding,
                "): kernel must be >= 1, stride >= 0 (0 = kernel), padding in [0, kernel/2]");
  if (o.stride == 0) o.stride = kernel;
  return o;
}

Pool2dOptions resolve(const char* layer, Size2d kernel, Pool2dOptions o) {
  RECGRAD_CHECK(kernel.h >= 1 && kernel.w >= 1 && o.stride.h >= 0 && o.stride.w >= 0 &&
                    o.padding.h >= 0 && o.padding.w >= 0 && 2 * o.padding.h <= kernel.h &&
                    2 * o.padding.w <= kernel.w,
                layer, "(kernel=", kernel, ", stride=", o.stride, ", padding=", o.padding,
                "): kernel must be >= 1, stride >= 0 (0 = kernel), padding in [0, kernel/2]");
  if (o.stride.h == 0) o.stride.h = kernel.h;
  if (o.stride.w == 0) o.stride.w = kernel.w;
  return o;
}

template <typename K, typename O>
std::string name(const char* layer, const K& kernel, const O& o) {
  return detail::str_cat(layer, "(kernel=", kernel, ", stride=", o.stride,
                         ", padding=", o.padding, ")");
}

// Runs the op, prefixing any input error with the layer's description.
template <typename Op>
Tensor as_layer(const Module& layer, const Op& op) {
  try {
    return op();
  } catch (const Error& e) {
    throw Error(layer.describe() + ": " + e.what());
  }
}

}  // namespace

MaxPool1d::MaxPool1d(int64_t kernel, Pool1dOptions opts)
    : kernel_(kernel), opts_(resolve("MaxPool1d", kernel, opts)) {}
Tensor MaxPool1d::forward(const Tensor& x) const {
  return as_layer(*this, [&] { return max_pool1d(x, kernel_, opts_.stride, opts_.padding); });
}
std::string MaxPool1d::describe() const { return name("MaxPool1d", kernel_, opts_); }

AvgPool1d::AvgPool1d(int64_t kernel, Pool1dOptions opts)
    : kernel_(kernel), opts_(resolve("AvgPool1d", kernel, opts)) {}
Tensor AvgPool1d::forward(const Tensor& x) const {
  return as_layer(*this, [&] { return avg_pool1d(x, kernel_, opts_.stride, opts_.padding); });
}
std::string AvgPool1d::describe() const { return name("AvgPool1d", kernel_, opts_); }

MaxPool2d::MaxPool2d(Size2d kernel, Pool2dOptions opts)
    : kernel_(kernel), opts_(resolve("MaxPool2d", kernel, opts)) {}
Tensor MaxPool2d::forward(const Tensor& x) const {
  return as_layer(*this, [&] { return max_pool2d(x, kernel_, opts_.stride, opts_.padding); });
}
std::string MaxPool2d::describe() const { return name("MaxPool2d", kernel_, opts_); }

AvgPool2d::AvgPool2d(Size2d kernel, Pool2dOptions opts)
    : kernel_(kernel), opts_(resolve("AvgPool2d", kernel, opts)) {}
Tensor AvgPool2d::forward(const Tensor& x) const {
  return as_layer(*this, [&] { return avg_pool2d(x, kernel_, opts_.stride, opts_.padding); });
}
std::string AvgPool2d::describe() const { return name("AvgPool2d", kernel_, opts_); }

}  // namespace recgrad::nn
