// ModelOptions: typed reads of --set key=value, and unknown keys refused with the known ones.
#include "recsys/model_options.h"

#include <doctest/doctest.h>

#include "autograd/error.h"
#include "recsys/registry.h"

using namespace recgrad;
using namespace recgrad::recsys;

TEST_CASE("ModelOptions: given values are parsed, absent keys fall back") {
  ModelOptions o("m", {{"lambda", "250"}, {"loss", "ce"}, {"hidden", "600-200"}, {"on", "false"},
                       {"n", "3"}});
  CHECK(o.real("lambda", 500) == 250);
  CHECK(o.real("absent", 1.5) == 1.5);
  CHECK(o.choice("loss", "bce", {"bce", "ce"}) == "ce");
  CHECK(o.sizes("hidden", {1}) == std::vector<int64_t>{600, 200});
  CHECK(o.boolean("on", true) == false);
  CHECK(o.integer("n", 0) == 3);
  CHECK_NOTHROW(o.finish());
}

TEST_CASE("ModelOptions: bad values name the key, the value and what was expected") {
  ModelOptions o("ease", {{"lambda", "big"}, {"k", "1.5"}, {"loss", "mse"}, {"hidden", "600-0"}});
  CHECK_THROWS_WITH_AS(o.real("lambda", 1), "--set lambda=big: model ease expects a real number",
                       Error);
  CHECK_THROWS_WITH_AS(o.integer("k", 1), doctest::Contains("expects an integer"), Error);
  CHECK_THROWS_WITH_AS(o.choice("loss", "bce", {"bce", "ce"}),
                       doctest::Contains("expects one of bce, ce"), Error);
  CHECK_THROWS_WITH_AS(o.sizes("hidden", {}), doctest::Contains("positive integers"), Error);
}

TEST_CASE("ModelOptions: a key nobody reads is refused, listing the model's keys") {
  ModelOptions o("ease", {{"lamda", "250"}});
  o.real("lambda", 500);
  CHECK_THROWS_WITH_AS(o.finish(),
                       "--set lamda=250: model ease has no option 'lamda'; its options: lambda",
                       Error);
}

TEST_CASE("parse_model_option: key=value, and the errors") {
  std::map<std::string, std::string> m;
  parse_model_option("lambda=250", m);
  parse_model_option("layers=64-32=x", m);  // only the first '=' splits
  CHECK(m.at("lambda") == "250");
  CHECK(m.at("layers") == "64-32=x");
  CHECK_THROWS_WITH_AS(parse_model_option("lambda", m), doctest::Contains("expected key=value"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_model_option("=3", m), doctest::Contains("expected key=value"), Error);
  CHECK_THROWS_WITH_AS(parse_model_option("lambda=1", m), doctest::Contains("already set"), Error);
}

TEST_CASE("registry: every model refuses an unknown option and accepts weight_decay where trained") {
  for (const ModelInfo& info : model_registry()) {
    ModelSpec spec;
    spec.name = info.name;
    spec.options = {{"no_such_option", "1"}};
    CHECK_THROWS_WITH_AS(info.make(spec, 4, 6), doctest::Contains("has no option 'no_such_option'"),
                         Error);
  }
  ModelSpec ease;
  ease.name = "ease";
  ease.options = {{"lambda", "-1"}};
  CHECK_THROWS_AS(find_model("ease").make(ease, 4, 6), Error);  // the config's own check
}
