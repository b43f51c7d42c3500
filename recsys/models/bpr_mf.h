#pragma once
// BPR-MF: matrix factorisation trained with Bayesian Personalized Ranking.
//   Rendle, Freudenthaler, Gantner, Schmidt-Thieme. "BPR: Bayesian Personalized Ranking from
//   Implicit Feedback." UAI 2009.
// score(u, i) = <P_u, Q_i>; each training interaction (u, i) is paired with a uniformly drawn
// item j the user never interacted with, and the loss is -log σ(score(u,i) - score(u,j)).
// Defaults follow RecBole's BPR (dim 64, Adam lr 1e-3, batch 2048); embeddings start at
// N(0, 0.1²) and receive row-sparse gradients, so a step costs O(batch), not O(table).
#include <optional>

#include "nn/module.h"
#include "recsys/batches.h"
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct BprMfConfig {
  int64_t dim = 64;
  TrainConfig train{/*lr=*/1e-3, /*weight_decay=*/0, /*batch_size=*/2048, /*seed=*/0};
};

class BprMf : public Recommender {
 public:
  BprMf(const BprMfConfig& config, int64_t num_users, int64_t num_items);
  std::string name() const override { return "bpr"; }
  std::string describe() const override;

  void attach(const TrainingData& data) override;
  int64_t start_epoch(int64_t epoch) override;
  int64_t batch_examples(int64_t index) const override;
  Tensor loss(int64_t index) override;
  /// scores [B, num_items] = P_users · Qᵀ (history is not needed).
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  const Tensor& user_factors() const { return users_; }
  const Tensor& item_factors() const { return items_; }

 private:
  BprMfConfig config_;
  Tensor users_, items_;  // P [num_users, dim], Q [num_items, dim]
  std::optional<TripleLoader> loader_;
};

}  // namespace recgrad::recsys
