// The end-to-end benchmark's bookkeeping on fake runs: reading a run's JSON, the warm-up epoch
// left out of the median, ratios and the quality check, the Markdown table and the SVG chart.
// No timing is measured here.
#include "benchmarks/e2e_report.h"

#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/error.h"

using namespace recgrad;
using namespace recgrad::bench;

namespace {

// What `recgrad train --metrics-json` writes (the fields the runner reads, among others).
const char* kRecgradRun = R"({
  "model": "bpr", "epochs": 3, "best_epoch": 0,
  "epochs_log": [{"epoch": 1, "seconds": 4.0, "examples": 800, "loss": 0.69},
                 {"epoch": 2, "seconds": 2.0, "examples": 800, "loss": 0.6},
                 {"epoch": 3, "seconds": 1.0, "examples": 800, "loss": null}],
  "fit_seconds": 0, "eval_seconds": 0.5, "train_rows": 800, "batch_size": 64,
  "metrics": {"HR@10": 0.4, "NDCG@10": 0.12},
  "baselines": {"pop": {"NDCG@10": 0.13}}})";

// What a PyTorch peer (benchmarks/torch/common.py) writes.
const char* kTorchRun = R"({
  "framework": "pytorch", "model": "bpr", "threads": 1,
  "epochs_log": [{"epoch": 1, "seconds": 9.0, "examples": 800, "loss": 0.69},
                 {"epoch": 2, "seconds": 4.0, "examples": 800, "loss": 0.6},
                 {"epoch": 3, "seconds": 4.0, "examples": 800, "loss": 0.55}],
  "fit_seconds": 0.0, "eval_seconds": 1.5, "metrics": {"NDCG@10": 0.115},
  "peak_rss_mib": 300.0, "train_rows": 800, "batch_size": 64})";

ModelBench bpr() { return {"bpr", DataKind::kGeneral, false, "NDCG@10", 3}; }

RunResult run_with(std::vector<double> seconds, int64_t examples, double rss,
                   std::optional<double> quality) {
  RunResult r;
  for (size_t e = 0; e < seconds.size(); ++e)
    r.epochs.push_back({static_cast<int64_t>(e + 1), seconds[e], examples});
  r.peak_rss_mib = rss;
  r.quality = quality;
  r.eval_seconds = 1;
  return r;
}

}  // namespace

TEST_CASE("parse_run: reads recgrad's and the peers' JSON alike") {
  const RunResult r = parse_run(kRecgradRun, "NDCG@10", "recgrad.json");
  REQUIRE(r.epochs.size() == 3);
  CHECK(r.epochs[1].epoch == 2);
  CHECK(r.epochs[1].seconds == doctest::Approx(2.0));
  CHECK(r.epochs[1].examples == 800);
  CHECK(r.eval_seconds == doctest::Approx(0.5));
  CHECK(r.train_rows == 800);
  CHECK(r.batch_size == 64);
  REQUIRE(r.quality.has_value());
  CHECK(*r.quality == doctest::Approx(0.12));

  const RunResult t = parse_run(kTorchRun, "NDCG@10", "torch.json");
  CHECK(t.epochs.size() == 3);
  CHECK(*t.quality == doctest::Approx(0.115));
  CHECK(t.peak_rss_mib == 0);  // the runner's own measurement, not the run's claim

  // A metric the run did not report leaves the quality empty.
  CHECK_FALSE(parse_run(kRecgradRun, "RMSE", "recgrad.json").quality.has_value());
  // A closed-form run: no epochs log, a fit time.
  const RunResult fit = parse_run(R"({"fit_seconds": 2.5, "train_rows": 1000, "metrics": {}})",
                                  "NDCG@10", "ease.json");
  CHECK(fit.epochs.empty());
  CHECK(fit.fit_seconds == doctest::Approx(2.5));
  CHECK(fit.batch_size == 0);  // not reported
}

