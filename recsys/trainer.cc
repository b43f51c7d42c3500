#include "recsys/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>

#include "autograd/anomaly.h"
#include "autograd/error.h"
#include "optim/checkpoint.h"

namespace recgrad::recsys {
namespace {

bool lower_is_better(const std::string& metric) { return metric == "RMSE" || metric == "MAE"; }

bool file_exists(const std::string& path) { return std::ifstream(path).good(); }

// A copy of every parameter and buffer, to restore the best weights without touching disk.
std::vector<std::vector<float>> snapshot(const nn::Module& m) {
  std::vector<std::vector<float>> out;
  for (const auto& [name, t] : m.state()) out.push_back(t.to_vector());
  return out;
}

void restore(nn::Module& m, const std::vector<std::vector<float>>& values) {
  size_t k = 0;
  for (auto& [name, t] : m.state()) {
    Tensor dst = t;
    std::copy(values[k].begin(), values[k].end(), dst.data());
    ++k;
  }
}

// Sets the optimizer's gradient check for the length of a train() call, then puts it back: the
// optimizer belongs to the caller.
class CheckFiniteScope {
 public:
  CheckFiniteScope(optim::Optimizer& opt, bool on) : opt_(opt), previous_(opt.check_finite()) {
    opt_.set_check_finite(on);
  }
  ~CheckFiniteScope() { opt_.set_check_finite(previous_); }
  CheckFiniteScope(const CheckFiniteScope&) = delete;
  CheckFiniteScope& operator=(const CheckFiniteScope&) = delete;

