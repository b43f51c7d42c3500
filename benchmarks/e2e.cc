// End-to-end training throughput, memory and quality of every model, recgrad beside a PyTorch
// peer on the same machine and the same data (issue 7's end-to-end part):
//
//   bazel run -c opt //benchmarks:all -- --out results/e2e
//   ... --threads 1,2             thread counts (both sides get the same)
//   ... --models bpr,ease         a subset (default: every model; see e2e_report.cc)
//   ... --epochs N                the same N epochs for every iterative model (default: 1 or 2)
//   ... --rounds R                recgrad then PyTorch, R times per model and thread count
//   ... --quick                   tiny synthetic data, 2 epochs, 1 thread: a smoke run
//   ... --ops-min-time S          --benchmark_min_time of ops_bench/layers_bench (0: skip them)
//
// First the op benchmarks (//benchmarks:ops_bench and layers_bench, at the run's thread counts
// and a short --benchmark_min_time): each op beside its machine peak and the target.
// Then every model; a model short of 2x PyTorch's speed (or above its memory) is profiled with
// `recgrad profile` on the same data and threads, and the report names its top ops.
//
// Data: the experiment's split is written once by `recgrad export` (dense ids, TSV), and the
// peers (benchmarks/torch/<model>.py, Debian's /usr/bin/python3 with python3-torch) read those
// files, so both sides train and evaluate on the same rows. ML-1M from --data when present
// (ratings, random 80/10/10 per user; the SASRec paper's sequences, leave-one-out), else the
// synthetic generator at ML-1M's size.
//
// Each run is a child process, as benchmarks/reproduce.cc runs them: its wall time and peak RSS
// (wait4's ru_maxrss, the whole process: interpreter and libraries included) are measured from
// outside; its JSON gives per-epoch seconds and examples, each epoch's windows of batches, the
// test metric and the evaluation time. Throughput is the median examples/s over the windows
// after warm-up of every round (benchmarks/e2e_report.h's throughput_samples).
// PyTorch runs with OPENBLAS_CORETYPE set to the kernel recgrad runs on (SkylakeX or Haswell;
// Debian's DYNAMIC_ARCH OpenBLAS may otherwise fall back to a generic one),
// OPENBLAS_NUM_THREADS=--torch-blas-threads (default 1) and OMP_WAIT_POLICY=PASSIVE
// (--torch-wait-policy; idle OpenMP workers must not spin on a shared machine).
//
// Writes OUT/results.json (every figure, machine and versions, the ops and the profiles),
// OUT/results.md (the tables) and OUT/throughput.svg (the chart); runs' logs and JSON go to
// OUT/runs/.
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "benchmarks/e2e_report.h"
#include "benchmarks/child_process.h"
#include "benchmarks/files.h"