TEST_CASE("parse_run: bad JSON and wrong field types name the file and the field") {
  CHECK_THROWS_WITH_AS(parse_run("{\"epochs_log\": [", "NDCG@10", "runs/a.json"),
                       doctest::Contains("runs/a.json: not a JSON object"), recgrad::Error);
  CHECK_THROWS_WITH_AS(parse_run("[1, 2]", "NDCG@10", "b.json"),
                       doctest::Contains("not a JSON object"), recgrad::Error);
  CHECK_THROWS_WITH_AS(parse_run(R"({"epochs_log": {"epoch": 1}})", "NDCG@10", "c.json"),
                       doctest::Contains("\"epochs_log\" is object"), recgrad::Error);
  CHECK_THROWS_WITH_AS(parse_run(R"({"epochs_log": [{"seconds": "fast"}]})", "NDCG@10", "d.json"),
                       doctest::Contains("\"seconds\" is string"), recgrad::Error);
  CHECK_THROWS_WITH_AS(
      parse_run(R"({"epochs_log": [{"seconds": -1, "examples": 5}]})", "NDCG@10", "e.json"),
      doctest::Contains("negative"), recgrad::Error);
}

TEST_CASE("throughput_samples: windows after warm-up, each with its share of the epoch's set-up") {
  // Two epochs: epoch 1 is warm-up; epoch 2 spent 1 s outside its windows (e.g. drawing the
  // epoch's negatives), shared by examples: 300 of 1000 examples carry 0.3 s of it.
  const char* two_epochs = R"({"epochs_log": [
      {"epoch": 1, "seconds": 9.0, "examples": 1000,
       "windows": [{"batches": 1, "examples": 500, "seconds": 4.0},
                   {"batches": 1, "examples": 500, "seconds": 4.0}]},
      {"epoch": 2, "seconds": 5.0, "examples": 1000,
       "windows": [{"batches": 3, "examples": 300, "seconds": 1.2},
                   {"batches": 3, "examples": 300, "seconds": 0.7},
                   {"batches": 4, "examples": 400, "seconds": 2.1}]}]})";
  const RunResult r = parse_run(two_epochs, "NDCG@10", "w.json");
  REQUIRE(r.epochs.size() == 2);
  REQUIRE(r.epochs[1].windows.size() == 3);
  CHECK(r.epochs[1].windows[2].examples == 400);
  CHECK(r.epochs[1].windows[2].seconds == doctest::Approx(2.1));
  const std::vector<double> s = throughput_samples(r, false);
  REQUIRE(s.size() == 3);
  CHECK(s[0] == doctest::Approx(300 / 1.5));  // 1.2 s + 0.3 s
  CHECK(s[1] == doctest::Approx(300 / 1.0));  // 0.7 s + 0.3 s
  CHECK(s[2] == doctest::Approx(400 / 2.5));  // 2.1 s + 0.4 s
  CHECK(warmup_excluded(r));

  // One epoch of 8 windows: its first quarter (2 windows) is warm-up.
  RunResult one = run_with({10}, 800, 0, {});
  for (int k = 0; k < 8; ++k) one.epochs[0].windows.push_back({100, k < 2 ? 3.0 : 1.0});
  const std::vector<double> kept = throughput_samples(one, false);
  REQUIRE(kept.size() == 6);
  for (double v : kept) CHECK(v == doctest::Approx(100 / 1.0));  // no time outside windows
  CHECK(warmup_excluded(one));
  CHECK(median(kept) == doctest::Approx(100));

  // One epoch of a single window cannot leave warm-up out: the epoch as it is.
  RunResult single = run_with({4}, 100, 0, {});
  single.epochs[0].windows.push_back({100, 4.0});
  CHECK_FALSE(warmup_excluded(single));
  REQUIRE(throughput_samples(single, false).size() == 1);
  CHECK(throughput_samples(single, false)[0] == doctest::Approx(25));
  // Nor can a run whose epochs do not all report windows use them.
  RunResult mixed = run_with({4, 2}, 100, 0, {});
  mixed.epochs[1].windows.push_back({100, 1.0});
  REQUIRE(throughput_samples(mixed, false).size() == 1);
  CHECK(throughput_samples(mixed, false)[0] == doctest::Approx(50));  // epoch 2 as a whole

  // Summaries take the median over every kept window of every round.
  const SideSummary side = summarize({r, one}, false);
  CHECK(side.samples.size() == 9);
  CHECK(side.warmup_excluded);
  CHECK_FALSE(summarize({single}, false).warmup_excluded);

  CHECK_THROWS_WITH_AS(parse_run(R"({"epochs_log": [{"epoch": 2, "windows": 3}]})", "NDCG@10",
                                 "x.json"),
                       doctest::Contains("x.json: epoch 2: \"windows\" is number"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(
      parse_run(R"({"epochs_log": [{"epoch": 1, "windows": [{"examples": 5, "seconds": -1}]}]})",
                "NDCG@10", "y.json"),
      doctest::Contains("y.json: epoch 1 has a window of negative seconds"), recgrad::Error);
}

TEST_CASE("median: odd, even, empty") {
  CHECK(median({3, 1, 2}) == 2);
  CHECK(median({4, 1, 3, 2}) == doctest::Approx(2.5));
  CHECK(median({7}) == 7);
  CHECK(std::isnan(median({})));
}

TEST_CASE("throughput_samples: the first epoch is warm-up; one epoch is used as it is") {
  const RunResult r = parse_run(kRecgradRun, "NDCG@10", "r");
  const std::vector<double> s = throughput_samples(r, false);
  REQUIRE(s.size() == 2);
  CHECK(s[0] == doctest::Approx(400));  // 800 / 2 s
  CHECK(s[1] == doctest::Approx(800));  // 800 / 1 s; epoch 1 (200/s) left out

  const std::vector<double> one = throughput_samples(run_with({4}, 100, 0, {}), false);
  REQUIRE(one.size() == 1);
  CHECK(one[0] == doctest::Approx(25));
  CHECK(throughput_samples(run_with({1, 0}, 100, 0, {}), false).empty());  // 0 s is skipped

  RunResult fit;
  fit.fit_seconds = 0.5;
  fit.train_rows = 1000;
  REQUIRE(throughput_samples(fit, true).size() == 1);
  CHECK(throughput_samples(fit, true)[0] == doctest::Approx(2000));
  fit.fit_seconds = 0;
  CHECK(throughput_samples(fit, true).empty());
}

TEST_CASE("summarize: samples pooled over rounds, largest RSS, median quality") {
  const SideSummary s =
      summarize({run_with({9, 2, 4}, 100, 120, 0.10), run_with({9, 1, 5}, 100, 150, 0.14),
                 run_with({9, 2.5}, 100, 130, 0.12)},
                false);
  CHECK(s.runs == 3);
  CHECK(s.samples.size() == 5);                         // 2 + 2 + 1 epochs after the first
  CHECK(s.examples_per_second == doctest::Approx(40));  // median of 50, 25, 100, 20, 40
  CHECK(s.peak_rss_mib == doctest::Approx(150));
  REQUIRE(s.quality.has_value());
  CHECK(*s.quality == doctest::Approx(0.12));
  CHECK(s.warmup_excluded);
  CHECK_FALSE(summarize({run_with({3}, 100, 1, {})}, false).warmup_excluded);

  const SideSummary none = summarize({}, false);
  CHECK(none.runs == 0);
  CHECK(std::isnan(none.examples_per_second));
  CHECK_FALSE(none.quality.has_value());
}

TEST_CASE("within and ratio: the stated tolerance, and no ratio of missing figures") {
  const Tolerance ndcg = tolerance_for("NDCG@10");
  CHECK(within(0.200, 0.181, ndcg));  // 0.019 <= 10% of 0.2
  CHECK_FALSE(within(0.200, 0.170, ndcg));
  CHECK(within(0.010, 0.019, ndcg));  // 0.009 <= 0.01 absolute
  CHECK_FALSE(within(NAN, 0.1, ndcg));
  const Tolerance rmse = tolerance_for("RMSE");
  CHECK(within(0.90, 0.915, rmse));
  CHECK_FALSE(within(0.90, 0.93, rmse));
  CHECK(describe(ndcg) == "0.01 absolute or 10% relative");
  CHECK(ratio(6, 3) == doctest::Approx(2));
  CHECK(std::isnan(ratio(1, 0)));
  CHECK(std::isnan(ratio(NAN, 2)));
}

TEST_CASE("comparison_json: ratios, the 2x flag and the quality check of one row") {
  const SideSummary rg = summarize({parse_run(kRecgradRun, "NDCG@10", "r")}, false);
  SideSummary pt = summarize({parse_run(kTorchRun, "NDCG@10", "t")}, false);
  pt.peak_rss_mib = 300;
  SideSummary rg_mem = rg;
  rg_mem.peak_rss_mib = 60;
  const json row = comparison_json(bpr(), 2, rg_mem, pt, "", "");
  CHECK(row["model"] == "bpr");
  CHECK(row["threads"] == 2);
  CHECK(row["recgrad"]["examples_per_second"].get<double>() == doctest::Approx(600));
  CHECK(row["pytorch"]["examples_per_second"].get<double>() == doctest::Approx(200));
  CHECK(row["throughput_ratio"].get<double>() == doctest::Approx(3));
  CHECK(row["memory_ratio"].get<double>() == doctest::Approx(0.2));
  CHECK(row["reaches_2x"] == true);
  CHECK(row["quality"]["within"] == true);  // 0.12 vs 0.115
  CHECK(row["quality"]["tolerance"] == "0.01 absolute or 10% relative");
  CHECK_FALSE(row["recgrad"].contains("error"));
  CHECK(row["batch_sizes_match"] == true);
  CHECK(row["recgrad"]["batch_size"] == 64);

  // A peer that trains with another batch is flagged, in the JSON and in the report.
  SideSummary pt_256 = pt;
  pt_256.batch_size = 256;
  const json mismatch = comparison_json(bpr(), 1, rg, pt_256, "", "");
  CHECK(mismatch["batch_sizes_match"] == false);
  SideSummary pt_63 = pt;  // within 2%, as NeuMF's 255 rows against 256
  pt_63.batch_size = 63;
  CHECK(comparison_json(bpr(), 1, rg, pt_63, "", "")["batch_sizes_match"] == true);
  const std::string md = markdown_report({{"rows", json::array({mismatch})}});
  CHECK(md.find("- bpr: batch size 64 in recgrad, 256 in the PyTorch peer: not a like-for-like "
                "comparison (1 thread)") != std::string::npos);

  // A side that did not run: no ratios, the reason kept.
  const json missing = comparison_json(bpr(), 1, rg, summarize({}, false), "", "timed out");
  CHECK(missing["throughput_ratio"].is_null());
  CHECK(missing["memory_ratio"].is_null());
  CHECK(missing["reaches_2x"].is_null());
  CHECK(missing["quality"]["within"].is_null());
  CHECK(missing["pytorch"]["error"] == "timed out");
  CHECK(missing["pytorch"]["examples_per_second"].is_null());
  CHECK(missing["batch_sizes_match"].is_null());  // nothing to compare
}

namespace {

json fake_results() {
  const SideSummary rg = summarize({run_with({2, 1, 1}, 1000, 80, 0.12)}, false);
  const SideSummary pt = summarize({run_with({4, 2, 2}, 1000, 300, 0.115)}, false);  // 2x
  const SideSummary slow = summarize({run_with({4, 4, 4}, 1000, 90, 0.05)}, false);
  const SideSummary fast = summarize({run_with({4, 3, 3}, 1000, 310, 0.2)}, false);  // 0.75x
  ModelBench dae{"multdae", DataKind::kGeneral, false, "NDCG@10", 3};
  ModelBench odd{"<odd&name>", DataKind::kSequential, false, "NDCG@10", 2};
  json rows = json::array();
  rows.push_back(comparison_json(bpr(), 1, rg, pt, "", ""));
  rows.push_back(comparison_json(bpr(), 2, rg, pt, "", ""));
  rows.push_back(comparison_json(dae, 1, slow, fast, "", ""));
  rows.push_back(comparison_json(odd, 1, summarize({}, false), summarize({}, false),
                                 "no model '<odd&name>' in this recgrad build", "not run"));
  return {{"machine",
           {{"cpu", "Test CPU"},
            {"cores", 2},
            {"torch_version", "1.13"},
            {"pytorch_import_rss_mib", 250.0}}},
          {"setup", {{"description", "Data: fake."}}},
          {"rows", rows}};
}

}  // namespace

TEST_CASE("markdown_report: one row per comparison, the 2x verdict and what did not run") {
  const std::string md = markdown_report(fake_results());
  CHECK(md.find("Machine: Test CPU, 2 cores") != std::string::npos);
  CHECK(md.find("Data: fake.") != std::string::npos);
  CHECK(md.find("peaks at 250 MiB") != std::string::npos);
  CHECK(md.find("| bpr | 1 | 3 | 1k | 500 | 2.00x | 80 MiB | 300 MiB | 0.27 | NDCG@10 0.1200 / "
                "0.1150 | yes |") != std::string::npos);
  CHECK(md.find("| multdae | 1 | 3 | 250 | 333 | 0.75x |") != std::string::npos);
  CHECK(md.find("NDCG@10 0.0500 / 0.2000 | **no** |") != std::string::npos);
  CHECK(md.find("At least 2x PyTorch's throughput at every thread count: bpr. Short of 2x: "
                "multdae.") != std::string::npos);
  CHECK(md.find("- <odd&name>, recgrad: no model '<odd&name>' in this recgrad build (1 thread)") !=
        std::string::npos);
  CHECK(md.find("- <odd&name>, PyTorch: not run (1 thread)") != std::string::npos);
  CHECK(md.find("| <odd&name> | 1 | 2 | — | — | — | — | — | — |") != std::string::npos);
  CHECK(md.find("†") == std::string::npos);  // every run had an epoch after the warm-up

  json one_epoch = fake_results();
  one_epoch["rows"][0]["recgrad"]["warmup_excluded"] = false;
  const std::string marked = markdown_report(one_epoch);
  CHECK(marked.find("| bpr | 1 | 3 † |") != std::string::npos);
  CHECK(marked.find("† one epoch without timed windows") != std::string::npos);
  CHECK_THROWS_AS(markdown_report(json::object()), recgrad::Error);
}

TEST_CASE("throughput_svg: one bar per measured figure on a log axis, names escaped") {
  json escaped = fake_results();
  escaped["rows"][2]["model"] = "a<b&c";
  const std::string names = throughput_svg(escaped);
  CHECK(names.find("a&lt;b&amp;c") != std::string::npos);
  CHECK(names.find("a<b&c") == std::string::npos);

  const std::string svg = throughput_svg(fake_results());
  CHECK(svg.rfind("<svg", 0) == 0);
  CHECK(svg.find("</svg>") != std::string::npos);
  size_t bars = 0;
  for (size_t at = 0; (at = svg.find("<rect x=", at)) != std::string::npos; ++at) ++bars;
  // bpr: 2 sides x 2 thread counts; multdae: 2 sides at 1 thread; the odd model: none.
  // Plus 4 legend swatches (2 sides x 2 thread counts).
  CHECK(bars == 4 + 2 + 4);
  CHECK(svg.find("odd") == std::string::npos);    // no figure: no group
  CHECK(svg.find(">100<") != std::string::npos);  // decade ticks from 100 to 1k
  CHECK(svg.find(">1k<") != std::string::npos);
  CHECK(svg.find("2.0x 2.0x") != std::string::npos);  // bpr's ratio at 1 and 2 threads
}

TEST_CASE("select_models, parse_int_list, cpu_model: the flags' parsing") {
  CHECK(select_models("").size() == benchmark_models().size());
  const std::vector<ModelBench> two = select_models("ease,bpr");
  REQUIRE(two.size() == 2);
  CHECK(two[0].name == "ease");  // the table's order, not the list's
  CHECK(two[1].name == "bpr");
  CHECK(two[0].closed_form);
  CHECK_THROWS_WITH_AS(select_models("bpr,nope"), doctest::Contains("unknown model 'nope'"),
                       recgrad::Error);
  CHECK(parse_int_list("1,2", "--threads") == std::vector<int>{1, 2});
  CHECK_THROWS_WITH_AS(parse_int_list("1,x", "--threads"), doctest::Contains("--threads: 'x'"),
                       recgrad::Error);
  CHECK_THROWS_AS(parse_int_list("0", "--threads"), recgrad::Error);
  CHECK_THROWS_AS(parse_int_list("", "--threads"), recgrad::Error);
  CHECK(cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\nflags\t: avx2\n") ==
        "AMD EPYC 7B13");
  CHECK(cpu_model("processor : 0\n") == "unknown");
}
