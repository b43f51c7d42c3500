// Each dataset format parses a small hand-made file: ids, ratings, timestamps and genres.
#include "recsys/formats.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autograd/error.h"
#include "recsys/delimited.h"
#include "recsys/movielens.h"
#include "recsys/protocol_files.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using recgrad::testing::temp_dir;
using recgrad::testing::write_temp_file;

namespace {

// The raw ids of the dataset's rows, as "user:item" strings.
std::vector<std::string> raw_pairs(const InteractionDataset& d) {
  std::vector<std::string> out;
  for (int64_t r = 0; r < d.size(); ++r)
    out.push_back(d.user_ids.raw(d.users[r]) + ":" + d.item_ids.raw(d.items[r]));
  return out;
}

std::vector<std::string> genres_of(const InteractionDataset& d, const std::string& raw_item) {
  std::vector<std::string> out;
  for (int32_t g : d.item_genres.at(d.item_ids.find(raw_item))) out.push_back(d.genre_names.at(g));
  return out;
}

std::string ml100k_item_line(int id, const std::string& title, const std::vector<int>& genres) {
  std::string line = std::to_string(id) + "|" + title + "|01-Jan-1995||http://x";
  for (int g = 0; g < 19; ++g) {
    bool on = false;
    for (int x : genres) on |= x == g;
    line += on ? "|1" : "|0";
  }
  return line + "\n";
}

}  // namespace

TEST_CASE("ml-100k: u.data rows and u.item genres load with raw ids kept") {
  const std::string path = write_temp_file("ml100k/u.data",
                                           "196\t242\t3\t881250949\n"
                                           "186\t302\t3\t891717742\n"
                                           "196\t302\t5\t881250950\n");
  // u.item is ISO-8859-1 (\xe9 below) and lists an item nobody rated (7), which must not be added.
  write_temp_file("ml100k/u.item", ml100k_item_line(242, "Kolya (1996)", {5}) +
                                       ml100k_item_line(302, "L.A. Confidential (1997) \xe9", {6, 10, 16}) +
                                       ml100k_item_line(7, "Twelve Monkeys (1995)", {15}));
  const InteractionDataset d = load_dataset(path);
  CHECK(d.size() == 3);
  CHECK(d.num_users() == 2);
  CHECK(d.num_items() == 2);
  CHECK(raw_pairs(d) == std::vector<std::string>{"196:242", "186:302", "196:302"});
  CHECK(d.users == std::vector<int64_t>{0, 1, 0});  // dense ids in order of first appearance
  CHECK(d.ratings == std::vector<float>{3, 3, 5});
  CHECK(d.timestamps == std::vector<int64_t>{881250949, 891717742, 881250950});
  REQUIRE(d.item_genres.size() == 2);
  CHECK(d.genre_names.size() == 19);
  CHECK(genres_of(d, "242") == std::vector<std::string>{"Comedy"});
  CHECK(genres_of(d, "302") == std::vector<std::string>{"Crime", "Film-Noir", "Thriller"});
  // A directory works too, and gives the same rows.
  CHECK(raw_pairs(load_dataset(temp_dir() + "/ml100k", "ml-100k")) == raw_pairs(d));
}

TEST_CASE("ml-1m: ratings.dat with :: and movies.dat genres; ml-10m is an alias") {
  const std::string path = write_temp_file("ml1m/ratings.dat",
                                           "1::1193::5::978300760\r\n"  // Windows line ends too
                                           "1::661::3::978302109\r\n"
                                           "2::1193::4.5::978298413\r\n");
  write_temp_file("ml1m/movies.dat",
                  "661::James and the Giant Peach (1996)::Animation|Children's|Musical\n"
                  "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n"
                  "2000::Lethal Weapon: Part 2 (1989)::Action|Comedy\n");
  for (const char* format : {"", "ml-1m", "ml-10m"}) {
    CAPTURE(format);
    const InteractionDataset d = load_dataset(path, format);
    CHECK(raw_pairs(d) == std::vector<std::string>{"1:1193", "1:661", "2:1193"});
    CHECK(d.ratings == std::vector<float>{5, 3, 4.5f});
    CHECK(d.timestamps == std::vector<int64_t>{978300760, 978302109, 978298413});
    CHECK(genres_of(d, "661") == std::vector<std::string>{"Animation", "Children's", "Musical"});
    CHECK(genres_of(d, "1193") == std::vector<std::string>{"Drama"});
    CHECK(d.genre_names.size() == 4);  // Action|Comedy of unrated 2000 are not read
  }
}