namespace {

using recgrad::bench::absolute;
using recgrad::bench::ChildOutcome;
using recgrad::bench::exists;
using recgrad::bench::last_line;
using recgrad::bench::make_dirs;
using recgrad::bench::read_text;
using recgrad::bench::run_logged;
using recgrad::bench::write_text;

using recgrad::bench::DataKind;
using recgrad::bench::json;
using recgrad::bench::ModelBench;
using recgrad::bench::RunResult;

struct Options {
  std::string out = "results/e2e";
  std::string threads = "1,2";
  std::string models;
  int epochs = 0;  // 0: each model's benchmark epochs
  int rounds = 1;
  bool quick = false;
  std::string data;  // "": $RECGRAD_DATA_DIR, else ../shared/data beside the workspace
  std::string recgrad;
  std::string python = "/usr/bin/python3";
  std::string torch_dir;
  std::string torch_blas_threads = "1";
  std::string torch_wait_policy = "PASSIVE";  // OMP_WAIT_POLICY for the peers; "": libgomp's
  double timeout_minutes = 6;
  double ops_min_time = 0.05;  // --benchmark_min_time of the op benchmarks; 0 skips them
  int profile_steps = 20;      // training steps `recgrad profile` sums for a model short of 2x
};

// ---- processes --------------------------------------------------------------------------------

// stdout of a short command (a version query); "" when it fails.
std::string capture(const std::string& command) {
  std::string out;
  if (FILE* p = popen(command.c_str(), "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (pclose(p) != 0) return "";
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// ---- files ------------------------------------------------------------------------------------





// A file shipped as runfiles data (bazel run), else beside the workspace, else "".
std::string find_runfile(const std::string& flag, const char* argv0, const std::string& relative) {
  if (!flag.empty()) return absolute(flag);
  std::vector<std::string> candidates = {std::string(argv0) + ".runfiles/recgrad/" + relative};
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"))
    candidates.push_back(std::string(ws) + "/" + relative);
  candidates.push_back(absolute(relative));
  for (const std::string& c : candidates)
    if (exists(c)) return absolute(c);
  return "";
}

// "6 min", "2.5 min".
std::string fixed_minutes(double minutes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g min", minutes);
  return buf;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  in >> one;
  return one;
}

// ---- data -------------------------------------------------------------------------------------

// --data, else $RECGRAD_DATA_DIR, else ../shared/data beside the workspace, else
// /work/shared/data (where the tests look too: tests/recsys/data_dir.h).
std::string data_dir(const std::string& flag) {
  if (!flag.empty()) return absolute(flag);
  if (const char* env = std::getenv("RECGRAD_DATA_DIR"); env && *env) return env;
  if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"))
    if (exists(std::string(ws) + "/../shared/data")) return std::string(ws) + "/../shared/data";
  return "/work/shared/data";
}

// The `recgrad train`/`export` data flags of one data kind.
std::vector<std::string> data_flags(DataKind kind, const Options& o, std::string* description) {
  const std::string ml1m = data_dir(o.data) + "/ml-1m/";
  if (kind == DataKind::kGeneral) {
    if (!o.quick && exists(ml1m + "ratings_uir.tsv")) {
      *description = "ML-1M ratings (ratings_uir.tsv), random 80/10/10 per user";
      return {"--data", ml1m + "ratings_uir.tsv", "--format", "uir", "--split", "ratio"};
    }
  } else if (!o.quick && exists(ml1m + "sasrec_ml-1m.txt")) {
    *description = "ML-1M sequences of the SASRec paper (sasrec_ml-1m.txt), leave-one-out";
    return {"--data", ml1m + "sasrec_ml-1m.txt", "--format", "seq", "--split", "loo"};
  }
  // Synthetic: ML-1M's size (its ratings file, or its sequences file), or tiny for --quick.
  const bool general = kind == DataKind::kGeneral;
  const std::string users = o.quick ? "500" : "6040";
  const std::string items = o.quick ? "1000" : general ? "3706" : "3416";
  const std::string rows = o.quick ? "25000" : general ? "1000209" : "999611";
  const std::string split = general ? "ratio" : "loo";
  *description = "synthetic " + users + " users x " + items + " items, " + rows + " rows, split " +
                 split + (o.quick ? " (--quick)" : " (ML-1M's size; no " + ml1m + ")");
  std::vector<std::string> flags = {"--data", "synthetic", "--split", split};
  for (const auto& [flag, value] : {std::pair<std::string, std::string>{"--synthetic-users", users},
                                    {"--synthetic-items", items},
                                    {"--synthetic-rows", rows}})
    flags.insert(flags.end(), {flag, value});
  return flags;
}

// The models this recgrad build has (the first word of each `recgrad models` entry).
std::vector<std::string> recgrad_models(const std::string& cli) {
  std::vector<std::string> names;
  std::stringstream in(capture("'" + cli + "' models 2>/dev/null"));
  for (std::string line; std::getline(in, line);)
    if (!line.empty() && line[0] != ' ') names.push_back(line.substr(0, line.find(' ')));
  return names;
}

// ---- one model at one thread count ------------------------------------------------------------

struct Context {
  Options opts;
  std::string cli, python, torch_dir, out;
  std::vector<std::string> available;
  std::vector<std::string> flags[2];  // data flags per DataKind
  std::string exported[2];            // export directories per DataKind
  std::string blas_core;              // recgrad's OpenBLAS kernel, given to PyTorch too
};

// OPENBLAS_CORETYPE for the PyTorch side: the kernel recgrad runs on, so both multiply alike.
std::vector<std::pair<std::string, std::string>> coretype_env(const std::string& core) {
  if (core.empty()) return {};
  return {{"OPENBLAS_CORETYPE", core}};
}

int epochs_of(const ModelBench& m, const Options& o) {
  if (m.closed_form) return 0;
  if (o.epochs > 0) return o.epochs;
  return o.quick ? 2 : static_cast<int>(m.epochs);
}

json run_model(const Context& c, const ModelBench& m, int threads) {
  const std::string load = load_average();
  const int epochs = epochs_of(m, c.opts);
  const int kind = static_cast<int>(m.data);
  std::vector<RunResult> runs[2];
  std::string errors[2];
  const bool built = std::find(c.available.begin(), c.available.end(), m.name) != c.available.end();
  if (!built) {
    errors[0] = "no model '" + m.name + "' in this recgrad build (`recgrad models`)";
    errors[1] = "not run: nothing to compare with";
  }
  const std::string script = c.torch_dir + "/" + m.name + ".py";
  if (built && !exists(script)) errors[1] = "no PyTorch peer " + script;
  const std::string dir = c.out + "/runs/" + m.name + "/threads" + std::to_string(threads);
  make_dirs(dir);
  const std::string blas =
      c.opts.torch_blas_threads == "match" ? std::to_string(threads) : c.opts.torch_blas_threads;
  std::vector<std::pair<std::string, std::string>> torch_env = coretype_env(c.blas_core);
  torch_env.insert(torch_env.end(), {{"OPENBLAS_NUM_THREADS", blas},
                                     {"OMP_NUM_THREADS", std::to_string(threads)},
                                     {"MKL_NUM_THREADS", std::to_string(threads)}});
  // libgomp's default lets idle OpenMP workers spin; on a shared, oversubscribed machine the
  // spinning workers steal the cores the working ones need, and PyTorch at 2 threads ran 10x
  // slower than at 1 here (BiasedMF: over 200 s an epoch instead of 21 s with PASSIVE).
  if (!c.opts.torch_wait_policy.empty())
    torch_env.push_back({"OMP_WAIT_POLICY", c.opts.torch_wait_policy});
  const double timeout = c.opts.timeout_minutes * 60;
  for (int round = 0; round < c.opts.rounds && built; ++round) {
    for (int side = 0; side < 2; ++side) {  // recgrad, then its peer
      if (!errors[side].empty() && runs[side].empty() && round > 0) continue;
      if (side == 1 && !exists(script)) continue;
      const std::string tag =
          std::string(side == 0 ? "recgrad" : "pytorch") + "_round" + std::to_string(round + 1);
      const std::string result = dir + "/" + tag + ".json", log = dir + "/" + tag + ".log";
      std::remove(result.c_str());
      std::remove(log.c_str());
      std::vector<std::string> argv;
      if (side == 0) {
        argv = {c.cli, "train", "--model", m.name};
        argv.insert(argv.end(), c.flags[kind].begin(), c.flags[kind].end());
        for (const std::string& a :
             {std::string("--threads"), std::to_string(threads), std::string("--seed"),
              std::to_string(round), std::string("--quiet"), std::string("--no-validation"),
              std::string("--metrics-json"), result})
          argv.push_back(a);
        if (epochs > 0) argv.insert(argv.end(), {"--epochs", std::to_string(epochs)});
      } else {
        argv = {c.python,    script,
                "--data",    c.exported[kind],
                "--epochs",  std::to_string(epochs),
                "--threads", std::to_string(threads),
                "--seed",    std::to_string(round),
                "--out",     result};
      }
      std::fprintf(stderr, "[%s, %d thread%s, round %d/%d] %s ...", m.name.c_str(), threads,
                   threads == 1 ? "" : "s", round + 1, c.opts.rounds,
                   side == 0 ? "recgrad" : "PyTorch");
      std::fflush(stderr);
      const ChildOutcome o =
          run_logged(argv, log, side == 1 ? torch_env : decltype(torch_env){}, timeout);
      std::fprintf(stderr, " %.1f s, %.0f MiB\n", o.seconds, o.peak_rss_mib);
      if (o.exit_code != 0 || !exists(result)) {
        errors[side] =
            o.timed_out ? "timed out after " + std::to_string(int(timeout)) + " s (log " + log + ")"
                        : "failed (exit " + std::to_string(o.exit_code) + "): " + last_line(log) +
                              " (log " + log + ")";
        continue;
      }
      try {
        RunResult r = recgrad::bench::parse_run(read_text(result), m.metric, result);
        r.wall_seconds = o.seconds;
        r.peak_rss_mib = o.peak_rss_mib;
        runs[side].push_back(r);
      } catch (const std::exception& e) {
        errors[side] = e.what();
      }
    }
  }
  const auto rg = recgrad::bench::summarize(runs[0], m.closed_form);
  const auto pt = recgrad::bench::summarize(runs[1], m.closed_form);
  json row = recgrad::bench::comparison_json(m, threads, rg, pt, runs[0].empty() ? errors[0] : "",
                                             runs[1].empty() ? errors[1] : "");
  row["epochs"] = epochs;
  row["load_before"] = load;  // the machine's 1-minute load average when the row started
  return row;
}

// ---- op benchmarks ----------------------------------------------------------------------------

// Runs //benchmarks:ops_bench and layers_bench (shipped as runfiles) at a short setting, with
// the run's thread counts, and folds their --json output into results.json's "ops": each op
// beside the peak that bounds it and the target. --benchmark_min_time also sets how long
// each peak is timed (benchmarks/harness.h), so the two together take a few minutes.
json op_benchmarks(const Context& c, const char* argv0, const std::vector<int>& threads) {
  json ops = {{"runs", json::array()}};
  if (c.opts.ops_min_time <= 0) {
    ops["status"] = "skipped (--ops-min-time 0)";
    return ops;
  }
  std::string list;
  for (int t : threads) list += (list.empty() ? "" : ",") + std::to_string(t);
  char min_time[32];
  std::snprintf(min_time, sizeof min_time, "%g", c.opts.ops_min_time);
  std::string failures;
  for (const char* binary : {"ops_bench", "layers_bench"}) {
    const std::string path = find_runfile("", argv0, std::string("benchmarks/") + binary);
    if (path.empty() || access(path.c_str(), X_OK) != 0) {
      failures += std::string(failures.empty() ? "" : "; ") + binary + ": not found in runfiles";
      continue;
    }
    const std::string out = c.out + "/runs/" + binary + ".json";
    const std::string log = c.out + "/runs/" + binary + ".log";
    std::remove(out.c_str());
    std::remove(log.c_str());
    std::fprintf(stderr, "[ops] %s --threads=%s --benchmark_min_time=%s ...", binary, list.c_str(),
                 min_time);
    std::fflush(stderr);
    const ChildOutcome o = run_logged({path, "--json", out, "--threads=" + list,
                                       std::string("--benchmark_min_time=") + min_time},
                                      log, {}, c.opts.timeout_minutes * 60);
    std::fprintf(stderr, " %.1f s\n", o.seconds);
    if (o.exit_code != 0 || !exists(out)) {
      failures += std::string(failures.empty() ? "" : "; ") + binary + " failed (exit " +
                  std::to_string(o.exit_code) + "): " + last_line(log) + " (log " + log + ")";
      continue;
    }
    try {
      json run = recgrad::bench::parse_op_benchmarks(read_text(out), out);
      run["seconds"] = o.seconds;
      ops["runs"].push_back(run);
    } catch (const std::exception& e) {
      failures += std::string(failures.empty() ? "" : "; ") + e.what();
    }
  }
  ops["status"] = failures.empty() ? "Each benchmark ran for --benchmark_min_time=" +
                                         std::string(min_time) + " s at threads " + list + "."
                                   : failures;
  return ops;
}

// ---- per-op profile of a model that falls short -------------------------------------------------

// `recgrad profile` of one model on the run's data and thread count: where a training step goes
// (after a warm-up epoch). Adds "profile" (the top ops) or "profile_error" to the row.
void profile_row(const Context& c, const ModelBench& m, int threads, json& row) {
  const std::string dir = c.out + "/runs/" + m.name + "/threads" + std::to_string(threads);
  const std::string out = dir + "/profile.json", log = dir + "/profile.log";
  std::remove(out.c_str());
  std::remove(log.c_str());
  std::vector<std::string> argv = {c.cli, "profile", "--model", m.name};
  const auto& flags = c.flags[static_cast<int>(m.data)];
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.insert(argv.end(), {"--threads", std::to_string(threads), "--warmup-epochs", "1", "--steps",
                           std::to_string(c.opts.profile_steps), "--json", out});
  std::fprintf(stderr, "[%s, %d thread%s] profile ...", m.name.c_str(), threads,
               threads == 1 ? "" : "s");
  std::fflush(stderr);
  const ChildOutcome o = run_logged(argv, log, {}, c.opts.timeout_minutes * 60);
  std::fprintf(stderr, " %.1f s\n", o.seconds);
  if (o.exit_code != 0 || !exists(out)) {
    row["profile_error"] = "recgrad profile failed (exit " + std::to_string(o.exit_code) +
                           "): " + last_line(log) + " (log " + log + ")";
    return;
  }
  try {
    row["profile"] = recgrad::bench::parse_profile(read_text(out), 5, out);
  } catch (const std::exception& e) {
    row["profile_error"] = e.what();
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"End-to-end training throughput, memory and quality: recgrad vs PyTorch"};
  Options o;
  bool threads_given = false;
  app.add_option("--out", o.out, "directory for results.json, results.md, throughput.svg, runs/")
      ->capture_default_str();
  app.add_option_function<std::string>(
      "--threads", [&](const std::string& v) { o.threads = v, threads_given = true; },
      "comma-separated thread counts, both sides (default 1,2; --quick: 1)");
  app.add_option("--models", o.models, "comma-separated models (default: all)");
  app.add_option("--epochs", o.epochs, "epochs for every iterative model (default: 1 or 2 each)")
      ->check(CLI::PositiveNumber);
  app.add_option("--rounds", o.rounds, "recgrad-then-PyTorch rounds per model and thread count")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("--quick", o.quick, "tiny synthetic data, 2 epochs, 1 thread: a smoke run");
  bool report_only = false;
  app.add_flag("--report-only", report_only,
               "rewrite results.md and throughput.svg from OUT/results.json; run nothing");
  app.add_option("--data", o.data,
                 "directory holding ml-1m/ (default: $RECGRAD_DATA_DIR, else ../shared/data "
                 "beside the workspace, else /work/shared/data; synthetic data when absent)");
  app.add_option("--recgrad", o.recgrad, "the recgrad CLI (default: from Bazel's runfiles)");
  app.add_option("--python", o.python, "the interpreter with torch and numpy")
      ->capture_default_str();
  app.add_option("--torch-dir", o.torch_dir, "the PyTorch peers (default: benchmarks/torch)");
  app.add_option("--torch-blas-threads", o.torch_blas_threads,
                 "OPENBLAS_NUM_THREADS for PyTorch: a number, or 'match' for the thread count")
      ->capture_default_str();
  app.add_option("--torch-wait-policy", o.torch_wait_policy,
                 "OMP_WAIT_POLICY for PyTorch (PASSIVE: idle OpenMP workers sleep instead of "
                 "spinning, which a loaded machine needs); \"\" leaves libgomp's default")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_minutes,
                 "minutes before a run is killed (the row then says so); keeps a full run near "
                 "20 minutes when one side crawls on a loaded machine")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--ops-min-time", o.ops_min_time,
                 "--benchmark_min_time (s) of the op benchmarks (ops_bench, layers_bench); 0 "
                 "skips them")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--profile-steps", o.profile_steps,
                 "training steps profiled for each model short of 2x (or of PyTorch's memory)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);
  if (o.quick && !threads_given) o.threads = "1";
  if (report_only) {
    const std::string out = absolute(o.out) + (o.quick ? "/quick" : "");
    try {
      const json results = json::parse(read_text(out + "/results.json"));
      write_text(out + "/results.md", recgrad::bench::markdown_report(results));
      write_text(out + "/throughput.svg", recgrad::bench::throughput_svg(results));
      std::fprintf(stderr, "rewrote %s/results.md and throughput.svg\n", out.c_str());
      return 0;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "all: --report-only: %s/results.json: %s\n", out.c_str(), e.what());
      return 1;
    }
  }

  try {
    Context c;
    c.opts = o;
    const std::vector<int> thread_counts = recgrad::bench::parse_int_list(o.threads, "--threads");
    const std::vector<ModelBench> models = recgrad::bench::select_models(o.models);
    if (o.torch_blas_threads != "match")
      recgrad::bench::parse_int_list(o.torch_blas_threads, "--torch-blas-threads");
    c.cli = find_runfile(o.recgrad, argv[0], "recgrad");
    if (c.cli.empty() || access(c.cli.c_str(), X_OK) != 0) {
      std::fprintf(stderr, "all: cannot find the recgrad binary; pass --recgrad PATH\n");
      return 2;
    }
    c.torch_dir = find_runfile(o.torch_dir, argv[0], "benchmarks/torch");
    c.python = absolute(o.python);
    const std::string versions = capture("'" + c.python +
                                         "' -c 'import sys, torch, numpy; print(torch.__version__, "
                                         "numpy.__version__, sys.version.split()[0])' 2>/dev/null");
    if (versions.empty() || c.torch_dir.empty()) {
      std::fprintf(stderr,
                   "all: %s cannot import torch and numpy, or benchmarks/torch is missing: "
                   "install the peers' packages with tools/setup.sh --bench (python3-torch, "
                   "python3-numpy), or pass --python / --torch-dir\n",
                   c.python.c_str());
      return 2;
    }
    c.out = absolute(o.out) + (o.quick ? "/quick" : "");
    make_dirs(c.out + "/runs");
    c.available = recgrad_models(c.cli);

    // Machine and versions.
    json machine;
    machine["cpu"] = recgrad::bench::cpu_model(read_text("/proc/cpuinfo"));
    machine["cores"] = sysconf(_SC_NPROCESSORS_ONLN);
    utsname u{};
    if (uname(&u) == 0) machine["kernel"] = std::string(u.sysname) + " " + u.release;
    {
      const std::string log = c.out + "/runs/runtime.txt";
      std::remove(log.c_str());
      run_logged({c.cli, "train", "--model", "pop", "--quiet", "--synthetic-users", "50",
                  "--synthetic-items", "100", "--synthetic-rows", "2000"},
                 log, {}, 120);
      std::ifstream in(log);
      std::string first;
      std::getline(in, first);
      machine["recgrad_runtime"] = first;
      const size_t core = first.find("core=");
      if (core != std::string::npos) {
        c.blas_core = first.substr(core + 5, first.find_first_of(" (", core) - core - 5);
        machine["openblas_core"] = c.blas_core;
      }
    }
    std::stringstream vs(versions);
    std::string tv, nv, pv;
    vs >> tv >> nv >> pv;
    machine["torch_version"] = tv;
    machine["numpy_version"] = nv;
    machine["python_version"] = pv;
    if (const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY"))
      machine["recgrad_commit"] =
          capture("git -C '" + std::string(ws) + "' rev-parse --short HEAD 2>/dev/null");
    {
      // What the interpreter and the libraries alone cost: the floor of every peer's RSS.
      const std::string log = c.out + "/runs/import_torch.txt";
      std::remove(log.c_str());
      const ChildOutcome imp = run_logged({c.python, "-c", "import torch, numpy"}, log,
                                          coretype_env(c.blas_core), 300);
      if (imp.exit_code == 0) machine["pytorch_import_rss_mib"] = imp.peak_rss_mib;
    }
    machine["load_before"] = load_average();
    {
      const std::time_t now = std::time(nullptr);
      char buf[64];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
      machine["date"] = buf;
    }

    // The data, exported once per kind for the peers.
    std::string described[2];
    for (int kind = 0; kind < 2; ++kind) {
      bool needed = false;
      for (const ModelBench& m : models) needed = needed || static_cast<int>(m.data) == kind;
      if (!needed) continue;
      c.flags[kind] = data_flags(static_cast<DataKind>(kind), o, &described[kind]);
      c.exported[kind] = c.out + "/data/" + (kind == 0 ? "general" : "sequential");
      std::vector<std::string> argv_export = {c.cli, "export"};
      argv_export.insert(argv_export.end(), c.flags[kind].begin(), c.flags[kind].end());
      argv_export.insert(argv_export.end(), {"--out", c.exported[kind]});
      const std::string log = c.out + "/runs/export_" + std::to_string(kind) + ".log";
      std::remove(log.c_str());
      std::fprintf(stderr, "exporting %s ...\n", described[kind].c_str());
      const ChildOutcome e = run_logged(argv_export, log, {}, 600);
      if (e.exit_code != 0) {
        std::fprintf(stderr, "all: recgrad export failed: %s\n", last_line(log).c_str());
        return 1;
      }
    }

    json setup;
    std::string epochs_text;
    for (const ModelBench& m : models)
      if (!m.closed_form)
        epochs_text +=
            (epochs_text.empty() ? "" : ", ") + m.name + " " + std::to_string(epochs_of(m, o));
    const std::string blas =
        o.torch_blas_threads == "match" ? "the thread count" : o.torch_blas_threads;
    setup["data"] = {{"general", described[0]}, {"sequential", described[1]}};
    setup["threads"] = thread_counts;
    setup["rounds"] = o.rounds;
    setup["quick"] = o.quick;
    setup["pytorch_env"] = {{"OPENBLAS_CORETYPE", c.blas_core.empty() ? "(unset)" : c.blas_core},
                            {"OPENBLAS_NUM_THREADS", blas},
                            {"OMP_NUM_THREADS", "the thread count"},
                            {"OMP_WAIT_POLICY", o.torch_wait_policy.empty()
                                                    ? std::string("(libgomp's default)")
                                                    : o.torch_wait_policy}};
    setup["description"] =
        "Data: " + (described[0].empty() ? std::string("—") : described[0]) +
        "; sequential models: " + (described[1].empty() ? std::string("—") : described[1]) +
        ". Both sides train on the same exported split, at recgrad's default hyperparameters, "
        "for the same epochs (" +
        (epochs_text.empty() ? std::string("none") : epochs_text) + "), " +
        std::to_string(o.rounds) +
        " round(s) of recgrad then PyTorch per model and "
        "thread count; examples/s is the median over windows of an eighth of an epoch, after "
        "warm-up (the first epoch, or a single epoch's first quarter), each window charged its "
        "share of the epoch's set-up (closed-form models: training rows per second of fit). "
        "recgrad trains with --no-validation; both sides flush denormals to zero "
        "(torch.set_flush_denormal). "
        "PyTorch: OPENBLAS_CORETYPE=" + (c.blas_core.empty() ? "(unset)" : c.blas_core) +
        " (recgrad's kernel), OPENBLAS_NUM_THREADS=" +
        blas +
        (o.torch_wait_policy.empty() ? std::string()
                                     : ", OMP_WAIT_POLICY=" + o.torch_wait_policy) +
        ", torch.set_num_threads(threads). Runs longer than " + fixed_minutes(o.timeout_minutes) +
        " are stopped (--timeout). Quality: test " +
        "NDCG@10 (full ranking, train and "
        "valid items masked) or RMSE for rating models, equal within " +
        recgrad::bench::describe(recgrad::bench::tolerance_for("NDCG@10")) +
        " (RMSE: " + recgrad::bench::describe(recgrad::bench::tolerance_for("RMSE")) +
        "). Peak RSS: the whole "
        "process (wait4), the Python interpreter and libraries included.";

    json rows = json::array();
    json ops = {{"status", "not run yet"}, {"runs", json::array()}};
    auto write_all = [&]() {
      json m = machine;
      m["load_after"] = load_average();
      const json results = {{"machine", m}, {"setup", setup}, {"rows", rows}, {"ops", ops}};
      write_text(c.out + "/results.json", results.dump(2) + "\n");
      write_text(c.out + "/results.md", recgrad::bench::markdown_report(results));
      write_text(c.out + "/throughput.svg", recgrad::bench::throughput_svg(results));
    };
    // The op benchmarks first, on a machine not yet warmed by a model's run.
    if (!o.quick) {
      ops = op_benchmarks(c, argv[0], thread_counts);
      write_all();
    } else {
      ops["status"] = "skipped under --quick";
    }
    for (const ModelBench& m : models)
      for (int t : thread_counts) {
        json row = run_model(c, m, t);
        if (recgrad::bench::needs_profile(row)) profile_row(c, m, t, row);
        rows.push_back(row);
        write_all();  // after every row, so an interrupted run keeps what it measured
      }
    write_all();
    std::printf("%s", read_text(c.out + "/results.md").c_str());
    std::fprintf(stderr, "wrote %s/results.json, results.md and throughput.svg\n", c.out.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "all: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
