#include "benchmarks/e2e_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <sstream>
#include <utility>

#include "autograd/error.h"

namespace recgrad::bench {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool positive_finite(double v) { return std::isfinite(v) && v > 0; }

// Whether throughput_samples can use the run's windows: every epoch has some, and a run of one
// epoch has enough to leave its first quarter out and keep the rest.
bool has_windows(const RunResult& run) {
  if (run.epochs.empty()) return false;
  for (const EpochStat& e : run.epochs)
    if (e.windows.empty()) return false;
  return run.epochs.size() > 1 || run.epochs[0].windows.size() >= 2;
}

// A number field of a JSON object, or `fallback` when absent or null; throws on another type.
double number(const json& j, const char* key, double fallback, const std::string& what) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  RECGRAD_CHECK(j[key].is_number(), what, ": \"", key, "\" is ", j[key].type_name(),
                ", expected a number");
  return j[key].get<double>();
}

// A JSON number, or null for NaN/inf (which JSON cannot hold).
json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(); }

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// 1234567 -> "1.23M", 45678 -> "45.7k", 87.3 -> "87.3"; NaN -> "—".
std::string short_number(double v) {
  if (!std::isfinite(v)) return "—";
  char buf[64];
  if (v >= 1e9)
    std::snprintf(buf, sizeof buf, "%.3gG", v / 1e9);
  else if (v >= 1e6)
    std::snprintf(buf, sizeof buf, "%.3gM", v / 1e6);
  else if (v >= 1e3)
    std::snprintf(buf, sizeof buf, "%.3gk", v / 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

// "512 MiB", or "—" (no unit) when v is not finite.
std::string with_unit(double v, int digits, const char* unit) {
  return std::isfinite(v) ? fixed(v, digits) + unit : "—";
}

double get_or_nan(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : kNaN;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

}  // namespace

const std::vector<ModelBench>& benchmark_models() {
  static const std::vector<ModelBench> models = {
      {"pop", DataKind::kGeneral, true, "NDCG@10", 0},
      {"itemknn", DataKind::kGeneral, true, "NDCG@10", 0},
      {"ease", DataKind::kGeneral, true, "NDCG@10", 0},
      {"bpr", DataKind::kGeneral, false, "NDCG@10", 2},
      {"biasedmf", DataKind::kGeneral, false, "RMSE", 1},
      {"neumf", DataKind::kGeneral, false, "NDCG@10", 1},  // 15,800 batches an epoch
      {"autorec", DataKind::kGeneral, false, "RMSE", 2},
      {"multdae", DataKind::kGeneral, false, "NDCG@10", 2},
      {"multvae", DataKind::kGeneral, false, "NDCG@10", 2},
      {"cdae", DataKind::kGeneral, false, "NDCG@10", 2},
      {"cfgan", DataKind::kGeneral, false, "NDCG@10", 2},
      {"caser", DataKind::kSequential, false, "NDCG@10", 1},  // 1,850 batches an epoch
      {"gru4rec", DataKind::kSequential, false, "NDCG@10", 1},
      {"sasrec", DataKind::kSequential, false, "NDCG@10", 1},
  };
  return models;
}

std::vector<ModelBench> select_models(const std::string& list) {
  if (list.empty()) return benchmark_models();
  std::vector<std::string> wanted;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    if (name.empty()) continue;
    bool known = false;
    std::string names;
    for (const ModelBench& m : benchmark_models()) {
      known = known || m.name == name;
      names += (names.empty() ? "" : ", ") + m.name;
    }
    RECGRAD_CHECK(known, "--models: unknown model '", name, "'; models: ", names);
    wanted.push_back(name);
  }
  RECGRAD_CHECK(!wanted.empty(), "--models: '", list, "' names no model");
  std::vector<ModelBench> out;
  for (const ModelBench& m : benchmark_models())
    if (std::find(wanted.begin(), wanted.end(), m.name) != wanted.end()) out.push_back(m);
  return out;
}

std::vector<int> parse_int_list(const std::string& text, const std::string& flag) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    RECGRAD_CHECK(!item.empty() && *end == '\0' && v >= 1 && v <= 4096, flag, ": '", item, "' in '",
                  text, "' is not a positive integer");
    out.push_back(static_cast<int>(v));
  }
  RECGRAD_CHECK(!out.empty(), flag, ": '", text, "' lists nothing (e.g. 1,2)");
  return out;
}

