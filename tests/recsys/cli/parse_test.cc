#include "recsys/cli/parse.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autograd/error.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys::cli;

namespace {

// Parses `recgrad <args>` and runs the checks that come before any data is read.
void parse_and_check(const std::vector<std::string>& args) {
  std::vector<const char*> argv{"recgrad"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  CommandLine cli;
  const Command command = cli.parse(static_cast<int>(argv.size()), argv.data());
  check_flags(command, cli.flags());
}

}  // namespace

TEST_CASE("cli: --metric must be one the protocol computes, named in the error") {
  CHECK_NOTHROW(parse_and_check({"train", "--model", "bpr", "--metric", "Recall@20"}));
  CHECK_NOTHROW(parse_and_check({"train", "--model", "biasedmf", "--metric", "RMSE"}));
  CHECK_NOTHROW(parse_and_check({"train", "--model", "bpr", "--metric", "AUC"}));
  // NDCG@50 is not among the default cut-offs (5, 10, 20); a typo is not a metric at all.
  CHECK_THROWS_WITH_AS(parse_and_check({"train", "--model", "bpr", "--metric", "NDCG@50"}),
                       doctest::Contains("--metric NDCG@50: not a metric this protocol computes"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_and_check({"train", "--model", "bpr", "--metric", "ndcg@10"}),
                       doctest::Contains("NDCG@10"), Error);
}

TEST_CASE("cli: --pretrained is for neumf and needs two readable checkpoints") {
  const std::string gmf = testing::write_temp_file("gmf.ckpt", "x");
  const std::string mlp = testing::write_temp_file("mlp.ckpt", "y");
  const std::string both = gmf + "," + mlp;
  CHECK_NOTHROW(parse_and_check({"train", "--model", "neumf", "--pretrained", both}));
  CHECK_THROWS_WITH_AS(parse_and_check({"train", "--model", "bpr", "--pretrained", both}),
                       doctest::Contains("only neumf"), Error);
  CHECK_THROWS_WITH_AS(parse_and_check({"train", "--model", "neumf", "--pretrained", gmf}),
                       doctest::Contains("is not GMF_CHECKPOINT,MLP_CHECKPOINT"), Error);
  CHECK_THROWS_WITH_AS(
      parse_and_check({"train", "--model", "neumf", "--pretrained", gmf + ",/absent.ckpt"}),
      doctest::Contains("cannot read /absent.ckpt"), Error);
}

TEST_CASE("cli: --refit needs validation and a fresh start") {
  CHECK_NOTHROW(parse_and_check({"train", "--model", "autorec", "--refit"}));
  CHECK_THROWS_WITH_AS(parse_and_check({"train", "--model", "bpr", "--refit", "--no-validation"}),
                       doctest::Contains("--refit: needs validation"), Error);
  CHECK_THROWS_WITH_AS(
      parse_and_check({"train", "--model", "bpr", "--refit", "--save", "x", "--resume"}),
      doctest::Contains("--refit: cannot be combined with --resume"), Error);
  const std::string gmf = testing::write_temp_file("gmf.ckpt", "x");
  const std::string mlp = testing::write_temp_file("mlp.ckpt", "y");
  CHECK_THROWS_WITH_AS(
      parse_and_check({"train", "--model", "neumf", "--refit", "--pretrained", gmf + "," + mlp}),
      doctest::Contains("--refit: cannot be combined with --pretrained"), Error);
}
