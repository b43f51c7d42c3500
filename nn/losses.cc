#include "nn/losses.h"

#include <limits>

#include "autograd/error.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace recgrad::nn {
namespace {

// 1 where the sampled negative is the row's positive, else 0.  -> [B,K]
Tensor accidental_hits(const Ids& pos_ids, const Ids& neg_ids, int64_t batch, int64_t k,
                       const Shape& neg_shape) {
  RECGRAD_CHECK(pos_ids.shape == Shape{batch},
                "sampled_softmax_loss: pos_ids ", pos_ids.shape, " must be [", batch,
                "], one per row of negatives ", neg_shape);
  const bool shared = neg_ids.shape == Shape{k};
  RECGRAD_CHECK(shared || neg_ids.shape == Shape({batch, k}), "sampled_softmax_loss: neg_ids ",
                neg_ids.shape, " must be [", batch, ",", k, "] or shared [", k,
                "] for negatives ", neg_shape);
  Tensor mask = zeros({batch, k});
  float* pm = mask.data();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 0; j < k; ++j)
      pm[b * k + j] = neg_ids.values[shared ? j : b * k + j] == pos_ids.values[b] ? 1.f : 0.f;
  return mask;
}

}  // namespace

Tensor sampled_softmax_loss(const Tensor& pos_logits, const Tensor& neg_logits,
                            const SampledSoftmaxOptions& opts) {
  RECGRAD_CHECK(pos_logits.dim() == 1 && neg_logits.dim() == 2 &&
                    neg_logits.size(0) == pos_logits.size(0),
                "sampled_softmax_loss: positive logits ", pos_logits.shape(),
                " and negative logits ", neg_logits.shape(), " must be [B] and [B,K]");
  const int64_t batch = pos_logits.size(0), k = neg_logits.size(1);
  Tensor pos = pos_logits, neg = neg_logits;
  if (opts.pos_log_q.defined()) {
    RECGRAD_CHECK(opts.pos_log_q.shape() == pos.shape(), "sampled_softmax_loss: pos_log_q ",
                  opts.pos_log_q.shape(), " must match the positive logits ", pos.shape());
    pos = sub(pos, opts.pos_log_q);
  }
  if (opts.neg_log_q.defined()) {
    RECGRAD_CHECK(opts.neg_log_q.shape() == neg.shape() || opts.neg_log_q.shape() == Shape{k},
                  "sampled_softmax_loss: neg_log_q ", opts.neg_log_q.shape(),
                  " must be [", batch, ",", k, "] or shared [", k, "] for negative logits ",
                  neg.shape());
    neg = sub(neg, opts.neg_log_q);  // a shared [K] broadcasts over rows
  }
  RECGRAD_CHECK((opts.pos_ids.numel() == 0) == (opts.neg_ids.numel() == 0) || k == 0,
                "sampled_softmax_loss: accidental-hit masking needs both pos_ids (",
                opts.pos_ids.shape, ") and neg_ids (", opts.neg_ids.shape, ")");
  if (opts.pos_ids.numel() > 0 && opts.neg_ids.numel() > 0)
    neg = masked_fill(neg, accidental_hits(opts.pos_ids, opts.neg_ids, batch, k, neg.shape()),
                      -std::numeric_limits<float>::infinity());
  // Column 0 is the positive: cross-entropy with every target 0.
  const Tensor logits = concat({reshape(pos, {batch, 1}), neg}, 1);  // [B, 1+K]
  return cross_entropy(logits, Ids(std::vector<int64_t>(batch, 0)), opts.reduction);
}

Tensor sampled_softmax_loss(const Tensor& query, const Tensor& pos_items, const Tensor& neg_items,
                            const SampledSoftmaxOptions& opts) {
  RECGRAD_CHECK(query.dim() == 2 && pos_items.shape() == query.shape(),
                "sampled_softmax_loss: query ", query.shape(), " and positive items ",
                pos_items.shape(), " must both be [B,d]");
  const int64_t batch = query.size(0), d = query.size(1);
  const bool shared = neg_items.dim() == 2;
  RECGRAD_CHECK((shared && neg_items.size(1) == d) ||
                    (neg_items.dim() == 3 && neg_items.size(0) == batch && neg_items.size(2) == d),
                "sampled_softmax_loss: query ", query.shape(), " and negative items ",
                neg_items.shape(), ": negatives must be shared [K,", d, "] or per row [", batch,
                ",K,", d, "]");
  const Tensor pos = sum(mul(query, pos_items), {1});  // [B]
  Tensor neg;
  if (shared) {
    neg = matmul(query, neg_items, false, true);  // [B,d]·[K,d]ᵀ -> [B,K]
  } else {
    // [B,K,d]·[B,d,1] -> [B,K,1]: one small product per row.
    neg = reshape(matmul(neg_items, reshape(query, {batch, d, 1})), {batch, neg_items.size(1)});
  }
  return sampled_softmax_loss(pos, neg, opts);
}

Tensor kl_normal(const Tensor& mu, const Tensor& logvar) {
  RECGRAD_CHECK(mu.dim() == 2 && mu.shape() == logvar.shape(), "kl_normal: mu ", mu.shape(),
                " and logvar ", logvar.shape(), " must both be [B,d]");
  // -½ Σⱼ (1 + logvar - mu² - e^logvar), per row, then the batch mean.
  const Tensor terms = sub(sub(add(logvar, 1.f), square(mu)), exp(logvar));
  return mul(mean(sum(terms, {1})), -0.5f);
}

}  // namespace recgrad::nn