RunResult parse_run(const std::string& text, const std::string& metric, const std::string& what) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  RECGRAD_CHECK(!j.is_discarded() && j.is_object(), what, ": not a JSON object");
  RunResult r;
  if (j.contains("epochs_log") && !j["epochs_log"].is_null()) {
    RECGRAD_CHECK(j["epochs_log"].is_array(), what, ": \"epochs_log\" is ",
                  j["epochs_log"].type_name(), ", expected an array");
    for (const json& e : j["epochs_log"]) {
      RECGRAD_CHECK(e.is_object(), what, ": an \"epochs_log\" entry is ", e.type_name(),
                    ", expected an object");
      EpochStat s;
      s.epoch = static_cast<int64_t>(number(e, "epoch", 0, what));
      s.seconds = number(e, "seconds", 0, what);
      s.examples = static_cast<int64_t>(number(e, "examples", 0, what));
      RECGRAD_CHECK(s.seconds >= 0 && s.examples >= 0, what, ": epoch ", s.epoch,
                    " has negative seconds or examples");
      if (e.contains("windows") && !e["windows"].is_null()) {
        RECGRAD_CHECK(e["windows"].is_array(), what, ": epoch ", s.epoch, ": \"windows\" is ",
                      e["windows"].type_name(), ", expected an array");
        for (const json& w : e["windows"]) {
          RECGRAD_CHECK(w.is_object(), what, ": epoch ", s.epoch, ": a window is ",
                        w.type_name(), ", expected an object");
          WindowStat ws;
          ws.examples = static_cast<int64_t>(number(w, "examples", 0, what));
          ws.seconds = number(w, "seconds", 0, what);
          RECGRAD_CHECK(ws.seconds >= 0 && ws.examples >= 0, what, ": epoch ", s.epoch,
                        " has a window of negative seconds or examples");
          s.windows.push_back(ws);
        }
      }
      r.epochs.push_back(s);
    }
  }
  r.fit_seconds = number(j, "fit_seconds", 0, what);
  r.eval_seconds = number(j, "eval_seconds", 0, what);
  r.train_rows = static_cast<int64_t>(number(j, "train_rows", 0, what));
  r.batch_size = static_cast<int64_t>(number(j, "batch_size", 0, what));
  if (j.contains("metrics") && j["metrics"].is_object() && j["metrics"].contains(metric) &&
      j["metrics"][metric].is_number())
    r.quality = j["metrics"][metric].get<double>();
  return r;
}

double median(std::vector<double> values) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

std::vector<double> throughput_samples(const RunResult& run, bool closed_form) {
  std::vector<double> out;
  if (closed_form) {
    if (positive_finite(run.fit_seconds) && run.train_rows > 0)
      out.push_back(static_cast<double>(run.train_rows) / run.fit_seconds);
    return out;
  }
  const size_t first = run.epochs.size() > 1 ? 1 : 0;
  if (has_windows(run)) {
    for (size_t e = first; e < run.epochs.size(); ++e) {
      const EpochStat& epoch = run.epochs[e];
      double in_windows = 0;
      for (const WindowStat& w : epoch.windows) in_windows += w.seconds;
      // The epoch's time outside its windows, shared out by examples.
      const double outside = std::max(0.0, epoch.seconds - in_windows);
      const size_t skip = run.epochs.size() == 1 ? (epoch.windows.size() + 3) / 4 : 0;
      for (size_t k = skip; k < epoch.windows.size(); ++k) {
        const WindowStat& w = epoch.windows[k];
        const double share =
            epoch.examples > 0 ? static_cast<double>(w.examples) / epoch.examples : 0.0;
        const double seconds = w.seconds + outside * share;
        if (positive_finite(seconds) && w.examples > 0)
          out.push_back(static_cast<double>(w.examples) / seconds);
      }
    }
    return out;
  }
  for (size_t e = first; e < run.epochs.size(); ++e)
    if (positive_finite(run.epochs[e].seconds))
      out.push_back(static_cast<double>(run.epochs[e].examples) / run.epochs[e].seconds);
  return out;
}

bool warmup_excluded(const RunResult& run) {
  return run.epochs.size() > 1 || has_windows(run);
}

