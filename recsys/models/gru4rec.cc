#include "recsys/models/gru4rec.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "autograd/error.h"
#include "nn/losses.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/loss.h"
#include "ops/linear.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/softmax.h"

namespace recgrad::recsys {
namespace {

// Keeps the negatives' stream apart from the loader's streams of the same seed.
constexpr uint64_t kSharedNegativeSalt = 0x4752553452454331ull;

// Left-padded sequences shifted to the left, as the GRU wants them:
//
//   left [B,T]  [p p p a b c]   ->   packed [B,W]  [a b c p]   lengths [3, 4]
//               [p p w x y z]                      [w x y z]   (W = the longest row)
//
// slot[b·W + t] (t < lengths[b]) is the left-padded slot the packed step came from. A row with
// no item gets one padded step (length 1), so the GRU runs; it is scored, never trained on.
struct Packed {
  int64_t batch = 0, width = 0;
  Ids items;                     // [B, W], padding after each row's items
  std::vector<int64_t> lengths;  // B entries in [1, W]
  std::vector<int64_t> slot;     // [B·W]: source slot in the left layout, -1 for padding
};

Packed pack(const Ids& left, int64_t pad) {
  RECGRAD_CHECK(left.shape.size() == 2 && left.shape[1] >= 1, "gru4rec: inputs ", left.shape,
                ": expected [B, T] with T >= 1");
  Packed p;
  p.batch = left.shape[0];
  const int64_t T = left.shape[1];
  p.lengths.resize(p.batch);
  for (int64_t b = 0; b < p.batch; ++b) {
    int64_t n = 0;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t id = left.values[b * T + t];
      RECGRAD_CHECK(id >= 0 && id <= pad, "gru4rec: item ", id, " at (", b, ", ", t,
                    ") is outside [0, ", pad, "] (", pad, " = padding)");
      RECGRAD_CHECK(id != pad || n == 0, "gru4rec: sequence ", b, " of ", left.shape,
                    " has padding after an item: sequences must be left-padded");
      if (id != pad) ++n;
    }
    p.lengths[b] = n;
    p.width = std::max(p.width, n);
  }
  p.width = std::max<int64_t>(p.width, 1);
  const int64_t W = p.width;
  std::vector<int64_t> items(p.batch * W, pad);
  p.slot.assign(p.batch * W, -1);
  for (int64_t b = 0; b < p.batch; ++b) {
    const int64_t n = p.lengths[b];
    for (int64_t t = 0; t < n; ++t) {
      const int64_t src = b * T + (T - n) + t;
      items[b * W + t] = left.values[src];
      p.slot[b * W + t] = src;
    }
    p.lengths[b] = std::max<int64_t>(n, 1);
  }
  p.items = Ids(std::move(items), {p.batch, W});
  return p;
}

// [B, W, 1] with 1 at the padding id.
Tensor padding_mask(const Ids& ids, int64_t pad) {
  Tensor m = Tensor::empty({ids.shape[0], ids.shape[1], 1});
  float* o = m.data();
  for (int64_t k = 0; k < ids.numel(); ++k) o[k] = ids.values[k] == pad ? 1.f : 0.f;
  return m;
}

// −log(x + 1e-24): 1e-24 (GRU4Rec's epsilon) keeps a vanishing gain finite.
Tensor neg_log(const Tensor& x) { return neg(log(add(x, 1e-24f))); }

Tensor glorot_uniform(const Shape& shape, Generator& gen) {
  const float s = std::sqrt(6.f / static_cast<float>(shape[0] + shape[1]));
  return uniform(shape, -s, s, gen);
}

}  // namespace

Tensor bpr_max_loss(const Tensor& pos, const Tensor& neg, const Tensor& excluded, float bpreg) {
  RECGRAD_CHECK(pos.dim() == 1 && neg.dim() == 2 && neg.size(0) == pos.size(0) &&
                    excluded.shape() == neg.shape(),
                "bpr_max_loss: pos ", pos.shape(), ", neg ", neg.shape(), ", excluded ",
                excluded.shape(), ": expected [n], [n,K], [n,K]");
  // Excluded logits at -1e30 get softmax weight exactly 0, so neither term sees them, and
  // masked_fill sends them no gradient (the squared term multiplies neg by that 0 weight).
  const Tensor s = softmax(masked_fill(neg, excluded, -1e30f), 1);             // [n, K]
  const Tensor gain = sum(mul(s, sigmoid(sub(unsqueeze(pos, 1), neg))), {1});  // [n]
  const Tensor reg = sum(mul(s, square(neg)), {1});                            // [n]
  return mean(add(neg_log(gain), mul(reg, bpreg)));
}

