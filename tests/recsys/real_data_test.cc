// The loaders on the real MovieLens copies in $RECGRAD_DATA_DIR (default /work/shared/data).
// Each case prints a MESSAGE and returns when its file is absent.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "recsys/delimited.h"
#include "recsys/formats.h"
#include "recsys/protocol_files.h"
#include "recsys/split.h"
#include "tests/recsys/data_dir.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// Runs `load` and reports its wall time.
template <typename Load>
auto timed(const std::string& what, const Load& load) {
  const auto t0 = std::chrono::steady_clock::now();
  auto out = load();
  MESSAGE(what, ": ", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() * 1e3, " ms");
  return out;
}

}  // namespace

TEST_CASE("real data: ml-100k u.data has 943 users, 1,682 items, 100,000 ratings and genres") {
  RECGRAD_REQUIRE_DATA(path, "ml-100k/u.data");
  const InteractionDataset d = timed("ml-100k", [&] { return load_dataset(path); });
  CHECK(d.size() == 100000);
  CHECK(d.num_users() == 943);
  CHECK(d.num_items() == 1682);
  CHECK(d.has_ratings());
  CHECK(d.has_timestamps());
  CHECK(d.user_ids.raw(d.users[0]) == "196");  // first line: 196 242 3 881250949
  CHECK(d.item_ids.raw(d.items[0]) == "242");
  CHECK(d.timestamps[0] == 881250949);
  REQUIRE(d.item_genres.size() == 1682);
  CHECK(d.genre_names.size() == 19);
  CHECK(d.genre_names[d.item_genres[d.item_ids.find("1")].back()] == "Comedy");  // Toy Story
}

TEST_CASE("real data: the SASRec ml-1m file has 6,040 users, 3,416 items, 999,611 lines") {
  RECGRAD_REQUIRE_DATA(path, "ml-1m/sasrec_ml-1m.txt");
  const InteractionDataset d = timed("sasrec_ml-1m.txt", [&] { return load_dataset(path, "seq"); });
  CHECK(d.size() == 999611);
  CHECK(d.num_users() == 6040);
  CHECK(d.num_items() == 3416);
  const Split s = leave_one_out(d);
  CHECK(s.test.size() == 6040);  // every user has at least 3 items
  CHECK(s.valid.size() == 6040);
}

TEST_CASE("real data: NCF ml-1m files give 6,040 test users with 99 negatives each") {
  RECGRAD_REQUIRE_DATA(dir, "ml-1m/ncf");
  const NcfProtocol p = timed("ncf ml-1m", [&] { return load_ncf(dir); });
  CHECK(p.train.size() == 994169);
  CHECK(p.train.num_users() == 6040);
  CHECK(p.train.num_items() == 3706);
  REQUIRE(p.test.size() == 6040);
  REQUIRE(p.negatives.size() == 6040);
  for (const auto& negs : p.negatives) REQUIRE(negs.size() == 99);
  CHECK(p.train.user_ids.raw(p.test[0].first) == "0");
  CHECK(p.train.item_ids.raw(p.test[0].second) == "25");
}

TEST_CASE("real data: ratings_uir.tsv has 1,000,209 rows over 6,040 users and 3,706 items") {
  RECGRAD_REQUIRE_DATA(path, "ml-1m/ratings_uir.tsv");
  const InteractionDataset d = timed("ratings_uir.tsv", [&] { return load_dataset(path, "uir"); });
  CHECK(d.size() == 1000209);
  CHECK(d.num_users() == 6040);
  CHECK(d.num_items() == 3706);
  CHECK(d.has_ratings());
  CHECK_FALSE(d.has_timestamps());
}

TEST_CASE("real data: the genuine ratings.dat prefix parses as ml-1m and agrees with ratings_uir.tsv") {
  // The prefix is gzip-compressed and recgrad reads no gzip: the test decompresses it with the
  // gzip command into its temporary directory, and skips when gzip is unavailable.
  RECGRAD_REQUIRE_DATA(gz, "ml-1m/ratings.dat.first487650lines.gz");
  RECGRAD_REQUIRE_DATA(uir_path, "ml-1m/ratings_uir.tsv");
  const std::string dir = recgrad::testing::temp_dir() + "/ml1m_real";
  recgrad::testing::write_temp_file("ml1m_real/.keep", "");
  const std::string path = dir + "/ratings.dat";
  const std::string cmd = "gzip -dc '" + gz + "' > '" + path + "'";
  if (std::system(cmd.c_str()) != 0) {
    MESSAGE("skipped: `", cmd, "` failed (is gzip installed?)");
    return;
  }
  const InteractionDataset d = timed("ratings.dat (487,650 lines)", [&] { return load_dataset(path); });
  CHECK(d.size() == 487650);
  CHECK(d.num_users() == 2999);  // all ratings of users 1-2999
  CHECK(d.has_timestamps());
  const InteractionDataset uir = load_uir(uir_path);
  int64_t same = 0;
  for (int64_t r = 0; r < d.size(); ++r)
    same += d.user_ids.raw(d.users[r]) == uir.user_ids.raw(uir.users[r]) &&
            d.item_ids.raw(d.items[r]) == uir.item_ids.raw(uir.items[r]) && d.ratings[r] == uir.ratings[r];
  CHECK(same == d.size());
}