SideSummary summarize(const std::vector<RunResult>& runs, bool closed_form) {
  SideSummary s;
  std::vector<double> evals, fits, qualities;
  for (const RunResult& r : runs) {
    ++s.runs;
    const std::vector<double> samples = throughput_samples(r, closed_form);
    s.samples.insert(s.samples.end(), samples.begin(), samples.end());
    if (!closed_form && !warmup_excluded(r)) s.warmup_excluded = false;
    s.peak_rss_mib = std::max(s.peak_rss_mib, r.peak_rss_mib);
    evals.push_back(r.eval_seconds);
    fits.push_back(r.fit_seconds);
    if (r.quality) qualities.push_back(*r.quality);
    if (s.batch_size == 0) s.batch_size = r.batch_size;
  }
  s.examples_per_second = median(s.samples);
  s.eval_seconds = median(evals);
  s.fit_seconds = median(fits);
  if (!qualities.empty()) s.quality = median(qualities);
  return s;
}

Tolerance tolerance_for(const std::string& metric) {
  // Two runs differ in their random streams (init, order, negatives, dropout), and after two or
  // three epochs that moves NDCG@10 by a few percent; rating errors move much less.
  if (metric == "RMSE" || metric == "MAE") return {0.01, 0.02};
  return {0.01, 0.10};
}

std::string describe(const Tolerance& t) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%g absolute or %g%% relative", t.absolute, 100 * t.relative);
  return buf;
}

bool within(double a, double b, const Tolerance& t) {
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  return std::fabs(a - b) <=
         std::max(t.absolute, t.relative * std::max(std::fabs(a), std::fabs(b)));
}

double ratio(double a, double b) { return positive_finite(a) && positive_finite(b) ? a / b : kNaN; }

namespace {

json side_json(const SideSummary& s, const std::string& error, bool closed_form) {
  json j;
  if (!error.empty()) j["error"] = error;
  j["runs"] = s.runs;
  j["examples_per_second"] = finite_or_null(s.examples_per_second);
  j["samples"] = s.samples;
  j["peak_rss_mib"] = s.runs > 0 ? finite_or_null(s.peak_rss_mib) : json();
  j["eval_seconds"] = s.runs > 0 ? finite_or_null(s.eval_seconds) : json();
  if (closed_form) j["fit_seconds"] = s.runs > 0 ? finite_or_null(s.fit_seconds) : json();
  j["quality"] = s.quality ? finite_or_null(*s.quality) : json();
  if (!closed_form) j["warmup_excluded"] = s.warmup_excluded;
  if (s.batch_size > 0) j["batch_size"] = s.batch_size;
  return j;
}

}  // namespace

json comparison_json(const ModelBench& model, int threads, const SideSummary& recgrad,
                     const SideSummary& torch, const std::string& recgrad_error,
                     const std::string& torch_error) {
  json row;
  row["model"] = model.name;
  row["threads"] = threads;
  row["data"] = model.data == DataKind::kGeneral ? "general" : "sequential";
  row["closed_form"] = model.closed_form;
  row["epochs"] = model.epochs;
  row["metric"] = model.metric;
  row["recgrad"] = side_json(recgrad, recgrad_error, model.closed_form);
  row["pytorch"] = side_json(torch, torch_error, model.closed_form);
  const double speed = ratio(recgrad.examples_per_second, torch.examples_per_second);
  row["throughput_ratio"] = finite_or_null(speed);
  row["memory_ratio"] = recgrad.runs > 0 && torch.runs > 0
                            ? finite_or_null(ratio(recgrad.peak_rss_mib, torch.peak_rss_mib))
                            : json();
  const Tolerance tol = tolerance_for(model.metric);
  json quality = {{"metric", model.metric},
                  {"recgrad", recgrad.quality ? finite_or_null(*recgrad.quality) : json()},
                  {"pytorch", torch.quality ? finite_or_null(*torch.quality) : json()},
                  {"tolerance", describe(tol)}};
  quality["within"] = recgrad.quality && torch.quality
                          ? json(within(*recgrad.quality, *torch.quality, tol))
                          : json();
  row["quality"] = quality;
  // The peers copy recgrad's defaults by hand; a batch that differs (as GRU4Rec's once did:
  // 256 against 64) makes neither the speed nor the quality comparable. Within 2%: NeuMF's
  // peer batches 51 positives with their 4 negatives each, 255 rows against recgrad's 256.
  const auto rb = static_cast<double>(recgrad.batch_size);
  const auto tb = static_cast<double>(torch.batch_size);
  row["batch_sizes_match"] =
      rb > 0 && tb > 0 ? json(std::abs(rb - tb) <= 0.02 * std::max(rb, tb)) : json();
  row["reaches_2x"] = std::isfinite(speed) ? json(speed >= 2.0) : json();
  return row;
}

