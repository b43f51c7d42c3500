#pragma once
// Progress of a long run: a live line on a terminal (epoch, batch, loss, examples/s, ETA),
// nothing in logs but one summary line per epoch.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace recgrad::recsys {

enum class ProgressMode {
  kAuto,   ///< live line when stderr is a terminal, epoch lines otherwise
  kLive,   ///< always the live line
  kLines,  ///< one line per epoch
  kQuiet,  ///< nothing
};

/// Reports one epoch at a time to stderr.
class Progress {
 public:
  explicit Progress(ProgressMode mode = ProgressMode::kAuto);
  /// Starts epoch `epoch` (1-based) of `epochs`, with `batches` batches.
  void start_epoch(int64_t epoch, int64_t epochs, int64_t batches);
  /// After a batch: running mean loss, examples so far. Redraws at most ~10 times a second.
  void batch_done(int64_t batch, double mean_loss, int64_t examples);
  /// Ends the epoch with a summary ("epoch 3/20  loss 0.1234  152k ex/s  4.1 s  valid NDCG@10
  /// 0.0812").
  void end_epoch(double mean_loss, int64_t examples, const std::string& extra);

 private:
  bool live_ = false;
  bool quiet_ = false;
  int64_t epoch_ = 0, epochs_ = 0, batches_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace recgrad::recsys
