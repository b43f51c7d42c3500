#pragma once
// Training losses in one place. The pointwise and classification losses are ops/loss.h's fused
// kernels, re-exported into recgrad::nn; sampled softmax and the VAE's KL term are compositions
// of ops (their gradients come from the ops'), defined here.
#include "autograd/tensor.h"
#include "ops/loss.h"

namespace recgrad::nn {

// Re-exported from ops/loss.h (documented there):
using recgrad::Reduction;
/// (pred - target)², reduced.  See ops/loss.h.
using recgrad::mse_loss;
/// Binary cross-entropy on logits, reduced.  See ops/loss.h.
using recgrad::bce_with_logits;
/// Softmax cross-entropy over [B,C] logits with class ids [B].  See ops/loss.h.
using recgrad::cross_entropy;
/// Bayesian personalised ranking, -log σ(pos - neg).  See ops/loss.h.
using recgrad::bpr_loss;

/// Corrections for sampled softmax. Every field is optional.
struct SampledSoftmaxOptions {
  /// log-Q correction (Jean et al. 2015; Yi et al. 2019): log q(item), the log-probability with
  /// which the sampler draws the item, is subtracted from the item's logit so that popular,
  /// often-sampled items are not over-penalised. pos_log_q [B]; neg_log_q [B,K] per row or [K]
  /// shared. Undefined: no correction. (These are constants: give them no gradient.)
  Tensor pos_log_q;
  Tensor neg_log_q;
  /// Accidental hits: where a sampled negative is the row's own positive item
  /// (neg_ids[b,k] == pos_ids[b], or neg_ids[k] == pos_ids[b] when shared), its logit is
  /// masked to -inf (it neither counts in the softmax nor gets a gradient). pos_ids [B];
  /// neg_ids [B,K] or [K]. Both empty: no masking.
  Ids pos_ids;
  Ids neg_ids;
  Reduction reduction = Reduction::kMean;
};

/// Sampled softmax from scores: with z_b = [pos_b - log q(pos_b), neg_b,k - log q(neg_b,k)]ₖ
/// (masked hits at -inf), l_b = -log softmax(z_b)₀ = logsumexp(z_b) - z_b,0.
/// pos_logits [B], neg_logits [B,K] -> [] (kMean, kSum) or [B] (kNone).
Tensor sampled_softmax_loss(const Tensor& pos_logits, const Tensor& neg_logits,
                            const SampledSoftmaxOptions& opts = {});

/// Sampled softmax from embeddings: pos_b = ⟨query_b, pos_items_b⟩ and neg_b,k = ⟨query_b,
/// neg_items_k⟩ for shared negatives neg_items [K,d] (one matmul: query·negᵀ) or
/// ⟨query_b, neg_items_b,k⟩ for per-row negatives [B,K,d] (a batched matmul); then as above.
/// query [B,d], pos_items [B,d] -> [] or [B].
Tensor sampled_softmax_loss(const Tensor& query, const Tensor& pos_items, const Tensor& neg_items,
                            const SampledSoftmaxOptions& opts = {});

/// KL(N(mu, e^logvar) ‖ N(0, I)) of a VAE's encoder, summed over latent dims, averaged over the
/// batch: -½ Σⱼ (1 + logvar - mu² - e^logvar) / B.  mu, logvar [B,d] -> []
Tensor kl_normal(const Tensor& mu, const Tensor& logvar);

}  // namespace recgrad::nn