Gru4RecLoss parse_gru4rec_loss(const std::string& name) {
  if (name == "ce" || name == "cross-entropy") return Gru4RecLoss::kCrossEntropy;
  if (name == "bpr_max" || name == "bpr-max") return Gru4RecLoss::kBprMax;
  if (name == "sampled_softmax" || name == "sampled-softmax") return Gru4RecLoss::kSampledSoftmax;
  throw Error("gru4rec: unknown loss '" + name + "'; losses: ce, bpr_max, sampled_softmax");
}

Gru4Rec::Gru4Rec(const Gru4RecConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_items_(num_items) {
  const Gru4RecConfig& c = config;
  RECGRAD_CHECK(c.hidden > 0 && c.embedding > 0 && c.num_layers > 0 && c.max_len > 0,
                "gru4rec: hidden, embedding, num_layers and max_len must be positive, got ",
                c.hidden, ", ", c.embedding, ", ", c.num_layers, ", ", c.max_len);
  RECGRAD_CHECK(!c.constrained_embedding || c.embedding == c.hidden,
                "gru4rec: constrained_embedding needs embedding == hidden, got ", c.embedding,
                " and ", c.hidden);
  RECGRAD_CHECK(c.loss == Gru4RecLoss::kCrossEntropy || c.num_negatives >= 1,
                "gru4rec: sampled losses need num_negatives >= 1, got ", c.num_negatives);
  RECGRAD_CHECK(c.sample_alpha >= 0 && c.bpreg >= 0, "gru4rec: sample_alpha ", c.sample_alpha,
                " and bpreg ", c.bpreg, " must be >= 0");
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "gru4rec: need users and items, got ", num_users,
                " users and ", num_items, " items");
  Generator gen(c.train.seed);
  Tensor e = glorot_uniform({num_items + 1, c.embedding}, gen);
  std::fill_n(e.data() + num_items * c.embedding, c.embedding, 0.f);  // the padding row
  items_ = register_parameter("item_embedding", e);
  dropout_embed_ =
      register_module("dropout_embed", std::make_shared<nn::Dropout>(c.dropout_embed, gen));
  nn::GRUOptions g;
  g.num_layers = c.num_layers;
  g.dropout = c.num_layers > 1 ? c.dropout_hidden : 0.f;
  gru_ = register_module("gru", std::make_shared<nn::GRU>(c.embedding, c.hidden, gen, g));
  dropout_hidden_ =
      register_module("dropout_hidden", std::make_shared<nn::Dropout>(c.dropout_hidden, gen));
  if (!c.constrained_embedding)
    out_items_ = register_parameter("Wy", glorot_uniform({num_items, c.hidden}, gen));
  out_bias_ = register_parameter("by", zeros({num_items, 1}));
}

std::string Gru4Rec::describe() const {
  static const char* kLoss[] = {"cross-entropy", "bpr-max", "sampled-softmax"};
  const Gru4RecConfig& c = config_;
  return recgrad::detail::str_cat("GRU4Rec(", num_items_, " items, embedding ", c.embedding,
                                  ", hidden ", c.hidden, ", max_len ", c.max_len, ", ",
                                  kLoss[static_cast<int>(c.loss)],
                                  c.constrained_embedding ? ", constrained" : "", ")");
}

void Gru4Rec::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == num_items_, "gru4rec: model built for ", num_items_,
                " items, data has ", data.num_items);
  SequenceOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  opts.max_len = config_.max_len;
  loader_.emplace(*data.history, opts);
  // Shared negatives ∝ count^alpha over the training items (alpha = 0: uniform over all).
  std::vector<double> counts(num_items_, 0.0);
  for (int64_t item : data.history->items) counts[item] += 1.0;
  sample_cum_.assign(num_items_ + 1, 0.0);
  for (int64_t i = 0; i < num_items_; ++i) {
    const double w = config_.sample_alpha == 0 ? 1.0
                     : counts[i] > 0           ? std::pow(counts[i], config_.sample_alpha)
                                               : 0.0;
    sample_cum_[i + 1] = sample_cum_[i] + w;
  }
}

int64_t Gru4Rec::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "gru4rec: attach() the training data before training");
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t Gru4Rec::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

namespace {

// GRU outputs [B, W, hidden] of packed sequences (dropout on embeddings and outputs in
// training); padded steps hold zeros.
Tensor run_gru(const Packed& p, const Tensor& items, int64_t pad, nn::Dropout& drop_embed,
               nn::GRU& gru, nn::Dropout& drop_hidden) {
  EmbeddingOptions opts;
  opts.padding_idx = pad;
  Tensor x = masked_fill(embedding(items, p.items, opts), padding_mask(p.items, pad), 0.f);
  x = drop_embed.forward(x);
  return drop_hidden.forward(gru.forward(x, p.lengths).output);
}

}  // namespace

Tensor Gru4Rec::output_items() const {
  return config_.constrained_embedding ? narrow(items_, 0, 0, num_items_) : out_items_;
}

