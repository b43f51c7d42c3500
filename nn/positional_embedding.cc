#include "nn/positional_embedding.h"

#include "autograd/error.h"
#include "nn/init.h"
#include "ops/elementwise.h"
#include "ops/shape.h"

namespace recgrad::nn {

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len, int64_t dim,
                                                       Generator& gen,
                                                       PositionalEmbeddingOptions opts)
    : max_len_(max_len), dim_(dim) {
  RECGRAD_CHECK(max_len > 0 && dim > 0, "LearnedPositionalEmbedding(", max_len, " x ", dim,
                "): max_len and dim must be positive");
  RECGRAD_CHECK(opts.init_std >= 0.f, describe(), ": init_std ", opts.init_std, " is negative");
  weight_ = register_parameter("weight", init::normal({max_len, dim}, 0.f, opts.init_std, gen));
}

Tensor LearnedPositionalEmbedding::positions(int64_t length) const {
  RECGRAD_CHECK(length >= 0 && length <= max_len_, describe(), ": ", length,
                " positions requested, but only 0..", max_len_, " are learned");
  if (length == max_len_) return weight_;
  return narrow(weight_, 0, 0, length);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& x) const {
  RECGRAD_CHECK(x.dim() >= 2 && x.size(-1) == dim_, describe(), ": input ", x.shape(),
                ": expected [..., L, ", dim_, "]");
  RECGRAD_CHECK(x.size(-2) <= max_len_, describe(), ": input ", x.shape(), " has length ",
                x.size(-2), ", longer than max_len ", max_len_);
  // [L, d] broadcasts over the leading (batch) dimensions; add sums its gradient back.
  return add(x, positions(x.size(-2)));
}

std::string LearnedPositionalEmbedding::describe() const {
  return detail::str_cat("LearnedPositionalEmbedding(", max_len_, " x ", dim_, ")");
}

}  // namespace recgrad::nn