std::string markdown_report(const json& results) {
  RECGRAD_CHECK(results.is_object() && results.contains("rows") && results["rows"].is_array(),
                "markdown_report: results need a \"rows\" array");
  const json machine = results.value("machine", json::object());
  const json setup = results.value("setup", json::object());
  std::ostringstream md;
  md << "# End-to-end training: recgrad vs PyTorch\n\n";
  md << "Machine: " << machine.value("cpu", std::string("?")) << ", " << machine.value("cores", 0)
     << " cores; " << machine.value("recgrad_runtime", std::string("")) << "\n\n";
  md << "Versions: recgrad " << machine.value("recgrad_commit", std::string("?")) << ", PyTorch "
     << machine.value("torch_version", std::string("?")) << ", NumPy "
     << machine.value("numpy_version", std::string("?")) << ", Python "
     << machine.value("python_version", std::string("?")) << ".\n\n";
  if (machine.contains("pytorch_import_rss_mib"))
    md << "A Python process that only imports torch and numpy peaks at "
       << fixed(get_or_nan(machine, "pytorch_import_rss_mib"), 0)
       << " MiB here: the floor under every PyTorch RSS below.\n\n";
  if (machine.contains("load_before"))
    md << "Load average (1 min) before/after the run: "
       << machine.value("load_before", std::string("?")) << " / "
       << machine.value("load_after", std::string("?"))
       << " (figures from a shared or loaded machine are noisy).\n\n";
  if (setup.contains("description")) md << setup["description"].get<std::string>() << "\n\n";
  md << "| model | threads | epochs | recgrad ex/s | PyTorch ex/s | speed ratio | recgrad RSS | "
        "PyTorch RSS | RSS ratio | quality (recgrad / PyTorch) | within tolerance | recgrad eval "
        "|\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  std::vector<std::pair<std::string, std::vector<int>>> notes;  // reason -> thread counts
  // One note per reason, with the thread counts it happened at.
  auto add_note = [&](const std::string& reason, int threads) {
    auto at = std::find_if(notes.begin(), notes.end(),
                           [&](const auto& n) { return n.first == reason; });
    if (at == notes.end()) notes.push_back({reason, {}}), at = notes.end() - 1;
    at->second.push_back(threads);
  };
  bool any_without_warmup = false;
  for (const json& r : results["rows"]) {
    const json& rg = r["recgrad"];
    const json& pt = r["pytorch"];
    const double speed = get_or_nan(r, "throughput_ratio");
    const double mem = get_or_nan(r, "memory_ratio");
    const json& q = r["quality"];
    const bool no_warmup =
        rg.value("warmup_excluded", true) == false || pt.value("warmup_excluded", true) == false;
    any_without_warmup = any_without_warmup || no_warmup;
    md << "| " << r.value("model", std::string("?")) << " | " << r.value("threads", 0) << " | "
       << (r.value("closed_form", false) ? std::string("fit")
                                         : std::to_string(r.value("epochs", 0)))
       << (no_warmup ? " †" : "") << " | " << short_number(get_or_nan(rg, "examples_per_second"))
       << " | " << short_number(get_or_nan(pt, "examples_per_second")) << " | "
       << (std::isfinite(speed) ? fixed(speed, 2) + "x" : "—") << " | "
       << with_unit(get_or_nan(rg, "peak_rss_mib"), 0, " MiB") << " | "
       << with_unit(get_or_nan(pt, "peak_rss_mib"), 0, " MiB") << " | "
       << (std::isfinite(mem) ? fixed(mem, 2) : "—") << " | " << q.value("metric", std::string(""))
       << " " << fixed(get_or_nan(q, "recgrad"), 4) << " / " << fixed(get_or_nan(q, "pytorch"), 4)
       << " | " << (q["within"].is_boolean() ? (q["within"].get<bool>() ? "yes" : "**no**") : "—")
       << " | " << with_unit(get_or_nan(rg, "eval_seconds"), 2, " s") << " |\n";
    if (r.contains("batch_sizes_match") && r["batch_sizes_match"] == false) {
      add_note(r.value("model", std::string("?")) + ": batch size " +
                   std::to_string(rg.value("batch_size", 0)) + " in recgrad, " +
                   std::to_string(pt.value("batch_size", 0)) +
                   " in the PyTorch peer: not a like-for-like comparison",
               r.value("threads", 0));
    }
    for (const char* side : {"recgrad", "pytorch"}) {
      if (!r[side].contains("error")) continue;
      add_note(r.value("model", std::string("?")) + ", " +
                   (side == std::string("recgrad") ? "recgrad" : "PyTorch") + ": " +
                   r[side]["error"].get<std::string>(),
               r.value("threads", 0));
    }
  }
  // Which models reach 2x at every thread count they ran with, and which do not.
  std::map<std::string, bool> all_2x;
  std::vector<std::string> order;
  for (const json& r : results["rows"]) {
    if (!r["reaches_2x"].is_boolean()) continue;
    const std::string m = r["model"];
    if (!all_2x.count(m)) {
      order.push_back(m);
      all_2x[m] = true;
    }
    all_2x[m] = all_2x[m] && r["reaches_2x"].get<bool>();
  }
  std::string reach, miss;
  for (const std::string& m : order) {
    std::string& list = all_2x[m] ? reach : miss;
    list += (list.empty() ? "" : ", ") + m;
  }
  md << "\nSpeed ratio = recgrad / PyTorch training examples per second (higher is better); RSS "
        "ratio = recgrad / PyTorch peak resident memory of the whole process (lower is "
        "better).";
  if (any_without_warmup)
    md << " † one epoch without timed windows: its examples/s include the warm-up.";
  md << "\n\n";
  md << "At least 2x PyTorch's throughput at every thread count: "
     << (reach.empty() ? "none" : reach) << ". Short of 2x: " << (miss.empty() ? "none" : miss)
     << ".\n";
  // Where the models short of a target spend a training step.
  bool profile_header = false;
  for (const json& r : results["rows"]) {
    if (!r.contains("profile") && !r.contains("profile_error")) continue;
    if (!profile_header) {
      md << "\nWhere the models short of 2x (or using more memory) spend a training step, from "
            "`recgrad profile` on the same data and threads (top ops, forward and backward "
            "apart, share of the profiled steps' wall time):\n\n";
      profile_header = true;
    }
    md << "- " << r.value("model", std::string("?")) << ", " << r.value("threads", 0)
       << (r.value("threads", 0) == 1 ? " thread: " : " threads: ")
       << (r.contains("profile") ? describe_profile(r["profile"])
                                 : "no profile (" + r["profile_error"].get<std::string>() + ")")
       << "\n";
  }
  if (!notes.empty()) {
    md << "\nNot measured:\n\n";
    for (const auto& [reason, threads] : notes) {
      std::string t;
      for (int n : threads) t += (t.empty() ? "" : ", ") + std::to_string(n);
      md << "- " << reason << " (" << t
         << (threads.size() == 1 && threads[0] == 1 ? " thread" : " threads") << ")\n";
    }
  }
  if (results.contains("ops")) md << "\n" << ops_markdown(results["ops"]);
  return md.str();
}

