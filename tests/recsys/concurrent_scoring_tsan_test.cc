// Several std::threads scoring and recommending with one trained model at once (eval mode,
// NoGradGuard) get results bit-identical to a serial run. CI also runs this test under
// ThreadSanitizer (tools/test.sh), which turns any data race on the shared model, the buffer
// cache or the kernel arena into a failure, whether or not it changed a result here.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "autograd/graph.h"
#include "recsys/experiment.h"
#include "recsys/recommender.h"
#include "tests/recsys/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

constexpr int kThreads = 4;
constexpr int kRounds = 3;
constexpr int64_t kK = 10;

DataSpec tiny_synthetic() {
  DataSpec d;
  d.split = "ratio";
  d.synthetic_users = 120;
  d.synthetic_items = 200;
  d.synthetic_rows = 4000;
  return d;
}

// Thread t's users: 16 consecutive ids from 9·t, so neighbouring threads overlap.
std::vector<int64_t> users_of(int t, int64_t num_users) {
  std::vector<int64_t> users;
  for (int64_t i = 0; i < 16; ++i) users.push_back((9 * t + i) % num_users);
  return users;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), sizeof(float) * static_cast<size_t>(a.numel())) == 0;
}

struct Result {
  Tensor scores;
  TopK top;
};

Result score_and_recommend(Recommender& model, const std::vector<int64_t>& users,
                           const Experiment& ex) {
  NoGradGuard no_grad;  // score()'s contract; recommend() takes its own
  return {model.score(users, ex.train_valid), model.recommend(users, kK, ex.train_valid, ex.train_valid)};
}

bool same_result(const Result& a, const Result& b) {
  return same_bits(a.scores, b.scores) && a.top.items.values == b.top.items.values &&
         same_bits(a.top.scores, b.top.scores);
}

}  // namespace

TEST_CASE("concurrent scoring: threads sharing one model agree bit for bit with a serial run") {
  const Experiment ex = Experiment::load(tiny_synthetic());
  const int64_t num_users = ex.data.num_users();
  // One model per family: embeddings + matmul, an MLP tower, an autoencoder with dropout (off in
  // eval mode), a denoising autoencoder with a user embedding, a neighbourhood model.
  for (const char* name : {"bpr", "neumf", "multvae", "cdae", "itemknn"}) {
    CAPTURE(name);
    ModelSpec spec;
    spec.name = name;
    spec.seed = 5;
    auto model = train_model(spec, ex, /*epochs=*/1);
    model->eval();

    std::vector<Result> serial;
    for (int t = 0; t < kThreads; ++t)
      serial.push_back(score_and_recommend(*model, users_of(t, num_users), ex));

    // Each thread reports what it saw; doctest's assertions stay on this thread.
    std::vector<int> mismatches(kThreads, 0);
    std::vector<std::string> errors(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        try {
          for (int r = 0; r < kRounds; ++r) {
            // Rotate through every thread's batch, so threads score the same users at once.
            const int batch = (t + r) % kThreads;
            if (!same_result(score_and_recommend(*model, users_of(batch, num_users), ex),
                             serial[batch]))
              ++mismatches[t];
          }
        } catch (const std::exception& e) {
          errors[t] = e.what();
        }
      });
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) {
      CHECK_MESSAGE(errors[t].empty(), "thread ", t, ": ", errors[t]);
      CHECK_MESSAGE(mismatches[t] == 0, "thread ", t, ": ", mismatches[t], " of ", kRounds,
                    " results differ from the serial run");
    }
    CHECK_FALSE(model->is_training());  // recommend() left the mode alone
  }
}
