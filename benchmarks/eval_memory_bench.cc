// Peak memory of full-ranking evaluation at a scale where users x items does not fit: 100K users
// x 1M items by default (a [100K, 1M] float score matrix would be 400 GB). The model is a real
// BPR-MF (recsys/models/bpr_mf.h, random factors, dim 64), scored by the Evaluator in chunks of
// at most EvalOptions::max_batch_scores scores; each user has 20 masked training items and one
// relevant item (leave-one-out; --relevant R for more: memory is the same, but ranking among
// R > 1 items takes a binary search per candidate, several times slower). Reports wall time,
// users/s, GFLOP/s of the scoring products and the peak RSS (getrusage) beside the 2 GiB target
// of issue 10. 100K x 1M x 64 is 6.4 TFLOP of sgemm, so the full size takes minutes on two
// cores; shrink it with the flags. Exits 1 when the peak misses the target.
//   bazel run -c opt //benchmarks:eval_memory_bench -- [--users N] [--items N] [--dim D]
//       [--relevant R] [--seen S] [--budget SCORES] [--threads T] [--json FILE]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/parallel.h"
#include "benchmarks/peak_rss.h"
#include "ops/runtime.h"
#include "recsys/evaluator.h"
#include "recsys/models/bpr_mf.h"

using namespace recgrad;
using namespace recgrad::recsys;
using recgrad::bench::current_rss_mib;
using recgrad::bench::peak_rss_mib;

namespace {

constexpr double kTargetMib = 2048;  // issue 10: 100K users x 1M items within 2 GiB

// `count` distinct random items per user, sorted, none of them in `exclude` (may be empty).
UserItems random_items(int64_t users, int64_t items, int64_t count, const UserItems* exclude,
                       Generator& gen) {
  UserItems out;
  out.num_items = items;
  out.offsets.reserve(users + 1);
  out.offsets.push_back(0);
  out.items.reserve(users * count);
  std::vector<int64_t> row;
  for (int64_t u = 0; u < users; ++u) {
    row.clear();
    while (static_cast<int64_t>(row.size()) < count) {
      const auto i = static_cast<int64_t>(gen.next_below(static_cast<uint64_t>(items)));
      bool taken = std::find(row.begin(), row.end(), i) != row.end();
      if (exclude) taken = taken || std::find(exclude->begin(u), exclude->end(u), i) != exclude->end(u);
      if (!taken) row.push_back(i);
    }
    std::sort(row.begin(), row.end());
    out.items.insert(out.items.end(), row.begin(), row.end());
    out.offsets.push_back(static_cast<int64_t>(out.items.size()));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Peak memory of full-ranking evaluation (issue 10)"};
  int64_t users = 100000, items = 1000000, dim = 64, relevant = 1, seen = 20;
  int64_t budget = EvalOptions{}.max_batch_scores;
  int threads = 0;
  std::string json_path;
  app.add_option("--users", users, "users evaluated")->check(CLI::PositiveNumber);
  app.add_option("--items", items, "items ranked per user")->check(CLI::PositiveNumber);
  app.add_option("--dim", dim, "MF factor dimension")->check(CLI::PositiveNumber);
  app.add_option("--relevant", relevant, "relevant (test) items per user")->check(CLI::PositiveNumber);
  app.add_option("--seen", seen, "masked (training) items per user")->check(CLI::NonNegativeNumber);
  app.add_option("--budget", budget, "EvalOptions::max_batch_scores")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "recgrad threads (default: all)")->check(CLI::PositiveNumber);
  app.add_option("--json", json_path, "also write the results as JSON to FILE");
  CLI11_PARSE(app, argc, argv);
  if (relevant + seen > items) {
    std::fprintf(stderr, "--relevant + --seen (%lld) exceeds --items (%lld)\n",
                 static_cast<long long>(relevant + seen), static_cast<long long>(items));
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines show when redirected to a file
  if (threads > 0) set_num_threads(threads);
  std::printf("%s\nthreads: %d\n", runtime_summary().c_str(), num_threads());

  const auto setup_start = std::chrono::steady_clock::now();
  BprMfConfig config;
  config.dim = dim;
  BprMf model(config, users, items);
  Generator gen(7);
  const UserItems train = random_items(users, items, seen, nullptr, gen);
  const UserItems test = random_items(users, items, relevant, &train, gen);
  EvalOptions opts;
  opts.ks = {10, 20};
  opts.max_batch_scores = budget;
  const Evaluator evaluator(test, {&train}, opts);
  const double setup_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_start).count();
  const double setup_rss = current_rss_mib();
  std::printf("%lld users x %lld items, dim %lld, %lld relevant + %lld masked items per user\n",
              static_cast<long long>(users), static_cast<long long>(items),
              static_cast<long long>(dim), static_cast<long long>(relevant),
              static_cast<long long>(seen));
  std::printf("setup: %.1f s, RSS %.0f MiB (model %.0f MiB of factors)\n", setup_s, setup_rss,
              4.0 * dim * (users + items) / (1024.0 * 1024.0));
  const int64_t chunk = evaluator.users_per_call();
  std::printf("users per Scorer call: %lld (score block %.0f MiB)\n",
              static_cast<long long>(chunk), 4.0 * chunk * items / (1024.0 * 1024.0));

  const Scorer scorer = [&](const std::vector<int64_t>& batch) { return model.score(batch, train); };
  const EvalResult r = evaluator.evaluate(scorer);
  const double peak = peak_rss_mib();
  const double gflop = 2e-9 * static_cast<double>(users) * static_cast<double>(items) * dim;
  std::printf("%s\n", r.str().c_str());
  std::printf("full ranking: %.1f s, %.0f users/s, scoring %.1f GFLOP/s (%.0f GFLOP)\n", r.seconds,
              users / r.seconds, gflop / r.seconds, gflop);
  std::printf("peak RSS: %.0f MiB (target %.0f MiB: %s)\n", peak, kTargetMib,
              peak <= kTargetMib ? "met" : "MISSED");

  if (!json_path.empty()) {
    nlohmann::ordered_json j;
    j["binary"] = "eval_memory_bench";
    j["runtime"] = runtime_summary();
    j["threads"] = num_threads();
    j["users"] = users;
    j["items"] = items;
    j["dim"] = dim;
    j["relevant_per_user"] = relevant;
    j["seen_per_user"] = seen;
    j["max_batch_scores"] = budget;
    j["users_per_call"] = chunk;
    j["setup_seconds"] = setup_s;
    j["setup_rss_mib"] = setup_rss;
    j["seconds"] = r.seconds;
    j["users_per_second"] = users / r.seconds;
    j["gflop_per_second"] = gflop / r.seconds;
    j["peak_rss_mib"] = peak;
    j["target_mib"] = kTargetMib;
    j["target_met"] = peak <= kTargetMib;
    j["result"] = nlohmann::ordered_json::parse(r.to_json());
    std::ofstream out(json_path);
    out << j.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return peak <= kTargetMib ? 0 : 1;
}
