#include "nn/linear.h"

#include <cmath>

#include "autograd/error.h"
#include "nn/init.h"
#include "ops/linear.h"

namespace recgrad::nn {

Linear::Linear(int64_t in, int64_t out, Generator& gen, LinearOptions opts) : in_(in), out_(out) {
  RECGRAD_CHECK(in > 0 && out > 0, "Linear(", in, " -> ", out,
                "): in and out features must be positive");
  init::KaimingOptions k;
  k.a = std::sqrt(5.f);  // PyTorch's nn.Linear default: bound = 1/√in
  weight_ = register_parameter("weight", init::kaiming_uniform({out, in}, gen, k));
  if (opts.bias) {
    const float bound = 1.f / std::sqrt(static_cast<float>(in));
    bias_ = register_parameter("bias", init::uniform({out}, -bound, bound, gen));
  }
}

Tensor Linear::forward(const Tensor& x) const {
  RECGRAD_CHECK(x.dim() >= 1 && x.size(-1) == in_, describe(), ": input ", x.shape(),
                " x weight ", weight_.shape(), ": expected the input's last dimension to be ",
                in_);
  return linear(x, weight_, bias_);
}

std::string Linear::describe() const {
  return detail::str_cat("Linear(", in_, " -> ", out_, bias_.defined() ? ", bias)" : ", no bias)");
}

}  // namespace recgrad::nn
