#pragma once
// The bookkeeping of the end-to-end benchmark (benchmarks/e2e.cc, `bazel run -c opt
// //benchmarks:all`), kept apart from the process running so it can be tested on fake inputs:
// which models run on which data with how many epochs, reading one run's JSON (recgrad's
// --metrics-json or a PyTorch peer's, which share their keys), turning runs into a throughput
// figure (median examples/s over timed windows after warm-up), the recgrad/PyTorch ratios and
// the quality check, and writing the Markdown table and the SVG chart.
//
// A run's JSON, as both sides write it:
//   {"epochs_log": [{"epoch": 1, "seconds": 2.5, "examples": 800000, "loss": 0.69,
//                    "windows": [{"batches": 49, "examples": 100352, "seconds": 0.3}, ...]},
//                   ...],
//    "fit_seconds": 0.0, "eval_seconds": 1.2, "train_rows": 805443,
//    "metrics": {"NDCG@10": 0.11, ...}}                   (rating models: "RMSE", "MAE")
// Iterative models are timed per epoch and, within it, per window of consecutive batches
// ("windows", optional); closed-form ones (Pop, ItemKNN, EASE) by their fit, whose "examples"
// are the training rows it reads.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace recgrad::bench {

using json = nlohmann::ordered_json;

/// Which exported data a model trains on.
enum class DataKind {
  kGeneral,    ///< ML-1M ratings (user, item, rating), random 80/10/10 per user
  kSequential  ///< the SASRec paper's ML-1M sequences, leave-one-out
};

/// One model of the benchmark.
struct ModelBench {
  std::string name;  ///< registry name: "bpr"
  DataKind data;
  bool closed_form;    ///< timed by its fit, no epochs
  std::string metric;  ///< "NDCG@10", or "RMSE" for rating models
  int64_t epochs;      ///< epochs at ML-1M scale (0 for closed-form models)
};

/// Every model, in the table's order, with the epochs that keep a full run near 20 minutes on a
/// shared 2-core machine: 2 (the first is warm-up, the second's windows measured), 1 for the
/// models whose epochs hold thousands of batches (BiasedMF, NeuMF, Caser, GRU4Rec, SASRec: the
/// first quarter of the epoch's windows is the warm-up); closed-form models have none.
const std::vector<ModelBench>& benchmark_models();

/// The models named in a comma-separated list ("" = all), in benchmark_models()'s order.
/// Throws recgrad::Error naming an unknown model and listing the known ones.
std::vector<ModelBench> select_models(const std::string& list);

/// Positive integers from "1,2" (e.g. --threads). Throws recgrad::Error naming `flag` on a bad
/// or empty list.
std::vector<int> parse_int_list(const std::string& text, const std::string& flag);

/// A run of consecutive batches within an epoch (its start_epoch work outside).
struct WindowStat {
  int64_t examples = 0;
  double seconds = 0;
};

/// One epoch of a run's log.
struct EpochStat {
  int64_t epoch = 0;
  double seconds = 0;  ///< the whole epoch: its per-epoch set-up and every window
  int64_t examples = 0;
  std::vector<WindowStat> windows;  ///< empty when the run did not report them
};

/// One run of one side, as read from its JSON plus what the runner measured from outside.
struct RunResult {
  std::vector<EpochStat> epochs;
  double fit_seconds = 0;
  double eval_seconds = 0;
  int64_t train_rows = 0;
  std::optional<double> quality;  ///< the model's metric, when the run reported it
  double wall_seconds = 0;        ///< measured by the runner
  double peak_rss_mib = 0;        ///< the child's ru_maxrss, measured by the runner (wait4)
  int64_t batch_size = 0;         ///< the batch the run trained with (0: not reported)
};

/// Parses a run's JSON text (see the file comment); `metric` picks the quality figure.
/// Throws recgrad::Error naming `what` when the text is not JSON or a field has the wrong type.
RunResult parse_run(const std::string& text, const std::string& metric, const std::string& what);

/// The median of `values` (the mean of the middle two for an even count); NaN when empty.
double median(std::vector<double> values);

/// Throughput samples of one run, after warm-up (the first batches fill caches and allocators):
///   - with windows: examples/seconds of every window of the epochs after the first, or, in a
///     run of one epoch, of its windows after the first quarter. Each window's seconds include
///     its share (by examples) of the epoch's time outside windows (start_epoch: e.g. drawing
///     the epoch's negatives), so that the samples average to the epoch's own rate;
///   - without: examples/seconds of each epoch after the first; a run of one epoch gives that
///     epoch, warm-up included (warmup_excluded below).
/// Closed-form: the training rows per second of fit. Zero-second windows and epochs are skipped.
std::vector<double> throughput_samples(const RunResult& run, bool closed_form);

