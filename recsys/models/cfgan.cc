#include "recsys/models/cfgan.h"

#include <algorithm>
#include <utility>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/activation.h"
#include "ops/dropout_mask.h"
#include "ops/elementwise.h"
#include "ops/fast_math.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "optim/adam.h"
#include "recsys/model_utils.h"

namespace recgrad::recsys {
namespace {

constexpr uint64_t kPartialMaskSalt = 0x43464741504D534Bull;
constexpr uint64_t kZeroReconSalt = 0x43464741305A524Bull;

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Marks parameters as not needing gradients for its lifetime: a backward pass through a frozen
// network then computes no weight gradients for it (they would be thrown away).
class FrozenParameters {
 public:
  explicit FrozenParameters(std::vector<Tensor> params) : params_(std::move(params)) {
    for (Tensor& p : params_) p.set_requires_grad(false);
  }
  ~FrozenParameters() {
    for (Tensor& p : params_) p.set_requires_grad(true);
  }
  FrozenParameters(const FrozenParameters&) = delete;
  FrozenParameters& operator=(const FrozenParameters&) = delete;

 private:
  std::vector<Tensor> params_;
};

std::vector<int64_t> mlp_sizes(int64_t in, const std::vector<int64_t>& hidden, int64_t out) {
  std::vector<int64_t> s{in};
  s.insert(s.end(), hidden.begin(), hidden.end());
  s.push_back(out);
  return s;
}

// One user's PM and ZR draws: an unpurchased item joins a set where its 32-bit hash under the
// user's key for that set is below the set's threshold (probability S_PM or S_ZR; the hash is
// dropout's, ops/dropout_mask.h).
struct MaskDraw {
  uint32_t pm_user, zr_user, pm_below, zr_below;
};

// Item j's entries: pm = c_u plus the unpurchased items drawn into PM, zr = the unpurchased
// items drawn into ZR. Branch-free, so the block loop below vectorises: a 64-bit hash per set
// and item, with a branch on each draw, made building the batch about 20% of a training step.
inline void draw_item(const MaskDraw& d, uint32_t j, float purchased, float* pm, float* zr) {
  const bool unpurchased = purchased == 0.f;
  const bool in_pm = recgrad::detail::dropout_hash(d.pm_user, j) < d.pm_below;
  const bool in_zr = recgrad::detail::dropout_hash(d.zr_user, j) < d.zr_below;
  *pm = unpurchased && in_pm ? 1.f : purchased;
  *zr = unpurchased && in_zr ? 1.f : 0.f;
}

// A user's pm and zr rows over n items, in fixed blocks (see ops/fast_math.h) and a remainder.
void draw_masks(const MaskDraw& d, const float* purchased, float* pm, float* zr, int64_t n) {
  constexpr int64_t kBlock = recgrad::detail::kSimdBlock;
  int64_t j = 0;
  for (; j + kBlock <= n; j += kBlock) {
    const float* __restrict c = purchased + j;
    float* __restrict p = pm + j;
    float* __restrict z = zr + j;
    for (int64_t k = 0; k < kBlock; ++k)
      draw_item(d, static_cast<uint32_t>(j + k), c[k], p + k, z + k);
  }
  for (; j < n; ++j) draw_item(d, static_cast<uint32_t>(j), purchased[j], pm + j, zr + j);
}

}  // namespace

Cfgan::Cfgan(const CfganConfig& config, int64_t num_users, int64_t num_items)
    : Recommender(config.train), config_(config), num_items_(num_items) {
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "cfgan: need users and items, got ", num_users,
                " users and ", num_items, " items");
  for (int64_t h : config.generator_hidden)
    RECGRAD_CHECK(h > 0, "cfgan: generator hidden sizes must be positive, got ", h);
  for (int64_t h : config.discriminator_hidden)
    RECGRAD_CHECK(h > 0, "cfgan: discriminator hidden sizes must be positive, got ", h);
  RECGRAD_CHECK(
      config.zr_ratio >= 0 && config.zr_ratio <= 1 && config.pm_ratio >= 0 && config.pm_ratio <= 1,
      "cfgan: zr_ratio ", config.zr_ratio, " and pm_ratio ", config.pm_ratio,
      " must lie in [0, 1]");
  RECGRAD_CHECK(config.zr_weight >= 0, "cfgan: zr_weight must be >= 0, got ", config.zr_weight);
  RECGRAD_CHECK(config.d_steps >= 1 && config.g_steps >= 1, "cfgan: d_steps ", config.d_steps,
                " and g_steps ", config.g_steps, " must be >= 1");
  RECGRAD_CHECK(config.d_lr >= 0 && config.g_weight_decay >= 0 && config.d_weight_decay >= 0,
                "cfgan: d_lr and the weight decays must be >= 0");
  Generator gen(config.train.seed);
  nn::MLPOptions g_opts, d_opts;
  g_opts.activation = config.generator_activation;
  d_opts.activation = config.discriminator_activation;
  generator_ = register_module(
      "generator", std::make_shared<nn::MLP>(
                       mlp_sizes(num_items, config.generator_hidden, num_items), gen, g_opts));
  discriminator_ = register_module(
      "discriminator", std::make_shared<nn::MLP>(
                           mlp_sizes(2 * num_items, config.discriminator_hidden, 1), gen, d_opts));
  xavier_init(*generator_, gen);
  xavier_init(*discriminator_, gen);
}