std::string throughput_svg(const json& results) {
  RECGRAD_CHECK(results.is_object() && results.contains("rows") && results["rows"].is_array(),
                "throughput_svg: results need a \"rows\" array");
  // Groups (models, in row order) and series (side x thread count).
  std::vector<std::string> models;  // those with at least one figure to draw
  std::vector<int> threads;
  for (const json& r : results["rows"]) {
    const std::string m = r.value("model", std::string("?"));
    const bool drawn = positive_finite(get_or_nan(r["recgrad"], "examples_per_second")) ||
                       positive_finite(get_or_nan(r["pytorch"], "examples_per_second"));
    if (drawn && std::find(models.begin(), models.end(), m) == models.end()) models.push_back(m);
    const int t = r.value("threads", 0);
    if (std::find(threads.begin(), threads.end(), t) == threads.end()) threads.push_back(t);
  }
  std::sort(threads.begin(), threads.end());
  auto value = [&](const std::string& m, int t, const char* side) {
    for (const json& r : results["rows"])
      if (r.value("model", std::string()) == m && r.value("threads", 0) == t)
        return get_or_nan(r[side], "examples_per_second");
    return kNaN;
  };
  double lo = kNaN, hi = kNaN;
  for (const std::string& m : models)
    for (int t : threads)
      for (const char* side : {"recgrad", "pytorch"}) {
        const double v = value(m, t, side);
        if (!positive_finite(v)) continue;
        lo = std::isfinite(lo) ? std::min(lo, v) : v;
        hi = std::isfinite(hi) ? std::max(hi, v) : v;
      }
  if (!std::isfinite(lo)) lo = hi = 1;
  const double dlo = std::floor(std::log10(lo)), dhi = std::max(dlo + 1, std::ceil(std::log10(hi)));

  const int series = static_cast<int>(threads.size()) * 2;
  const double bar = 14, gap = 18, left = 70, top = 50, plot_h = 300, bottom = 70;
  const double group_w = series * bar + gap;
  const double width = left + std::max<double>(1, models.size()) * group_w + 170;
  const double height = top + plot_h + bottom;
  auto y_of = [&](double v) { return top + plot_h * (1 - (std::log10(v) - dlo) / (dhi - dlo)); };
  // recgrad in blues, PyTorch in oranges; lighter for more threads.
  const char* recgrad_colors[] = {"#1f4e9c", "#5b8fd9", "#9dbdf0", "#c9dbf7"};
  const char* torch_colors[] = {"#c4561b", "#f08a4b", "#f6b68d", "#fad8c3"};

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << left << "\" y=\"22\" font-size=\"14\" font-weight=\"bold\">"
      << "Training throughput, examples/s (log scale): recgrad vs PyTorch</text>\n";
  svg << "<text x=\"" << left << "\" y=\"38\" fill=\"#555\">"
      << xml_escape(results.value("machine", json::object()).value("cpu", std::string(""))) << "; "
      << "closed-form models: training rows per second of fit</text>\n";
  for (double d = dlo; d <= dhi + 1e-9; d += 1) {
    const double y = y_of(std::pow(10.0, d));
    svg << "<line x1=\"" << left << "\" x2=\"" << width - 170 << "\" y1=\"" << y << "\" y2=\"" << y
        << "\" stroke=\"#ddd\"/>\n";
    svg << "<text x=\"" << left - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\">"
        << short_number(std::pow(10.0, d)) << "</text>\n";
  }
  for (size_t g = 0; g < models.size(); ++g) {
    const double x0 = left + gap / 2 + g * group_w;
    int s = 0;
    for (size_t ti = 0; ti < threads.size(); ++ti)
      for (int side = 0; side < 2; ++side, ++s) {
        const double v = value(models[g], threads[ti], side == 0 ? "recgrad" : "pytorch");
        if (!positive_finite(v)) continue;
        const double y = y_of(v);
        const char* color = (side == 0 ? recgrad_colors : torch_colors)[ti < 3 ? ti : 3];
        svg << "<rect x=\"" << x0 + s * bar << "\" y=\"" << y << "\" width=\"" << bar - 1
            << "\" height=\"" << top + plot_h - y << "\" fill=\"" << color << "\"><title>"
            << xml_escape(models[g]) << ", " << (side == 0 ? "recgrad" : "PyTorch") << ", "
            << threads[ti] << " thread(s): " << short_number(v) << " examples/s</title></rect>\n";
      }
    svg << "<text x=\"" << x0 + series * bar / 2 << "\" y=\"" << top + plot_h + 16
        << "\" text-anchor=\"middle\">" << xml_escape(models[g]) << "</text>\n";
    // The speed ratio at each thread count under the name.
    std::string ratios;
    for (int t : threads) {
      const double r = ratio(value(models[g], t, "recgrad"), value(models[g], t, "pytorch"));
      ratios += (ratios.empty() ? "" : " ") + (std::isfinite(r) ? fixed(r, 1) + "x" : "—");
    }
    svg << "<text x=\"" << x0 + series * bar / 2 << "\" y=\"" << top + plot_h + 30
        << "\" text-anchor=\"middle\" fill=\"#555\">" << ratios << "</text>\n";
  }
  svg << "<line x1=\"" << left << "\" x2=\"" << left << "\" y1=\"" << top << "\" y2=\""
      << top + plot_h << "\" stroke=\"#333\"/>\n";
  svg << "<line x1=\"" << left << "\" x2=\"" << width - 170 << "\" y1=\"" << top + plot_h
      << "\" y2=\"" << top + plot_h << "\" stroke=\"#333\"/>\n";
  svg << "<text x=\"" << left << "\" y=\"" << top + plot_h + 50 << "\" fill=\"#555\">"
      << "under each model: recgrad / PyTorch speed ratio per thread count</text>\n";
  const double lx = width - 160;
  int s = 0;
  for (size_t ti = 0; ti < threads.size(); ++ti)
    for (int side = 0; side < 2; ++side, ++s) {
      const double y = top + 10 + s * 18;
      svg << "<rect x=\"" << lx << "\" y=\"" << y - 10 << "\" width=\"12\" height=\"12\" fill=\""
          << (side == 0 ? recgrad_colors : torch_colors)[ti < 3 ? ti : 3] << "\"/>\n";
      svg << "<text x=\"" << lx + 18 << "\" y=\"" << y << "\">"
          << (side == 0 ? "recgrad" : "PyTorch") << ", " << threads[ti] << " thread"
          << (threads[ti] == 1 ? "" : "s") << "</text>\n";
    }
  svg << "</svg>\n";
  return svg.str();
}

