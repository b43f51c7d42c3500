// `recgrad train --test-file`: a published split's test rows are the test part, the run's JSON
// names the file, and a checkpoint records it so `evaluate` rebuilds the same split.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "recsys/cli/commands.h"
#include "tests/recsys/cli/json_file.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;
using nlohmann::json;
using recgrad::testing::read_json;

namespace {

// 30 users with 8 training rows each over 12 items, and 2 test rows each among items the user
// has not rated: a uir "published split".
void write_split(const std::string& dir) {
  std::string train, test;
  for (int u = 0; u < 30; ++u) {
    for (int k = 0; k < 10; ++k) {
      const std::string row =
          "u" + std::to_string(u) + "\ti" + std::to_string((u + k) % 12) + "\t1\n";
      (k < 8 ? train : test) += row;
    }
  }
  recgrad::testing::write_temp_file(dir + "/train.tsv", train);
  recgrad::testing::write_temp_file(dir + "/test.tsv", test);
}

}  // namespace

TEST_CASE(
    "train --test-file: its rows are tested, and evaluate rebuilds them from the checkpoint") {
  write_split("published");
  const std::string dir = recgrad::testing::temp_dir() + "/published";
  cli::Flags f;
  f.model.name = "bpr";
  f.model.dim = 8;
  f.model.epochs = 2;
  f.data.path = dir + "/train.tsv";
  f.data.format = "uir";
  f.data.test_path = dir + "/test.tsv";
  f.data.split = "ratio:0.75/0.25/0";
  f.quiet = true;
  f.metrics_json = recgrad::testing::temp_dir() + "/published.json";
  f.save = recgrad::testing::temp_dir() + "/published.ckpt";
  REQUIRE(cli::run_train(f) == 0);
  const json trained = read_json(f.metrics_json);
  CHECK(trained["test_file"] == f.data.test_path);
  CHECK(trained["train_rows"].get<int64_t>() == 30 * 6);
  CHECK(trained["users_evaluated"].get<int64_t>() == 30);

  cli::Flags eval;
  eval.checkpoint = f.save;
  eval.metrics_json = recgrad::testing::temp_dir() + "/published_eval.json";
  REQUIRE(cli::run_evaluate(eval) == 0);
  const json evaluated = read_json(eval.metrics_json);
  CHECK(evaluated["test_file"] == f.data.test_path);
  CHECK(evaluated["metrics"] == trained["metrics"]);
}
