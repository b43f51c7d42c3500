// Inference from several threads on one loaded model (docs/threads.md): threads that score and
// recommend with a shared model in eval mode get bit for bit what one thread gets.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "autograd/graph.h"
#include "optim/checkpoint.h"
#include "recsys/experiment.h"
#include "recsys/registry.h"
#include "recsys/trainer.h"
#include "tests/recsys/temp_file.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

constexpr int kThreads = 4;
constexpr int kRepeats = 3;
constexpr int64_t kUsersPerBatch = 40;
constexpr int64_t kTopK = 10;

const Experiment& small_synthetic() {
  static const Experiment ex = [] {
    DataSpec spec;
    spec.split = "ratio";
    spec.synthetic_users = 160;
    spec.synthetic_items = 240;
    spec.synthetic_rows = 4800;
    return Experiment::load(spec);
  }();
  return ex;
}

std::unique_ptr<Recommender> make_attached(const ModelSpec& spec, const Experiment& ex) {
  auto m = find_model(spec.name).make(spec, ex.data.num_users(), ex.data.num_items());
  m->attach(ex.training());
  return m;
}

// Trains `name` for an epoch, saves it, and loads it into a fresh model (another seed) that is
// put in eval mode: the model a server would share between its threads.
std::unique_ptr<Recommender> loaded_model(const std::string& name,
                                          std::map<std::string, std::string> options = {}) {
  const Experiment& ex = small_synthetic();
  ModelSpec spec;
  spec.name = name;
  spec.options = std::move(options);
  spec.dim = 16;
  spec.batch_size = 256;
  auto trained = make_attached(spec, ex);
  auto opt = trained->make_optimizer();
  TrainerOptions t;
  t.epochs = 1;
  t.progress = ProgressMode::kQuiet;
  train(*trained, *opt, t);
  const std::string path = testing::temp_dir() + "/" + name + "_concurrent.ckpt";
  optim::save(*trained, path);
  spec.seed = 1;
  auto loaded = make_attached(spec, ex);
  optim::load(*loaded, path);
  loaded->eval();
  return loaded;
}

std::vector<std::vector<int64_t>> user_batches() {
  std::vector<std::vector<int64_t>> batches;
  for (int64_t lo = 0; lo < small_synthetic().data.num_users(); lo += kUsersPerBatch) {
    batches.emplace_back();
    for (int64_t u = lo; u < std::min(small_synthetic().data.num_users(), lo + kUsersPerBatch); ++u)
      batches.back().push_back(u);
  }
  return batches;
}

// What one call computes for a batch: the raw scores, two pairs' scores per user (as the
// sampled protocol asks) and the top-k lists.
struct Answer {
  Tensor scores, pair_scores;
  TopK top;
};

Answer answer(Recommender& m, const std::vector<int64_t>& users) {
  const Experiment& ex = small_synthetic();
  std::vector<int64_t> pair_users, pair_items;
  for (int64_t u : users) {
    pair_users.insert(pair_users.end(), {u, u});
    pair_items.insert(pair_items.end(), {0, (7 * u + 3) % ex.data.num_items()});
  }
  Answer a;
  {
    NoGradGuard no_grad;  // grad mode is per thread: every thread sets its own
    a.scores = m.score(users, ex.train_valid);
    a.pair_scores = m.score_pairs(pair_users, pair_items, ex.train_valid);
  }
  a.top = m.recommend(users, kTopK, ex.train_valid, ex.train_valid);
  return a;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && std::memcmp(a.data(), b.data(), sizeof(float) * a.numel()) == 0;
}

bool same_answer(const Answer& a, const Answer& b) {
  return same_bits(a.scores, b.scores) && same_bits(a.pair_scores, b.pair_scores) &&
         same_bits(a.top.scores, b.top.scores) && a.top.items.values == b.top.items.values;
}

// kThreads threads each answer every batch kRepeats times, in a thread-specific order, and
// compare with the single-threaded reference. Returns the mismatches (an exception counts).
int concurrent_mismatches(Recommender& m) {
  const auto batches = user_batches();
  std::vector<Answer> reference;
  for (const auto& users : batches) reference.push_back(answer(m, users));

  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int r = 0; r < kRepeats; ++r)
          for (size_t k = 0; k < batches.size(); ++k) {
            const size_t b = (k + static_cast<size_t>(t)) % batches.size();
            if (!same_answer(answer(m, batches[b]), reference[b])) ++mismatches;
          }
      } catch (const std::exception&) {
        ++mismatches;
      }
    });
  }
  for (auto& th : threads) th.join();
  return mismatches.load();
}

}  // namespace

TEST_CASE("concurrent scoring: threads sharing a loaded BPR-MF get bit-identical answers") {
  auto m = loaded_model("bpr");
  CHECK(concurrent_mismatches(*m) == 0);
  CHECK_FALSE(m->is_training());  // recommend left the shared model's mode alone
}

TEST_CASE("concurrent scoring: threads sharing a loaded NeuMF (embeddings + MLP) agree") {
  auto m = loaded_model("neumf");
  CHECK(concurrent_mismatches(*m) == 0);
}

TEST_CASE("concurrent scoring: threads sharing a loaded Mult-DAE (dropout, eval mode) agree") {
  auto m = loaded_model("multdae");
  CHECK(concurrent_mismatches(*m) == 0);
  CHECK_FALSE(m->is_training());
}

TEST_CASE("concurrent scoring: threads sharing a loaded item-row CFGAN (a shared cache) agree") {
  auto m = loaded_model("cfgan", {{"rows", "item"}});
  CHECK(concurrent_mismatches(*m) == 0);
}

TEST_CASE("concurrent scoring: NoGradGuard in one thread leaves grad mode on in the others") {
  bool inside = true, other = false;
  {
    NoGradGuard no_grad;
    std::thread([&] { other = grad_enabled(); }).join();
    inside = grad_enabled();
  }
  CHECK_FALSE(inside);
  CHECK(other);
  CHECK(grad_enabled());
}
