#include "recsys/models/bpr_mf.h"

#include <algorithm>

#include "autograd/error.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/reduce.h"

namespace recgrad::recsys {

BprMf::BprMf(const BprMfConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config) {
  RECGRAD_CHECK(config.dim > 0, "bpr: dim must be positive, got ", config.dim);
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "bpr: need users and items, got ", num_users,
                " users and ", num_items, " items");
  Generator gen(config.train.seed);
  users_ = register_parameter("user_embedding", normal({num_users, config.dim}, 0.f, 0.1f, gen));
  items_ = register_parameter("item_embedding", normal({num_items, config.dim}, 0.f, 0.1f, gen));
}

std::string BprMf::describe() const {
  return recgrad::detail::str_cat("BPR-MF(", users_.size(0), " users, ", items_.size(0), " items, dim ",
                         config_.dim, ")");
}

void BprMf::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_users == users_.size(0) && data.num_items == items_.size(0),
                "bpr: model built for ", users_.size(0), " users x ", items_.size(0),
                " items, data has ", data.num_users, " x ", data.num_items);
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  loader_.emplace(*data.history, opts);
}

int64_t BprMf::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "bpr: attach() the training data before training");
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t BprMf::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

Tensor BprMf::loss(int64_t index) {
  const TripleBatch b = loader_->batch(index);
  // <P_u, Q_i> fused (ops/embedding.h): no [B, d] lookups, products or their gradients.
  const Tensor pos = embedding_dot(users_, b.users, items_, b.pos_items);  // [B]
  const Tensor neg = embedding_dot(users_, b.users, items_, b.neg_items);  // [B]
  return bpr_loss(pos, neg);
}

Tensor BprMf::score(const std::vector<int64_t>& users, const UserItems&) {
  return matmul(embedding(users_, users), items_, false, true);  // [B, d]·[N, d]ᵀ
}

}  // namespace recgrad::recsys
