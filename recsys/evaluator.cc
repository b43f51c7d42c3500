#include "recsys/evaluator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <unordered_set>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "recsys/topk.h"
#include "recsys/user_sets.h"

namespace recgrad::recsys {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// %.10g keeps results readable and still distinguishes runs; JSON has no NaN, so null.
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

double EvalResult::at(const std::string& name) const {
  std::string known;
  for (const auto& [metric, value] : metrics) {
    if (metric == name) return value;
    known += (known.empty() ? "" : ", ") + metric;
  }
  throw Error("EvalResult: no metric '" + name + "'; have: " + known);
}

std::string EvalResult::str() const {
  std::ostringstream os;
  os << protocol << ":";
  for (size_t i = 0; i < metrics.size(); ++i)
    os << (i ? ", " : " ") << metrics[i].first << " " << json_number(metrics[i].second);
  os << " (" << users_evaluated << " users, " << users_skipped << " skipped, " << seconds << " s)";
  return os.str();
}

std::string EvalResult::to_json() const {
  std::string out = "{\"protocol\": " + json_string(protocol) +
                    ", \"users_evaluated\": " + std::to_string(users_evaluated) +
                    ", \"users_skipped\": " + std::to_string(users_skipped) +
                    ", \"seconds\": " + json_number(seconds) + ", \"metrics\": {";
  for (size_t i = 0; i < metrics.size(); ++i)
    out += (i ? ", " : "") + json_string(metrics[i].first) + ": " + json_number(metrics[i].second);
  return out + "}}";
}

// ---------------------------------------------------------------------------------------------

Evaluator::Evaluator(Common, const UserItems& relevant, EvalOptions opts)
    : opts_(std::move(opts)), metrics_(opts_.ks) {
  RECGRAD_CHECK(opts_.batch_size >= 1, "Evaluator: batch_size must be >= 1, got ",
                opts_.batch_size);
  RECGRAD_CHECK(opts_.max_batch_scores >= 1, "Evaluator: max_batch_scores must be >= 1, got ",
                opts_.max_batch_scores);
  check_user_items(relevant, "Evaluator: relevant items");
  relevant_ = sorted_unique(relevant);
  for (int64_t u = 0; u < relevant_.num_users(); ++u)
    if (relevant_.count(u) > 0) users_.push_back(u);
}

Evaluator::Evaluator(const UserItems& relevant, const std::vector<const UserItems*>& seen,
                     EvalOptions opts, const std::vector<const UserItems*>& not_negative)
    : Evaluator(Common{}, relevant, std::move(opts)) {
  if (opts_.protocol == Protocol::kFull) {
    mode_ = Mode::kFull;
    protocol_ = "full";
    if (seen.empty()) {  // nothing to mask
      masks_.num_items = relevant_.num_items;
      masks_.offsets.assign(relevant_.offsets.size(), 0);
    } else {
      masks_ = sorted_union(seen, "Evaluator: seen items");
    }
    RECGRAD_CHECK(
        masks_.num_users() == relevant_.num_users() && masks_.num_items == relevant_.num_items,
        "Evaluator: seen items have ", masks_.num_users(), " users and ", masks_.num_items,
        " items, relevant items ", relevant_.num_users(), " and ", relevant_.num_items);
    return;
  }
  RECGRAD_CHECK(opts_.num_negatives >= 1, "Evaluator: num_negatives must be >= 1, got ",
                opts_.num_negatives);
  mode_ = Mode::kCandidates;
  protocol_ = "sampled(" + std::to_string(opts_.num_negatives) +
              (opts_.sampler.distribution == NegativeDistribution::kUniform
                   ? std::string(" uniform")
                   : " popularity^" + json_number(opts_.sampler.alpha)) +
              ", seed=" + std::to_string(opts_.seed) + ")";
  // sorted_union also checks that every list matches relevant's users and items.
  std::vector<const UserItems*> seen_all{&relevant_};
  seen_all.insert(seen_all.end(), seen.begin(), seen.end());
  seen_all.insert(seen_all.end(), not_negative.begin(), not_negative.end());
  const UserItems interacted = sorted_union(seen_all, "Evaluator: seen items");
  const NegativeSampler sampler(interacted, opts_.sampler);
  std::vector<std::vector<int64_t>> lists(relevant_.num_users());
  detail::parallel_for(static_cast<int64_t>(users_.size()), 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t u = users_[i];
      Generator gen(detail::mix64(opts_.seed, static_cast<uint64_t>(u)));
      lists[u] = sampler.sample_distinct(u, opts_.num_negatives, gen);
    }
  });
  negatives_ = UserItems::from_lists(lists, relevant_.num_items);
}

