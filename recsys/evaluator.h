#pragma once
// Ranking evaluation protocols, with the metrics of recsys/metrics.h:
//   full     every item is a candidate except the user's `seen` items (training items, and
//            validation items when testing), which are masked (set to -inf in place).
//   sampled  the candidates are the user's relevant items plus N negatives drawn once, at
//            construction, among items the user never interacted with (seen, relevant and
//            not_negative lists); user u's negatives depend only on (seed, u). NCF and SASRec
//            use N = 100 and 99.
//   fixed    the candidates are the relevant items plus negatives given per user, e.g. the
//            NCF protocol's *.test.negative file (99 per user).
// A model is a Scorer: scores [B, num_items] for a batch of users, called under NoGradGuard.
// Users are streamed in chunks of B = min(batch_size, max(1, max_batch_scores / num_items)), so
// one score block holds at most max_batch_scores floats (128 MiB by default; one row when a
// single row is wider) and nothing else on the path is O(users x items): evaluating 100K users
// over 1M items needs the block, the masks and a few numbers per user, not 400 GB (measured in
// benchmarks/eval_memory_bench.cc). Rows are ranked in parallel; each metric is summed over
// users in user order, chunk after chunk, so results depend neither on threads nor on B.
// A relevant item that is also seen is masked like any seen item (a miss), as RecBole does.
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"
#include "recsys/dataset.h"
#include "recsys/metrics.h"
#include "recsys/sampler.h"

namespace recgrad::recsys {

/// A model under evaluation: users [B] -> scores [B, num_items] (a fresh tensor: the evaluator
/// masks it in place).
using Scorer = std::function<Tensor(const std::vector<int64_t>& users)>;

/// A model scoring (user, item) pairs: (users [n], items [n]) -> scores [n]. Rating models
/// predict ratings with it (evaluate_ratings); ranking models score candidates
/// (Evaluator::evaluate_pairs).
using PairScorer =
    std::function<Tensor(const std::vector<int64_t>& users, const std::vector<int64_t>& items)>;

/// Which candidates a user's relevant items are ranked among (see the file comment).
enum class Protocol { kFull, kSampled };

/// Options of an Evaluator.
struct EvalOptions {
  Protocol protocol = Protocol::kFull;
  std::vector<int64_t> ks = {5, 10, 20};  ///< cut-offs of the @K metrics
  int64_t batch_size = 256;               ///< at most this many users per Scorer call
  /// At most this many scores (users x items) per Scorer call: 2^25 floats = 128 MiB, so the
  /// chunk shrinks as the catalogue grows (32 users at 1M items). A row wider than this is
  /// still scored, one user at a time.
  int64_t max_batch_scores = int64_t{1} << 25;
  int64_t num_negatives = 100;            ///< sampled: N per user (all available when fewer)
  uint64_t seed = 0;                      ///< sampled: the negatives' seed
  SamplerOptions sampler;                 ///< sampled: uniform or popularity-weighted negatives
};

/// The outcome of one evaluation.
struct EvalResult {
  std::string protocol;  ///< "full", "sampled(100 uniform, seed=0)", "fixed", "ratings"
  std::vector<std::pair<std::string, double>> metrics;  ///< "NDCG@10" -> mean over users
  int64_t users_evaluated = 0;                          ///< users with at least one relevant item
  int64_t users_skipped = 0;                            ///< users without one (not in the means)
  double seconds = 0;                                   ///< wall time, scoring included

  /// The value of metric `name`; throws recgrad::Error listing the names when absent.
  double at(const std::string& name) const;
  /// One line: "full: HR@10 0.1234, NDCG@10 0.0567, ... (6040 users, 0 skipped, 0.21 s)".
  std::string str() const;
  /// {"protocol": "full", "users_evaluated": 6040, "users_skipped": 0, "seconds": 0.21,
  ///  "metrics": {"HR@5": 0.1, ...}}; NaN (no user evaluated) is written as null.
  std::string to_json() const;
};

/// Evaluates scorers against one set of relevant items under one protocol.
class Evaluator {
 public:
  /// Full or sampled protocol (opts.protocol). relevant: each user's target items; seen: the
  /// user's other items (masked in full ranking, never negatives); not_negative: items that
  /// are never drawn as negatives but not masked (e.g. test items while validating). All lists
  /// share one number of users and items. Throws recgrad::Error on bad lists or options.
  Evaluator(const UserItems& relevant, const std::vector<const UserItems*>& seen,
            EvalOptions opts = {}, const std::vector<const UserItems*>& not_negative = {});
  /// Fixed protocol: negatives[u] are user u's candidate negatives, kept as given (a duplicate
  /// is ranked twice); one list per user. opts.protocol is ignored. Throws recgrad::Error when a
  /// negative is out of range or one of the user's relevant items.
  static Evaluator with_negatives(const UserItems& relevant,
                                  const std::vector<std::vector<int64_t>>& negatives,
                                  EvalOptions opts = {});

  /// Scores every user with a relevant item and averages the metrics over them.
  EvalResult evaluate(const Scorer& scorer) const;
  /// The same for the sampled and fixed protocols, scoring only each user's candidates:
  /// scorer(users, items) gets, user by user, the relevant items then the negatives, and must
  /// return one score per pair. Equals evaluate() when the pair scores equal the rows'. Throws
  /// recgrad::Error under the full protocol (every item is a candidate there).
  EvalResult evaluate_pairs(const PairScorer& scorer) const;

  /// True under the sampled and fixed protocols: each user's relevant items are ranked among a
  /// list of negatives (evaluate_pairs applies), not among every item.
  bool ranks_candidates() const { return mode_ == Mode::kCandidates; }
  /// Users evaluated, ascending (those with at least one relevant item).
  const std::vector<int64_t>& users() const { return users_; }
  /// The negatives `user` is ranked among (sampled: sorted; fixed: as given; full: empty).
  std::vector<int64_t> negatives(int64_t user) const;
  /// The metrics computed, in result order.
  const RankingMetrics& metrics() const { return metrics_; }
  /// Items a Scorer must score per user (the width of its rows).
  int64_t num_items() const { return relevant_.num_items; }
  /// Users per Scorer call: min(batch_size, max(1, max_batch_scores / num_items)).
  int64_t users_per_call() const;

 private:
  enum class Mode { kFull, kCandidates };
  struct Common {};  // tag of the constructor both public ways of building start from
  Evaluator(Common, const UserItems& relevant, EvalOptions opts);
  // The result from per-metric sums over the evaluated users.
  EvalResult result(const std::vector<double>& sums, double seconds) const;

  Mode mode_ = Mode::kFull;
  EvalOptions opts_;
  RankingMetrics metrics_;
  std::string protocol_;
  UserItems relevant_;   // sorted, unique
  UserItems masks_;      // full: the seen items, sorted, unique
  UserItems negatives_;  // sampled / fixed: each user's candidate negatives
  std::vector<int64_t> users_;
};

/// RMSE and MAE of `predict` on the rated interactions of `test`, batch_size pairs per call.
/// users_evaluated counts distinct users. Throws recgrad::Error when test has no ratings.
EvalResult evaluate_ratings(const PairScorer& predict, const InteractionDataset& test,
                            int64_t batch_size = 4096);

}  // namespace recgrad::recsys
