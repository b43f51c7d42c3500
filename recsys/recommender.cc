#include "recsys/recommender.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/graph.h"
#include "ops/shape.h"
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
  check_finite_loss(opt, value);
  l.backward();
  opt.step();
  return value;
}

void Recommender::check_finite_loss(const optim::Optimizer& opt, double loss) {
  if (opt.check_finite() && !std::isfinite(loss))
    throw NonFiniteError(
        detail::str_cat("the loss is ", detail::value_str(static_cast<float>(loss))));
}

Tensor Recommender::score_pairs(const std::vector<int64_t>& users,
                                const std::vector<int64_t>& items, const UserItems& history) {
  RECGRAD_CHECK(users.size() == items.size(), name(), ": score_pairs: ", users.size(),
                " users but ", items.size(), " items");
  // Each distinct user's row once, in order of first appearance.
  std::vector<int64_t> distinct;
  std::vector<int64_t> row_of(users.size());
  std::unordered_map<int64_t, int64_t> seen;
  for (size_t k = 0; k < users.size(); ++k) {
    const auto [it, fresh] = seen.emplace(users[k], static_cast<int64_t>(distinct.size()));
    if (fresh) distinct.push_back(users[k]);
    row_of[k] = it->second;
  }
  const Tensor rows = score(distinct, history);
  const int64_t n = rows.size(1);
  Tensor out = Tensor::empty({static_cast<int64_t>(users.size())});
  for (size_t k = 0; k < users.size(); ++k) {
    RECGRAD_CHECK(items[k] >= 0 && items[k] < n, name(), ": score_pairs: item ", items[k],
                  " is outside the ", n, " scored");
    out.data()[k] = rows.data()[row_of[k] * n + items[k]];
  }
  return out;
}

Tensor Recommender::predict(const std::vector<int64_t>&, const std::vector<int64_t>&) {
  throw UsageError(name() + ": predict() is only available on rating models");
}

TopK Recommender::recommend(const std::vector<int64_t>& users, int64_t k,
                            const UserItems& history, const UserItems& seen,
                            int64_t max_batch_scores) {
  RECGRAD_CHECK(max_batch_scores >= 1, name(), ": recommend: max_batch_scores must be >= 1, got ",
                max_batch_scores);
  NoGradGuard no_grad;
  // Switch modes only when needed: a model already in eval mode is then only read, so several
  // threads may call recommend on it at once (docs/threads.md).
  const bool was_training = is_training();
  if (was_training) eval();
  // Users in chunks whose score block stays within the budget, as the evaluator streams them:
  // recommending to every user of a large catalogue holds one chunk's scores, not [users, items].
  const auto b = static_cast<int64_t>(users.size());
  const int64_t chunk =
      std::max<int64_t>(1, max_batch_scores / std::max<int64_t>(1, history.num_items));
  std::vector<int64_t> items;
  std::vector<Tensor> scores;
  int64_t width = 0;
  const int64_t chunks = std::max<int64_t>(1, (b + chunk - 1) / chunk);  // no users: one call
  for (int64_t c = 0; c < chunks; ++c) {
    const int64_t s = c * chunk;
    const std::vector<int64_t> part(users.begin() + s, users.begin() + std::min(b, s + chunk));
    Tensor block = score(part, history);
    mask_items(block, part, seen);
    TopK top = top_k(block, k);
    width = top.scores.size(1);
    items.insert(items.end(), top.items.values.begin(), top.items.values.end());
    scores.push_back(top.scores);
  }
  if (was_training) train();
  if (scores.size() == 1) return {Ids(std::move(items), {b, width}), scores[0]};
  return {Ids(std::move(items), {b, width}), concat(scores, 0)};
}

}  // namespace recgrad::recsys