 private:
  optim::Optimizer& opt_;
  bool previous_;
};

constexpr const char* kNonFiniteHint =
    " (lower the learning rate, or check the data; detect_anomaly / --detect-anomaly names the "
    "op that made the first NaN/inf; check_finite = false / --no-check-finite trains on "
    "regardless)";

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

}  // namespace

TrainResult train(Recommender& model, optim::Optimizer& opt, const TrainerOptions& options,
                  const Validator& validate) {
  RECGRAD_CHECK(options.epochs >= 0, "train: epochs must be >= 0, got ", options.epochs);
  RECGRAD_CHECK(options.eval_every >= 1, "train: eval_every must be >= 1, got ", options.eval_every);
  TrainResult result;
  const bool minimise = lower_is_better(options.metric);
  double best = minimise ? std::numeric_limits<double>::infinity()
                         : -std::numeric_limits<double>::infinity();
  int64_t first_epoch = 1, bad_validations = 0;
  std::vector<std::vector<float>> best_weights;

  // Resume: weights, optimizer state and the loop's own counters come back from the file.
  if (options.resume && !options.checkpoint.empty() && file_exists(options.checkpoint)) {
    const optim::Metadata meta = optim::load(model, opt, options.checkpoint);
    first_epoch = static_cast<int64_t>(meta.get_u64("epoch")) + 1;
    result.best_epoch = static_cast<int64_t>(meta.get_u64("best_epoch"));
    bad_validations = static_cast<int64_t>(meta.get_u64("bad_validations"));
    if (meta.has("best_metric")) best = std::stod(meta.get("best_metric"));
    if (result.best_epoch > 0 && file_exists(options.checkpoint + ".best")) {
      // The best weights are read through the model (its shapes are checked), then put back.
      const auto current = snapshot(model);
      optim::load(model, options.checkpoint + ".best");
      best_weights = snapshot(model);
      restore(model, current);
    }
  }

  std::ofstream jsonl;
  if (!options.jsonl_log.empty()) {
    jsonl.open(options.jsonl_log, std::ios::app);
    RECGRAD_CHECK(jsonl.good(), "train: cannot open the log file ", options.jsonl_log);
  }
  Progress progress(options.progress);
  const CheckFiniteScope check_finite(opt, options.check_finite);
  const AnomalyModeGuard anomaly(options.detect_anomaly || anomaly_mode_enabled());
  model.train();

  for (int64_t epoch = first_epoch; epoch <= options.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    const int64_t batches = model.start_epoch(epoch - 1);
    progress.start_epoch(epoch, options.epochs, batches);
    EpochLog log;
    log.epoch = epoch;
    double loss_sum = 0;
    const int64_t windows = std::max<int64_t>(1, std::min(options.windows_per_epoch, batches));
    auto window_start = std::chrono::steady_clock::now();
    WindowLog window;
    for (int64_t b = 0; b < batches; ++b) {
      double l = 0;
      try {
        l = model.train_step(b, opt);
        // Also catches train_step overrides that do not check their loss themselves.
        if (options.check_finite && !std::isfinite(l))
          throw NonFiniteError(detail::str_cat("the loss is ", detail::value_str(static_cast<float>(l))));
      } catch (const NonFiniteError& e) {
        throw NonFiniteError(detail::str_cat("train: ", model.name(), ": ", e.what(), " at epoch ",
                                             epoch, ", batch ", b + 1, " of ", batches,
                                             kNonFiniteHint));
      }
      loss_sum += l;
      const int64_t examples = model.batch_examples(b);
      log.examples += examples;
      ++window.batches;
      window.examples += examples;
      // Window w ends after batch ⌊(w + 1)·batches / windows⌋ - 1 (the last one after the last
      // batch): counts equal within one.
      if ((b + 1) * windows / batches != b * windows / batches) {
        const auto now = std::chrono::steady_clock::now();
        window.seconds = std::chrono::duration<double>(now - window_start).count();
        log.windows.push_back(window);
        window = WindowLog{};
        window_start = now;
      }
      progress.batch_done(b, loss_sum / (b + 1), log.examples);
    }
    log.loss = batches > 0 ? loss_sum / batches : 0;
    log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    result.train_seconds += log.seconds;
    result.examples += log.examples;

    log.valid_metric = std::numeric_limits<double>::quiet_NaN();
    std::string extra;
    if (validate && epoch % options.eval_every == 0) {
      log.valid_metric = validate(model);
      model.train();
      const bool better = minimise ? log.valid_metric < best : log.valid_metric > best;
      if (better) {
        best = log.valid_metric;
        result.best_epoch = epoch;
        bad_validations = 0;
        if (options.restore_best) best_weights = snapshot(model);
        if (!options.checkpoint.empty())
          optim::save(model, options.checkpoint + ".best", options.metadata);
      } else {
        ++bad_validations;
      }
      extra = detail::str_cat("valid ", options.metric, " ", log.valid_metric,
                              better ? " (best)" : "");
    }
    progress.end_epoch(log.loss, log.examples, extra);
    result.epochs.push_back(log);
    if (jsonl.is_open())
      jsonl << "{\"epoch\": " << epoch << ", \"loss\": " << json_number(log.loss)
            << ", \"examples\": " << log.examples << ", \"seconds\": " << json_number(log.seconds)
            << ", \"valid_" << options.metric << "\": " << json_number(log.valid_metric) << "}\n"
            << std::flush;

    const bool stop = options.patience > 0 && bad_validations >= options.patience;
    if (!options.checkpoint.empty()) {
      optim::Metadata meta = options.metadata;
      meta.set_u64("epoch", static_cast<uint64_t>(epoch));
      meta.set_u64("best_epoch", static_cast<uint64_t>(result.best_epoch));
      meta.set_u64("bad_validations", static_cast<uint64_t>(bad_validations));
      meta.set("best_metric", json_number(best));
      optim::save(model, opt, options.checkpoint, meta);
    }
    if (stop) {
      result.stopped_early = true;
      break;
    }
  }
  if (options.restore_best && !best_weights.empty()) restore(model, best_weights);
  result.best_metric = result.best_epoch > 0 ? best : std::numeric_limits<double>::quiet_NaN();
  return result;
}

}  // namespace recgrad::recsys
