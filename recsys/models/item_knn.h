#pragma once
// ItemKNN: item-based collaborative filtering with cosine similarity.
//   Sarwar, Karypis, Konstan, Riedl. "Item-Based Collaborative Filtering Recommendation
//   Algorithms." WWW 2001. Shrinkage as in the tuned baseline of Dacrema, Cremonesi, Jannach,
//   "Are We Really Making Much Progress?", RecSys 2019.
// On the binary interaction matrix X [users, items]:
//   sim(i, j) = |U_i ∩ U_j| / (√|U_i|·√|U_j| + h)          (cosine, shrunk towards 0 by h)
// Each item j keeps its k most similar items (similarity > 0; ties to the smaller id), which
// gives a sparse S with column j holding j's neighbours, and a user's scores are
//   score(u, j) = Σ_{i ∈ history(u)} S_ij = Σ of j's neighbours' similarities that u has.
// Defaults: k = 100 neighbours, shrink h = 10. Not trained by gradient descent: fit() computes S
// (Σ_u |items(u)|² work, see recsys/cooccurrence.h).
//
// S is kept as two buffers (so checkpoints carry it): "neighbours" [num_items, k] holds the
// neighbour ids of each item as floats (exact: ids are below 2^24), -1 where an item has fewer
// than k neighbours, and "similarities" [num_items, k] their weights (0 there).
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct ItemKnnConfig {
  int64_t k = 100;     ///< neighbours kept per item
  double shrink = 10;  ///< h >= 0, added to the cosine's denominator
};

class ItemKnn : public Recommender {
 public:
  /// Buffers "neighbours" (all -1) and "similarities" (all 0), [num_items, k], until fit().
  ItemKnn(const ItemKnnConfig& config, int64_t num_items);
  std::string name() const override { return "itemknn"; }
  std::string describe() const override;
  void attach(const TrainingData& data) override;
  bool is_iterative() const override { return false; }
  /// Computes the neighbours and similarities from the attached training histories.
  void fit() override;
  int64_t start_epoch(int64_t) override { return 0; }
  int64_t batch_examples(int64_t) const override { return 0; }
  Tensor loss(int64_t) override;
  /// [B, num_items]: score(u, j) = Σ_{i ∈ history(u), i ∈ neighbours(j)} sim(i, j) (an item
  /// counted once however often it appears in the history).
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  const Tensor& neighbours() const { return neighbours_; }
  const Tensor& similarities() const { return similarities_; }

 private:
  ItemKnnConfig config_;
  Tensor neighbours_, similarities_;  // [num_items, k] buffers
  const UserItems* history_ = nullptr;
};

}  // namespace recgrad::recsys