TEST_CASE("ml-20m: ratings.csv with its header and movies.csv genres; ml-25m is an alias") {
  const std::string path = write_temp_file("ml20m/ratings.csv",
                                           "userId,movieId,rating,timestamp\n"
                                           "1,2,3.5,1112486027\n"
                                           "1,29,3.5,1112484676\n"
                                           "3,2,4.0,1112484819\n");
  write_temp_file("ml20m/movies.csv",
                  "movieId,title,genres\n"
                  "2,Jumanji (1995),Adventure|Children|Fantasy\n"
                  "29,\"City of Lost Children, The (1995)\",(no genres listed)\n");
  for (const char* format : {"", "ml-20m", "ml-25m"}) {
    CAPTURE(format);
    const InteractionDataset d = load_dataset(path, format);
    CHECK(raw_pairs(d) == std::vector<std::string>{"1:2", "1:29", "3:2"});
    CHECK(d.ratings == std::vector<float>{3.5f, 3.5f, 4.0f});
    CHECK(d.timestamps.back() == 1112484819);
    CHECK(genres_of(d, "2") == std::vector<std::string>{"Adventure", "Children", "Fantasy"});
    CHECK(genres_of(d, "29").empty());
  }
}

TEST_CASE("uir: 2, 3 or 4 tab-separated columns and any token as id") {
  const std::string two = write_temp_file("two.tsv", "u1\ti9\nu2\ti9\n");
  const InteractionDataset d2 = load_dataset(two, "uir");
  CHECK(raw_pairs(d2) == std::vector<std::string>{"u1:i9", "u2:i9"});
  CHECK_FALSE(d2.has_ratings());
  CHECK_FALSE(d2.has_timestamps());

  const InteractionDataset d3 = load_uir(write_temp_file("three.tsv", "1\t10\t4\n2\t20\t1\n"));
  CHECK(d3.ratings == std::vector<float>{4, 1});
  CHECK_FALSE(d3.has_timestamps());

  const InteractionDataset d4 = load_uir(write_temp_file("four.tsv", "1\t10\t4\t100\n2\t20\t1\t99\n"));
  CHECK(d4.ratings == std::vector<float>{4, 1});
  CHECK(d4.timestamps == std::vector<int64_t>{100, 99});
}

TEST_CASE("seq: SASRec lines become rows with timestamps in line order") {
  const std::string path = write_temp_file("sasrec.txt", "1 1\n1 2\n2 3\n1 3\n2 1\n");
  const InteractionDataset d = load_dataset(path, "seq");
  CHECK(raw_pairs(d) == std::vector<std::string>{"1:1", "1:2", "2:3", "1:3", "2:1"});
  CHECK(d.timestamps == std::vector<int64_t>{0, 1, 2, 3, 4});
  CHECK_FALSE(d.has_ratings());
}

