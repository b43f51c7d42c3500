#pragma once
// Training batches over epochs, for the four shapes recommender models train on:
//   TripleLoader     (user, positive, negative)             BPR and other pairwise losses
//   PointwiseLoader  (user, item, label), k negatives each  NCF-style binary cross-entropy
//   UserRowLoader    0/1 rows of the interaction matrix     autoencoders (Mult-VAE, CDAE)
//   SequenceLoader   left-padded histories, next-item targets at every position (SASRec, GRU4Rec)
//   WindowLoader     windows of L items with the T items that follow (Caser)
//
// Epochs: a loader walks its examples in an order that depends only on (seed, epoch); the
// negatives of example x in epoch e come from Generator(mix64(key(seed, e), x)), so the same
// seed gives the same batches at any thread count and batch rows are assembled in parallel.
// Negatives are never one of the user's training items (see recsys/sampler.h).
//
// Padding: sequences are left-padded with the id num_items (one past the last item), so item
// ids keep their meaning everywhere; a sequence model's item table has num_items + 1 rows, the
// last being the padding row. A target equal to num_items means "no target here".
#include <cstdint>
#include <vector>

#include "autograd/tensor.h"
#include "recsys/dataset.h"
#include "recsys/sampler.h"

namespace recgrad::recsys {

/// Options every loader shares.
struct LoaderOptions {
  int64_t batch_size = 256;  ///< examples per batch; the last batch of an epoch may be smaller
  uint64_t seed = 0;         ///< the order and negatives of epoch e depend only on (seed, e)
  bool shuffle = true;       ///< false: examples in user-major order every epoch
  SamplerOptions sampler;    ///< how negatives are drawn
};

/// The order of an epoch's examples and its cut into batches.
class EpochOrder {
 public:
  EpochOrder() = default;
  /// Validates opts (naming `loader`) and starts epoch 0.
  EpochOrder(int64_t num_examples, const LoaderOptions& opts, const char* loader);
  /// Reorders for `epoch`: a Fisher-Yates shuffle from Generator(mix64(seed, epoch)).
  void start(int64_t epoch);
  /// The current epoch.
  int64_t epoch() const { return epoch_; }
  /// Examples per epoch.
  int64_t num_examples() const { return static_cast<int64_t>(order_.size()); }
  /// ceil(num_examples / batch_size).
  int64_t num_batches() const;
  /// Example ids of batch `index` of the current epoch.
  std::vector<int64_t> batch(int64_t index) const;
  /// The key negatives of the current epoch are drawn from (with the example id).
  uint64_t negative_key() const;

 private:
  LoaderOptions opts_;
  const char* loader_ = "";
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
};

/// The epoch walk shared by the loaders: start_epoch, then next() until it returns false.
template <typename Batch>
class EpochLoader {
 public:
  virtual ~EpochLoader() = default;
  /// Reorders for `epoch` and rewinds to its first batch.
  void start_epoch(int64_t epoch) {
    order_.start(epoch);
    cursor_ = 0;
  }
  /// The next batch of the current epoch into `out`; false (out untouched) at the end.
  bool next(Batch& out) {
    if (cursor_ >= num_batches()) return false;
    out = batch(cursor_++);
    return true;
  }
  /// Batch `index` of the current epoch (random access; next() walks them in order).
  virtual Batch batch(int64_t index) const = 0;
  /// Batches per epoch: ceil(num_examples / batch_size).
  int64_t num_batches() const { return order_.num_batches(); }
  /// Examples per epoch (interactions, users, sequences or windows).
  int64_t num_examples() const { return order_.num_examples(); }
  /// The current epoch.
  int64_t epoch() const { return order_.epoch(); }

 protected:
  EpochOrder order_;
  int64_t cursor_ = 0;
};

/// (user, positive item, negative item) rows.  users, pos_items, neg_items [B]
struct TripleBatch {
  Ids users, pos_items, neg_items;
};

/// One triple per training interaction (duplicates included) per epoch.
class TripleLoader : public EpochLoader<TripleBatch> {
 public:
  /// train: each user's training items. Throws recgrad::Error on bad options, or a user with
  /// training items but no possible negative.
  explicit TripleLoader(const UserItems& train, LoaderOptions opts = {});
  TripleBatch batch(int64_t index) const override;

 private:
  std::vector<int64_t> users_, items_;  // example x is the interaction (users_[x], items_[x])
  NegativeSampler sampler_;
};

/// Options of a PointwiseLoader.
struct PointwiseOptions : LoaderOptions {
  int64_t num_negatives = 4;  ///< k negatives per positive (NCF uses 4)
};

/// Rows (user, item, label): each positive (label 1) followed by its k negatives (label 0).
/// users, items [B·(1+k)], labels [B·(1+k)] of 1/0; B counts positives.
struct PointwiseBatch {
  Ids users, items;
  Tensor labels;
};

/// One group of 1 + k rows per training interaction per epoch.
class PointwiseLoader : public EpochLoader<PointwiseBatch> {
 public:
  explicit PointwiseLoader(const UserItems& train, PointwiseOptions opts = {});
  PointwiseBatch batch(int64_t index) const override;

