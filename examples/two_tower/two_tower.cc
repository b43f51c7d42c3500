// A custom recommender built from nn modules and trained with the library's trainer: a
// two-tower model (as in YouTube's and Google's retrieval systems), one MLP per tower.
//
//   user u ──Embedding──▶ [d] ──MLP──▶ f(u) [k]
//                                              ╲
//                                               score(u, i) = ⟨f(u), g(i)⟩
//                                              ╱
//   item i ──Embedding──▶ [d] ──MLP──▶ g(i) [k]
//
// Trained with BPR on (user, seen item, unseen item) triples from the library's TripleLoader,
// with validation, early stopping and the best weights restored by recsys::train; evaluated
// on the built-in synthetic data beside popularity.
//
//   two_tower [--epochs N] [--seed S] [--lr LR] [--weight-decay L2]
//
// A Recommender implements name, attach, start_epoch, batch_examples, loss and score
// (recsys/recommender.h); the trainer, the evaluator, recommend() and checkpoints do the rest.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nn/nn.h"
#include "recsys/recsys.h"

using namespace recgrad;

namespace {

struct TwoTowerConfig {
  int64_t embedding_dim = 32;              ///< d: each id's embedding
  std::vector<int64_t> hidden = {64};      ///< each tower's hidden layer sizes
  int64_t output_dim = 32;                 ///< k: the towers' common output
  recsys::TrainConfig train{/*lr=*/3e-3, /*weight_decay=*/0, /*batch_size=*/256, /*seed=*/0};
};

class TwoTower : public recsys::Recommender {
 public:
  TwoTower(const TwoTowerConfig& config, int64_t num_users, int64_t num_items)
      : Recommender(config.train), num_items_(num_items) {
    Generator gen(config.train.seed);
    std::vector<int64_t> sizes{config.embedding_dim};
    sizes.insert(sizes.end(), config.hidden.begin(), config.hidden.end());
    sizes.push_back(config.output_dim);
    // Registered by name: parameters are "user_embedding.weight", "user_tower.0.weight", ...
    user_embedding_ = register_module(
        "user_embedding", std::make_shared<nn::Embedding>(num_users, config.embedding_dim, gen));
    item_embedding_ = register_module(
        "item_embedding", std::make_shared<nn::Embedding>(num_items, config.embedding_dim, gen));
    user_tower_ = register_module("user_tower", std::make_shared<nn::MLP>(sizes, gen));
    item_tower_ = register_module("item_tower", std::make_shared<nn::MLP>(sizes, gen));
    // Embeddings start at N(0, 0.1²) as in BPR-MF: with nn::Embedding's N(0, 1) (PyTorch's
    // default) the first epochs go into unlearning the initial noise, one sparse row at a time.
    for (const Tensor& table : {user_embedding_->weight(), item_embedding_->weight()}) {
      Tensor w = table;  // a handle to the parameter's storage
      const Tensor small = normal(w.shape(), 0.f, 0.1f, gen);
      std::copy(small.data(), small.data() + small.numel(), w.data());
    }
  }

  std::string name() const override { return "two_tower"; }

  void attach(const recsys::TrainingData& data) override {
    recsys::LoaderOptions opts;
    opts.batch_size = train_.batch_size;
    opts.seed = train_.seed;
    loader_.emplace(*data.history, opts);
  }

  int64_t start_epoch(int64_t epoch) override {
    loader_->start_epoch(epoch);
    return loader_->num_batches();
  }

  int64_t batch_examples(int64_t index) const override {
    return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
  }

  /// BPR: -log σ(⟨f(u), g(pos)⟩ - ⟨f(u), g(neg)⟩), averaged over the batch.
  Tensor loss(int64_t index) override {
    const recsys::TripleBatch b = loader_->batch(index);
    const Tensor u = user_vectors(b.users);                              // [B, k]
    const Tensor pos = sum(mul(u, item_vectors(b.pos_items)), {1});      // [B]
    const Tensor neg = sum(mul(u, item_vectors(b.neg_items)), {1});      // [B]
    return bpr_loss(pos, neg);
  }

  /// scores [B, num_items] = f(users) · g(all items)ᵀ. A server would compute g(all items)
  /// once and keep it; here the item tower runs per call to stay short.
  Tensor score(const std::vector<int64_t>& users, const recsys::UserItems&) override {
    std::vector<int64_t> all(num_items_);
    for (int64_t i = 0; i < num_items_; ++i) all[i] = i;
    return matmul(user_vectors(users), item_vectors(all), false, true);  // [B,k]·[N,k]ᵀ
  }

 private:
  /// f(users) [B, k]
  Tensor user_vectors(const Ids& users) {
    return user_tower_->forward(user_embedding_->forward(users));
  }
  /// g(items) [B, k]
  Tensor item_vectors(const Ids& items) {
    return item_tower_->forward(item_embedding_->forward(items));
  }

  int64_t num_items_;
  std::shared_ptr<nn::Embedding> user_embedding_, item_embedding_;
  std::shared_ptr<nn::MLP> user_tower_, item_tower_;
  std::optional<recsys::TripleLoader> loader_;
};

}  // namespace

int main(int argc, char** argv) try {
  int64_t epochs = 30;
  uint64_t seed = 0;
  TwoTowerConfig config;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--epochs") epochs = std::atoll(argv[i + 1]);
    else if (flag == "--seed") seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (flag == "--lr") config.train.lr = std::atof(argv[i + 1]);
    else if (flag == "--weight-decay") config.train.weight_decay = std::atof(argv[i + 1]);
    else RECGRAD_CHECK(false, "usage: two_tower [--epochs N] [--seed S] [--lr LR] "
                       "[--weight-decay L2]");
  }
  RECGRAD_CHECK(epochs > 0 && config.train.lr > 0, "--epochs and --lr must be positive");

  // The built-in synthetic data (MovieLens-100K-sized), split at random 80/10/10 per user.
  recsys::DataSpec spec;
  spec.split = "ratio";
  spec.seed = seed;
  const recsys::Experiment ex = recsys::Experiment::load(spec);
  std::printf("%s\n", ex.describe().c_str());

  config.train.seed = seed;
  TwoTower model(config, ex.data.num_users(), ex.data.num_items());
  model.attach(ex.training());
  std::printf("%s", model.summary().c_str());

  // The library's loop: Adam (the default make_optimizer; lazy row-sparse updates for the
  // embeddings), validation NDCG@10 every epoch, early stopping, best weights restored.
  auto optimizer = model.make_optimizer();
  recsys::TrainerOptions options;
  options.epochs = epochs;
  options.patience = 5;  // the first epochs sit on a plateau (popularity) before it learns more
  options.progress = recsys::ProgressMode::kLines;
  const recsys::EvalOptions eval;
  const auto validate = [&](recsys::Recommender& m) {
    return recsys::evaluate_model(m, ex, eval, /*on_validation=*/true).at("NDCG@10");
  };
  const recsys::TrainResult result = recsys::train(model, *optimizer, options, validate);
  std::printf("best epoch %lld: validation NDCG@10 %.4f\n",
              static_cast<long long>(result.best_epoch), result.best_metric);

  // Test metrics, beside popularity (a model must beat it to be worth anything).
  recsys::Pop pop(ex.data.num_items());
  pop.attach(ex.training());
  pop.fit();
  std::printf("two_tower %s\n", recsys::evaluate_model(model, ex, eval).str().c_str());
  std::printf("pop %s\n", recsys::evaluate_model(pop, ex, eval).str().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "two_tower: %s\n", e.what());
  return 1;
}
