#include "recsys/batches.h"

#include <algorithm>
#include <utility>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "autograd/parallel.h"
#include "recsys/user_sets.h"

namespace recgrad::recsys {
namespace {

// Salts keep the shuffle and negative streams of one seed apart.
constexpr uint64_t kShuffleSalt = 0x53485546464C4531ull;
constexpr uint64_t kNegativeSalt = 0x4E45474154495645ull;

// Rows per parallel task: ~10-100 µs of work each.
constexpr int64_t kGrainRows = 512;

// The user of each interaction, in list order.
std::vector<int64_t> owners(const UserItems& lists) {
  std::vector<int64_t> out(lists.items.size());
  for (int64_t u = 0; u < lists.num_users(); ++u)
    std::fill(out.begin() + lists.offsets[u], out.begin() + lists.offsets[u + 1], u);
  return out;
}

// Every user with examples must have a negative to draw.
void check_negatives_exist(const NegativeSampler& sampler, const std::vector<int64_t>& users,
                           const char* loader) {
  for (int64_t u : users)
    RECGRAD_CHECK(sampler.num_negatives(u) > 0, loader, ": user ", u, " has interacted with all ",
                  sampler.num_items(), " items; no negative to draw");
}

}  // namespace

EpochOrder::EpochOrder(int64_t num_examples, const LoaderOptions& opts, const char* loader)
    : opts_(opts), loader_(loader), order_(num_examples) {
  RECGRAD_CHECK(opts.batch_size >= 1, loader, ": batch_size must be >= 1, got ", opts.batch_size);
  start(0);
}

void EpochOrder::start(int64_t epoch) {
  RECGRAD_CHECK(epoch >= 0, loader_, ": epoch must be >= 0, got ", epoch);
  epoch_ = epoch;
  for (size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<int64_t>(i);
  if (!opts_.shuffle) return;
  Generator gen(detail::mix64(opts_.seed ^ kShuffleSalt, static_cast<uint64_t>(epoch)));
  for (size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[gen.next_below(i)]);
}

int64_t EpochOrder::num_batches() const {
  return (num_examples() + opts_.batch_size - 1) / opts_.batch_size;
}

std::vector<int64_t> EpochOrder::batch(int64_t index) const {
  RECGRAD_CHECK(index >= 0 && index < num_batches(), loader_, ": batch ", index,
                " is outside the epoch's ", num_batches(), " batches");
  const int64_t b = index * opts_.batch_size;
  const int64_t e = std::min(num_examples(), b + opts_.batch_size);
  return std::vector<int64_t>(order_.begin() + b, order_.begin() + e);
}

uint64_t EpochOrder::negative_key() const {
  return detail::mix64(opts_.seed ^ kNegativeSalt, static_cast<uint64_t>(epoch_));
}

// ---------------------------------------------------------------------------------------------

TripleLoader::TripleLoader(const UserItems& train, LoaderOptions opts)
    : sampler_(train, opts.sampler) {
  users_ = owners(train);
  items_ = train.items;
  check_negatives_exist(sampler_, users_, "TripleLoader");
  order_ = EpochOrder(static_cast<int64_t>(items_.size()), opts, "TripleLoader");
}

TripleBatch TripleLoader::batch(int64_t index) const {
  const std::vector<int64_t> ex = order_.batch(index);
  const auto b_size = static_cast<int64_t>(ex.size());
  const uint64_t key = order_.negative_key();
  std::vector<int64_t> users(b_size), pos(b_size), neg(b_size);
  detail::parallel_for(b_size, kGrainRows, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t x = ex[i];
      users[i] = users_[x];
      pos[i] = items_[x];
      Generator gen(detail::mix64(key, static_cast<uint64_t>(x)));
      neg[i] = sampler_.sample(users_[x], gen);
    }
  });
  return {Ids(std::move(users)), Ids(std::move(pos)), Ids(std::move(neg))};
}

// ---------------------------------------------------------------------------------------------

PointwiseLoader::PointwiseLoader(const UserItems& train, PointwiseOptions opts)
    : k_(opts.num_negatives), sampler_(train, opts.sampler) {
  RECGRAD_CHECK(k_ >= 0, "PointwiseLoader: num_negatives must be >= 0, got ", k_);
  users_ = owners(train);
  items_ = train.items;
  if (k_ > 0) check_negatives_exist(sampler_, users_, "PointwiseLoader");
  order_ = EpochOrder(static_cast<int64_t>(items_.size()), opts, "PointwiseLoader");
}

