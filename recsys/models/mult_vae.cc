#include "recsys/models/mult_vae.h"

#include <algorithm>

#include "autograd/error.h"
#include "nn/losses.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/loss.h"
#include "ops/sparse_linear.h"
#include "recsys/model_utils.h"

namespace recgrad::recsys {
namespace {

constexpr uint64_t kDropoutSalt = 0x4D56414544524F50ull;
constexpr uint64_t kNoiseSalt = 0x4D5641454E4F4953ull;

std::vector<int64_t> concat_sizes(int64_t first, const std::vector<int64_t>& middle, int64_t last) {
  std::vector<int64_t> s{first};
  s.insert(s.end(), middle.begin(), middle.end());
  s.push_back(last);
  return s;
}

}  // namespace

MultVae::MultVae(const MultVaeConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_items_(num_items) {
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "multvae: need users and items, got ", num_users,
                " users and ", num_items, " items");
  RECGRAD_CHECK(config.latent > 0, "multvae: latent must be positive, got ", config.latent);
  for (int64_t h : config.hidden)
    RECGRAD_CHECK(h > 0, "multvae: hidden sizes must be positive, got ", h);
  RECGRAD_CHECK(config.dropout >= 0.f && config.dropout < 1.f, "multvae: dropout ", config.dropout,
                " must lie in [0, 1)");
  RECGRAD_CHECK(config.anneal_cap >= 0, "multvae: anneal_cap must be >= 0, got ",
                config.anneal_cap);
  RECGRAD_CHECK(config.noise_std >= 0.f, "multvae: noise_std must be >= 0, got ", config.noise_std);
  RECGRAD_CHECK(config.total_anneal_steps >= 0 && config.anneal_epochs > 0,
                "multvae: total_anneal_steps must be >= 0 and anneal_epochs > 0, got ",
                config.total_anneal_steps, " and ", config.anneal_epochs);
  Generator gen(config.train.seed);
  nn::MLPOptions tanh;
  tanh.activation = nn::Activation::kTanh;
  std::vector<int64_t> rev(config.hidden.rbegin(), config.hidden.rend());
  encoder_ = register_module(
      "encoder", std::make_shared<nn::MLP>(
                     concat_sizes(num_items, config.hidden, 2 * config.latent), gen, tanh));
  decoder_ = register_module(
      "decoder", std::make_shared<nn::MLP>(concat_sizes(config.latent, rev, num_items), gen, tanh));
  xavier_init(*encoder_, gen, 0.001f);
  xavier_init(*decoder_, gen, 0.001f);
  updates_ = register_buffer("anneal_updates", zeros({1}));
}

std::string MultVae::describe() const {
  return recgrad::detail::str_cat("Mult-VAE(", num_items_, " items, latent ", config_.latent,
                                  ", dropout ", config_.dropout, ", beta cap ", config_.anneal_cap,
                                  ")");
}

void MultVae::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == num_items_, "multvae: model built for ", num_items_,
                " items, data has ", data.num_items);
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  loader_.emplace(*data.history, opts, config_.rows_per);
  total_anneal_steps_ = config_.total_anneal_steps > 0
                            ? config_.total_anneal_steps
                            : config_.anneal_epochs * loader_->num_batches();
}

int64_t MultVae::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "multvae: attach() the training data before training");
  epoch_ = epoch;
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t MultVae::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

int64_t MultVae::updates() const { return static_cast<int64_t>(updates_.data()[0]); }

double MultVae::beta() const {
  if (total_anneal_steps_ <= 0) return config_.anneal_cap;
  return std::min(config_.anneal_cap,
                  static_cast<double>(updates()) / static_cast<double>(total_anneal_steps_));
}

std::pair<Tensor, Tensor> MultVae::encode(CsrMatrix x, bool noisy, uint64_t dropout_key) {
  // The rows are ~95% zeros: normalise, drop out and multiply their non-zeros only (the same
  // numbers as the dense path: recsys/model_utils.h).
  Generator gen(dropout_key);
  l2_normalize_rows(x);
  dropout_nonzeros(x, config_.dropout, noisy, gen);
  const Tensor h = mlp_forward_sparse(*encoder_, x, nn::Activation::kTanh,
                                      /*final_activation=*/false);  // [B, 2·latent]
  return {narrow(h, 1, 0, config_.latent), narrow(h, 1, config_.latent, config_.latent)};
}

Tensor MultVae::loss(int64_t index) {
  RECGRAD_CHECK(loader_.has_value(), "multvae: attach() the training data before training");
  // The batch's rows stay sparse throughout: the input, and the likelihood's targets.
  const CsrMatrix rows = history_csr(loader_->history(), loader_->batch_users(index).values);
  const bool noisy = is_training();
  auto [mu, logvar] = encode(rows, noisy, batch_key(train_.seed, kDropoutSalt, epoch_, index));
  Tensor z = mu;
  if (noisy) {  // reparameterisation: z = μ + ε·exp(½ log σ²)
    Generator gen(batch_key(train_.seed, kNoiseSalt, epoch_, index));
    Tensor eps = randn(mu.shape(), gen);
    if (config_.noise_std != 1.f) eps = mul(eps, config_.noise_std);
    z = add(mu, mul(eps, exp(mul(logvar, 0.5f))));
  }
  // Multinomial: −Σ_j x_j log softmax(logits)_j, averaged over users.
  const Tensor nll = soft_cross_entropy(decoder_->forward(z), rows);
  return add(nll, mul(nn::kl_normal(mu, logvar), static_cast<float>(beta())));
}

double MultVae::train_step(int64_t index, optim::Optimizer& opt) {
  const double l = Recommender::train_step(index, opt);
  updates_.data()[0] += 1.f;
  return l;
}

Tensor MultVae::score(const std::vector<int64_t>& users, const UserItems& history) {
  const Tensor mu = encode(history_csr(history, users), /*noisy=*/false, 0).first;
  return decoder_->forward(mu);
}

}  // namespace recgrad::recsys
