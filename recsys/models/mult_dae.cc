#include "recsys/models/mult_dae.h"

#include <algorithm>

#include "autograd/error.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/loss.h"
#include "ops/sparse_linear.h"
#include "optim/adam.h"
#include "recsys/model_utils.h"

namespace recgrad::recsys {
namespace {

constexpr uint64_t kDropoutSalt = 0x4D44414544524F50ull;

bool is_bias(const std::string& name) {
  const std::string suffix = ".bias";
  return name.size() >= suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

MultDae::MultDae(const MultDaeConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_items_(num_items) {
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "multdae: need users and items, got ", num_users,
                " users and ", num_items, " items");
  RECGRAD_CHECK(config.latent > 0, "multdae: latent must be positive, got ", config.latent);
  for (int64_t h : config.hidden)
    RECGRAD_CHECK(h > 0, "multdae: hidden sizes must be positive, got ", h);
  RECGRAD_CHECK(config.dropout >= 0.f && config.dropout < 1.f, "multdae: dropout ", config.dropout,
                " must lie in [0, 1)");
  Generator gen(config.train.seed);
  nn::MLPOptions tanh;
  tanh.activation = nn::Activation::kTanh;
  std::vector<int64_t> enc{num_items}, dec{config.latent};
  enc.insert(enc.end(), config.hidden.begin(), config.hidden.end());
  enc.push_back(config.latent);
  dec.insert(dec.end(), config.hidden.rbegin(), config.hidden.rend());
  dec.push_back(num_items);
  nn::MLPOptions enc_opts = tanh;
  enc_opts.final_activation = true;  // the bottleneck is tanh too
  encoder_ = register_module("encoder", std::make_shared<nn::MLP>(enc, gen, enc_opts));
  decoder_ = register_module("decoder", std::make_shared<nn::MLP>(dec, gen, tanh));
  xavier_init(*encoder_, gen, 0.001f);
  xavier_init(*decoder_, gen, 0.001f);
}

std::string MultDae::describe() const {
  return recgrad::detail::str_cat("Mult-DAE(", num_items_, " items, latent ", config_.latent,
                                  ", dropout ", config_.dropout, ")");
}

void MultDae::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == num_items_, "multdae: model built for ", num_items_,
                " items, data has ", data.num_items);
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  loader_.emplace(*data.history, opts);
}

std::unique_ptr<optim::Optimizer> MultDae::make_optimizer() {
  optim::AdamOptions o;
  o.lr = train_.lr;
  o.weight_decay = train_.weight_decay;
  auto opt = std::make_unique<optim::Adam>(named_parameters(), o);
  optim::GroupOptions no_decay;
  no_decay.weight_decay = 0;
  opt->add_group("biases", is_bias, no_decay);
  return opt;
}

int64_t MultDae::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "multdae: attach() the training data before training");
  epoch_ = epoch;
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t MultDae::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

Tensor MultDae::forward(CsrMatrix x, bool noisy, uint64_t dropout_key) {
  // The rows are ~95% zeros: normalise, drop out and multiply their non-zeros only (the same
  // numbers as the dense path: recsys/model_utils.h).
  Generator gen(dropout_key);
  l2_normalize_rows(x);
  dropout_nonzeros(x, config_.dropout, noisy, gen);
  return decoder_->forward(
      mlp_forward_sparse(*encoder_, x, nn::Activation::kTanh, /*final_activation=*/true));
}

Tensor MultDae::loss(int64_t index) {
  RECGRAD_CHECK(loader_.has_value(), "multdae: attach() the training data before training");
  // The batch's rows stay sparse throughout: the input, and the likelihood's targets.
  const CsrMatrix rows = history_csr(loader_->history(), loader_->batch_users(index).values);
  const Tensor logits =
      forward(rows, is_training(), batch_key(train_.seed, kDropoutSalt, epoch_, index));
  return soft_cross_entropy(logits, rows);  // multinomial: −Σ_j x_j log softmax_j, mean
}

Tensor MultDae::score(const std::vector<int64_t>& users, const UserItems& history) {
  return forward(history_csr(history, users), /*noisy=*/false, 0);
}

}  // namespace recgrad::recsys