PointwiseBatch PointwiseLoader::batch(int64_t index) const {
  const std::vector<int64_t> ex = order_.batch(index);
  const auto b_size = static_cast<int64_t>(ex.size());
  const int64_t group = 1 + k_;
  const uint64_t key = order_.negative_key();
  std::vector<int64_t> users(b_size * group), items(b_size * group);
  Tensor labels = Tensor::empty({b_size * group});
  float* label = labels.data();
  detail::parallel_for(b_size, std::max<int64_t>(1, kGrainRows / group), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t x = ex[i], u = users_[x], row = i * group;
      Generator gen(detail::mix64(key, static_cast<uint64_t>(x)));
      std::fill(users.begin() + row, users.begin() + row + group, u);
      items[row] = items_[x];
      label[row] = 1.f;
      for (int64_t j = 1; j < group; ++j) {
        items[row + j] = sampler_.sample(u, gen);
        label[row + j] = 0.f;
      }
    }
  });
  return {Ids(std::move(users)), Ids(std::move(items)), labels};
}

// ---------------------------------------------------------------------------------------------

UserRowLoader::UserRowLoader(const UserItems& train, LoaderOptions opts, UserRowsPer per)
    : train_(train) {
  check_user_items(train_, "UserRowLoader: train");
  // A row is a set: ascending items let history_csr skip its per-batch sort.
  for (int64_t u = 0; u < train_.num_users(); ++u)
    std::sort(train_.items.begin() + train_.offsets[u],
              train_.items.begin() + train_.offsets[u + 1]);
  for (int64_t u = 0; u < train_.num_users(); ++u)
    users_.insert(users_.end(), per == UserRowsPer::kUser ? std::min<int64_t>(train_.count(u), 1)
                                                          : train_.count(u),
                  u);
  order_ = EpochOrder(static_cast<int64_t>(users_.size()), opts, "UserRowLoader");
}

UserRowBatch UserRowLoader::batch(int64_t index) const {
  Ids users = batch_users(index);
  const auto b_size = static_cast<int64_t>(users.values.size());
  const int64_t n = train_.num_items;
  Tensor rows = zeros({b_size, n});
  float* r = rows.data();
  detail::parallel_for(b_size, 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t u = users.values[i];
      for (const int64_t* it = train_.begin(u); it != train_.end(u); ++it) r[i * n + *it] = 1.f;
    }
  });
  return {std::move(users), rows};
}

Ids UserRowLoader::batch_users(int64_t index) const {
  const std::vector<int64_t> ex = order_.batch(index);
  std::vector<int64_t> users(ex.size());
  for (size_t i = 0; i < ex.size(); ++i) users[i] = users_[ex[i]];
  return Ids(std::move(users));
}

// ---------------------------------------------------------------------------------------------

SequenceLoader::SequenceLoader(const UserItems& train, SequenceOptions opts)
    : opts_(opts), train_(train), sampler_(train, opts.sampler) {
  RECGRAD_CHECK(opts_.max_len >= 1, "SequenceLoader: max_len must be >= 1, got ", opts_.max_len);
  RECGRAD_CHECK(opts_.num_negatives >= 0, "SequenceLoader: num_negatives must be >= 0, got ",
                opts_.num_negatives);
  for (int64_t u = 0; u < train_.num_users(); ++u)
    if (train_.count(u) >= 2) users_.push_back(u);
  if (opts_.num_negatives > 0) check_negatives_exist(sampler_, users_, "SequenceLoader");
  order_ = EpochOrder(static_cast<int64_t>(users_.size()), opts, "SequenceLoader");
}

SequenceBatch SequenceLoader::batch(int64_t index) const {
  const std::vector<int64_t> ex = order_.batch(index);
  const auto b_size = static_cast<int64_t>(ex.size());
  const int64_t len = opts_.max_len, k = opts_.num_negatives, pad = padding_id();
  const uint64_t key = order_.negative_key();
  std::vector<int64_t> users(b_size), inputs(b_size * len, pad), targets(b_size * len, pad),
      negatives(b_size * len * k, pad);
  detail::parallel_for(b_size, std::max<int64_t>(1, kGrainRows / len), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t x = ex[i], u = users_[x];
      users[i] = u;
      const int64_t* s = train_.begin(u);
      const int64_t m = train_.count(u);
      const int64_t kept = std::min(len, m - 1);
      Generator gen(detail::mix64(key, static_cast<uint64_t>(x)));
      for (int64_t t = 0; t < kept; ++t) {
        const int64_t slot = i * len + (len - kept + t);
        inputs[slot] = s[m - 1 - kept + t];
        targets[slot] = s[m - kept + t];
        for (int64_t j = 0; j < k; ++j) negatives[slot * k + j] = sampler_.sample(u, gen);
      }
    }
  });
  return {Ids(std::move(users)), Ids(std::move(inputs), {b_size, len}),
          Ids(std::move(targets), {b_size, len}), Ids(std::move(negatives), {b_size, len, k})};
}

