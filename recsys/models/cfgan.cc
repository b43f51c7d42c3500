#include "recsys/models/cfgan.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>

#include "autograd/anomaly.h"
#include "autograd/error.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "nn/activation.h"
#include "ops/activation.h"
#include "ops/dropout_mask.h"
#include "ops/elementwise.h"
#include "ops/fast_math.h"
#include "ops/linear.h"
#include "ops/loss.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "optim/adam.h"
#include "recsys/cooccurrence.h"
#include "recsys/model_utils.h"

namespace recgrad::recsys {
namespace {

constexpr uint64_t kPartialMaskSalt = 0x43464741504D534Bull;
constexpr uint64_t kZeroReconSalt = 0x43464741305A524Bull;
constexpr uint64_t kDiscriminatorOrderSalt = 0x4346474144524452ull;

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

// The history's 0/1 matrix transposed: item i's users, ascending, as "user" i's items.
UserItems users_by_item(const UserItems& history) {
  ItemUsers columns = item_users(distinct_items(history));
  UserItems t;
  t.offsets = std::move(columns.offsets);
  t.items = std::move(columns.users);
  t.num_items = history.num_users();
  return t;
}

std::vector<int64_t> mlp_sizes(int64_t in, const std::vector<int64_t>& hidden, int64_t out) {
  std::vector<int64_t> s{in};
  s.insert(s.end(), hidden.begin(), hidden.end());
  s.push_back(out);
  return s;
}

// One row's PM and ZR draws (rows are users below; with item rows, items): an unpurchased item
// joins a set where its 32-bit hash under the user's key for that set is below the set's
// threshold (probability S_PM or S_ZR; the hash is dropout's, ops/dropout_mask.h).
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
    : Recommender(config.train),
      config_(config),
      num_users_(num_users),
      num_items_(num_items),
      width_(config.rows == CfganRows::kItem ? num_users : num_items) {
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
  RECGRAD_CHECK(config.d_batch_size >= 0, "cfgan: d_batch_size must be >= 0 (0: batch_size), got ",
                config.d_batch_size);
  Generator gen(config.train.seed);
  nn::MLPOptions g_opts, d_opts;
  g_opts.activation = config.generator_activation;
  d_opts.activation = config.discriminator_activation;
  generator_ = register_module(
      "generator",
      std::make_shared<nn::MLP>(mlp_sizes(width_, config.generator_hidden, width_), gen, g_opts));
  discriminator_ = register_module(
      "discriminator", std::make_shared<nn::MLP>(
                           mlp_sizes(2 * width_, config.discriminator_hidden, 1), gen, d_opts));
  xavier_init(*generator_, gen);
  xavier_init(*discriminator_, gen);
}

std::string Cfgan::describe() const {
  const bool item_rows = config_.rows == CfganRows::kItem;
  return recgrad::detail::str_cat(
      "CFGAN(", item_rows ? num_users_ : num_items_, item_rows ? " users" : " items",
      item_rows ? " per item row" : " per user row", ", S_ZR ", config_.zr_ratio, ", S_PM ",
      config_.pm_ratio, config_.shared_samples ? " (one draw)" : "", ", alpha ", config_.zr_weight,
      config_.sigmoid_output ? "" : ", linear output",
      config_.schedule == CfganSchedule::kPerEpoch ? ", D and G alternate by epochs" : "", ")");
}

void Cfgan::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == num_items_ && data.num_users == num_users_,
                "cfgan: model built for ", num_users_, " users and ", num_items_,
                " items, data has ", data.num_users, " and ", data.num_items);
  // Item rows are each item's users. (One conditional expression would copy the history too.)
  std::optional<UserItems> by_item;
  if (config_.rows == CfganRows::kItem) by_item = users_by_item(*data.history);
  const UserItems& rows = by_item ? *by_item : *data.history;
  LoaderOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  g_loader_.emplace(rows, opts);
  d_loader_.reset();
  if (config_.schedule == CfganSchedule::kPerEpoch) {
    if (config_.d_batch_size > 0) opts.batch_size = config_.d_batch_size;
    opts.seed = recgrad::detail::mix64(train_.seed, kDiscriminatorOrderSalt);
    d_loader_.emplace(rows, opts);
  }
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
  RECGRAD_CHECK(g_loader_.has_value(), "cfgan: attach() the training data before training");
  epoch_ = epoch;
  if (config_.schedule == CfganSchedule::kPerBatch) {
    g_loader_->start_epoch(epoch);
    return g_loader_->num_batches();
  }
  // Each pass has its own order: pass p of epoch e is the loader's epoch e·passes + p.
  g_loader_->start_epoch(epoch * config_.g_steps);
  d_loader_->start_epoch(epoch * config_.d_steps);
  return config_.d_steps * d_loader_->num_batches() + config_.g_steps * g_loader_->num_batches();
}

