// Experiment: the split grammar, k-core filtering, and the NCF protocol's bookkeeping on tiny
// hand-made files (including the quirk that a negatives line may hold the test item itself).
#include "recsys/experiment.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using recgrad::testing::write_temp_file;

namespace {

// Three users, five items (raw ids 0..4), NCF layout: train, one test pair per user, and the
// negatives of each pair. User 2's negatives hold its own test item 4 and a repeat of item 0.
std::string write_ncf_files() {
  write_temp_file("ncf/tiny.train.rating",
                  "0\t0\t5\t0\n0\t1\t4\t0\n0\t2\t3\t0\n"
                  "1\t1\t5\t0\n1\t2\t4\t0\n"
                  "2\t0\t3\t0\n2\t3\t5\t0\n");
  write_temp_file("ncf/tiny.test.rating", "0\t3\t5\t0\n1\t4\t4\t0\n2\t4\t5\t0\n");
  write_temp_file("ncf/tiny.test.negative",
                  "(0,3)\t4\n(1,4)\t0\t3\n(2,4)\t1\t4\t0\t1\n");
  return recgrad::testing::temp_dir() + "/ncf";
}

// Small synthetic data (50 users, 200 items, 2,000 rows) under `split`.
DataSpec small_synthetic(const std::string& split) {
  DataSpec d;
  d.synthetic_users = 50;
  d.synthetic_items = 200;
  d.synthetic_rows = 2000;
  d.split = split;
  return d;
}

// The dense id of raw item `raw`.
int64_t item(const Experiment& ex, const std::string& raw) { return ex.data.item_ids.find(raw); }

}  // namespace

TEST_CASE("parse_split: loo, ratio with and without shares, global, ncf") {
  CHECK(parse_split("loo").kind == SplitSpec::Kind::kLeaveOneOut);
  const SplitSpec ratio = parse_split("ratio");
  CHECK(ratio.kind == SplitSpec::Kind::kRandomPerUser);
  CHECK(ratio.ratios.train == doctest::Approx(0.8));
  const SplitSpec shares = parse_split("ratio:0.7/0.1/0.2");
  CHECK(shares.ratios.train == doctest::Approx(0.7));
  CHECK(shares.ratios.test == doctest::Approx(0.2));
  const SplitSpec global = parse_split("global:0.9/0/0.1");
  CHECK(global.kind == SplitSpec::Kind::kRandomGlobal);
  CHECK(global.ratios.valid == 0);
  CHECK(parse_split("ncf").kind == SplitSpec::Kind::kNcf);
}

TEST_CASE("parse_split: bad values are named") {
  CHECK_THROWS_WITH_AS(parse_split("time"), doctest::Contains("'time' is not one of loo"), Error);
  CHECK_THROWS_WITH_AS(parse_split("global"), doctest::Contains("global:0.9/0/0.1"), Error);
  CHECK_THROWS_WITH_AS(parse_split("ratio:0.8/0.2"), doctest::Contains("'ratio:0.8/0.2'"), Error);
  CHECK_THROWS_WITH_AS(parse_split("loo:1/0/0"), doctest::Contains("'loo:1/0/0'"), Error);
  // Shares are checked when parsed, before any data is read (found by tools/fuzz/cli_fuzzer).
  CHECK_THROWS_WITH_AS(parse_split("global:0.9/0/21"), doctest::Contains("sum to 21.9, not 1"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_split("ratio:0.8/-0.1/0.3"), doctest::Contains(">= 0"), Error);
  CHECK_THROWS_WITH_AS(parse_split("ratio:nan/0/0"), doctest::Contains("'ratio:nan/0/0'"), Error);
}

TEST_CASE("Experiment: shares that do not sum to 1 are refused before loading") {
  DataSpec d;
  d.synthetic_users = 20;
  d.synthetic_items = 100;
  d.synthetic_rows = 600;
  d.split = "ratio:0.5/0.1/0.1";
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("sum to 0.7"), Error);
}

