#pragma once
// Item-based rating rows, for item-based autoencoders (I-AutoRec): each item's vector of
// observed ratings over all users, with a mask of which entries are observed.
//
//   item i's row:  ratings[u] = r(u, i) where u rated i, else 0;  mask[u] = 1 where rated, else 0
//
// Training rows are stored as compressed per-item lists (users + ratings, in the dataset's row
// order; when a user rated an item twice, the later row wins) and expanded to dense
// [B, num_users] rows per batch. An epoch is one row per item that has at least one rating, in
// an order that depends only on (seed, epoch) (see recsys/batches.h).
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"
#include "recsys/batches.h"
#include "recsys/dataset.h"

namespace recgrad::recsys {

/// Items and their dense rating rows.  items [B], ratings and mask [B, num_users]
struct ItemRatingBatch {
  Ids items;
  Tensor ratings;  ///< observed ratings, 0 elsewhere
  Tensor mask;     ///< 1 where observed, 0 elsewhere
};

/// One row per rated item per epoch.
class ItemRatingLoader : public EpochLoader<ItemRatingBatch> {
 public:
  /// train: rated interactions with dense ids below num_users / num_items. Throws
  /// recgrad::Error when train has no ratings or an id is out of range.
  ItemRatingLoader(const InteractionDataset& train, int64_t num_users, int64_t num_items,
                   LoaderOptions opts = {});
  ItemRatingBatch batch(int64_t index) const override;
  /// The rows of any items (an unrated item gets an all-zero row).  items [B] -> as batch()
  ItemRatingBatch rows(const std::vector<int64_t>& items) const;

  int64_t num_users() const { return num_users_; }
  int64_t num_items() const { return static_cast<int64_t>(offsets_.size()) - 1; }
  /// Rating rows of `item` (repeats included).
  int64_t num_ratings(int64_t item) const { return offsets_[item + 1] - offsets_[item]; }
  /// Mean, smallest and largest training rating.
  double mean_rating() const { return mean_; }
  float min_rating() const { return min_; }
  float max_rating() const { return max_; }

 private:
  int64_t num_users_ = 0;
  std::vector<int64_t> offsets_;  // num_items + 1; item i: [offsets_[i], offsets_[i + 1])
  std::vector<int64_t> users_;
  std::vector<float> ratings_;
  std::vector<int64_t> rated_items_;  // the examples: items with at least one rating, ascending
  double mean_ = 0;
  float min_ = 0, max_ = 0;
};

}  // namespace recgrad::recsys