Cfgan::Step Cfgan::locate(int64_t index) const {
  RECGRAD_CHECK(g_loader_.has_value(), "cfgan: attach() the training data before training");
  if (config_.schedule == CfganSchedule::kPerBatch) return Step{false, 0, index};
  const int64_t d_batches = d_loader_->num_batches(), g_batches = g_loader_->num_batches();
  RECGRAD_CHECK(index >= 0 && index < config_.d_steps * d_batches + config_.g_steps * g_batches,
                "cfgan: step ", index, " is outside the epoch's ",
                config_.d_steps * d_batches + config_.g_steps * g_batches);
  if (index < config_.d_steps * d_batches) return Step{true, index / d_batches, index % d_batches};
  index -= config_.d_steps * d_batches;
  return Step{false, index / g_batches, index % g_batches};
}

const UserRowLoader& Cfgan::loader_for(const Step& s) {
  if (config_.schedule == CfganSchedule::kPerBatch) return *g_loader_;
  UserRowLoader& loader = s.discriminator ? *d_loader_ : *g_loader_;
  const int64_t pass = epoch_ * (s.discriminator ? config_.d_steps : config_.g_steps) + s.pass;
  if (loader.epoch() != pass) loader.start_epoch(pass);
  return loader;
}

int64_t Cfgan::batch_examples(int64_t index) const {
  const Step s = locate(index);
  const UserRowLoader& loader = s.discriminator ? *d_loader_ : *g_loader_;
  const int64_t batch_size =
      s.discriminator && config_.d_batch_size > 0 ? config_.d_batch_size : train_.batch_size;
  return std::min(batch_size, loader.num_examples() - s.batch * batch_size);
}

Cfgan::StepBatch Cfgan::step_batch(int64_t index) {
  const Step s = locate(index);
  const UserRowLoader& loader = loader_for(s);
  Batch b = make_batch(loader, s.batch);
  return StepBatch{s.discriminator, loader.batch_users(s.batch).values, std::move(b.rows),
                   std::move(b.pm_mask), std::move(b.zr_mask)};
}

Cfgan::Batch Cfgan::make_batch(const UserRowLoader& loader, int64_t index) const {
  UserRowBatch ub = loader.batch(index);
  const int64_t b_size = ub.rows.size(0), n = width_;
  Batch b{ub.rows, csr_from_dense(ub.rows), Tensor::empty({b_size, n}),
          Tensor::empty({b_size, n})};
  // Each unpurchased entry joins PM with probability S_PM and ZR with probability S_ZR,
  // independently (or, with shared samples, by one draw), by a hash of (seed, epoch, row,
  // entry): a row's sets are fixed for the epoch (all its passes) and do not depend on the
  // batch or the thread count.
  const uint64_t pm_key = batch_key(train_.seed, kPartialMaskSalt, epoch_, 0);
  const uint64_t zr_key =
      config_.shared_samples ? pm_key : batch_key(train_.seed, kZeroReconSalt, epoch_, 0);
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
  // c is ~95% zeros: G's first layer reads its non-zeros only.
  Tensor out = mlp_forward_sparse(*generator_, rows, config_.generator_activation,
                                  /*final_activation=*/false);
  return config_.sigmoid_output ? sigmoid(out) : out;
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
  const Step s = locate(index);
  const Batch b = make_batch(loader_for(s), s.batch);
  if (!s.discriminator) return generator_loss(b, generate(b.purchased), nullptr);
  Tensor r_hat;
  {
    NoGradGuard no_grad;  // D's loss reads G's output as data
    r_hat = generate(b.purchased);
  }
  return discriminator_loss(b, r_hat, nullptr);
}

double Cfgan::discriminator_step(const Batch& b, const Tensor& r_hat, optim::Optimizer& opt,
                                 GanStepLog* log) {
  opt.zero_grad();
  Tensor l = discriminator_loss(b, r_hat, log);
  const double value = l.item();
  check_finite_loss(opt, value);
  l.backward();
  opt.step();  // only D has gradients
  return value;
}

