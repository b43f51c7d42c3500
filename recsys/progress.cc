#include "recsys/progress.h"

#include <unistd.h>

namespace recgrad::recsys {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string rate(double per_second) {
  char buf[32];
  if (per_second >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", per_second / 1e6);
  else if (per_second >= 1e3) std::snprintf(buf, sizeof buf, "%.1fk", per_second / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", per_second);
  return buf;
}

}  // namespace

Progress::Progress(ProgressMode mode) {
  quiet_ = mode == ProgressMode::kQuiet;
  live_ = mode == ProgressMode::kLive || (mode == ProgressMode::kAuto && isatty(STDERR_FILENO));
}

void Progress::start_epoch(int64_t epoch, int64_t epochs, int64_t batches) {
  epoch_ = epoch, epochs_ = epochs, batches_ = batches;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::batch_done(int64_t batch, double mean_loss, int64_t examples) {
  if (!live_ || quiet_) return;
  const bool last = batch + 1 == batches_;
  if (!last && seconds_since(last_draw_) < 0.1) return;
  last_draw_ = std::chrono::steady_clock::now();
  const double elapsed = seconds_since(start_);
  const double eta = batch + 1 > 0 ? elapsed * (batches_ - batch - 1) / (batch + 1) : 0;
  constexpr int kWidth = 20;
  const int filled = static_cast<int>(kWidth * (batch + 1) / std::max<int64_t>(batches_, 1));
  std::fprintf(stderr, "\repoch %lld/%lld [%s%s] %lld/%lld  loss %.4f  %s ex/s  ETA %.0fs ",
               static_cast<long long>(epoch_), static_cast<long long>(epochs_),
               std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
               static_cast<long long>(batch + 1), static_cast<long long>(batches_), mean_loss,
               rate(examples / std::max(elapsed, 1e-9)).c_str(), eta);
  std::fflush(stderr);
}

void Progress::end_epoch(double mean_loss, int64_t examples, const std::string& extra) {
  if (quiet_) return;
  const double elapsed = seconds_since(start_);
  std::fprintf(stderr, "%sepoch %lld/%lld  loss %.4f  %s ex/s  %.1f s%s%s\n", live_ ? "\r\033[K" : "",
               static_cast<long long>(epoch_), static_cast<long long>(epochs_), mean_loss,
               rate(examples / std::max(elapsed, 1e-9)).c_str(), elapsed,
               extra.empty() ? "" : "  ", extra.c_str());
}

}  // namespace recgrad::recsys
