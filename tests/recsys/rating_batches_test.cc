#include "recsys/rating_batches.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "autograd/error.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// 7 rated rows (a repeated pair included) of 3 users and 4 items.
InteractionDataset rated() {
  InteractionDataset d;
  d.name = "rated";
  d.users = {0, 0, 1, 1, 1, 2, 0};
  d.items = {1, 3, 0, 1, 2, 3, 1};
  d.ratings = {4, 5, 1, 2, 3, 4, 2};
  return d;
}

using Row = std::tuple<int64_t, int64_t, float>;

std::vector<Row> epoch_rows(RatingLoader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<Row> rows;
  RatingBatch b;
  while (loader.next(b)) {
    CHECK(b.ratings.numel() == b.users.numel());
    for (int64_t k = 0; k < b.users.numel(); ++k)
      rows.emplace_back(b.users.values[k], b.items.values[k], b.ratings.data()[k]);
  }
  return rows;
}

}  // namespace

TEST_CASE("RatingLoader: every rated row once per epoch, in batches of batch_size") {
  LoaderOptions o;
  o.batch_size = 3;
  RatingLoader loader(rated(), o);
  CHECK(loader.num_examples() == 7);
  CHECK(loader.num_batches() == 3);
  CHECK(loader.batch(2).users.numel() == 1);
  std::vector<Row> got = epoch_rows(loader, 0), want;
  const InteractionDataset d = rated();
  for (int64_t k = 0; k < d.size(); ++k) want.emplace_back(d.users[k], d.items[k], d.ratings[k]);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  CHECK(got == want);
  CHECK(loader.mean_rating() == doctest::Approx(3.0));
}

TEST_CASE("RatingLoader: the order depends only on seed and epoch") {
  LoaderOptions o;
  o.batch_size = 2;
  o.seed = 5;
  RatingLoader a(rated(), o), b(rated(), o);
  CHECK(epoch_rows(a, 3) == epoch_rows(b, 3));
  CHECK(epoch_rows(a, 1) == epoch_rows(b, 1));
  CHECK(epoch_rows(a, 1) != epoch_rows(a, 2));
  o.shuffle = false;
  RatingLoader plain(rated(), o);
  CHECK(std::get<2>(epoch_rows(plain, 4)[0]) == 4.f);
}

TEST_CASE("RatingLoader: implicit data and bad options are errors") {
  InteractionDataset implicit = rated();
  implicit.ratings.clear();
  CHECK_THROWS_WITH_AS(RatingLoader{implicit}, doctest::Contains("has no ratings"), Error);
  InteractionDataset empty;
  empty.name = "empty";
  empty.ratings = {};
  CHECK_THROWS_AS(RatingLoader{empty}, Error);
  LoaderOptions o;
  o.batch_size = 0;
  CHECK_THROWS_WITH_AS(RatingLoader(rated(), o), doctest::Contains("batch_size"), Error);
}