double Cfgan::generator_step(const Batch& b, const Tensor* r_hat, optim::Optimizer& opt,
                             GanStepLog* log) {
  opt.zero_grad();
  double value = 0;
  {
    FrozenParameters frozen(discriminator_->parameters());  // G's step must not move D
    Tensor l = generator_loss(b, r_hat ? *r_hat : generate(b.purchased), log);
    value = l.item();
    check_finite_loss(opt, value);
    l.backward();
  }
  opt.step();
  return value;
}

double Cfgan::train_step(int64_t index, optim::Optimizer& opt) {
  const Step s = locate(index);
  const Batch b = make_batch(loader_for(s), s.batch);
  GanStepLog entry;
  double value = 0;
  if (config_.schedule == CfganSchedule::kPerEpoch) {
    if (s.discriminator) {
      Tensor r_hat;
      {
        NoGradGuard no_grad;
        r_hat = generate(b.purchased);
      }
      value = discriminator_step(b, r_hat, opt, &entry);
    } else {
      value = generator_step(b, nullptr, opt, &entry);
    }
  } else {
    // D's steps do not change G, so G's first step reuses the output D trained on.
    const Tensor r_hat = generate(b.purchased);  // [B, n], with G's graph
    for (int64_t k = 0; k < config_.d_steps; ++k) discriminator_step(b, r_hat, opt, &entry);
    for (int64_t k = 0; k < config_.g_steps; ++k)
      value = generator_step(b, k == 0 ? &r_hat : nullptr, opt, &entry);
  }
  log_.push_back(entry);
  return value;
}

Tensor Cfgan::score(const std::vector<int64_t>& users, const UserItems& history) {
  if (config_.rows == CfganRows::kUser)
    return mlp_forward_sparse(*generator_, csr_from_dense(history_rows(history, users)),
                              config_.generator_activation, /*final_activation=*/false);
  // Every item's column of the history goes through G, but the output layer is read only at
  // the users asked for (its rows W[u], b[u]).
  RECGRAD_CHECK(history.num_users() == num_users_, "cfgan: model built for ", num_users_,
                " users, the history has ", history.num_users());
  const std::shared_ptr<const ItemInputs> in = item_inputs(history);
  const nn::Linear& out = *generator_->layers().back();
  const Ids at(users);
  const Tensor w = index_select(out.weight(), 0, at), b = index_select(out.bias(), 0, at);
  return transpose(
      in->hidden.defined() ? linear(in->hidden, w, b) : sparse_linear(*in->columns, w, b), 0, 1);
}

std::shared_ptr<const Cfgan::ItemInputs> Cfgan::item_inputs(const UserItems& history) {
  const auto& layers = generator_->layers();
  const size_t last = layers.size() - 1;
  std::vector<const Tensor*> below;  // the parameters the inputs depend on
  for (size_t i = 0; i < last; ++i) {
    below.push_back(&layers[i]->weight());
    below.push_back(&layers[i]->bias());
  }
  std::lock_guard<std::mutex> lock(item_inputs_mutex_);
  if (item_inputs_ && item_inputs_->offsets == history.offsets &&
      item_inputs_->items == history.items) {
    bool same = true;
    for (size_t k = 0; k < below.size() && same; ++k)
      same = std::memcmp(item_inputs_->params[k].data(), below[k]->data(),
                         sizeof(float) * below[k]->numel()) == 0;
    if (same) return item_inputs_;
  }
  NoGradGuard no_grad;  // kept across calls: no graph
  auto in = std::make_shared<ItemInputs>();
  in->offsets = history.offsets;
  in->items = history.items;
  for (const Tensor* p : below) in->params.emplace_back(p->data(), p->data() + p->numel());
  std::vector<int64_t> items(static_cast<size_t>(num_items_));
  for (int64_t i = 0; i < num_items_; ++i) items[static_cast<size_t>(i)] = i;
  in->columns = std::make_shared<const CsrMatrix>(history_csr(users_by_item(history), items));
  if (last > 0) {
    Tensor h = sparse_linear(*in->columns, layers[0]->weight(), layers[0]->bias());
    for (size_t i = 1; i < last; ++i)
      h = layers[i]->forward(nn::activate(config_.generator_activation, h));
    in->hidden = nn::activate(config_.generator_activation, h);
  }
  item_inputs_ = in;
  return in;
}

}  // namespace recgrad::recsys