// ---- op benchmarks ----------------------------------------------------------------------------

namespace {

// A field of an object that must be there with the given JSON type.
const json& field(const json& j, const char* key, json::value_t type, const std::string& what) {
  RECGRAD_CHECK(j.is_object() && j.contains(key), what, ": missing \"", key, "\"");
  const json& v = j[key];
  const bool ok = type == json::value_t::number_float ? v.is_number() : v.type() == type;
  RECGRAD_CHECK(ok, what, ": \"", key, "\" is ", v.type_name(), ", expected ",
                json(type).type_name());
  return v;
}

// "matmul/2048x64x3706/NN/fwd/threads:2" -> ("matmul/2048x64x3706/NN/fwd", 2); 0 threads when
// the name has no suffix.
std::pair<std::string, int> split_threads(const std::string& name) {
  const std::string key = "/threads:";
  const size_t at = name.rfind(key);
  if (at == std::string::npos) return {name, 0};
  const std::string digits = name.substr(at + key.size());
  const bool numeric = !digits.empty() && digits.size() < 6 &&
                       std::all_of(digits.begin(), digits.end(), ::isdigit);
  return numeric ? std::pair<std::string, int>{name.substr(0, at), std::stoi(digits)}
                 : std::pair<std::string, int>{name, 0};
}

}  // namespace

