#include "recsys/recommender.h"

#include <cmath>

#include "autograd/anomaly.h"
#include "autograd/graph.h"
#include "optim/adam.h"

namespace recgrad::recsys {

std::unique_ptr<optim::Optimizer> Recommender::make_optimizer() {
  optim::AdamOptions o;
  o.lr = train_.lr;
  o.weight_decay = train_.weight_decay;
  return std::make_unique<optim::Adam>(named_parameters(), o);
}

double Recommender::train_step(int64_t index, optim::Optimizer& opt) {
  opt.zero_grad();
  Tensor l = loss(index);
  const double value = l.item();
  // Checked before backward, so a non-finite loss whose gradients happen to be finite (an inf
  // from an overflow) still leaves the parameters untouched; step() then checks the gradients.
  if (opt.check_finite() && !std::isfinite(value))
    throw NonFiniteError(detail::str_cat("the loss is ", detail::value_str(static_cast<float>(value))));
  l.backward();
  opt.step();
  return value;
}

Tensor Recommender::predict(const std::vector<int64_t>&, const std::vector<int64_t>&) {
  throw UsageError(name() + ": predict() is only available on rating models");
}

TopK Recommender::recommend(const std::vector<int64_t>& users, int64_t k,
                            const UserItems& history, const UserItems& seen) {
  NoGradGuard no_grad;
  // Switch modes only when needed: a model already in eval mode is then only read, so several
  // threads may call recommend on it at once (docs/threads.md).
  const bool was_training = is_training();
  if (was_training) eval();
  Tensor scores = score(users, history);
  if (was_training) train();
  mask_items(scores, users, seen);
  return top_k(scores, k);
}

}  // namespace recgrad::recsys
