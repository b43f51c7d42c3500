#include "recsys/models/neumf.h"

#include <algorithm>
#include <cstring>

#include "autograd/error.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/embedding.h"
#include "ops/linear.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/shape.h"
#include "optim/adam.h"
#include "optim/checkpoint.h"
#include "optim/sgd.h"

namespace recgrad::recsys {
namespace {

// Scoring materialises [users, items, first layer] activations; chunks of users keep each
// such tensor under this many floats (16 MB), whatever the tower's width.
constexpr int64_t kMaxActivationsPerChunk = int64_t{1} << 22;

const char* variant_name(NcfVariant v) {
  switch (v) {
    case NcfVariant::kGmf: return "gmf";
    case NcfVariant::kMlp: return "mlp";
    case NcfVariant::kNeuMf: return "neumf";
  }
  return "?";
}

// dst ← src, same shapes (both already checked by the caller's sizes).
void copy_into(Tensor dst, const Tensor& src, const char* what) {
  RECGRAD_CHECK(dst.shape() == src.shape(), "neumf: pretrained ", what, " has shape ", src.shape(),
                ", NeuMF expects ", dst.shape());
  std::memcpy(dst.data(), src.data(), sizeof(float) * dst.numel());
}

}  // namespace

NeuMf::NeuMf(const NeuMfConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_users_(num_users), num_items_(num_items) {
  const char* n = variant_name(config.variant);
  const int64_t f = config.factors;
  const std::vector<int64_t>& layers = config.layers;
  RECGRAD_CHECK(f > 0, n, ": factors must be positive, got ", f);
  RECGRAD_CHECK(num_users > 0 && num_items > 0, n, ": need users and items, got ", num_users,
                " users and ", num_items, " items");
  RECGRAD_CHECK(config.num_negatives >= 1, n, ": num_negatives must be >= 1, got ",
                config.num_negatives);
  if (has_mlp()) {
    RECGRAD_CHECK(layers.size() >= 2, n, ": the MLP needs at least 2 layer sizes, got ",
                  layers.size());
    RECGRAD_CHECK(layers[0] > 0 && layers[0] % 2 == 0, n,
                  ": layers[0] (user and item embeddings concatenated) must be even and positive, "
                  "got ", layers[0]);
    RECGRAD_CHECK(layers.back() == f, n, ": the last MLP layer (", layers.back(),
                  ") must equal factors (", f, ")");
  }
  Generator gen(config.train.seed);
  if (has_gmf()) {
    gmf_users_ = register_parameter("gmf_user_embedding", normal({num_users, f}, 0.f, 0.01f, gen));
    gmf_items_ = register_parameter("gmf_item_embedding", normal({num_items, f}, 0.f, 0.01f, gen));
  }
  if (has_mlp()) {
    const int64_t e = layers[0] / 2;
    mlp_users_ = register_parameter("mlp_user_embedding", normal({num_users, e}, 0.f, 0.01f, gen));
    mlp_items_ = register_parameter("mlp_item_embedding", normal({num_items, e}, 0.f, 0.01f, gen));
    nn::MLPOptions o;
    o.final_activation = true;  // every tower layer is ReLU; the output layer is `output`
    mlp_ = register_module("mlp", std::make_shared<nn::MLP>(layers, gen, o));
  }
  const int64_t in = (has_gmf() ? f : 0) + (has_mlp() ? f : 0);
  output_ = register_module("output", std::make_shared<nn::Linear>(in, 1, gen));
}

std::string NeuMf::name() const { return variant_name(config_.variant); }

std::string NeuMf::describe() const {
  std::string tower;
  for (int64_t s : config_.layers) tower += (tower.empty() ? "" : "-") + std::to_string(s);
  const char* kind = config_.variant == NcfVariant::kGmf   ? "GMF"
                     : config_.variant == NcfVariant::kMlp ? "MLP"
                                                           : "NeuMF";
  return recgrad::detail::str_cat(kind, "(", output_->in_features(), " -> 1, factors ",
                                  config_.factors, has_mlp() ? ", tower " + tower : "",
                                  ", ", config_.num_negatives, " negatives",
                                  config_.sparse_embedding_grads ? "" : ", dense embedding grads",
                                  pretrained_ ? ", pretrained" : "", ")");
}

void NeuMf::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_users == num_users_ && data.num_items == num_items_, name(),
                ": model built for ", num_users_, " users x ", num_items_, " items, data has ",
                data.num_users, " x ", data.num_items);
  PointwiseOptions opts;
  opts.batch_size = positives_per_batch();
  opts.seed = train_.seed;
  opts.num_negatives = config_.num_negatives;
  loader_.emplace(*data.history, opts);
}