 private:
  int64_t k_;
  std::vector<int64_t> users_, items_;
  NegativeSampler sampler_;
};

/// Users and their 0/1 rows of the interaction matrix.  users [B], rows [B, num_items]
struct UserRowBatch {
  Ids users;
  Tensor rows;
};

/// What an epoch of user rows walks over.
enum class UserRowsPer {
  kUser,         ///< each user with training items once (Liang et al.'s Mult-VAE)
  kInteraction,  ///< each user once per training interaction, so active users weigh more and
                 ///< an epoch has as many rows as interactions (RecBole's autoencoders draw
                 ///< batches of interactions and read each one's user row)
};

/// One row per user with at least one training item (repeats count once), or per interaction,
/// per epoch.
class UserRowLoader : public EpochLoader<UserRowBatch> {
 public:
  explicit UserRowLoader(const UserItems& train, LoaderOptions opts = {},
                         UserRowsPer per = UserRowsPer::kUser);
  UserRowBatch batch(int64_t index) const override;
  /// The users of batch(index) without their dense rows, for models that read the rows
  /// sparsely (recsys/model_utils.h's history_csr over history()).
  Ids batch_users(int64_t index) const;
  /// The training histories the rows come from, each user's items in ascending order.
  const UserItems& history() const { return train_; }

 private:
  UserItems train_;
  std::vector<int64_t> users_;
};

/// Options of a SequenceLoader.
struct SequenceOptions : LoaderOptions {
  int64_t max_len = 50;       ///< positions kept (the most recent ones)
  int64_t num_negatives = 0;  ///< negatives per position (SASRec: 1); 0 = none
};

/// Next-item training sequences, left-padded with num_items:
///   history s_0 .. s_{m-1} ->  inputs  [pad .. pad, s_{m-1-L}, ..., s_{m-2}]
///                              targets [pad .. pad, s_{m-L},   ..., s_{m-1}],  L = min(max_len,
///                              m-1)
/// users [B], inputs/targets [B, max_len], negatives [B, max_len, k] (pad where the target is
/// pad; shape [B, max_len, 0] when k = 0).
struct SequenceBatch {
  Ids users, inputs, targets, negatives;
};

/// One sequence per user with at least 2 training items (in the list's order: sort the data by
/// time first), per epoch.
class SequenceLoader : public EpochLoader<SequenceBatch> {
 public:
  explicit SequenceLoader(const UserItems& train, SequenceOptions opts = {});
  SequenceBatch batch(int64_t index) const override;
  /// The padding id: num_items.
  int64_t padding_id() const { return train_.num_items; }

 private:
  SequenceOptions opts_;
  UserItems train_;
  std::vector<int64_t> users_;
  NegativeSampler sampler_;
};

/// Options of a WindowLoader (Caser: L = 5, T = 3, 3 negatives).
struct WindowOptions : LoaderOptions {
  int64_t window = 5;         ///< L input items
  int64_t targets = 3;        ///< T target items following them
  int64_t num_negatives = 3;  ///< negatives per window; 0 = none
};

/// Sliding windows over each user's history (step 1): inputs s_i .. s_{i+L-1}, targets
/// s_{i+L} .. s_{i+L+T-1}. A user with T < m < L+T items gives one window left-padded with
/// num_items (as Caser does); a user with m <= T gives none.
/// users [B], inputs [B, L], targets [B, T], negatives [B, k].
struct WindowBatch {
  Ids users, inputs, targets, negatives;
};

/// Every window of every user, per epoch.
class WindowLoader : public EpochLoader<WindowBatch> {
 public:
  explicit WindowLoader(const UserItems& train, WindowOptions opts = {});
  WindowBatch batch(int64_t index) const override;
  /// The padding id: num_items.
  int64_t padding_id() const { return train_.num_items; }

 private:
  WindowOptions opts_;
  UserItems train_;
  std::vector<int64_t> users_,
      starts_;  // window x: user users_[x], first slot starts_[x] (< 0: padded)
  NegativeSampler sampler_;
};

/// The last max_len items of each user's history, left-padded with num_items: the inputs for
/// scoring sequence models at evaluation.  users [B] -> [B, max_len]
Ids last_items(const UserItems& history, const std::vector<int64_t>& users, int64_t max_len);

}  // namespace recgrad::recsys
