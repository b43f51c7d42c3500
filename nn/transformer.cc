#include "nn/transformer.h"

#include "autograd/error.h"
#include "ops/elementwise.h"

namespace recgrad::nn {
namespace {

std::string header(const TransformerEncoderBlockOptions& o) {
  return detail::str_cat("TransformerEncoderBlock(d_model=", o.d_model, ", heads=", o.num_heads,
                         ", d_ff=", o.d_ff, ")");
}

}  // namespace

TransformerEncoderBlock::TransformerEncoderBlock(TransformerEncoderBlockOptions opts,
                                                 Generator& gen)
    : opts_(opts) {
  RECGRAD_CHECK(opts.d_model > 0 && opts.num_heads > 0 && opts.d_ff > 0, header(opts),
                ": d_model, num_heads and d_ff must be positive");
  RECGRAD_CHECK(opts.d_model % opts.num_heads == 0, header(opts),
                ": d_model is not divisible by num_heads");
  RECGRAD_CHECK(opts.dropout >= 0.f && opts.dropout < 1.f, header(opts), ": dropout p = ",
                opts.dropout, " must lie in [0, 1)");
  RECGRAD_CHECK(opts.norm_first || !opts.normalized_residual, header(opts),
                ": normalized_residual is a pre-LN layout; set norm_first too");
  RECGRAD_CHECK(opts.layer_norm_eps >= 0.f, header(opts), ": layer_norm_eps ",
                opts.layer_norm_eps, " is negative");
  // Parameters are drawn before any dropout stream (the attention's is drawn after its own
  // projections), so the parameters do not depend on p: linear1, linear2, then self_attn.
  auto linear1 = std::make_shared<Linear>(opts.d_model, opts.d_ff, gen);
  auto linear2 = std::make_shared<Linear>(opts.d_ff, opts.d_model, gen);
  MultiHeadAttentionOptions ao;
  ao.dropout = opts.dropout;
  auto attn = std::make_shared<MultiHeadAttention>(opts.d_model, opts.num_heads, gen, ao);
  self_attn_ = register_module("self_attn", attn);
  linear1_ = register_module("linear1", linear1);
  linear2_ = register_module("linear2", linear2);
  LayerNormOptions lo;
  lo.eps = opts.layer_norm_eps;
  norm1_ = register_module("norm1", std::make_shared<LayerNorm>(opts.d_model, lo));
  norm2_ = register_module("norm2", std::make_shared<LayerNorm>(opts.d_model, lo));
  if (opts.dropout > 0.f)
    dropout_ = register_module("dropout", std::make_shared<Dropout>(opts.dropout, gen));
}

Tensor TransformerEncoderBlock::drop(const Tensor& h) { return dropout_ ? dropout_->forward(h) : h; }

Tensor TransformerEncoderBlock::feed_forward(const Tensor& h) {
  return linear2_->forward(drop(activate(opts_.activation, linear1_->forward(h))));
}

Tensor TransformerEncoderBlock::forward(const Tensor& x, const AttentionMask& mask) {
  RECGRAD_CHECK(x.defined() && x.dim() == 3 && x.size(2) == opts_.d_model, describe(),
                ": input ", x.defined() ? x.shape() : Shape{}, ": expected [B, L, ",
                opts_.d_model, "]");
  if (mask.key_padding.defined())
    RECGRAD_CHECK(mask.key_padding.shape() == (Shape{x.size(0), x.size(1)}), describe(),
                  ": key_padding ", mask.key_padding.shape(), " for input ", x.shape(),
                  ": expected [", x.size(0), ",", x.size(1), "]");
  Tensor h;
  if (opts_.normalized_residual) {
    const Tensor q = norm1_->forward(x);
    h = add(q, self_attn_->forward(q, x, x, mask));
    const Tensor z = norm2_->forward(h);
    h = add(z, drop(feed_forward(z)));
  } else if (opts_.norm_first) {
    h = add(x, drop(self_attn_->forward(norm1_->forward(x), mask)));
    h = add(h, drop(feed_forward(norm2_->forward(h))));
  } else {
    h = norm1_->forward(add(x, drop(self_attn_->forward(x, mask))));
    h = norm2_->forward(add(h, drop(feed_forward(h))));
  }
  if (opts_.zero_padded_outputs && mask.key_padding.defined()) {
    // keep [B, L, 1] (1 at valid positions, 0 at padded ones) broadcast over d: padded rows
    // become exactly 0 and send no gradient back.
    Tensor keep = Tensor::empty({x.size(0), x.size(1), 1});
    const float* pad = mask.key_padding.data();
    for (int64_t i = 0; i < keep.numel(); ++i) keep.data()[i] = pad[i] == 0.f ? 1.f : 0.f;
    h = mul(h, keep);
  }
  return h;
}

std::string TransformerEncoderBlock::describe() const {
  std::string s = detail::str_cat("TransformerEncoderBlock(d_model=", opts_.d_model, ", heads=",
                                  opts_.num_heads, ", d_ff=", opts_.d_ff, ", ",
                                  activation_name(opts_.activation),
                                  opts_.norm_first ? ", pre-LN" : ", post-LN");
  if (opts_.normalized_residual) s += ", normalized residual";
  if (opts_.dropout > 0.f) s += detail::str_cat(", dropout=", opts_.dropout);
  if (opts_.zero_padded_outputs) s += ", zero padded outputs";
  return s + ")";
}

}  // namespace recgrad::nn
