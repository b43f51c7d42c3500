// export_experiment: the files the PyTorch peers read hold exactly the experiment's parts, with
// its dense ids, ratings that round-trip, and a meta.json naming every raw id.
#include "recsys/export.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using recgrad::testing::temp_dir;
using recgrad::testing::write_temp_file;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A part read back from its TSV: parallel columns (ratings empty without a third column).
struct Rows {
  std::vector<int64_t> users, items;
  std::vector<float> ratings;
};

Rows read_tsv(const std::string& path) {
  Rows r;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    std::stringstream fields(line);
    long long u = -1, i = -1;
    fields >> u >> i;
    r.users.push_back(u);
    r.items.push_back(i);
    float rating;
    if (fields >> rating) r.ratings.push_back(rating);
  }
  return r;
}

void check_part(const std::string& path, const InteractionDataset& part, bool with_ratings) {
  const Rows r = read_tsv(path);
  CHECK(r.users == part.users);
  CHECK(r.items == part.items);
  if (with_ratings)
    CHECK(r.ratings == part.ratings);  // %.9g round-trips a float exactly
  else
    CHECK(r.ratings.empty());
}

}  // namespace

TEST_CASE("export: a rated ratio split round-trips part by part, with meta.json") {
  DataSpec spec;
  spec.split = "ratio";
  spec.synthetic_users = 40;
  spec.synthetic_items = 100;
  spec.synthetic_rows = 1200;
  const Experiment ex = Experiment::load(spec);
  REQUIRE(ex.data.has_ratings());
  const std::string dir = temp_dir() + "/export_ratio/nested";
  const ExportSummary s = export_experiment(ex, dir);
  CHECK(s.train_rows == ex.split.train.size());
  CHECK(s.valid_rows == ex.split.valid.size());
  CHECK(s.test_rows == ex.split.test.size());
  CHECK(s.train_rows + s.valid_rows + s.test_rows == 1200);
  check_part(dir + "/train.tsv", ex.split.train, true);
  check_part(dir + "/valid.tsv", ex.split.valid, true);
  check_part(dir + "/test.tsv", ex.split.test, true);
  const std::string meta = read(dir + "/meta.json");
  CHECK(meta.find("\"num_users\": 40") != std::string::npos);
  CHECK(meta.find("\"num_items\": 100") != std::string::npos);
  CHECK(meta.find("\"has_ratings\": true") != std::string::npos);
  CHECK(meta.find("\"split\": \"ratio\"") != std::string::npos);
  CHECK(meta.find("\"rows\": {\"train\": " + std::to_string(s.train_rows)) != std::string::npos);
  // Synthetic raw ids are "1".."n", dense = raw - 1.
  CHECK(meta.find("\"user_names\": [\"1\", \"2\", \"3\"") != std::string::npos);

  SUBCASE("exporting again replaces the files") {
    export_experiment(ex, dir);
    check_part(dir + "/test.tsv", ex.split.test, true);
  }
}

TEST_CASE("export: implicit leave-one-out data has two columns and keeps time order") {
  // user item per line, chronological per user (the SASRec file's format).
  const std::string path =
      write_temp_file("export_seq.txt", "1 10\n1 11\n1 12\n1 13\n2 11\n2 10\n2 14\n3 12\n");
  DataSpec spec;
  spec.path = path;
  spec.format = "seq";
  spec.split = "loo";
  const Experiment ex = Experiment::load(spec);
  const std::string dir = temp_dir() + "/export_seq";
  export_experiment(ex, dir);
  check_part(dir + "/train.tsv", ex.split.train, false);
  check_part(dir + "/test.tsv", ex.split.test, false);
  // User "1" (dense 0) trains on 10, 11 in order, validates on 12 and tests on 13.
  const Rows train = read_tsv(dir + "/train.tsv"), test = read_tsv(dir + "/test.tsv");
  REQUIRE(train.users.size() >= 2);
  CHECK(train.users[0] == 0);
  CHECK(ex.data.item_ids.raw(train.items[0]) == "10");
  CHECK(ex.data.item_ids.raw(train.items[1]) == "11");
  CHECK(ex.data.item_ids.raw(test.items[0]) == "13");
  CHECK(read(dir + "/meta.json").find("\"has_ratings\": false") != std::string::npos);
}

TEST_CASE("export: raw ids are escaped in meta.json") {
  const std::string path =
      write_temp_file("export_names.tsv", "u\"q\tA\\B\t4\nu\"q\tC\t3\nv\tA\\B\t5\nv\tC\t2\n");
  DataSpec spec;
  spec.path = path;
  spec.format = "uir";
  spec.split = "global:1/0/0";
  const Experiment ex = Experiment::load(spec);
  const std::string dir = temp_dir() + "/export_names";
  export_experiment(ex, dir);
  const std::string meta = read(dir + "/meta.json");
  CHECK(meta.find("\"user_names\": [\"u\\\"q\", \"v\"]") != std::string::npos);
  CHECK(meta.find("\"item_names\": [\"A\\\\B\", \"C\"]") != std::string::npos);
  CHECK(read(dir + "/test.tsv").empty());
}

TEST_CASE("export: a given test file's rows are the test part, and meta.json names the file") {
  const std::string train =
      write_temp_file("export_given_train.tsv", "a\tx\t4\na\ty\t3\nb\tx\t5\n");
  const std::string test = write_temp_file("export_given_test.tsv", "a\tz\t2\nb\ty\t1\n");
  DataSpec spec;
  spec.path = train;
  spec.format = "uir";
  spec.test_path = test;
  spec.split = "global:1/0/0";
  const Experiment ex = Experiment::load(spec);
  const std::string dir = temp_dir() + "/export_given";
  const ExportSummary s = export_experiment(ex, dir);
  CHECK(s.train_rows == 3);
  CHECK(s.test_rows == 2);
  check_part(dir + "/test.tsv", ex.split.test, true);
  CHECK(read_tsv(dir + "/test.tsv").ratings == std::vector<float>{2.f, 1.f});
  const std::string meta = read(dir + "/meta.json");
  CHECK(meta.find("\"test_file\": \"" + test + "\"") != std::string::npos);
  CHECK(meta.find("\"item_names\": [\"x\", \"y\", \"z\"]") != std::string::npos);
}

TEST_CASE("export: an unwritable directory and the NCF split are refused with the reason") {
  DataSpec spec;
  spec.synthetic_users = 30;
  spec.synthetic_items = 100;
  spec.synthetic_rows = 900;
  const Experiment ex = Experiment::load(spec);
  const std::string file = write_temp_file("export_blocker", "not a directory");
  CHECK_THROWS_WITH_AS(export_experiment(ex, file + "/sub"), doctest::Contains("export_blocker"),
                       recgrad::Error);

  Experiment ncf = ex;
  ncf.spec.split = "ncf";
  CHECK_THROWS_WITH_AS(export_experiment(ncf, temp_dir() + "/export_ncf"),
                       doctest::Contains("fixed negatives"), recgrad::Error);
}
