#include "nn/attention.h"

#include <algorithm>
#include <cmath>

#include "autograd/error.h"
#include "nn/init.h"
#include "ops/attention.h"
#include "ops/causal_matmul.h"
#include "ops/matmul.h"
#include "ops/shape.h"

namespace recgrad::nn {
namespace {

// Overwrites a parameter's values in place (the handle the module registered stays the same).
void assign(const Tensor& param, const Tensor& values) {
  Tensor p = param;
  std::copy(values.data(), values.data() + values.numel(), p.data());
}

}  // namespace

Tensor key_padding_mask(const Ids& ids, int64_t padding_id) {
  RECGRAD_CHECK(ids.shape.size() == 2, "key_padding_mask: ids ", ids.shape,
                ": expected [B, L]");
  Tensor m = Tensor::empty(ids.shape);
  for (int64_t i = 0; i < ids.numel(); ++i) m.data()[i] = ids.values[i] == padding_id ? 1.f : 0.f;
  return m;
}

Tensor key_padding_from_lengths(const std::vector<int64_t>& lengths, int64_t max_len) {
  RECGRAD_CHECK(max_len >= 0, "key_padding_from_lengths: max_len ", max_len, " is negative");
  const int64_t b = static_cast<int64_t>(lengths.size());
  Tensor m = Tensor::empty({b, max_len});
  for (int64_t r = 0; r < b; ++r) {
    RECGRAD_CHECK(lengths[r] >= 0 && lengths[r] <= max_len, "key_padding_from_lengths: length ",
                  lengths[r], " of row ", r, " is outside [0, ", max_len, "]");
    for (int64_t l = 0; l < max_len; ++l) m.data()[r * max_len + l] = l >= lengths[r] ? 1.f : 0.f;
  }
  return m;
}

MultiHeadAttention::MultiHeadAttention(int64_t d_model, int64_t num_heads, Generator& gen,
                                       MultiHeadAttentionOptions opts)
    : d_model_(d_model), num_heads_(num_heads), opts_(opts) {
  RECGRAD_CHECK(d_model > 0 && num_heads > 0, "MultiHeadAttention(d_model=", d_model,
                ", heads=", num_heads, "): d_model and num_heads must be positive");
  RECGRAD_CHECK(d_model % num_heads == 0, "MultiHeadAttention(d_model=", d_model, ", heads=",
                num_heads, "): d_model is not divisible by num_heads");
  RECGRAD_CHECK(opts.dropout >= 0.f && opts.dropout < 1.f, "MultiHeadAttention(d_model=",
                d_model, ", heads=", num_heads, "): dropout p = ", opts.dropout,
                " must lie in [0, 1)");
  LinearOptions lo;
  lo.bias = opts.bias;
  q_proj_ = register_module("q_proj", std::make_shared<Linear>(d_model, d_model, gen, lo));
  k_proj_ = register_module("k_proj", std::make_shared<Linear>(d_model, d_model, gen, lo));
  v_proj_ = register_module("v_proj", std::make_shared<Linear>(d_model, d_model, gen, lo));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(d_model, d_model, gen, lo));
  // PyTorch: xavier_uniform_ on the packed [3d, d] in_proj_weight, in_proj_bias and
  // out_proj.bias zeroed; out_proj.weight keeps nn.Linear's default.
  const float bound = std::sqrt(6.f / static_cast<float>(4 * d_model));
  for (const auto& proj : {q_proj_, k_proj_, v_proj_})
    assign(proj->weight(), init::uniform({d_model, d_model}, -bound, bound, gen));
  if (opts.bias)
    for (const auto& proj : {q_proj_, k_proj_, v_proj_, out_proj_})
      assign(proj->bias(), init::zeros({d_model}));
  if (opts.dropout > 0.f)
    dropout_ = register_module("dropout", std::make_shared<Dropout>(opts.dropout, gen));
}