Tensor Gru4Rec::encode(const Ids& inputs) {
  const Packed p = pack(inputs, num_items_);
  const int64_t B = p.batch, T = inputs.shape[1], W = p.width, H = config_.hidden;
  const Tensor out = run_gru(p, items_, num_items_, *dropout_embed_, *gru_, *dropout_hidden_);
  // Back to the left layout: row B·W of [out; 0] is the zero row for padded slots.
  std::vector<int64_t> rows(B * T, B * W);
  for (int64_t k = 0; k < B * W; ++k)
    if (p.slot[k] >= 0) rows[p.slot[k]] = k;
  const Tensor flat = concat({reshape(out, {B * W, H}), zeros({1, H})}, 0);
  return reshape(index_select(flat, 0, Ids(std::move(rows))), {B, T, H});
}

Tensor Gru4Rec::loss(int64_t index) {
  const SequenceBatch b = loader_->batch(index);
  const Packed p = pack(b.inputs, num_items_);
  const int64_t B = p.batch, W = p.width, H = config_.hidden;
  const Tensor out = run_gru(p, items_, num_items_, *dropout_embed_, *gru_, *dropout_hidden_);
  // Valid positions only: padded ones get no loss (and so no gradient).
  std::vector<int64_t> rows, targets;
  for (int64_t k = 0; k < B * W; ++k) {
    if (p.slot[k] < 0) continue;
    rows.push_back(k);
    targets.push_back(b.targets.values[p.slot[k]]);
  }
  const auto n = static_cast<int64_t>(rows.size());
  const Tensor h = index_select(reshape(out, {B * W, H}), 0, Ids(std::move(rows)));  // [n, H]
  const Ids target_ids(targets);

  if (config_.loss == Gru4RecLoss::kCrossEntropy) {
    // One fused product and bias (a separate add over the [n, N] logits took 12% of a step).
    const Tensor logits = linear(h, output_items(), reshape(out_bias_, {num_items_}));
    return cross_entropy(logits, target_ids);  // [n, N] over every item
  }

  // K shared negatives, drawn with replacement ∝ count^alpha from a stream of (seed, epoch, batch).
  const int64_t K = config_.num_negatives;
  Generator gen(
      recgrad::detail::mix64(recgrad::detail::mix64(train_.seed ^ kSharedNegativeSalt,
                                                    static_cast<uint64_t>(loader_->epoch())),
                             static_cast<uint64_t>(index)));
  const double total = sample_cum_.back();
  std::vector<int64_t> negs(K);
  for (int64_t k = 0; k < K; ++k) {
    const double r = static_cast<double>(gen.next_u64() >> 11) * 0x1.0p-53 * total;
    const auto it = std::upper_bound(sample_cum_.begin() + 1, sample_cum_.end(), r);
    negs[k] = std::min<int64_t>(it - sample_cum_.begin() - 1, num_items_ - 1);
  }
  const Ids neg_ids(negs);

  // Constrained: rows of E itself (ids < num_items, never the padding row).
  const Tensor& wy = config_.constrained_embedding ? items_ : out_items_;
  const Tensor pos = add(sum(mul(h, embedding(wy, target_ids)), {1}),
                         reshape(embedding(out_bias_, target_ids), {n}));  // [n]
  const Tensor negs_logit =
      linear(h, embedding(wy, neg_ids), reshape(embedding(out_bias_, neg_ids), {K}));  // [n, K]
  if (config_.loss == Gru4RecLoss::kSampledSoftmax) {
    auto log_q = [&](const std::vector<int64_t>& ids) {
      Tensor q = Tensor::empty({static_cast<int64_t>(ids.size())});
      for (size_t i = 0; i < ids.size(); ++i)
        q.data()[i] =
            static_cast<float>(std::log((sample_cum_[ids[i] + 1] - sample_cum_[ids[i]]) / total));
      return q;
    };
    nn::SampledSoftmaxOptions o;
    o.pos_log_q = log_q(targets);  // finite: every target is a training item
    o.neg_log_q = log_q(negs);
    o.pos_ids = target_ids;  // a negative equal to the row's target is masked out
    o.neg_ids = neg_ids;
    return nn::sampled_softmax_loss(pos, negs_logit, o);
  }
  // 1 where a shared negative is the row's own target.
  Tensor hit = Tensor::empty({n, K});
  for (int64_t r = 0; r < n; ++r)
    for (int64_t k = 0; k < K; ++k) hit.data()[r * K + k] = negs[k] == targets[r] ? 1.f : 0.f;

  return bpr_max_loss(pos, negs_logit, hit, config_.bpreg);
}

Tensor Gru4Rec::score(const std::vector<int64_t>& users, const UserItems& history) {
  const Packed p = pack(last_items(history, users, config_.max_len), num_items_);
  const Tensor out = run_gru(p, items_, num_items_, *dropout_embed_, *gru_, *dropout_hidden_);
  const Tensor h = nn::last_valid_output(out, p.lengths);  // [B, H]
  return linear(h, output_items(), reshape(out_bias_, {num_items_}));
}

}  // namespace recgrad::recsys
