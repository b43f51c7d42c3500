#include "recsys/models/caser.h"

#include <algorithm>
#include <string>

#include "autograd/error.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/linear.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"

namespace recgrad::recsys {
namespace {

// [B, L, 1] with 1 where ids hold the padding id: the rows of the image to zero.
Tensor padding_mask(const Ids& ids, int64_t pad) {
  Tensor m = zeros({ids.shape[0], ids.shape[1], 1});
  float* p = m.data();
  for (int64_t k = 0; k < ids.numel(); ++k) p[k] = ids.values[k] == pad ? 1.f : 0.f;
  return m;
}

}  // namespace

Caser::Caser(const CaserConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_items_(num_items) {
  const CaserConfig& c = config;
  RECGRAD_CHECK(
      c.dim > 0 && c.window > 0 && c.targets > 0 && c.n_v >= 0 && c.n_h >= 0 && c.n_v + c.n_h > 0,
      "caser: need dim, L, T > 0 and some filters, got d=", c.dim, " L=", c.window,
      " T=", c.targets, " n_v=", c.n_v, " n_h=", c.n_h);
  RECGRAD_CHECK(c.num_negatives >= 1, "caser: num_negatives must be >= 1, got ", c.num_negatives);
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "caser: need users and items, got ", num_users,
                " users and ", num_items, " items");
  const int64_t d = c.dim;
  Generator gen(c.train.seed);
  users_ = register_parameter("user_embedding", normal({num_users, d}, 0.f, 1.f / d, gen));
  Tensor q = normal({num_items + 1, d}, 0.f, 1.f / d, gen);
  std::fill_n(q.data() + num_items * d, d, 0.f);  // the padding row
  items_ = register_parameter("item_embedding", q);
  if (c.n_v > 0)
    vertical_ =
        register_module("conv_v", std::make_shared<nn::Conv2d>(1, c.n_v, Size2d{c.window, 1}, gen));
  if (c.n_h > 0)
    for (int64_t h = 1; h <= c.window; ++h)
      horizontal_.push_back(register_module(
          "conv_h" + std::to_string(h), std::make_shared<nn::Conv2d>(1, c.n_h, Size2d{h, d}, gen)));
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(c.dropout, gen));
  fc_ = register_module("fc1", std::make_shared<nn::Linear>(c.n_v * d + c.n_h * c.window, d, gen));
  out_items_ = register_parameter("W2", normal({num_items, 2 * d}, 0.f, 1.f / (2 * d), gen));
  out_bias_ = register_parameter("b2", zeros({num_items, 1}));
}

std::string Caser::describe() const {
  const CaserConfig& c = config_;
  return recgrad::detail::str_cat("Caser(", users_.size(0), " users, ", num_items_, " items, d ",
                                  c.dim, ", L ", c.window, ", T ", c.targets, ", n_v ", c.n_v,
                                  ", n_h ", c.n_h, ", dropout ", c.dropout, ")");
}

void Caser::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_users == users_.size(0) && data.num_items == num_items_,
                "caser: model built for ", users_.size(0), " users x ", num_items_,
                " items, data has ", data.num_users, " x ", data.num_items);
  WindowOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  opts.window = config_.window;
  opts.targets = config_.targets;
  opts.num_negatives = config_.num_negatives;
  loader_.emplace(*data.history, opts);
}

int64_t Caser::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "caser: attach() the training data before training");
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t Caser::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

Tensor Caser::encode(const Ids& users, const Ids& inputs) {
  const int64_t L = config_.window, d = config_.dim;
  RECGRAD_CHECK(
      inputs.shape.size() == 2 && inputs.shape[1] == L && users.numel() == inputs.shape[0],
      "caser: inputs ", inputs.shape, " and ", users.numel(), " users: expected [B, ", L,
      "] and B users");
  const int64_t B = inputs.shape[0];
  EmbeddingOptions pad;
  pad.padding_idx = num_items_;
  // The image E [B,1,L,d]; padded rows are zero whatever the padding row holds.
  Tensor e = masked_fill(embedding(items_, inputs, pad), padding_mask(inputs, num_items_), 0.f);
  e = reshape(e, {B, 1, L, d});
  std::vector<Tensor> features;
  if (vertical_) features.push_back(reshape(vertical_->forward(e), {B, -1}));  // [B, n_v·d]
  for (const auto& conv : horizontal_) {
    const Tensor y = relu(conv->forward(e));            // [B, n_h, L-h+1, 1]
    features.push_back(max(squeeze(y, 3), /*dim=*/2));  // [B, n_h]
  }
  const Tensor o = dropout_->forward(features.size() == 1 ? features[0] : concat(features, 1));
  const Tensor z = relu(fc_->forward(o));           // [B, d]
  return concat({z, embedding(users_, users)}, 1);  // [B, 2d]
}

Tensor Caser::loss(int64_t index) {
  const WindowBatch b = loader_->batch(index);
  const int64_t B = b.inputs.shape[0];
  const Tensor x = unsqueeze(encode(b.users, b.inputs), 2);  // [B, 2d, 1]
  // y(i) = W2_i·x + b2_i for the window's own items, one batched product per kind.
  auto logits = [&](const Ids& items) {             // [B, K] -> [B, K]
    const Tensor w = embedding(out_items_, items);  // [B, K, 2d]
    const Tensor bias = reshape(embedding(out_bias_, items), {B, items.shape[1]});
    return add(reshape(matmul(w, x), {B, items.shape[1]}), bias);
  };
  const Tensor pos = logits(b.targets), neg = logits(b.negatives);
  return add(bce_with_logits(pos, ones(pos.shape())), bce_with_logits(neg, zeros(neg.shape())));
}

Tensor Caser::score(const std::vector<int64_t>& users, const UserItems& history) {
  const Tensor x = encode(Ids(users), last_items(history, users, config_.window));  // [B, 2d]
  return linear(x, out_items_, reshape(out_bias_, {num_items_}));
}

}  // namespace recgrad::recsys
