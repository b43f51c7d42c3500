#pragma once
// Training losses with fused forward and backward kernels: each computes its loss in a
// numerically stable form and writes its gradient in one pass, without building a graph of
// elementwise ops. Sums run in double over fixed chunks, so a loss does not depend on the thread
// count.
#include "autograd/tensor.h"
#include "ops/csr.h"

namespace recgrad {

/// How a loss reduces its per-element (or per-row) values.
enum class Reduction {
  kMean,  ///< scalar []: sum / count (0 when nothing is counted)
  kSum,   ///< scalar []: sum
  kNone,  ///< per-element (per-row for cross_entropy) losses, differentiable themselves
};

/// Squared error l = (pred - target)².  pred, target [...] (same shape) -> [] or [...] for kNone.
/// Gradients reach both inputs: dpred = 2(pred - target)·g, dtarget = -dpred.
Tensor mse_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::kMean);

/// Binary cross-entropy on logits, l = -[t·log σ(x) + (1-t)·log(1-σ(x))], computed stably as
/// max(x,0) - x·t + log1p(exp(-|x|)).  logits, targets [...] (same shape) -> [] or [...].
/// dlogits = (σ(x) - t)·g;  dtargets = -x·g (soft targets can be learned, as in PyTorch).
Tensor bce_with_logits(const Tensor& logits, const Tensor& targets,
                       Reduction reduction = Reduction::kMean);

/// Softmax cross-entropy l_b = logsumexp(x_b) - x_b[t_b].  logits [B,C], targets ids [B] in
/// [0,C) or ignore_index -> [] or [B] for kNone. Rows whose target is ignore_index contribute 0
/// and are left out of the mean's count (all ignored: loss 0, gradient 0).
/// dlogits_b = (softmax(x_b) - onehot(t_b))·g_b, with g_b = g/count for kMean.
Tensor cross_entropy(const Tensor& logits, const Ids& targets,
                     Reduction reduction = Reduction::kMean, int64_t ignore_index = -100);

/// Softmax cross-entropy against target weights (class probabilities, or counts such as a
/// user's 0/1 interactions: the multinomial likelihood of Mult-VAE/DAE):
///   l_b = −Σ_j t[b,j]·log_softmax(x_b)_j = logsumexp(x_b)·Σ_j t[b,j] − Σ_j t[b,j]·x[b,j].
/// logits [B,C], targets [B,C] (any real weights; rows need not sum to 1) -> [] or [B] for
/// kNone (kMean averages over rows, as PyTorch's cross_entropy with probability targets).
/// dlogits_b = (softmax(x_b)·Σ_j t[b,j] − t_b)·g_b; targets get no gradient. One pass for the
/// loss and one for its gradient, instead of log_softmax, mul and sum (three [B,C] tensors).
Tensor soft_cross_entropy(const Tensor& logits, const Tensor& targets,
                          Reduction reduction = Reduction::kMean);

/// soft_cross_entropy with the targets as a CSR matrix [B, C] (ops/csr.h): the same loss and
/// gradient from the targets' non-zeros alone (a user's ~130 of 3,706 items in Mult-VAE's
/// likelihood), with no dense [B, C] target tensor to build and read per batch. Bit-identical
/// to the dense form when each row's columns ascend (csr_from_dense's order); other orders
/// differ in rounding only.
Tensor soft_cross_entropy(const Tensor& logits, const CsrMatrix& targets,
                          Reduction reduction = Reduction::kMean);

/// Bayesian personalised ranking, l = -log σ(pos - neg) = softplus(neg - pos).
/// pos_scores, neg_scores [...] (same shape, typically [B]) -> [] or [...] for kNone.
/// dpos = -σ(neg - pos)·g, dneg = -dpos.
Tensor bpr_loss(const Tensor& pos_scores, const Tensor& neg_scores,
                Reduction reduction = Reduction::kMean);

}  // namespace recgrad