TEST_CASE("ncf: train, test pairs and negatives share one id numbering") {
  const std::string dir = temp_dir() + "/ncf";
  write_temp_file("ncf/tiny.train.rating", "0\t3\t4\t978824330\n0\t5\t4\t0\n1\t3\t2\t978300174\n");
  write_temp_file("ncf/tiny.test.rating", "0\t25\t5\t978824351\n1\t5\t3\t978300175\n");
  write_temp_file("ncf/tiny.test.negative", "(0,25)\t3\t7\t8\n(1,5)\t25\t9\t3\n");
  for (const std::string& path : {dir, dir + "/tiny.train.rating"}) {
    CAPTURE(path);
    const NcfProtocol p = load_ncf(path);
    CHECK(raw_pairs(p.train) == std::vector<std::string>{"0:3", "0:5", "1:3"});
    CHECK(p.train.ratings == std::vector<float>{4, 4, 2});
    CHECK_FALSE(p.train.has_timestamps());
    // Items 25, 7, 8, 9 occur only in the test files: they get ids after train's.
    CHECK(p.train.num_items() == 6);
    REQUIRE(p.test.size() == 2);
    CHECK(p.train.item_ids.raw(p.test[0].second) == "25");
    CHECK(p.test[1] == std::pair<int64_t, int64_t>{1, p.train.item_ids.find("5")});
    REQUIRE(p.negatives.size() == 2);
    std::vector<std::string> raw;
    for (int64_t i : p.negatives[1]) raw.push_back(p.train.item_ids.raw(i));
    CHECK(raw == std::vector<std::string>{"25", "9", "3"});
    CHECK(p.negatives[0].size() == 3);
  }
  CHECK(infer_format(dir) == "ncf");
  CHECK(load_dataset(dir).size() == 3);  // load_dataset gives the train part
}

TEST_CASE("csv: columns by index or header name, any delimiter") {
  const std::string path = write_temp_file("events.csv",
                                           "ts;item;who;score\n"
                                           "100;a;x;1.5\n"
                                           "90;b;y;2\n");
  CsvOptions o;
  o.delimiter = ";";
  o.user = CsvColumn::named("who");
  o.item = CsvColumn::named("item");
  o.rating = CsvColumn::named("score");
  o.timestamp = CsvColumn::at(0);
  const InteractionDataset d = load_dataset(path, "csv", o);
  CHECK(raw_pairs(d) == std::vector<std::string>{"x:a", "y:b"});
  CHECK(d.ratings == std::vector<float>{1.5f, 2});
  CHECK(d.timestamps == std::vector<int64_t>{100, 90});

  // Without a header, by index; the default mapping is user, item in columns 0 and 1.
  const std::string bare = write_temp_file("bare.csv", "7,8,x\n9,8,y\n");
  CsvOptions plain;
  plain.header = false;
  const InteractionDataset b = load_csv(bare, plain);
  CHECK(raw_pairs(b) == std::vector<std::string>{"7:8", "9:8"});
  CHECK_FALSE(b.has_ratings());
}

TEST_CASE("formats: names are inferred from file names, aliases resolve, unknown ones are listed") {
  CHECK(infer_format("/data/ml-100k/u.data") == "ml-100k");
  CHECK(infer_format("ratings.dat") == "ml-1m");
  CHECK(infer_format("x/ratings.csv") == "ml-20m");
  CHECK(infer_format("x/ml-1m.train.rating") == "ncf");
  CHECK(canonical_format("ml-10m") == "ml-1m");
  CHECK(canonical_format("ml-25m") == "ml-20m");
  CHECK(canonical_format("seq") == "seq");
  const char* all = "ml-100k, ml-1m, ml-10m, ml-20m, ml-25m, uir, seq, ncf, csv";
  CHECK_THROWS_WITH_AS(infer_format("/data/sasrec_ml-1m.txt"),
                       doctest::Contains("sasrec_ml-1m.txt: cannot infer the dataset format"), Error);
  CHECK_THROWS_WITH_AS(infer_format("/data/sasrec_ml-1m.txt"), doctest::Contains(all), Error);
  CHECK_THROWS_WITH_AS(load_dataset("x.tsv", "tsv"), doctest::Contains("\"tsv\""), Error);
  CHECK_THROWS_WITH_AS(load_dataset("x.tsv", "tsv"), doctest::Contains(all), Error);
}