TEST_CASE("Experiment: global split holds out the stated share of all rows, no validation") {
  const Experiment ex = Experiment::load(small_synthetic("global:0.9/0/0.1"));
  CHECK(ex.split.test.size() == 200);
  CHECK(ex.split.valid.size() == 0);
  CHECK(ex.split.train.size() == 1800);
}

TEST_CASE("Experiment: with the validation rows in training, the test part is unchanged") {
  const Experiment ex = Experiment::load(small_synthetic("ratio"));
  REQUIRE(ex.split.valid.size() > 0);
  const Experiment refit = ex.with_validation_in_training();
  CHECK(refit.split.train.size() == ex.split.train.size() + ex.split.valid.size());
  CHECK(refit.split.valid.size() == 0);
  CHECK(refit.split.test.items == ex.split.test.items);
  for (int64_t u = 0; u < ex.data.num_users(); ++u) {
    CHECK(refit.valid.count(u) == 0);
    std::vector<int64_t> before(ex.train_valid.begin(u), ex.train_valid.end(u));
    std::vector<int64_t> after(refit.train.begin(u), refit.train.end(u));
    std::sort(before.begin(), before.end());
    std::sort(after.begin(), after.end());
    CHECK(after == before);  // what the test masks is the same
  }
  CHECK(refit.training().interactions->size() == refit.split.train.size());
}

TEST_CASE("Experiment: k-core leaves every user and item with at least k rows") {
  DataSpec d;
  d.synthetic_users = 60;
  d.synthetic_items = 300;
  d.synthetic_rows = 3000;
  d.split = "ratio";
  d.k_core = 10;
  const Experiment ex = Experiment::load(d);
  std::vector<int64_t> per_user(ex.data.num_users()), per_item(ex.data.num_items());
  for (int64_t r = 0; r < ex.data.size(); ++r) {
    ++per_user[ex.data.users[r]];
    ++per_item[ex.data.items[r]];
  }
  CHECK(ex.data.size() < 3000);  // the long tail of items had fewer than 10 rows
  CHECK(*std::min_element(per_user.begin(), per_user.end()) >= 10);
  CHECK(*std::min_element(per_item.begin(), per_item.end()) >= 10);
}

TEST_CASE("Experiment: ncf split keeps the given test pairs and their negatives") {
  DataSpec d;
  d.path = write_ncf_files();
  d.format = "ncf";
  d.split = "ncf";
  const Experiment ex = Experiment::load(d);
  REQUIRE(ex.data.num_users() == 3);
  CHECK(ex.split.test.size() == 3);
  // One random training row per user with 2+ rows validates; the rest trains.
  CHECK(ex.split.valid.size() == 3);
  CHECK(ex.split.train.size() == 4);
  // Test pairs in dense ids, one per user.
  const int64_t u2 = ex.data.user_ids.find("2");
  REQUIRE(ex.test.end(u2) - ex.test.begin(u2) == 1);
  CHECK(*ex.test.begin(u2) == item(ex, "4"));
  // The quirk: user 2's line lists its test item 4 and item 1 twice; the NCF code keys scores
  // by item, so the candidates are {4} + {0, 1}.
  CHECK(ex.test_negatives[u2] == std::vector<int64_t>{item(ex, "0"), item(ex, "1")});
  const int64_t u1 = ex.data.user_ids.find("1");
  CHECK(ex.test_negatives[u1] == std::vector<int64_t>{item(ex, "0"), item(ex, "3")});
}

TEST_CASE("Experiment: ncf test ranks each test item among its negatives only") {
  DataSpec d;
  d.path = write_ncf_files();
  d.split = "ncf";
  const Experiment ex = Experiment::load(d);
  EvalOptions opts;
  opts.ks = {1};
  const Evaluator ev = ex.test_evaluator(opts);
  const int64_t i4 = item(ex, "4");
  // Item 2 outscores everything but is in no candidate list; item 4 comes next. Users 1 and 2
  // (test item 4) hit at rank 1; user 0 (test item 3, negative 4) misses.
  const EvalResult r = ev.evaluate([&](const std::vector<int64_t>& users) {
    Tensor s = zeros({static_cast<int64_t>(users.size()), ex.data.num_items()});
    for (int64_t b = 0; b < static_cast<int64_t>(users.size()); ++b) {
      s.data()[b * ex.data.num_items() + i4] = 2.f;
      s.data()[b * ex.data.num_items() + item(ex, "2")] = 9.f;
    }
    return s;
  });
  CHECK(r.protocol == "fixed");
  CHECK(r.users_evaluated == 3);
  CHECK(r.at("HR@1") == doctest::Approx(2.0 / 3.0));
}