std::string Cfgan::describe() const {
  return recgrad::detail::str_cat("CFGAN(", num_items_, " items, S_ZR ", config_.zr_ratio,
                                  ", S_PM ", config_.pm_ratio, ", alpha ", config_.zr_weight, ")");
}

void Cfgan::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == num_items_, "cfgan: model built for ", num_items_,
                " items, data has ", data.num_items);
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  loader_.emplace(*data.history, opts);
}

std::unique_ptr<optim::Optimizer> Cfgan::make_optimizer() {
  optim::AdamOptions o;
  o.lr = train_.lr;
  auto opt = std::make_unique<optim::Adam>(named_parameters(), o);
  optim::GroupOptions g, d;
  g.lr = train_.lr;
  g.weight_decay = config_.g_weight_decay;
  d.lr = config_.d_lr > 0 ? config_.d_lr : train_.lr;
  d.weight_decay = config_.d_weight_decay;
  opt->add_group(
      "generator", [](const std::string& n) { return starts_with(n, "generator."); }, g);
  opt->add_group(
      "discriminator", [](const std::string& n) { return starts_with(n, "discriminator."); }, d);
  return opt;
}

int64_t Cfgan::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "cfgan: attach() the training data before training");
  epoch_ = epoch;
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t Cfgan::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

Cfgan::Batch Cfgan::make_batch(int64_t index) const {
  RECGRAD_CHECK(loader_.has_value(), "cfgan: attach() the training data before training");
  UserRowBatch ub = loader_->batch(index);
  const int64_t b_size = ub.rows.size(0), n = num_items_;
  Batch b{ub.rows, csr_from_dense(ub.rows), Tensor::empty({b_size, n}),
          Tensor::empty({b_size, n})};
  // Each unpurchased item joins PM with probability S_PM and ZR with probability S_ZR,
  // independently, by a hash of (seed, epoch, user, item): a user's sets are fixed for the
  // epoch and do not depend on the batch or the thread count.
  const uint64_t pm_key = batch_key(train_.seed, kPartialMaskSalt, epoch_, 0);
  const uint64_t zr_key = batch_key(train_.seed, kZeroReconSalt, epoch_, 0);
  const uint32_t pm_below =
      recgrad::detail::dropout_threshold(static_cast<float>(config_.pm_ratio));
  const uint32_t zr_below =
      recgrad::detail::dropout_threshold(static_cast<float>(config_.zr_ratio));
  const float* purchased = b.rows.data();
  float* pm = b.pm_mask.data();
  float* zr = b.zr_mask.data();
  const std::vector<int64_t>& users = ub.users.values;
  recgrad::detail::parallel_for(b_size, 4, [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const auto user = static_cast<uint64_t>(users[r]);
      const MaskDraw d{static_cast<uint32_t>(recgrad::detail::mix64(pm_key, user)),
                       static_cast<uint32_t>(recgrad::detail::mix64(zr_key, user)), pm_below,
                       zr_below};
      draw_masks(d, purchased + r * n, pm + r * n, zr + r * n, n);
    }
  });
  return b;
}

Tensor Cfgan::discriminate(const Tensor& x, const Tensor& condition) {
  return reshape(discriminator_->forward(concat({x, condition}, 1)), {x.size(0)});
}