/// Whether throughput_samples left the warm-up out of this run (windows, or two epochs or more).
bool warmup_excluded(const RunResult& run);

/// One side (recgrad or PyTorch) of a model at a thread count, over its rounds.
struct SideSummary {
  int runs = 0;                    ///< rounds that produced a result
  std::vector<double> samples;     ///< every throughput sample (throughput_samples)
  double examples_per_second = 0;  ///< median of samples (NaN without any)
  double peak_rss_mib = 0;         ///< the largest over the runs
  double eval_seconds = 0;         ///< median over the runs
  double fit_seconds = 0;          ///< median over the runs (closed-form models)
  std::optional<double> quality;   ///< median over the runs
  bool warmup_excluded = true;     ///< false when a run's samples include its warm-up
  int64_t batch_size = 0;          ///< the first batch size a run reported (0: none did)
};

/// Summarises one side's runs (failed rounds are simply absent from `runs`).
SideSummary summarize(const std::vector<RunResult>& runs, bool closed_form);

/// The quality check: equal within max(absolute, relative·max(|a|, |b|)).
struct Tolerance {
  double absolute = 0;
  double relative = 0;
};

/// The tolerance of a metric: NDCG@10 within 0.01 or 10%; RMSE/MAE within 0.01 or 2%.
Tolerance tolerance_for(const std::string& metric);

/// "0.01 absolute or 10% relative".
std::string describe(const Tolerance& t);

/// |a - b| <= max(t.absolute, t.relative·max(|a|, |b|)).
bool within(double a, double b, const Tolerance& t);

/// a / b, or NaN when either is not a positive finite number.
double ratio(double a, double b);

/// One row of the results: a model at a thread count, both sides and their comparison.
/// `recgrad_error` / `torch_error` explain a missing side ("" when it ran).
json comparison_json(const ModelBench& model, int threads, const SideSummary& recgrad,
                     const SideSummary& torch, const std::string& recgrad_error,
                     const std::string& torch_error);

/// The Markdown report of a results.json object ({"machine", "setup", "rows"}): a header with
/// the machine and setup, one table row per comparison, and which models reach 2x.
std::string markdown_report(const json& results);

/// A grouped bar chart (SVG) of examples/s, recgrad beside PyTorch, per model and thread count,
/// on a log scale (the models span several orders of magnitude); models without any figure are
/// left out.
std::string throughput_svg(const json& results);

// ---- op benchmarks (ops_bench, layers_bench) ---------------------------------------------------

/// Reads one op benchmark's --json output (benchmarks/harness.h: {"binary", "timing", "machine",
/// "peaks", "sections": [{"title", "rows": [{"name", "unit", "rate", "bound_rate", "bound",
/// "ratio", "target"?, "met"?}]}]}) into results.json's form: the same object, each row given
/// its "threads" (from the name's "/threads:N" suffix, which is dropped from "name"). Throws
/// recgrad::Error naming `what` when the text is not JSON or a field is missing or mistyped.
json parse_op_benchmarks(const std::string& text, const std::string& what);

/// Counts of an op results object (parse_op_benchmarks's form): rows with a target, and of
/// those the ones that met it.
struct TargetCount {
  int with_target = 0;
  int met = 0;
};
TargetCount count_targets(const json& op_benchmarks);

/// The Markdown section of results["ops"] ({"status", "runs": [parse_op_benchmarks objects]}):
/// one table per benchmark section, each op beside its bound, % of it and the target; "" when
/// absent; a line saying why when it did not run.
std::string ops_markdown(const json& ops);

// ---- per-op profiles of models that fall short ------------------------------------------------

/// Whether a row (comparison_json's form) gets a per-op profile: an iterative model whose speed
/// ratio is below 2 or whose RSS ratio is above 1.
bool needs_profile(const json& row);

/// Reads `recgrad profile --json` output ({"model", "steps", "examples", "threads", "profile":
/// {"wall_ms", "engine_ms", "other_ms", "ops": [{"op", "forward_ms", "backward_ms", ...}]}})
/// and keeps its `top` largest entries, forward and backward counted apart: {"steps",
/// "examples", "threads", "wall_ms", "top": [{"op", "pass": "fwd"|"bwd", "ms", "share"}]},
/// share = ms / wall_ms. The engine's and non-op time are entries too ("(backward engine)",
/// "(not in an op)", pass "-"). Throws recgrad::Error naming `what` on malformed input.
json parse_profile(const std::string& text, size_t top, const std::string& what);

/// "embedding bwd 41%, mul fwd 12%, ...": a parse_profile object in one line.
std::string describe_profile(const json& profile);

/// "AMD EPYC 7B13" from /proc/cpuinfo text (the first "model name"); "unknown" when absent.
std::string cpu_model(const std::string& cpuinfo);

}  // namespace recgrad::bench