Evaluator Evaluator::with_negatives(const UserItems& relevant,
                                    const std::vector<std::vector<int64_t>>& negatives,
                                    EvalOptions opts) {
  Evaluator ev(Common{}, relevant, std::move(opts));
  ev.mode_ = Mode::kCandidates;
  ev.protocol_ = "fixed";
  const UserItems& rel = ev.relevant_;
  RECGRAD_CHECK(static_cast<int64_t>(negatives.size()) == rel.num_users(),
                "Evaluator: ", negatives.size(), " negative lists for ", rel.num_users(), " users");
  // Checked before from_lists so that an out-of-range negative gets the Evaluator's message.
  for (int64_t u = 0; u < rel.num_users(); ++u)
    for (const int64_t item : negatives[u]) {
      RECGRAD_CHECK(item >= 0 && item < rel.num_items, "Evaluator: negative ", item, " of user ", u,
                    " is outside [0, ", rel.num_items, ")");
      RECGRAD_CHECK(!contains_sorted(rel, u, item), "Evaluator: negative ", item, " of user ", u,
                    " is one of its relevant items");
    }
  ev.negatives_ = UserItems::from_lists(negatives, rel.num_items);
  return ev;
}

std::vector<int64_t> Evaluator::negatives(int64_t user) const {
  RECGRAD_CHECK(user >= 0 && user < relevant_.num_users(), "Evaluator: user ", user,
                " is outside [0, ", relevant_.num_users(), ")");
  if (mode_ == Mode::kFull) return {};
  return std::vector<int64_t>(negatives_.begin(user), negatives_.end(user));
}

int64_t Evaluator::users_per_call() const {
  const int64_t by_budget =
      std::max<int64_t>(1, opts_.max_batch_scores / std::max<int64_t>(1, num_items()));
  return std::min(opts_.batch_size, by_budget);
}

EvalResult Evaluator::evaluate(const Scorer& scorer) const {
  const Clock::time_point start = Clock::now();
  const int64_t n = relevant_.num_items, width = metrics_.size();
  const auto num_eval = static_cast<int64_t>(users_.size());
  const int64_t chunk = users_per_call();
  // Per-user values of one chunk only; each metric's sum runs over users in user order, chunk
  // after chunk, which is the same sequence of additions whatever the chunk size.
  std::vector<double> per_user(std::min(num_eval, chunk) * width);
  std::vector<double> sums(width, 0.0);
  for (int64_t b0 = 0; b0 < num_eval; b0 += chunk) {
    const std::vector<int64_t> batch(users_.begin() + b0,
                                     users_.begin() + std::min(num_eval, b0 + chunk));
    const auto b_size = static_cast<int64_t>(batch.size());
    Tensor scores;
    {
      NoGradGuard no_grad;
      scores = scorer(batch);
    }
    RECGRAD_CHECK(
        scores.defined() && scores.dim() == 2 && scores.size(0) == b_size && scores.size(1) == n,
        "Evaluator: the scorer returned ",
        scores.defined() ? scores.shape().str() : std::string("an undefined tensor"), " for ",
        b_size, " users; expected [", b_size, ",", n, "]");
    float* data = scores.data();
    // Rows cost O(n) each; a few rows per task keep the scheduling overhead small.
    detail::parallel_for(b_size, 8, [&](int64_t b, int64_t e) {
      std::vector<float> candidates;
      std::vector<int64_t> positions;
      for (int64_t row = b; row < e; ++row) {
        const int64_t u = batch[row];
        float* s = data + row * n;
        UserRanking ranking;
        if (mode_ == Mode::kFull) {
          mask_row(s, masks_.begin(u), masks_.end(u));
          ranking = ranking_from_scores(s, n, relevant_.begin(u), relevant_.count(u));
        } else {
          // Relevant items first (positions 0..r-1), then the negatives.
          const int64_t r = relevant_.count(u), m = negatives_.count(u);
          candidates.resize(r + m);
          positions.resize(r);
          for (int64_t j = 0; j < r; ++j) {
            candidates[j] = s[relevant_.begin(u)[j]];
            positions[j] = j;
          }
          for (int64_t j = 0; j < m; ++j) candidates[r + j] = s[negatives_.begin(u)[j]];
          ranking = ranking_from_scores(candidates.data(), r + m, positions.data(), r);
        }
        metrics_.compute(ranking, per_user.data() + row * width);
      }
    });
    for (int64_t row = 0; row < b_size; ++row)
      for (int64_t m = 0; m < width; ++m) sums[m] += per_user[row * width + m];
  }
  return result(sums, seconds_since(start));
}

