#include "nn/layer_norm.h"

#include "autograd/error.h"
#include "nn/init.h"
#include "ops/layer_norm.h"

namespace recgrad::nn {

LayerNorm::LayerNorm(int64_t dim, LayerNormOptions opts) : dim_(dim), opts_(opts) {
  RECGRAD_CHECK(dim > 0, "LayerNorm(", dim, "): the normalised dimension must be positive");
  RECGRAD_CHECK(opts.eps >= 0.f, "LayerNorm(", dim, "): eps ", opts.eps, " is negative");
  if (opts.affine) {
    weight_ = register_parameter("weight", init::ones({dim}));
    bias_ = register_parameter("bias", init::zeros({dim}));
  }
}

Tensor LayerNorm::forward(const Tensor& x) const {
  RECGRAD_CHECK(x.dim() >= 1 && x.size(-1) == dim_, describe(), ": input ", x.shape(),
                ": expected the last dimension to be ", dim_);
  return layer_norm(x, weight_, bias_, opts_.eps);
}

std::string LayerNorm::describe() const {
  return detail::str_cat("LayerNorm(", dim_, ", eps=", opts_.eps,
                         opts_.affine ? ", affine)" : ", no affine)");
}

}  // namespace recgrad::nn
