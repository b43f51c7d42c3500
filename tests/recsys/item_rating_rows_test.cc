#include "recsys/item_rating_rows.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "autograd/error.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// 3 users x 4 items; item 1 rated twice by user 0 (the later 5 wins), item 3 never rated.
InteractionDataset small_ratings() {
  InteractionDataset d;
  d.name = "small";
  d.users = {0, 0, 1, 2, 0, 2};
  d.items = {1, 0, 1, 2, 1, 0};
  d.ratings = {2, 4, 3, 1, 5, 2};
  return d;
}

}  // namespace

TEST_CASE("ItemRatingLoader: rows hold each item's observed ratings and their mask") {
  const ItemRatingLoader loader(small_ratings(), 3, 4);
  CHECK(loader.num_items() == 4);
  CHECK(loader.num_ratings(1) == 3);
  CHECK(loader.num_ratings(3) == 0);
  CHECK(loader.mean_rating() == doctest::Approx(17.0 / 6.0));
  CHECK(loader.min_rating() == 1.f);
  CHECK(loader.max_rating() == 5.f);
  const ItemRatingBatch b = loader.rows({1, 3, 0});
  CHECK(b.ratings.to_vector() == std::vector<float>{5, 3, 0, 0, 0, 0, 4, 0, 2});
  CHECK(b.mask.to_vector() == std::vector<float>{1, 1, 0, 0, 0, 0, 1, 0, 1});
  CHECK(b.items.values == std::vector<int64_t>{1, 3, 0});
}

TEST_CASE("ItemRatingLoader: an epoch visits every rated item once, in a seeded order") {
  LoaderOptions opts;
  opts.batch_size = 2;
  opts.seed = 9;
  ItemRatingLoader a(small_ratings(), 3, 4, opts), b(small_ratings(), 3, 4, opts);
  CHECK(a.num_examples() == 3);  // item 3 has no rating
  CHECK(a.num_batches() == 2);
  for (int64_t epoch : {0, 1, 5}) {
    a.start_epoch(epoch);
    b.start_epoch(epoch);
    std::vector<int64_t> seen;
    for (int64_t k = 0; k < a.num_batches(); ++k) {
      const ItemRatingBatch x = a.batch(k), y = b.batch(k);
      CHECK(x.items.values == y.items.values);
      CHECK(x.ratings.to_vector() == y.ratings.to_vector());
      seen.insert(seen.end(), x.items.values.begin(), x.items.values.end());
    }
    std::sort(seen.begin(), seen.end());
    CHECK(seen == std::vector<int64_t>{0, 1, 2});
  }
}

TEST_CASE("ItemRatingLoader: data without ratings or out of range ids are errors") {
  InteractionDataset implicit = small_ratings();
  implicit.ratings.clear();
  CHECK_THROWS_WITH_AS(ItemRatingLoader(implicit, 3, 4), doctest::Contains("has no ratings"),
                       Error);
  CHECK_THROWS_WITH_AS(ItemRatingLoader(small_ratings(), 2, 4),
                       doctest::Contains("outside 2 users x 4 items"), Error);
  const ItemRatingLoader loader(small_ratings(), 3, 4);
  CHECK_THROWS_WITH_AS(loader.rows({4}), doctest::Contains("item 4"), Error);
}