EvalResult Evaluator::evaluate_pairs(const PairScorer& scorer) const {
  const Clock::time_point start = Clock::now();
  RECGRAD_CHECK(mode_ == Mode::kCandidates,
                "Evaluator: evaluate_pairs needs the sampled or fixed protocol; under full "
                "ranking every item is a candidate (use evaluate)");
  const int64_t width = metrics_.size();
  const auto num_eval = static_cast<int64_t>(users_.size());
  const int64_t chunk = users_per_call();
  std::vector<double> per_user(std::min(num_eval, chunk) * width);
  std::vector<double> sums(width, 0.0);
  std::vector<int64_t> pair_users, pair_items, first;  // first[row]: the row's first pair
  for (int64_t b0 = 0; b0 < num_eval; b0 += chunk) {
    const int64_t b1 = std::min(num_eval, b0 + chunk), b_size = b1 - b0;
    pair_users.clear();
    pair_items.clear();
    first.clear();
    for (int64_t row = b0; row < b1; ++row) {
      const int64_t u = users_[row];
      first.push_back(static_cast<int64_t>(pair_items.size()));
      pair_items.insert(pair_items.end(), relevant_.begin(u), relevant_.end(u));
      pair_items.insert(pair_items.end(), negatives_.begin(u), negatives_.end(u));
      pair_users.resize(pair_items.size(), u);
    }
    first.push_back(static_cast<int64_t>(pair_items.size()));
    Tensor scores;
    {
      NoGradGuard no_grad;
      scores = scorer(pair_users, pair_items);
    }
    const auto num_pairs = static_cast<int64_t>(pair_items.size());
    RECGRAD_CHECK(scores.defined() && scores.dim() == 1 && scores.size(0) == num_pairs,
                  "Evaluator: the pair scorer returned ",
                  scores.defined() ? scores.shape().str() : std::string("an undefined tensor"),
                  " for ", num_pairs, " pairs; expected [", num_pairs, "]");
    const float* data = scores.data();
    detail::parallel_for(b_size, 8, [&](int64_t b, int64_t e) {
      std::vector<int64_t> positions;
      for (int64_t row = b; row < e; ++row) {
        // Relevant items first (positions 0..r-1), then the negatives, as evaluate() ranks them.
        const int64_t r = relevant_.count(users_[b0 + row]);
        positions.resize(r);
        for (int64_t j = 0; j < r; ++j) positions[j] = j;
        const UserRanking ranking = ranking_from_scores(
            data + first[row], first[row + 1] - first[row], positions.data(), r);
        metrics_.compute(ranking, per_user.data() + row * width);
      }
    });
    for (int64_t row = 0; row < b_size; ++row)
      for (int64_t m = 0; m < width; ++m) sums[m] += per_user[row * width + m];
  }
  return result(sums, seconds_since(start));
}

EvalResult Evaluator::result(const std::vector<double>& sums, double seconds) const {
  const auto num_eval = static_cast<int64_t>(users_.size());
  EvalResult r;
  r.protocol = protocol_;
  r.users_evaluated = num_eval;
  r.users_skipped = relevant_.num_users() - num_eval;
  for (size_t m = 0; m < sums.size(); ++m) {
    r.metrics.emplace_back(metrics_.names()[m], num_eval > 0
                                                    ? sums[m] / static_cast<double>(num_eval)
                                                    : std::numeric_limits<double>::quiet_NaN());
  }
  r.seconds = seconds;
  return r;
}

// ---------------------------------------------------------------------------------------------

EvalResult evaluate_ratings(const PairScorer& predict, const InteractionDataset& test,
                            int64_t batch_size) {
  const Clock::time_point start = Clock::now();
  RECGRAD_CHECK(batch_size >= 1, "evaluate_ratings: batch_size must be >= 1, got ", batch_size);
  RECGRAD_CHECK(test.has_ratings(), "evaluate_ratings: ", test.name, " has no ratings");
  RECGRAD_CHECK(test.ratings.size() == test.users.size() && test.items.size() == test.users.size(),
                "evaluate_ratings: ", test.name, " has ", test.users.size(), " users, ",
                test.items.size(), " items and ", test.ratings.size(), " ratings");
  const int64_t n = test.size();
  std::vector<float> predicted(n);
  for (int64_t b0 = 0; b0 < n; b0 += batch_size) {
    const int64_t b1 = std::min(n, b0 + batch_size);
    const std::vector<int64_t> users(test.users.begin() + b0, test.users.begin() + b1);
    const std::vector<int64_t> items(test.items.begin() + b0, test.items.begin() + b1);
    Tensor p;
    {
      NoGradGuard no_grad;
      p = predict(users, items);
    }
    RECGRAD_CHECK(p.defined() && p.numel() == b1 - b0, "evaluate_ratings: the scorer returned ",
                  p.defined() ? p.shape().str() : std::string("an undefined tensor"), " for ",
                  b1 - b0, " pairs; expected [", b1 - b0, "]");
    std::copy(p.data(), p.data() + (b1 - b0), predicted.begin() + b0);
  }
  const RatingErrors errors = rating_errors(predicted, test.ratings);
  EvalResult result;
  result.protocol = "ratings";
  result.users_evaluated = static_cast<int64_t>(
      std::unordered_set<int64_t>(test.users.begin(), test.users.end()).size());
  result.metrics = {{"RMSE", n > 0 ? errors.rmse : std::numeric_limits<double>::quiet_NaN()},
                    {"MAE", n > 0 ? errors.mae : std::numeric_limits<double>::quiet_NaN()}};
  result.seconds = seconds_since(start);
  return result;
}

}  // namespace recgrad::recsys
