#include "recsys/rating_batches.h"

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad::recsys {

RatingLoader::RatingLoader(const InteractionDataset& train, LoaderOptions opts)
    : users_(train.users), items_(train.items), ratings_(train.ratings) {
  RECGRAD_CHECK(train.has_ratings(), "RatingLoader: ", train.name,
                " has no ratings (implicit feedback); rating models need explicit ratings");
  RECGRAD_CHECK(train.size() > 0, "RatingLoader: ", train.name, " has no rows");
  RECGRAD_CHECK(train.ratings.size() == train.users.size(), "RatingLoader: ", train.name, " has ",
                train.users.size(), " rows but ", train.ratings.size(), " ratings");
  double sum = 0;
  for (float r : ratings_) sum += r;
  mean_ = sum / static_cast<double>(ratings_.size());
  order_ = EpochOrder(train.size(), opts, "RatingLoader");
}

RatingBatch RatingLoader::batch(int64_t index) const {
  const std::vector<int64_t> ex = order_.batch(index);
  const auto b_size = static_cast<int64_t>(ex.size());
  std::vector<int64_t> users(b_size), items(b_size);
  Tensor ratings = Tensor::empty({b_size});
  float* r = ratings.data();
  recgrad::detail::parallel_for(b_size, recgrad::detail::kGrainCheap / 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      users[i] = users_[ex[i]];
      items[i] = items_[ex[i]];
      r[i] = ratings_[ex[i]];
    }
  });
  return {Ids(std::move(users)), Ids(std::move(items)), ratings};
}

}  // namespace recgrad::recsys