json parse_op_benchmarks(const std::string& text, const std::string& what) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(what + ": not JSON: " + e.what());
  }
  RECGRAD_CHECK(j.is_object(), what, ": expected a JSON object, got ", j.type_name());
  const auto str = json::value_t::string, num = json::value_t::number_float,
             arr = json::value_t::array;
  json out;
  out["binary"] = field(j, "binary", str, what);
  out["timing"] = j.value("timing", std::string(""));
  out["machine"] = j.value("machine", json::object());
  out["peaks"] = j.contains("peaks") ? field(j, "peaks", arr, what) : json::array();
  out["sections"] = json::array();
  for (const json& sec : field(j, "sections", arr, what)) {
    const std::string title = field(sec, "title", str, what + ": a section");
    const std::string where = what + ": section \"" + title + "\"";
    json rows = json::array();
    for (const json& r : field(sec, "rows", arr, where)) {
      const std::string full = field(r, "name", str, where + ": a row");
      const std::string row_what = where + ": row \"" + full + "\"";
      const auto [name, threads] = split_threads(full);
      json row = {{"name", name},
                  {"threads", threads},
                  {"unit", field(r, "unit", str, row_what)},
                  {"rate", field(r, "rate", num, row_what)},
                  {"bound_rate", field(r, "bound_rate", num, row_what)},
                  {"bound", field(r, "bound", str, row_what)},
                  {"ratio", field(r, "ratio", num, row_what)}};
      if (r.contains("target")) {
        row["target"] = field(r, "target", num, row_what);
        row["met"] = field(r, "met", json::value_t::boolean, row_what);
      }
      rows.push_back(row);
    }
    out["sections"].push_back({{"title", title}, {"rows", rows}});
  }
  return out;
}

TargetCount count_targets(const json& op_benchmarks) {
  TargetCount c;
  for (const json& sec : op_benchmarks.value("sections", json::array()))
    for (const json& r : sec.value("rows", json::array()))
      if (r.contains("met") && r["met"].is_boolean()) {
        ++c.with_target;
        c.met += r["met"].get<bool>() ? 1 : 0;
      }
  return c;
}

