// Data loading speed: MovieLens files in their own formats (from RECGRAD_DATA_DIR, default
// ../shared/data beside the repository; a file that is absent is skipped with a message), the
// built-in synthetic generator, and the leave-one-out split. Median of 5 runs each.
//   bazel run -c opt //benchmarks:data_bench [-- DATA_DIR]
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "ops/runtime.h"
#include "recsys/filters.h"
#include "recsys/formats.h"
#include "recsys/split.h"
#include "recsys/synthetic.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

double median_seconds(const std::function<void()>& fn) {
  std::vector<double> t;
  for (int r = 0; r < 5; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[2];
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void report(const char* what, int64_t rows, double seconds) {
  std::printf("  %-44s %9lld rows  %8.1f ms  %6.2f M rows/s\n", what, static_cast<long long>(rows),
              seconds * 1e3, rows / seconds / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::printf("%s\n", runtime_summary().c_str());
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty() && std::getenv("RECGRAD_DATA_DIR")) dir = std::getenv("RECGRAD_DATA_DIR");
  if (dir.empty() && std::getenv("BUILD_WORKSPACE_DIRECTORY"))
    dir = std::string(std::getenv("BUILD_WORKSPACE_DIRECTORY")) + "/../shared/data";

  std::printf("loading (median of 5)\n");
  const std::pair<const char*, const char*> files[] = {
      {"ml-100k/u.data", "ml-100k"},
      {"ml-1m/ratings_uir.tsv", "uir"},
      {"ml-1m/sasrec_ml-1m.txt", "seq"},
      {"ml-1m/ncf/ml-1m.train.rating", "ncf"},
  };
  for (const auto& [file, format] : files) {
    const std::string path = dir + "/" + file;
    if (!exists(path)) {
      std::printf("  %-44s skipped: %s is absent (pass the data directory)\n", file, path.c_str());
      continue;
    }
    int64_t rows = 0;
    const double s = median_seconds([&] { rows = load_dataset(path, format).size(); });
    report(file, rows, s);
  }

  InteractionDataset synthetic;
  const double gen = median_seconds([&] { synthetic = make_synthetic(); });
  report("synthetic generator (defaults)", synthetic.size(), gen);
  const double split = median_seconds([&] {
    InteractionDataset d = synthetic;
    sort_by_user_time(d);
    leave_one_out(d);
  });
  report("sort by time + leave-one-out (synthetic)", synthetic.size(), split);
  return 0;
}