std::unique_ptr<optim::Optimizer> NeuMf::make_optimizer() {
  if (!pretrained_) return Recommender::make_optimizer();
  optim::SGDOptions o;
  o.lr = train_.lr;
  o.weight_decay = train_.weight_decay;
  return std::make_unique<optim::SGD>(named_parameters(), o);
}

int64_t NeuMf::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), name(), ": attach() the training data before training");
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t NeuMf::batch_examples(int64_t index) const {
  const int64_t p = positives_per_batch();
  return std::min(p, loader_->num_examples() - index * p) * (1 + config_.num_negatives);
}

Tensor NeuMf::logits(const Ids& users, const Ids& items) {
  EmbeddingOptions lookup;
  lookup.sparse = config_.sparse_embedding_grads;
  std::vector<Tensor> phi;
  if (has_gmf())  // φ_g = p ⊙ q  [n, f]
    phi.push_back(mul(embedding(gmf_users_, users, lookup), embedding(gmf_items_, items, lookup)));
  if (has_mlp())  // φ_m = MLP([p ; q])  [n, f]
    phi.push_back(mlp_->forward(concat(
        {embedding(mlp_users_, users, lookup), embedding(mlp_items_, items, lookup)}, 1)));
  const Tensor h = phi.size() == 1 ? phi[0] : concat(phi, 1);  // [n, f or 2f]
  return reshape(output_->forward(h), {users.numel()});        // [n]
}

Tensor NeuMf::loss(int64_t index) {
  const PointwiseBatch b = loader_->batch(index);
  return bce_with_logits(logits(b.users, b.items), b.labels);
}

Tensor NeuMf::score_chunk(const Ids& users) {
  const int64_t b = users.numel(), f = config_.factors;
  const Tensor& h = output_->weight();  // [1, f or 2f]
  // The output bias, broadcast over [b, N].
  Tensor out = reshape(output_->bias(), {1, 1});
  if (has_gmf()) {
    // hᵀ(p ⊙ q) = (p ⊙ h)·q: one [b, f] x [f, N] product.
    const Tensor ph = mul(embedding(gmf_users_, users), narrow(h, 1, 0, f));  // [b, f]
    out = add(matmul(ph, gmf_items_, false, true), out);                     // [b, N]
  }
  if (has_mlp()) {
    const std::vector<std::shared_ptr<nn::Linear>>& layers = mlp_->layers();
    const int64_t e = mlp_users_.size(1), n = mlp_items_.size(0);
    // Layer 1 on [p ; q] is W_1ᵘ·p + W_1ⁱ·q + b_1: the user half [b, l1], the item half [N, l1].
    const Tensor& w1 = layers[0]->weight();  // [l1, 2e]
    const Tensor up = linear(embedding(mlp_users_, users), narrow(w1, 1, 0, e), Tensor());
    const Tensor ip = linear(mlp_items_, narrow(w1, 1, e, e), layers[0]->bias());
    Tensor x = relu(add(unsqueeze(up, 1), unsqueeze(ip, 0)));  // [b, N, l1]
    for (size_t k = 1; k < layers.size(); ++k) x = relu(layers[k]->forward(x));  // [b, N, f]
    const Tensor hm = narrow(h, 1, has_gmf() ? f : 0, f);                      // [1, f]
    out = add(reshape(matmul(reshape(x, {b * n, f}), hm, false, true), {b, n}), out);
  }
  return out;
}

