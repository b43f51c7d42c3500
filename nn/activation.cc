#include "nn/activation.h"

#include <cmath>

#include "autograd/error.h"

namespace recgrad::nn {

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::kIdentity: return "Identity";
    case Activation::kRelu: return "ReLU";
    case Activation::kLeakyRelu: return "LeakyReLU";
    case Activation::kGelu: return "GELU";
    case Activation::kTanh: return "Tanh";
    case Activation::kSigmoid: return "Sigmoid";
  }
  return "?";
}

Tensor activate(Activation a, const Tensor& x, float leaky_slope) {
  switch (a) {
    case Activation::kIdentity: return x;
    case Activation::kRelu: return relu(x);
    case Activation::kLeakyRelu: return leaky_relu(x, leaky_slope);
    case Activation::kGelu: return gelu(x);
    case Activation::kTanh: return tanh(x);
    case Activation::kSigmoid: return sigmoid(x);
  }
  throw Error(detail::str_cat("activate: unknown activation ", static_cast<int>(a)));
}

LeakyReLU::LeakyReLU(float slope) : slope_(slope) {
  RECGRAD_CHECK(std::isfinite(slope), "LeakyReLU: slope ", slope, " must be finite");
}

std::string LeakyReLU::describe() const {
  return detail::str_cat("LeakyReLU(slope=", slope_, ")");
}

}  // namespace recgrad::nn
