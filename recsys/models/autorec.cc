#include "recsys/models/autorec.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "nn/init.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/sparse_linear.h"

namespace recgrad::recsys {
namespace {

void fill(Tensor dst, const Tensor& src) {
  std::memcpy(dst.data(), src.data(), sizeof(float) * dst.numel());
}

}  // namespace

AutoRec::AutoRec(const AutoRecConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_users_(num_users), num_items_(num_items) {
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "autorec: need users and items, got ", num_users,
                " users and ", num_items, " items");
  RECGRAD_CHECK(config.hidden > 0, "autorec: hidden must be positive, got ", config.hidden);
  RECGRAD_CHECK(config.l2 >= 0, "autorec: l2 must be >= 0, got ", config.l2);
  Generator gen(config.train.seed);
  encoder_ =
      register_module("encoder", std::make_shared<nn::Linear>(num_users, config.hidden, gen));
  decoder_ =
      register_module("decoder", std::make_shared<nn::Linear>(config.hidden, num_users, gen));
  fill(encoder_->weight(), nn::init::xavier_uniform(encoder_->weight().shape(), gen));
  fill(encoder_->bias(), nn::init::zeros(encoder_->bias().shape()));
  fill(decoder_->weight(), nn::init::xavier_uniform(decoder_->weight().shape(), gen));
  fill(decoder_->bias(), nn::init::zeros(decoder_->bias().shape()));
}

std::string AutoRec::describe() const {
  return recgrad::detail::str_cat("I-AutoRec(", num_users_, " users, ", num_items_,
                                  " items, hidden ", config_.hidden, ", lambda ", config_.l2, ")");
}

void AutoRec::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_users == num_users_ && data.num_items == num_items_,
                "autorec: model built for ", num_users_, " users x ", num_items_,
                " items, data has ", data.num_users, " x ", data.num_items);
  RECGRAD_CHECK(data.interactions != nullptr && data.interactions->has_ratings(),
                "autorec: a rating model needs explicit ratings; the training data has none");
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  loader_.emplace(*data.interactions, num_users_, num_items_, opts);
  offset_ = static_cast<float>(loader_->mean_rating());
  user_ratings_.assign(num_users_, 0);
  for (int64_t u : data.interactions->users) ++user_ratings_[u];
}

int64_t AutoRec::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "autorec: attach() the training data before training");
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t AutoRec::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

Tensor AutoRec::reconstruct(const Tensor& ratings) const {
  return add(decoder_->forward(sigmoid(encoder_->forward(ratings))), offset_);
}

Tensor AutoRec::loss(int64_t index) {
  RECGRAD_CHECK(loader_.has_value(), "autorec: attach() the training data before training");
  const ItemRatingBatch b = loader_->batch(index);
  // Only observed ratings enter the loss, and a row has ~3% of them: the encoder reads the
  // rows' non-zeros (sparse_linear) and the decoder is evaluated only at the observed entries
  // (sampled_linear), instead of reconstructing every user to mask all but a few.
  CsrMatrix observed = csr_from_dense(b.mask);  // the pattern; values: the ratings
  const float* ratings = b.ratings.data();
  for (int64_t r = 0; r < observed.rows; ++r)
    for (int64_t k = observed.offsets[r]; k < observed.offsets[r + 1]; ++k)
      observed.values[k] = ratings[r * num_users_ + observed.columns[k]];
  const Tensor hidden =
      sigmoid(sparse_linear(observed, encoder_->weight(), encoder_->bias()));  // [B, k]
  const Tensor predicted =
      add(sampled_linear(hidden, decoder_->weight(), decoder_->bias(), observed), offset_);
  const Tensor err = sub(predicted, tensor(observed.values, {observed.nnz()}));  // [nnz]
  const Tensor sse = div(sum(square(err)), static_cast<float>(observed.rows));
  if (config_.l2 == 0) return sse;
  const float scale = static_cast<float>(config_.l2 / (2.0 * loader_->num_examples()));
  const Tensor l2 = add(sum(square(encoder_->weight())), sum(square(decoder_->weight())));
  return add(sse, mul(l2, scale));
}

