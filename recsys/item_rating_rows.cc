#include "recsys/item_rating_rows.h"

#include <algorithm>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad::recsys {

ItemRatingLoader::ItemRatingLoader(const InteractionDataset& train, int64_t num_users,
                                   int64_t num_items, LoaderOptions opts)
    : num_users_(num_users) {
  RECGRAD_CHECK(train.has_ratings(), "ItemRatingLoader: ", train.name,
                " has no ratings; an item-based rating model needs explicit ratings");
  RECGRAD_CHECK(train.size() > 0, "ItemRatingLoader: ", train.name, " has no rows");
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "ItemRatingLoader: need users and items, got ",
                num_users, " users and ", num_items, " items");
  // Counting sort by item keeps the dataset's row order within each item.
  offsets_.assign(num_items + 1, 0);
  for (int64_t k = 0; k < train.size(); ++k) {
    RECGRAD_CHECK(train.users[k] >= 0 && train.users[k] < num_users && train.items[k] >= 0 &&
                      train.items[k] < num_items,
                  "ItemRatingLoader: row ", k, " (user ", train.users[k], ", item ", train.items[k],
                  ") is outside ", num_users, " users x ", num_items, " items");
    ++offsets_[train.items[k] + 1];
  }
  for (int64_t i = 0; i < num_items; ++i) offsets_[i + 1] += offsets_[i];
  users_.resize(train.size());
  ratings_.resize(train.size());
  std::vector<int64_t> cursor(offsets_.begin(), offsets_.end() - 1);
  double sum = 0;
  min_ = max_ = train.ratings[0];
  for (int64_t k = 0; k < train.size(); ++k) {
    const int64_t at = cursor[train.items[k]]++;
    users_[at] = train.users[k];
    ratings_[at] = train.ratings[k];
    sum += train.ratings[k];
    min_ = std::min(min_, train.ratings[k]);
    max_ = std::max(max_, train.ratings[k]);
  }
  mean_ = sum / static_cast<double>(train.size());
  for (int64_t i = 0; i < num_items; ++i)
    if (num_ratings(i) > 0) rated_items_.push_back(i);
  order_ = EpochOrder(static_cast<int64_t>(rated_items_.size()), opts, "ItemRatingLoader");
}

ItemRatingBatch ItemRatingLoader::rows(const std::vector<int64_t>& items) const {
  const auto b_size = static_cast<int64_t>(items.size());
  const int64_t n = num_users_;
  for (int64_t i : items)
    RECGRAD_CHECK(i >= 0 && i < num_items(), "ItemRatingLoader: item ", i, " is outside [0, ",
                  num_items(), ")");
  Tensor ratings = zeros({b_size, n}), mask = zeros({b_size, n});
  float* r = ratings.data();
  float* m = mask.data();
  recgrad::detail::parallel_for(b_size, 16, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row)
      for (int64_t k = offsets_[items[row]]; k < offsets_[items[row] + 1]; ++k) {
        r[row * n + users_[k]] = ratings_[k];  // a later repeat overwrites: the last one wins
        m[row * n + users_[k]] = 1.f;
      }
  });
  return {Ids(items), ratings, mask};
}

ItemRatingBatch ItemRatingLoader::batch(int64_t index) const {
  std::vector<int64_t> items = order_.batch(index);
  for (int64_t& x : items) x = rated_items_[x];
  return rows(items);
}

}  // namespace recgrad::recsys