Tensor Cfgan::discriminate_real(const CsrMatrix& condition) {
  // The real pair c_u ⊕ c_u is as sparse as c_u: one CSR row per user with columns j and n + j,
  // so D's first layer reads 2·nnz entries instead of 2·n.
  CsrMatrix pair;
  pair.rows = condition.rows;
  pair.cols = 2 * condition.cols;
  pair.offsets.reserve(condition.offsets.size());
  pair.columns.reserve(2 * condition.columns.size());
  pair.values.reserve(2 * condition.values.size());
  for (int64_t r = 0; r < condition.rows; ++r) {
    for (int64_t shift : {int64_t{0}, condition.cols})
      for (int64_t k = condition.offsets[r]; k < condition.offsets[r + 1]; ++k) {
        pair.columns.push_back(condition.columns[k] + shift);
        pair.values.push_back(condition.values[k]);
      }
    pair.offsets.push_back(pair.nnz());
  }
  return reshape(mlp_forward_sparse(*discriminator_, pair, config_.discriminator_activation,
                                    /*final_activation=*/false),
                 {condition.rows});
}

Tensor Cfgan::discriminator_loss(const Batch& b, const Tensor& r_hat, GanStepLog* log) {
  const Tensor fake = mul(r_hat.detach(), b.pm_mask);  // D's step leaves G alone
  const int64_t b_size = b.rows.size(0);
  const Tensor real_logit = discriminate_real(b.purchased);
  const Tensor fake_logit = discriminate(fake, b.rows);
  const Tensor loss = add(bce_with_logits(real_logit, ones({b_size})),
                          bce_with_logits(fake_logit, zeros({b_size})));
  if (log) {
    NoGradGuard no_grad;
    log->d_loss = loss.item();
    log->d_real = mean(sigmoid(real_logit)).item();
    log->d_fake = mean(sigmoid(fake_logit)).item();
  }
  return loss;
}

Tensor Cfgan::generate(const CsrMatrix& rows) {
  // c_u is ~95% zeros: G's first layer reads its non-zeros only.
  return sigmoid(mlp_forward_sparse(*generator_, rows, config_.generator_activation,
                                    /*final_activation=*/false));
}

Tensor Cfgan::generator_loss(const Batch& b, const Tensor& r_hat, GanStepLog* log) {
  const int64_t b_size = b.rows.size(0);
  const Tensor fake_logit = discriminate(mul(r_hat, b.pm_mask), b.rows);
  const Tensor adversarial = bce_with_logits(fake_logit, ones({b_size}));  // -log D(fake)
  const Tensor zr = div(sum(mul(square(r_hat), b.zr_mask)), static_cast<float>(b_size));
  if (log) {
    log->g_loss = adversarial.item();
    log->zr = zr.item();
  }
  return add(adversarial, mul(zr, static_cast<float>(config_.zr_weight)));
}

Tensor Cfgan::loss(int64_t index) {
  const Batch b = make_batch(index);
  return generator_loss(b, generate(b.purchased), nullptr);
}

double Cfgan::train_step(int64_t index, optim::Optimizer& opt) {
  const Batch b = make_batch(index);
  GanStepLog entry;
  // D's steps do not change G, so its first generator step reuses the output D trained on.
  Tensor r_hat = generate(b.purchased);  // [B, n], with G's graph
  for (int64_t s = 0; s < config_.d_steps; ++s) {
    opt.zero_grad();
    discriminator_loss(b, r_hat, &entry).backward();
    opt.step();  // only D has gradients
  }
  double g = 0;
  for (int64_t s = 0; s < config_.g_steps; ++s) {
    opt.zero_grad();
    {
      FrozenParameters frozen(discriminator_->parameters());  // G's step must not move D
      if (s > 0) r_hat = generate(b.purchased);
      Tensor l = generator_loss(b, r_hat, &entry);
      l.backward();
      g = l.item();
    }
    opt.step();
  }
  log_.push_back(entry);
  return g;
}

Tensor Cfgan::score(const std::vector<int64_t>& users, const UserItems& history) {
  return mlp_forward_sparse(*generator_, csr_from_dense(history_rows(history, users)),
                            config_.generator_activation, /*final_activation=*/false);
}

}  // namespace recgrad::recsys