Tensor AutoRec::predict(const std::vector<int64_t>& users, const std::vector<int64_t>& items) {
  RECGRAD_CHECK(loader_.has_value(), "autorec: attach() the training data before predict()");
  RECGRAD_CHECK(users.size() == items.size(), "autorec: predict: ", users.size(), " users but ",
                items.size(), " items");
  NoGradGuard no_grad;
  // Each distinct rated item is reconstructed once, in first-appearance order; pairs_of lists
  // the pairs (k) that read it, grouped by item (a counting sort over the distinct rows).
  std::unordered_map<int64_t, int64_t> row_of;
  std::vector<int64_t> distinct, row_of_pair(items.size(), -1);
  for (size_t k = 0; k < items.size(); ++k) {
    RECGRAD_CHECK(users[k] >= 0 && users[k] < num_users_ && items[k] >= 0 && items[k] < num_items_,
                  "autorec: predict: pair (", users[k], ", ", items[k], ") is outside ", num_users_,
                  " users x ", num_items_, " items");
    if (user_ratings_[users[k]] == 0 || loader_->num_ratings(items[k]) == 0) continue;
    const auto [it, added] = row_of.emplace(items[k], distinct.size());
    if (added) distinct.push_back(items[k]);
    row_of_pair[k] = it->second;
  }
  Tensor out = full({static_cast<int64_t>(items.size())}, offset_);
  if (distinct.empty()) return out;
  std::vector<int64_t> first(distinct.size() + 1, 0), pairs_of;
  for (int64_t row : row_of_pair)
    if (row >= 0) ++first[row + 1];
  for (size_t d = 0; d < distinct.size(); ++d) first[d + 1] += first[d];
  pairs_of.resize(static_cast<size_t>(first.back()));
  std::vector<int64_t> next(first.begin(), first.end() - 1);
  for (size_t k = 0; k < items.size(); ++k)
    if (row_of_pair[k] >= 0) pairs_of[next[row_of_pair[k]]++] = static_cast<int64_t>(k);
  // Reconstructed in blocks of items: all of ML-1M's 3,706 at once would hold three [3706,
  // 6040] tensors (input, decoder output, offset sum: 270 MB), the peak of a training run.
  constexpr int64_t kItemsPerBlock = 256;
  float* o = out.data();
  const float lo = loader_->min_rating(), hi = loader_->max_rating();
  const int64_t n = static_cast<int64_t>(distinct.size());
  for (int64_t d0 = 0; d0 < n; d0 += kItemsPerBlock) {
    const int64_t d1 = std::min(n, d0 + kItemsPerBlock);
    const std::vector<int64_t> block(distinct.begin() + d0, distinct.begin() + d1);
    const Tensor rec = reconstruct(loader_->rows(block).ratings);  // [d1 - d0, m]
    const float* r = rec.data();
    for (int64_t d = d0; d < d1; ++d)
      for (int64_t p = first[d]; p < first[d + 1]; ++p) {
        const int64_t k = pairs_of[p];
        o[k] = std::clamp(r[(d - d0) * num_users_ + users[k]], lo, hi);
      }
  }
  return out;
}

Tensor AutoRec::score(const std::vector<int64_t>& users, const UserItems&) {
  RECGRAD_CHECK(loader_.has_value(), "autorec: attach() the training data before score()");
  std::vector<int64_t> all_items(num_items_);
  for (int64_t i = 0; i < num_items_; ++i) all_items[i] = i;
  std::vector<int64_t> items;
  items.reserve(users.size() * num_items_);
  std::vector<int64_t> pair_users;
  pair_users.reserve(users.size() * num_items_);
  for (int64_t u : users) {
    pair_users.insert(pair_users.end(), num_items_, u);
    items.insert(items.end(), all_items.begin(), all_items.end());
  }
  return reshape(predict(pair_users, items), {static_cast<int64_t>(users.size()), num_items_});
}

}  // namespace recgrad::recsys
