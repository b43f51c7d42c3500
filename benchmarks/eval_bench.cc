// Evaluation speed at MovieLens-1M size: 6,040 users x 3,706 items, an MF scorer (random
// factors, dim 64, scores = U_b · Vᵀ by sgemm), ~20 training items masked per user and one test
// item each. Times the full-ranking protocol, the sampled protocol (100 negatives, drawn once
// when the Evaluator is built) and top-10 lists for every user; prints the median of 5 runs.
// The scoring time is printed beside its bound: the same products in raw cblas_sgemm
// (benchmarks/peaks.h, measured in this run).
//   bazel run //benchmarks:eval_bench [-- threads]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "benchmarks/peaks.h"
#include "ops/matmul.h"
#include "ops/runtime.h"
#include "recsys/evaluator.h"
#include "recsys/topk.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

constexpr int64_t kUsers = 6040, kItems = 3706, kDim = 64, kTrainPerUser = 20, kRuns = 5;

double median_seconds(const std::function<void()>& fn) {
  std::vector<double> t;
  for (int r = 0; r < kRuns; ++r) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::sort(t.begin(), t.end());
  return t[kRuns / 2];
}

// kTrainPerUser distinct random training items and one other test item per user.
void random_split(UserItems& train, UserItems& test, Generator& gen) {
  train.num_items = test.num_items = kItems;
  train.offsets = {0};
  test.offsets = {0};
  for (int64_t u = 0; u < kUsers; ++u) {
    std::vector<int64_t> items;
    while (static_cast<int64_t>(items.size()) < kTrainPerUser + 1) {
      const auto i = static_cast<int64_t>(gen.next_below(kItems));
      if (std::find(items.begin(), items.end(), i) == items.end()) items.push_back(i);
    }
    train.items.insert(train.items.end(), items.begin(), items.end() - 1);
    train.offsets.push_back(static_cast<int64_t>(train.items.size()));
    test.items.push_back(items.back());
    test.offsets.push_back(static_cast<int64_t>(test.items.size()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) set_num_threads(std::atoi(argv[1]));
  std::printf("%s\nthreads: %d\n", runtime_summary().c_str(), num_threads());
  Generator gen(1);
  const Tensor users = normal({kUsers, kDim}, 0.f, 0.1f, gen);
  const Tensor items = normal({kItems, kDim}, 0.f, 0.1f, gen);
  UserItems train, test;
  random_split(train, test, gen);

  // MF scorer: gather the batch's user rows, then one sgemm against every item.
  const Scorer mf = [&](const std::vector<int64_t>& batch) {
    Tensor u = Tensor::empty({static_cast<int64_t>(batch.size()), kDim});
    for (size_t b = 0; b < batch.size(); ++b)
      std::memcpy(u.data() + b * kDim, users.data() + batch[b] * kDim, sizeof(float) * kDim);
    return matmul(u, items, false, true);
  };
  std::vector<int64_t> all(kUsers);
  for (int64_t u = 0; u < kUsers; ++u) all[u] = u;

  const double score_s = median_seconds([&] {
    for (int64_t b = 0; b < kUsers; b += 256)
      mf(std::vector<int64_t>(all.begin() + b, all.begin() + std::min(kUsers, b + 256)));
  });
  std::printf("scoring only (sgemm, 256 users/batch):        %7.1f ms  %9.0f users/s\n",
              score_s * 1e3, kUsers / score_s);
  {
    // Bound: the same [256,64]·[3706,64]ᵀ products (and the last, smaller batch) in raw sgemm.
    using recgrad::bench::GemmShape;
    recgrad::bench::Peaks& peaks = recgrad::bench::peaks();
    const int64_t full_batches = kUsers / 256, rest = kUsers % 256;
    double bound_s =
        full_batches * peaks.sgemm_seconds({256, kDim, kItems, false, true}, num_threads());
    if (rest > 0) bound_s += peaks.sgemm_seconds({rest, kDim, kItems, false, true}, num_threads());
    const double gflop = 2e-9 * kUsers * kDim * kItems;
    std::printf("  scoring %.1f GFLOP/s beside cblas_sgemm at the same shapes %.1f GFLOP/s "
                "(%.0f%%)\n",
                gflop / score_s, gflop / bound_s, 100 * bound_s / score_s);
  }

  EvalOptions opts;
  opts.ks = {5, 10, 20};
  const Evaluator full(test, {&train}, opts);
  EvalResult r;
  const double full_s = median_seconds([&] { r = full.evaluate(mf); });
  std::printf("full ranking (%lld users x %lld items):      %7.1f ms  %9.0f users/s\n",
              static_cast<long long>(kUsers), static_cast<long long>(kItems), full_s * 1e3,
              kUsers / full_s);
  std::printf("  %s\n", r.str().c_str());

  opts.protocol = Protocol::kSampled;
  opts.num_negatives = 100;
  const auto build_start = std::chrono::steady_clock::now();
  const Evaluator sampled(test, {&train}, opts);
  const double build_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - build_start).count();
  const double sampled_s = median_seconds([&] { r = sampled.evaluate(mf); });
  std::printf(
      "sampled ranking (100 negatives):              %7.1f ms  %9.0f users/s"
      "  (drawing the negatives: %.1f ms, once)\n",
      sampled_s * 1e3, kUsers / sampled_s, build_s * 1e3);
  std::printf("  %s\n", r.str().c_str());

  const double topk_s = median_seconds([&] {
    for (int64_t b = 0; b < kUsers; b += 256) {
      const std::vector<int64_t> batch(all.begin() + b, all.begin() + std::min(kUsers, b + 256));
      Tensor s = mf(batch);
      mask_items(s, batch, train);
      top_k(s, 10);
    }
  });
  std::printf("top-10 lists, masked (scoring included):      %7.1f ms  %9.0f users/s\n",
              topk_s * 1e3, kUsers / topk_s);
  return 0;
}