TEST_CASE("Experiment: ncf split refuses other formats and filters") {
  DataSpec d;
  d.split = "ncf";
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("not in the ncf format"), Error);
  d.path = write_ncf_files();
  d.k_core = 2;
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("drop --min-rating/--k-core"), Error);
}

namespace {

// A published split as two uir files (user c and item e appear only in the test file), and
// the spec that reads them with `split`.
DataSpec given_split(const std::string& split) {
  write_temp_file("given/train.tsv",
                  "a\tx\t5\na\ty\t4\na\tz\t3\na\tw\t1\n"
                  "b\tx\t2\nb\ty\t5\nb\tz\t4\nb\tw\t4\n");
  DataSpec d;
  d.path = recgrad::testing::temp_dir() + "/given/train.tsv";
  d.format = "uir";
  d.test_path = write_temp_file("given/test.tsv", "a\te\t4\nb\tw2\t3\nc\tx\t5\n");
  d.split = split;
  return d;
}

}  // namespace

TEST_CASE("Experiment: --test-file gives the test rows; --split only cuts train and validation") {
  const Experiment ex = Experiment::load(given_split("ratio:0.75/0.25/0"));
  // The training file's 8 rows: 3 + 1 per user; the test file's 3 rows as they are.
  CHECK(ex.split.train.size() == 6);
  CHECK(ex.split.valid.size() == 2);
  REQUIRE(ex.split.test.size() == 3);
  CHECK(ex.data.size() == 8);
  // Test-only ids are interned after the training file's, and every part shares the maps.
  CHECK(ex.data.num_users() == 3);
  CHECK(ex.data.num_items() == 6);
  for (const InteractionDataset* part : {&ex.split.train, &ex.split.valid, &ex.split.test}) {
    CHECK(part->num_users() == 3);
    CHECK(part->num_items() == 6);
  }
  const int64_t c = ex.data.user_ids.find("c");
  CHECK(c == 2);
  CHECK(ex.train.count(c) == 0);
  REQUIRE(ex.test.count(c) == 1);
  CHECK(*ex.test.begin(c) == item(ex, "x"));
  const int64_t a = ex.data.user_ids.find("a");
  REQUIRE(ex.test.count(a) == 1);
  CHECK(*ex.test.begin(a) == item(ex, "e"));
  CHECK(item(ex, "e") >= 4);
  CHECK(ex.split.test.ratings == std::vector<float>{4.f, 3.f, 5.f});
  // The training rows never include a test row.
  for (int64_t r = 0; r < ex.split.train.size(); ++r)
    CHECK(ex.split.train.items[r] < 4);
}

TEST_CASE("Experiment: --test-file refuses a split with its own test share, filters and ncf") {
  DataSpec d = given_split("ratio");
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("must leave no test rows"), Error);
  d.split = "loo";
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("ratio:0.9/0.1/0"), Error);
  d.split = "ratio:0.75/0.25/0";
  d.min_rating = 3;
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("drop --min-rating/--k-core"), Error);
  d.min_rating = 0;
  d.test_path = recgrad::testing::temp_dir() + "/given/missing.tsv";
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("missing.tsv"), Error);
  // Columns must agree: a test file without ratings beside a training file with them.
  write_temp_file("given/test_no_ratings.tsv", "a\te\n");
  d.test_path = recgrad::testing::temp_dir() + "/given/test_no_ratings.tsv";
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("differ in their columns"), Error);
  d.path = "synthetic";
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("not synthetic data"), Error);
  d.path = write_ncf_files();
  d.format = "ncf";
  d.split = "ncf";
  CHECK_THROWS_WITH_AS(Experiment::load(d), doctest::Contains("its own test file"), Error);
}