std::string ops_markdown(const json& ops) {
  if (!ops.is_object()) return "";
  std::ostringstream md;
  md << "## Ops beside the machine's peaks\n\n";
  const std::string status = ops.value("status", std::string(""));
  if (!ops.contains("runs") || ops["runs"].empty()) {
    md << "Not run: " << (status.empty() ? std::string("no results") : status) << "\n";
    return md.str();
  }
  md << "Each op's rate beside the bound the machine's peaks set for the same work (sgemm at the "
        "same shapes, STREAM copy or random row-gather bandwidth), measured in the same process "
        "right after it; `% of bound` is bound time / our time. Issue 7's targets: matmul within "
        "10% of raw sgemm, elementwise >= 60% of copy bandwidth, embedding forward/backward "
        ">= 50% of gather bandwidth.";
  if (!status.empty()) md << " " << status;
  md << "\n";
  for (const json& run : ops["runs"]) {
    const TargetCount c = count_targets(run);
    md << "\n### " << run.value("binary", std::string("?")) << " ("
       << run.value("timing", std::string("")) << "; targets met: " << c.met << " of "
       << c.with_target << ")\n";
    for (const json& sec : run.value("sections", json::array())) {
      if (sec.value("rows", json::array()).empty()) continue;
      md << "\n" << sec.value("title", std::string("")) << "\n\n"
         << "| op | threads | ours | bound | bound is | % of bound | target |\n"
         << "|---|---|---|---|---|---|---|\n";
      for (const json& r : sec["rows"]) {
        const std::string unit = " " + r.value("unit", std::string(""));
        std::string target = "—";
        if (r.contains("target") && r["target"].is_number())
          target = ">= " + fixed(100 * r["target"].get<double>(), 0) + "%: " +
                   (r.value("met", false) ? "met" : "**missed**");
        md << "| " << r.value("name", std::string("?")) << " | " << r.value("threads", 0) << " | "
           << with_unit(get_or_nan(r, "rate"), 2, unit.c_str()) << " | "
           << with_unit(get_or_nan(r, "bound_rate"), 2, unit.c_str()) << " | "
           << r.value("bound", std::string("")) << " | "
           << with_unit(100 * get_or_nan(r, "ratio"), 0, "%") << " | " << target << " |\n";
      }
    }
  }
  return md.str();
}

// ---- per-op profiles ---------------------------------------------------------------------------

bool needs_profile(const json& row) {
  if (row.value("closed_form", false)) return false;
  const double speed = get_or_nan(row, "throughput_ratio");
  const double memory = get_or_nan(row, "memory_ratio");
  return (std::isfinite(speed) && speed < 2.0) || (std::isfinite(memory) && memory > 1.0);
}

json parse_profile(const std::string& text, size_t top, const std::string& what) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw Error(what + ": not JSON: " + e.what());
  }
  const auto num = json::value_t::number_float;
  const json& p = field(j, "profile", json::value_t::object, what);
  const double wall = field(p, "wall_ms", num, what + ": profile").get<double>();
  RECGRAD_CHECK(wall > 0, what, ": profile: wall_ms is ", wall, ", expected > 0");
  struct Entry {
    std::string op, pass;
    double ms;
  };
  std::vector<Entry> entries;
  for (const json& o : field(p, "ops", json::value_t::array, what + ": profile")) {
    const std::string op = field(o, "op", json::value_t::string, what + ": an op");
    const std::string w = what + ": op \"" + op + "\"";
    entries.push_back({op, "fwd", field(o, "forward_ms", num, w).get<double>()});
    entries.push_back({op, "bwd", field(o, "backward_ms", num, w).get<double>()});
  }
  entries.push_back({"(backward engine)", "-", number(p, "engine_ms", 0, what + ": profile")});
  entries.push_back({"(not in an op)", "-", number(p, "other_ms", 0, what + ": profile")});
  // Largest first; ties by name then pass, so the order never depends on the input's.
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.ms != b.ms) return a.ms > b.ms;
    return a.op != b.op ? a.op < b.op : a.pass < b.pass;
  });
  json out = {{"steps", j.value("steps", 0)},
              {"examples", j.value("examples", 0)},
              {"threads", j.value("threads", 0)},
              {"wall_ms", wall},
              {"top", json::array()}};
  for (const Entry& e : entries) {
    if (out["top"].size() >= top || e.ms <= 0) break;
    out["top"].push_back({{"op", e.op}, {"pass", e.pass}, {"ms", e.ms}, {"share", e.ms / wall}});
  }
  return out;
}

std::string describe_profile(const json& profile) {
  std::string out;
  for (const json& e : profile.value("top", json::array())) {
    const std::string pass = e.value("pass", std::string("-"));
    out += (out.empty() ? "" : ", ") + e.value("op", std::string("?")) +
           (pass == "-" ? "" : " " + pass) + " " + fixed(100 * get_or_nan(e, "share"), 0) + "%";
  }
  return out.empty() ? "no op time recorded" : out;
}

std::string cpu_model(const std::string& cpuinfo) {
  std::stringstream in(cpuinfo);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string v = line.substr(colon + 1);
    v.erase(0, v.find_first_not_of(" \t"));
    v.erase(v.find_last_not_of(" \t\r") + 1);
    if (!v.empty()) return v;
  }
  return "unknown";
}

}  // namespace recgrad::bench