Tensor MultiHeadAttention::split_heads(const Tensor& x) const {
  const int64_t b = x.size(0), l = x.size(1);
  if (num_heads_ == 1) return x;  // [B, L, d] is already [B·1, L, d_head]
  const Tensor heads = permute(reshape(x, {b, l, num_heads_, head_dim()}), {0, 2, 1, 3});
  return reshape(heads, {b * num_heads_, l, head_dim()});
}

Tensor MultiHeadAttention::merge_heads(const Tensor& x, int64_t batch) const {
  if (num_heads_ == 1) return x;
  const int64_t l = x.size(1);
  const Tensor heads = permute(reshape(x, {batch, num_heads_, l, head_dim()}), {0, 2, 1, 3});
  return reshape(heads, {batch, l, d_model_});
}

Tensor MultiHeadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const AttentionMask& mask) {
  RECGRAD_CHECK(query.defined() && key.defined() && value.defined(), describe(),
                ": query, key and value must all be defined");
  auto check_input = [&](const char* name, const Tensor& t) {
    RECGRAD_CHECK(t.dim() == 3 && t.size(2) == d_model_ && t.size(0) >= 1 && t.size(1) >= 1,
                  describe(), ": ", name, " ", t.shape(), ": expected [B, L, ", d_model_,
                  "] with B, L >= 1");
  };
  check_input("query", query);
  check_input("key", key);
  check_input("value", value);
  const int64_t b = query.size(0), lk = key.size(1);
  RECGRAD_CHECK(key.size(0) == b && value.size(0) == b && value.size(1) == lk, describe(),
                ": query ", query.shape(), ", key ", key.shape(), ", value ", value.shape(),
                ": batch sizes must agree and key and value must have the same length");
  if (mask.key_padding.defined())
    RECGRAD_CHECK(mask.key_padding.shape() == (Shape{b, lk}), describe(), ": key_padding ",
                  mask.key_padding.shape(), " for key ", key.shape(), ": expected [", b, ",",
                  lk, "]");

  const Tensor q = split_heads(q_proj_->forward(query));  // [B·h, Lq, d_head]
  const Tensor k = split_heads(k_proj_->forward(key));    // [B·h, Lk, d_head]
  const Tensor v = split_heads(v_proj_->forward(value));  // [B·h, Lk, d_head]
  // Causal self-attention computes only the lower triangle of both products (query i sees
  // keys j <= i, so the scores above the diagonal are never read and the weights there are 0):
  // about half the work of the dense ones, the same values up to rounding.
  const bool lower_only = mask.causal && query.size(1) == lk;
  // Q·Kᵀ with K's transpose a BLAS flag; the 1/√d_head scale is folded into the softmax.
  const Tensor s = lower_only ? causal_scores(q, k) : matmul(q, k, false, true);
  // Dropout on the weights is fused into the softmax: it keeps the zeros above the diagonal, and
  // a separate pass would read and write them.
  const float scale = 1.f / std::sqrt(static_cast<float>(head_dim()));
  const Tensor a =
      dropout_ ? masked_softmax_dropout(s, mask.key_padding, mask.causal, scale, dropout_->p(),
                                        dropout_->is_training(), dropout_->generator())
               : masked_softmax(s, mask.key_padding, mask.causal, scale);
  const Tensor o = lower_only ? causal_mix(a, v) : matmul(a, v);  // [B·h, Lq, d_head]
  return out_proj_->forward(merge_heads(o, b));
}

Tensor MultiHeadAttention::forward(const Tensor& x, const AttentionMask& mask) {
  return forward(x, x, x, mask);
}

std::string MultiHeadAttention::describe() const {
  std::string s = detail::str_cat("MultiHeadAttention(d_model=", d_model_, ", heads=", num_heads_);
  if (opts_.dropout > 0.f) s += detail::str_cat(", dropout=", opts_.dropout);
  return s + (opts_.bias ? ", bias)" : ", no bias)");
}

}  // namespace recgrad::nn
