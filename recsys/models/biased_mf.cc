#include "recsys/models/biased_mf.h"

#include <algorithm>

#include "autograd/error.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace recgrad::recsys {

BiasedMf::BiasedMf(const BiasedMfConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config) {
  RECGRAD_CHECK(config.dim > 0, "biasedmf: dim must be positive, got ", config.dim);
  RECGRAD_CHECK(config.reg >= 0, "biasedmf: reg must be >= 0, got ", config.reg);
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "biasedmf: need users and items, got ", num_users,
                " users and ", num_items, " items");
  Generator gen(config.train.seed);
  users_ = register_parameter("user_embedding", normal({num_users, config.dim}, 0.f, 0.1f, gen));
  items_ = register_parameter("item_embedding", normal({num_items, config.dim}, 0.f, 0.1f, gen));
  user_bias_ = register_parameter("user_bias", zeros({num_users, 1}));
  item_bias_ = register_parameter("item_bias", zeros({num_items, 1}));
  global_mean_ = register_buffer("global_mean", zeros({1}));
}

std::string BiasedMf::describe() const {
  return recgrad::detail::str_cat("BiasedMF(", users_.size(0), " users, ", items_.size(0),
                                  " items, dim ", config_.dim, ", reg ", config_.reg, ")");
}

void BiasedMf::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_users == users_.size(0) && data.num_items == items_.size(0),
                "biasedmf: model built for ", users_.size(0), " users x ", items_.size(0),
                " items, data has ", data.num_users, " x ", data.num_items);
  RECGRAD_CHECK(data.interactions != nullptr, "biasedmf: attach() needs the training interactions");
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  loader_.emplace(*data.interactions, opts);
  global_mean_.data()[0] = static_cast<float>(loader_->mean_rating());
}

int64_t BiasedMf::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "biasedmf: attach() the training data before training");
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t BiasedMf::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

BiasedMf::Rows BiasedMf::lookup(const Ids& users, const Ids& items) const {
  const int64_t n = users.numel();
  return {embedding(users_, users), embedding(items_, items),
          reshape(embedding(user_bias_, users), {n}), reshape(embedding(item_bias_, items), {n})};
}

Tensor BiasedMf::rating(const Rows& r) const {
  return add(sum(mul(r.p, r.q), {1}) + r.bu + r.bi, global_mean());  // [n]
}

Tensor BiasedMf::loss(int64_t index) {
  const RatingBatch b = loader_->batch(index);
  const Rows r = lookup(b.users, b.items);
  const Tensor err = mse_loss(rating(r), b.ratings);
  if (config_.reg == 0) return err;
  const Tensor l2 = sum(square(r.p), {1}) + sum(square(r.q), {1}) + square(r.bu) + square(r.bi);
  return err + mul(mean(l2), static_cast<float>(config_.reg));
}

Tensor BiasedMf::score(const std::vector<int64_t>& users, const UserItems&) {
  const Tensor dots = matmul(embedding(users_, users), items_, false, true);  // [B, N]
  const Tensor bu = embedding(user_bias_, users);                             // [B, 1]
  const Tensor bi = reshape(item_bias_, {1, items_.size(0)});                 // [1, N]
  return add(dots + bu + bi, global_mean());
}

Tensor BiasedMf::predict(const std::vector<int64_t>& users, const std::vector<int64_t>& items) {
  RECGRAD_CHECK(users.size() == items.size(), "biasedmf: predict: ", users.size(), " users but ",
                items.size(), " items");
  return rating(lookup(Ids(users), Ids(items)));
}

}  // namespace recgrad::recsys
