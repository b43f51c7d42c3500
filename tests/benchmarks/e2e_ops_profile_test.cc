// The end-to-end runner's handling of the op benchmarks' JSON (ops_bench/layers_bench --json)
// and of `recgrad profile --json`: parsing, which rows get a profile, and how both appear in
// the report. Fake inputs only; no timing is measured here.
#include <doctest/doctest.h>

#include <string>

#include "autograd/error.h"
#include "benchmarks/e2e_report.h"

using namespace recgrad;
using namespace recgrad::bench;

namespace {

// What benchmarks/harness.cc's write_json produces (two sections, targets met and missed).
const char* kOpsJson = R"({
  "binary": "ops_bench", "timing": "wall-clock time",
  "machine": {"summary": "test machine", "cores_online": 2},
  "peaks": [{"name": "copy", "threads": 1, "value": 20.0, "unit": "GB/s"}],
  "sections": [
    {"title": "matmul vs raw cblas_sgemm", "rows": [
      {"name": "matmul/2048x64x3706/NT/fwd/threads:1", "unit": "GFLOP/s", "seconds": 0.01,
       "rate": 95.0, "bound_rate": 100.0, "bound_seconds": 0.0095, "bound": "sgemm",
       "ratio": 0.95, "target": 0.9, "met": true},
      {"name": "matmul/2048x64x3706/NT/fwd/threads:2", "unit": "GFLOP/s", "seconds": 0.01,
       "rate": 150.0, "bound_rate": 200.0, "bound_seconds": 0.0075, "bound": "sgemm",
       "ratio": 0.75, "target": 0.9, "met": false}]},
    {"title": "reductions", "rows": [
      {"name": "sum/16M/fwd/threads:1", "unit": "GB/s", "seconds": 0.01, "rate": 12.6,
       "bound_rate": 20.0, "bound_seconds": 0.00625, "bound": "copy", "ratio": 0.63}]}]})";

// What `recgrad profile --json` writes (recsys/cli/profile.cc).
const char* kProfileJson = R"({
  "model": "bpr", "steps": 20, "examples": 40960, "warmup_epochs": 1, "threads": 2,
  "runtime": "test",
  "profile": {"wall_ms": 100.0, "engine_ms": 3.0, "other_ms": 7.0, "ops": [
    {"op": "embedding", "forward_calls": 60, "backward_calls": 60, "forward_ms": 30.0,
     "backward_ms": 20.0, "share": 0.5},
    {"op": "mul", "forward_calls": 40, "backward_calls": 40, "forward_ms": 5.0,
     "backward_ms": 25.0, "share": 0.3},
    {"op": "sum", "forward_calls": 40, "backward_calls": 40, "forward_ms": 10.0,
     "backward_ms": 0.0, "share": 0.1}]}})";

json row_with(double speed, double memory, bool closed_form = false) {
  json r = {{"model", "bpr"}, {"threads", 1}, {"closed_form", closed_form}};
  r["throughput_ratio"] = std::isnan(speed) ? json() : json(speed);
  r["memory_ratio"] = std::isnan(memory) ? json() : json(memory);
  return r;
}

}  // namespace

TEST_CASE("parse_op_benchmarks: rows keep their figures and get their thread count") {
  const json ops = parse_op_benchmarks(kOpsJson, "ops.json");
  CHECK(ops["binary"] == "ops_bench");
  REQUIRE(ops["sections"].size() == 2);
  const json& rows = ops["sections"][0]["rows"];
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["name"] == "matmul/2048x64x3706/NT/fwd");  // the suffix moves to "threads"
  CHECK(rows[0]["threads"] == 1);
  CHECK(rows[1]["threads"] == 2);
  CHECK(rows[1]["ratio"].get<double>() == doctest::Approx(0.75));
  CHECK(rows[1]["met"] == false);
  CHECK_FALSE(ops["sections"][1]["rows"][0].contains("target"));  // no target, no verdict
  const TargetCount c = count_targets(ops);
  CHECK(c.with_target == 2);
  CHECK(c.met == 1);
}

TEST_CASE("parse_op_benchmarks: bad input names the file, the section and the field") {
  CHECK_THROWS_WITH_AS(parse_op_benchmarks("{", "ops.json"), doctest::Contains("ops.json: not JSON"),
                       Error);
  CHECK_THROWS_WITH_AS(parse_op_benchmarks(R"({"sections": []})", "ops.json"),
                       doctest::Contains("missing \"binary\""), Error);
  const std::string bad_rate = R"({"binary": "b", "sections": [{"title": "t", "rows": [
      {"name": "x/threads:1", "unit": "GB/s", "rate": "fast", "bound_rate": 1, "bound": "copy",
       "ratio": 1}]}]})";
  CHECK_THROWS_WITH_AS(parse_op_benchmarks(bad_rate, "ops.json"),
                       doctest::Contains("section \"t\": row \"x/threads:1\": \"rate\" is string"),
                       Error);
  // A target without its verdict is malformed too.
  const std::string no_met = R"({"binary": "b", "sections": [{"title": "t", "rows": [
      {"name": "x", "unit": "GB/s", "rate": 1, "bound_rate": 1, "bound": "copy", "ratio": 1,
       "target": 0.5}]}]})";
  CHECK_THROWS_WITH_AS(parse_op_benchmarks(no_met, "ops.json"), doctest::Contains("\"met\""),
                       Error);
}

