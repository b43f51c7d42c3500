#include "recsys/models/cdae.h"

#include <algorithm>
#include <cstring>

#include "autograd/error.h"
#include "nn/init.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/loss.h"
#include "ops/sparse_linear.h"
#include "recsys/model_utils.h"

namespace recgrad::recsys {
namespace {

constexpr uint64_t kCorruptionSalt = 0x434441454E4F4953ull;

// Overwrites a parameter's values in place (its handle, held by its module, stays valid).
void fill(Tensor dst, const Tensor& src) {
  std::memcpy(dst.data(), src.data(), sizeof(float) * dst.numel());
}

}  // namespace

Cdae::Cdae(const CdaeConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_users_(num_users), num_items_(num_items) {
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "cdae: need users and items, got ", num_users,
                " users and ", num_items, " items");
  RECGRAD_CHECK(config.hidden > 0, "cdae: hidden must be positive, got ", config.hidden);
  RECGRAD_CHECK(config.corruption >= 0.f && config.corruption < 1.f, "cdae: corruption ",
                config.corruption, " must lie in [0, 1)");
  Generator gen(config.train.seed);
  encoder_ =
      register_module("encoder", std::make_shared<nn::Linear>(num_items, config.hidden, gen));
  decoder_ =
      register_module("decoder", std::make_shared<nn::Linear>(config.hidden, num_items, gen));
  if (config.user_node)
    user_nodes_ = register_module("user_node",
                                  std::make_shared<nn::Embedding>(num_users, config.hidden, gen));
  // Xavier-uniform weights, zero biases, small user nodes: every unit starts near σ(0).
  fill(encoder_->weight(), nn::init::xavier_uniform(encoder_->weight().shape(), gen));
  fill(encoder_->bias(), nn::init::zeros(encoder_->bias().shape()));
  fill(decoder_->weight(), nn::init::xavier_uniform(decoder_->weight().shape(), gen));
  fill(decoder_->bias(), nn::init::zeros(decoder_->bias().shape()));
  if (user_nodes_)
    fill(user_nodes_->weight(), nn::init::normal(user_nodes_->weight().shape(), 0.f, 0.01f, gen));
}

std::string Cdae::describe() const {
  return recgrad::detail::str_cat("CDAE(", num_users_, " users, ", num_items_, " items, hidden ",
                                  config_.hidden, ", corruption ", config_.corruption, ")");
}

void Cdae::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_users == num_users_ && data.num_items == num_items_,
                "cdae: model built for ", num_users_, " users x ", num_items_, " items, data has ",
                data.num_users, " x ", data.num_items);
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  loader_.emplace(*data.history, opts);
}

int64_t Cdae::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "cdae: attach() the training data before training");
  epoch_ = epoch;
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t Cdae::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

Tensor Cdae::forward(const Ids& users, const Tensor& rows, bool noisy, uint64_t key) {
  // The rows are ~95% zeros: corrupt and multiply their non-zeros only (the same numbers as
  // the dense path: recsys/model_utils.h).
  Generator gen(key);
  CsrMatrix x = csr_from_dense(rows);                                   // y [B, n]
  dropout_nonzeros(x, config_.corruption, noisy, gen);                  // ỹ
  Tensor pre = sparse_linear(x, encoder_->weight(), encoder_->bias());  // Wᵀỹ + b [B, K]
  if (user_nodes_) pre = add(pre, user_nodes_->forward(users));         // + V_u
  const Tensor z = nn::activate(config_.hidden_activation, pre);
  return decoder_->forward(z);  // logits [B, n]
}

Tensor Cdae::loss(int64_t index) {
  RECGRAD_CHECK(loader_.has_value(), "cdae: attach() the training data before training");
  const UserRowBatch b = loader_->batch(index);
  const Tensor logits = forward(b.users, b.rows, is_training(),
                                batch_key(train_.seed, kCorruptionSalt, epoch_, index));
  // Summed over the row's items, averaged over users (a per-element mean would shrink the
  // gradient by n_items).
  return div(bce_with_logits(logits, b.rows, Reduction::kSum), static_cast<float>(b.rows.size(0)));
}

Tensor Cdae::score(const std::vector<int64_t>& users, const UserItems& history) {
  return forward(Ids(users), history_rows(history, users), /*noisy=*/false, 0);
}

}  // namespace recgrad::recsys