Tensor NeuMf::score(const std::vector<int64_t>& users, const UserItems&) {
  const int64_t n = num_items_;
  const auto b = static_cast<int64_t>(users.size());
  const int64_t width = has_mlp() ? mlp_->layers()[0]->weight().size(0) : 0;  // l1
  const int64_t chunk = has_mlp() ? std::max<int64_t>(1, kMaxActivationsPerChunk / (n * width)) : b;
  if (b <= chunk) return score_chunk(Ids(users));
  std::vector<Tensor> parts;
  for (int64_t s = 0; s < b; s += chunk)
    parts.push_back(score_chunk(Ids(std::vector<int64_t>(
        users.begin() + s, users.begin() + std::min(b, s + chunk)))));
  return concat(parts, 0);
}

Tensor NeuMf::score_pairs(const std::vector<int64_t>& users, const std::vector<int64_t>& items,
                          const UserItems&) {
  RECGRAD_CHECK(users.size() == items.size(), name(), ": score_pairs: ", users.size(),
                " users but ", items.size(), " items");
  return logits(Ids(users), Ids(items));
}

void NeuMf::init_from_pretrained(const NeuMf& gmf, const NeuMf& mlp, float alpha) {
  RECGRAD_CHECK(config_.variant == NcfVariant::kNeuMf,
                "init_from_pretrained: needs a neumf model, this is ", name());
  RECGRAD_CHECK(gmf.config_.variant == NcfVariant::kGmf && mlp.config_.variant == NcfVariant::kMlp,
                "init_from_pretrained: expects a gmf and an mlp model, got ", gmf.name(), " and ",
                mlp.name());
  RECGRAD_CHECK(alpha >= 0 && alpha <= 1, "init_from_pretrained: alpha must be in [0, 1], got ",
                alpha);
  RECGRAD_CHECK(mlp.config_.layers == config_.layers,
                "init_from_pretrained: the pretrained MLP's tower differs from NeuMF's");
  copy_into(gmf_users_, gmf.gmf_users_, "GMF user embedding");
  copy_into(gmf_items_, gmf.gmf_items_, "GMF item embedding");
  copy_into(mlp_users_, mlp.mlp_users_, "MLP user embedding");
  copy_into(mlp_items_, mlp.mlp_items_, "MLP item embedding");
  for (size_t k = 0; k < mlp_->layers().size(); ++k) {
    copy_into(mlp_->layers()[k]->weight(), mlp.mlp_->layers()[k]->weight(), "MLP layer weight");
    copy_into(mlp_->layers()[k]->bias(), mlp.mlp_->layers()[k]->bias(), "MLP layer bias");
  }
  // h = [α·h_GMF ; (1-α)·h_MLP],  b = α·b_GMF + (1-α)·b_MLP.
  const int64_t f = config_.factors;
  Tensor h = output_->weight(), b = output_->bias();
  const float* hg = gmf.output_->weight().data();
  const float* hm = mlp.output_->weight().data();
  for (int64_t j = 0; j < f; ++j) {
    h.data()[j] = alpha * hg[j];
    h.data()[f + j] = (1 - alpha) * hm[j];
  }
  b.data()[0] = alpha * gmf.output_->bias().data()[0] + (1 - alpha) * mlp.output_->bias().data()[0];
  pretrained_ = true;
}

void load_pretrained(NeuMf& neumf, const std::string& gmf_checkpoint,
                     const std::string& mlp_checkpoint, float alpha) {
  NeuMfConfig c = neumf.config();
  c.variant = NcfVariant::kGmf;
  NeuMf gmf(c, neumf.num_users(), neumf.num_items());
  optim::load(gmf, gmf_checkpoint);
  c.variant = NcfVariant::kMlp;
  NeuMf mlp(c, neumf.num_users(), neumf.num_items());
  optim::load(mlp, mlp_checkpoint);
  neumf.init_from_pretrained(gmf, mlp, alpha);
}

}  // namespace recgrad::recsys