TEST_CASE("ops_markdown: each op beside its bound with the target's verdict") {
  json ops = {{"status", ""}, {"runs", json::array({parse_op_benchmarks(kOpsJson, "ops.json")})}};
  const std::string md = ops_markdown(ops);
  CHECK(md.find("### ops_bench (wall-clock time; targets met: 1 of 2)") != std::string::npos);
  CHECK(md.find("| matmul/2048x64x3706/NT/fwd | 1 | 95.00 GFLOP/s | 100.00 GFLOP/s | sgemm | 95% "
                "| >= 90%: met |") != std::string::npos);
  CHECK(md.find("| 75% | >= 90%: **missed** |") != std::string::npos);
  CHECK(md.find("| sum/16M/fwd | 1 | 12.60 GB/s | 20.00 GB/s | copy | 63% | — |") !=
        std::string::npos);
  // Not run: the reason instead of tables.
  const std::string skipped = ops_markdown({{"status", "skipped (--ops-min-time 0)"}});
  CHECK(skipped.find("Not run: skipped (--ops-min-time 0)") != std::string::npos);
  CHECK(skipped.find("| op |") == std::string::npos);
}

TEST_CASE("needs_profile: iterative models short of 2x or above PyTorch's memory") {
  CHECK(needs_profile(row_with(1.5, 0.5)));
  CHECK(needs_profile(row_with(3.0, 1.1)));
  CHECK_FALSE(needs_profile(row_with(2.0, 1.0)));  // exactly on target: fine
  CHECK_FALSE(needs_profile(row_with(NAN, NAN)));  // a side missing: nothing to explain
  CHECK_FALSE(needs_profile(row_with(0.5, 2.0, /*closed_form=*/true)));  // no training steps
}

TEST_CASE("parse_profile: forward and backward apart, largest first, shares of wall time") {
  const json p = parse_profile(kProfileJson, 4, "profile.json");
  CHECK(p["steps"] == 20);
  CHECK(p["threads"] == 2);
  REQUIRE(p["top"].size() == 4);
  CHECK(p["top"][0]["op"] == "embedding");
  CHECK(p["top"][0]["pass"] == "fwd");
  CHECK(p["top"][0]["share"].get<double>() == doctest::Approx(0.30));
  // 25 ms (mul bwd) before 20 ms (embedding bwd); sum fwd and mul fwd tie-break by name.
  CHECK(p["top"][1]["op"] == "mul");
  CHECK(p["top"][1]["pass"] == "bwd");
  CHECK(p["top"][2]["op"] == "embedding");
  CHECK(p["top"][2]["pass"] == "bwd");
  CHECK(p["top"][3]["op"] == "sum");
  CHECK(describe_profile(p) == "embedding fwd 30%, mul bwd 25%, embedding bwd 20%, sum fwd 10%");
  // The engine's and non-op time compete like ops; zero-time entries are left out.
  const json all = parse_profile(kProfileJson, 100, "profile.json");
  CHECK(all["top"].size() == 7);  // 6 op entries minus sum bwd (0 ms), plus engine and other
  CHECK(all["top"][4]["op"] == "(not in an op)");
  CHECK(all["top"][4]["pass"] == "-");
  CHECK(describe_profile(all).find("(backward engine) 3%") != std::string::npos);
}

TEST_CASE("parse_profile: malformed profiles are errors naming the file") {
  CHECK_THROWS_WITH_AS(parse_profile("[]", 5, "p.json"), doctest::Contains("p.json: missing \"profile\""),
                       Error);
  CHECK_THROWS_WITH_AS(
      parse_profile(R"({"profile": {"wall_ms": 0, "ops": []}})", 5, "p.json"),
      doctest::Contains("wall_ms is 0"), Error);
  CHECK_THROWS_WITH_AS(
      parse_profile(R"({"profile": {"wall_ms": 5, "ops": [{"op": "mul", "forward_ms": 1}]}})", 5,
                    "p.json"),
      doctest::Contains("op \"mul\": missing \"backward_ms\""), Error);
}

TEST_CASE("markdown_report: rows with a profile name their top ops; the ops section follows") {
  json short_row = row_with(1.2, 0.4);
  short_row["recgrad"] = json::object();
  short_row["pytorch"] = json::object();
  short_row["quality"] = {{"metric", "NDCG@10"}, {"within", true}};
  short_row["reaches_2x"] = false;
  short_row["profile"] = parse_profile(kProfileJson, 2, "profile.json");
  json failed_row = short_row;
  failed_row["threads"] = 2;
  failed_row.erase("profile");
  failed_row["profile_error"] = "recgrad profile failed (exit 1): boom";
  const json results = {
      {"rows", json::array({short_row, failed_row})},
      {"ops", {{"status", ""}, {"runs", json::array({parse_op_benchmarks(kOpsJson, "o")})}}}};
  const std::string md = markdown_report(results);
  CHECK(md.find("- bpr, 1 thread: embedding fwd 30%, mul bwd 25%\n") != std::string::npos);
  CHECK(md.find("- bpr, 2 threads: no profile (recgrad profile failed (exit 1): boom)") !=
        std::string::npos);
  const size_t ops_at = md.find("## Ops beside the machine's peaks");
  REQUIRE(ops_at != std::string::npos);
  CHECK(ops_at > md.find("- bpr, 1 thread:"));
}