// ---------------------------------------------------------------------------------------------

WindowLoader::WindowLoader(const UserItems& train, WindowOptions opts)
    : opts_(opts), train_(train), sampler_(train, opts.sampler) {
  const int64_t l = opts_.window, t = opts_.targets;
  RECGRAD_CHECK(l >= 1, "WindowLoader: window (L) must be >= 1, got ", l);
  RECGRAD_CHECK(t >= 1, "WindowLoader: targets (T) must be >= 1, got ", t);
  RECGRAD_CHECK(opts_.num_negatives >= 0, "WindowLoader: num_negatives must be >= 0, got ",
                opts_.num_negatives);
  std::vector<int64_t> with_windows;
  for (int64_t u = 0; u < train_.num_users(); ++u) {
    const int64_t m = train_.count(u);
    if (m <= t) continue;
    with_windows.push_back(u);
    // m >= L+T: every full window; T < m < L+T: one window starting before the history (padded).
    auto add = [&](int64_t start) {
      users_.push_back(u);
      starts_.push_back(start);
    };
    if (m >= l + t) {
      for (int64_t start = 0; start <= m - l - t; ++start) add(start);
    } else {
      add(m - l - t);
    }
  }
  if (opts_.num_negatives > 0) check_negatives_exist(sampler_, with_windows, "WindowLoader");
  order_ = EpochOrder(static_cast<int64_t>(users_.size()), opts, "WindowLoader");
}

WindowBatch WindowLoader::batch(int64_t index) const {
  const std::vector<int64_t> ex = order_.batch(index);
  const auto b_size = static_cast<int64_t>(ex.size());
  const int64_t l = opts_.window, t = opts_.targets, k = opts_.num_negatives, pad = padding_id();
  const uint64_t key = order_.negative_key();
  std::vector<int64_t> users(b_size), inputs(b_size * l), targets(b_size * t),
      negatives(b_size * k);
  detail::parallel_for(b_size, std::max<int64_t>(1, kGrainRows / (l + t)),
                       [&](int64_t b, int64_t e) {
                         for (int64_t i = b; i < e; ++i) {
                           const int64_t x = ex[i], u = users_[x], start = starts_[x];
                           const int64_t* s = train_.begin(u);
                           users[i] = u;
                           for (int64_t j = 0; j < l; ++j)
                             inputs[i * l + j] = start + j < 0 ? pad : s[start + j];
                           for (int64_t j = 0; j < t; ++j) targets[i * t + j] = s[start + l + j];
                           Generator gen(detail::mix64(key, static_cast<uint64_t>(x)));
                           for (int64_t j = 0; j < k; ++j)
                             negatives[i * k + j] = sampler_.sample(u, gen);
                         }
                       });
  return {Ids(std::move(users)), Ids(std::move(inputs), {b_size, l}),
          Ids(std::move(targets), {b_size, t}), Ids(std::move(negatives), {b_size, k})};
}

// ---------------------------------------------------------------------------------------------

Ids last_items(const UserItems& history, const std::vector<int64_t>& users, int64_t max_len) {
  RECGRAD_CHECK(max_len >= 1, "last_items: max_len must be >= 1, got ", max_len);
  for (int64_t u : users)
    RECGRAD_CHECK(u >= 0 && u < history.num_users(), "last_items: user ", u, " is outside [0, ",
                  history.num_users(), ")");
  const auto b_size = static_cast<int64_t>(users.size());
  std::vector<int64_t> out(b_size * max_len, history.num_items);
  detail::parallel_for(b_size, std::max<int64_t>(1, kGrainRows / max_len),
                       [&](int64_t b, int64_t e) {
                         for (int64_t i = b; i < e; ++i) {
                           const int64_t m = history.count(users[i]), kept = std::min(max_len, m);
                           std::copy(history.end(users[i]) - kept, history.end(users[i]),
                                     out.begin() + i * max_len + (max_len - kept));
                         }
                       });
  return Ids(std::move(out), {b_size, max_len});
}

}  // namespace recgrad::recsys
