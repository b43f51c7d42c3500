#pragma once
// Batches of observed ratings for explicit-feedback models (BiasedMF): (user, item, rating)
// rows of a training InteractionDataset, one per rated interaction per epoch. Like the loaders of
// recsys/batches.h, the order of epoch e depends only on (seed, e); there are no negatives.
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"
#include "recsys/batches.h"
#include "recsys/dataset.h"

namespace recgrad::recsys {

/// Observed ratings.  users, items [B];  ratings [B].
struct RatingBatch {
  Ids users, items;
  Tensor ratings;
};

/// One row per training interaction (duplicates included) per epoch; opts.sampler is unused.
class RatingLoader : public EpochLoader<RatingBatch> {
 public:
  /// Copies the (user, item, rating) columns of `train`. Throws recgrad::Error when it has no
  /// ratings (implicit feedback) or no rows, or on bad options.
  explicit RatingLoader(const InteractionDataset& train, LoaderOptions opts = {});
  RatingBatch batch(int64_t index) const override;
  /// μ = Σ ratings / rows, summed in double in row order.
  double mean_rating() const { return mean_; }

 private:
  std::vector<int64_t> users_, items_;
  std::vector<float> ratings_;
  double mean_ = 0;
};

}  // namespace recgrad::recsys
