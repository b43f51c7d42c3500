#include "recsys/experiment.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "recsys/filters.h"
#include "recsys/formats.h"
#include "recsys/protocol_files.h"
#include "recsys/synthetic.h"

namespace recgrad::recsys {
namespace {

// Per user: a's items, then b's.
UserItems concat(const UserItems& a, const UserItems& b) {
  UserItems out;
  out.num_items = a.num_items;
  out.offsets.push_back(0);
  for (int64_t u = 0; u < a.num_users(); ++u) {
    out.items.insert(out.items.end(), a.begin(u), a.end(u));
    out.items.insert(out.items.end(), b.begin(u), b.end(u));
    out.offsets.push_back(static_cast<int64_t>(out.items.size()));
  }
  return out;
}

// UserItems::from sizes by the dataset's id maps, which all parts of a split share.
UserItems lists_of(const InteractionDataset& part) { return UserItems::from(part); }

// "A/B/C" -> ratios; the split functions check that they are >= 0 and sum to 1.
SplitRatios parse_ratios(const std::string& flag, const std::string& text) {
  double r[3];
  const char* p = text.c_str();
  for (int k = 0; k < 3; ++k) {
    char* end = nullptr;
    r[k] = std::strtod(p, &end);
    const char want = k < 2 ? '/' : '\0';
    RECGRAD_CHECK(end != p && *end == want, "--split: '", flag,
                  "': expected three shares A/B/C after the colon, e.g. ratio:0.8/0.1/0.1");
    p = end + 1;
  }
  // The split checks these too, but only after the data is loaded: say so before.
  RECGRAD_CHECK(r[0] > 0 && r[1] >= 0 && r[2] >= 0, "--split: '", flag,
                "': shares must be >= 0 with a positive train share");
  RECGRAD_CHECK(std::abs(r[0] + r[1] + r[2] - 1.0) <= 1e-6, "--split: '", flag, "': shares sum to ",
                r[0] + r[1] + r[2], ", not 1");
  return SplitRatios{r[0], r[1], r[2]};
}

// The NCF files' split: their training rows (one random row per user held out to validate),
// their test pairs, and each test pair's negatives.
void load_ncf_split(Experiment& ex) {
  NcfProtocol ncf = load_ncf(ex.spec.path);
  ex.data = ncf.train;
  ex.split = hold_out_one_per_user(ncf.train, ex.spec.seed);
  InteractionDataset& test = ex.split.test;
  test.name = ncf.train.name + " [test]";
  ex.test_negatives.assign(ncf.train.num_users(), {});
  for (size_t k = 0; k < ncf.test.size(); ++k) {
    const auto [user, item] = ncf.test[k];
    test.users.push_back(user);
    test.items.push_back(item);
    std::vector<int64_t> negs = std::move(ncf.negatives[k]);
    std::sort(negs.begin(), negs.end());
    negs.erase(std::unique(negs.begin(), negs.end()), negs.end());
    negs.erase(std::remove(negs.begin(), negs.end(), item), negs.end());
    RECGRAD_CHECK(ex.test_negatives[user].empty(), ex.spec.path, ": user ",
                  ncf.train.user_ids.raw(user), " has more than one test pair");
    ex.test_negatives[user] = std::move(negs);
  }
  // Test-only users or items were interned into train's maps by load_ncf: every part shares
  // the maps, so dense ids agree.
  for (InteractionDataset* part : {&ex.data, &ex.split.train, &ex.split.valid, &test}) {
    part->user_ids = ncf.train.user_ids;
    part->item_ids = ncf.train.item_ids;
  }
}

// The rows of spec.test_path as the test part (empty until now: the split's test share is 0).
// Its ids are interned into the training file's maps; an id only the test file has gets a new
// dense id, so its user or item is ranked (or ranks) but has no training rows.
void load_test_file(Experiment& ex) {
  const DataSpec& spec = ex.spec;
  const std::string format = spec.format.empty() ? infer_format(spec.path) : spec.format;
  const InteractionDataset given = load_dataset(spec.test_path, format);
  RECGRAD_CHECK(given.has_ratings() == ex.data.has_ratings() &&
                    given.has_timestamps() == ex.data.has_timestamps(),
                "--test-file: ", spec.test_path, " and ", spec.path,
                " differ in their columns (ratings ", given.has_ratings(), " vs ",
                ex.data.has_ratings(), ", timestamps ", given.has_timestamps(), " vs ",
                ex.data.has_timestamps(), ")");
  InteractionDataset& test = ex.split.test;
  test.name = spec.test_path;
  for (int64_t k = 0; k < given.size(); ++k) {
    test.users.push_back(ex.data.user_ids.intern(given.user_ids.raw(given.users[k])));
    test.items.push_back(ex.data.item_ids.intern(given.item_ids.raw(given.items[k])));
  }
  test.ratings = given.ratings;
  test.timestamps = given.timestamps;
  for (InteractionDataset* part : {&ex.split.train, &ex.split.valid, &test}) {
    part->user_ids = ex.data.user_ids;
    part->item_ids = ex.data.item_ids;
  }
}

}  // namespace

SplitSpec parse_split(const std::string& split) {
  SplitSpec s;
  const size_t colon = split.find(':');
  const std::string kind = split.substr(0, colon);
  const bool has_ratios = colon != std::string::npos;
  if (kind == "ratio" || kind == "global") {
    s.kind = kind == "ratio" ? SplitSpec::Kind::kRandomPerUser : SplitSpec::Kind::kRandomGlobal;
    RECGRAD_CHECK(has_ratios || kind == "ratio", "--split: 'global' needs its shares, e.g. ",
                  "global:0.9/0/0.1");
    if (has_ratios) s.ratios = parse_ratios(split, split.substr(colon + 1));
    return s;
  }
  RECGRAD_CHECK(!has_ratios && (kind == "loo" || kind == "ncf"), "--split: '", split,
                "' is not one of loo, ratio[:A/B/C], global:A/B/C, ncf");
  s.kind = kind == "loo" ? SplitSpec::Kind::kLeaveOneOut : SplitSpec::Kind::kNcf;
  return s;
}

EvalOptions parse_protocol(const std::string& protocol, uint64_t seed) {
  EvalOptions opts;
  opts.seed = seed;
  if (protocol == "full") return opts;
  const std::string prefix = "sampled:";
  if (protocol.rfind(prefix, 0) == 0) {
    const std::string n = protocol.substr(prefix.size());
    int64_t value = 0;
    auto [end, ec] = std::from_chars(n.data(), n.data() + n.size(), value);
    RECGRAD_CHECK(ec == std::errc() && end == n.data() + n.size() && value > 0,
                  "--protocol: '", protocol, "': N in sampled:N must be a positive integer");
    opts.protocol = Protocol::kSampled;
    opts.num_negatives = value;
    return opts;
  }
  throw Error("--protocol: '" + protocol + "' is not one of full, sampled:N");
}

Experiment Experiment::load(const DataSpec& spec) {
  Experiment ex;
  ex.spec = spec;
  const SplitSpec split = parse_split(spec.split);
  RECGRAD_CHECK(spec.k_core >= 0, "--k-core: ", spec.k_core, " is negative");
  if (split.kind == SplitSpec::Kind::kNcf) {
    RECGRAD_CHECK(spec.path != "synthetic" && canonical_format(spec.format.empty()
                                                                   ? infer_format(spec.path)
                                                                   : spec.format) == "ncf",
                  "--split ncf: ", spec.path, " is not in the ncf format (X.train.rating, ",
                  "X.test.rating, X.test.negative)");
    // Filters would drop rows the given test pairs and negatives refer to.
    RECGRAD_CHECK(spec.min_rating == 0 && spec.k_core == 0,
                  "--split ncf: the NCF files are used as given; drop --min-rating/--k-core");
    RECGRAD_CHECK(spec.test_path.empty(), "--test-file: --split ncf has its own test file");
    load_ncf_split(ex);
  } else {
    if (spec.path == "synthetic") {
      SyntheticOptions o;
      o.seed = spec.seed;
      if (spec.synthetic_users != 0) o.num_users = spec.synthetic_users;
      if (spec.synthetic_items != 0) o.num_items = spec.synthetic_items;
      if (spec.synthetic_rows != 0) o.num_interactions = spec.synthetic_rows;
      ex.data = make_synthetic(o);
    } else {
      RECGRAD_CHECK(spec.synthetic_users == 0 && spec.synthetic_items == 0 &&
                        spec.synthetic_rows == 0,
                    "data: ", spec.path, ": synthetic_users/items/rows apply only to synthetic data");
      ex.data = load_dataset(spec.path, spec.format);
    }
    if (!spec.test_path.empty()) {
      RECGRAD_CHECK(spec.path != "synthetic", "--test-file: ", spec.test_path,
                    " needs --data to be its training file, not synthetic data");
      RECGRAD_CHECK((split.kind == SplitSpec::Kind::kRandomPerUser ||
                     split.kind == SplitSpec::Kind::kRandomGlobal) &&
                        split.ratios.test == 0,
                    "--test-file: --split '", spec.split, "' must leave no test rows of its own, ",
                    "e.g. ratio:0.9/0.1/0");
      // Filters would drop rows of one file and not the other's.
      RECGRAD_CHECK(spec.min_rating == 0 && spec.k_core == 0,
                    "--test-file: the given files are used as given; drop --min-rating/--k-core");
    }
    if (spec.min_rating > 0) {
      ImplicitOptions o;
      o.threshold = static_cast<float>(spec.min_rating);
      o.ratings = RatingsAfterThreshold::kKeep;
      to_implicit(ex.data, o);
    }
    if (spec.k_core > 0) k_core(ex.data, spec.k_core, spec.k_core);
    switch (split.kind) {
      case SplitSpec::Kind::kLeaveOneOut:
        RECGRAD_CHECK(ex.data.has_timestamps(), "--split loo: ", ex.data.name,
                      " has no timestamps; use --split ratio");
        sort_by_user_time(ex.data);
        ex.split = leave_one_out(ex.data);
        break;
      case SplitSpec::Kind::kRandomPerUser:
        if (ex.data.has_timestamps()) sort_by_user_time(ex.data);
        ex.split = split_random_per_user(ex.data, split.ratios, spec.seed);
        break;
      case SplitSpec::Kind::kRandomGlobal:
        if (ex.data.has_timestamps()) sort_by_user_time(ex.data);
        ex.split = split_random_global(ex.data, split.ratios, spec.seed);
        break;
      case SplitSpec::Kind::kNcf:
        break;  // handled above
    }
    if (!spec.test_path.empty()) load_test_file(ex);
  }
  ex.train = lists_of(ex.split.train);
  ex.valid = lists_of(ex.split.valid);
  ex.test = lists_of(ex.split.test);
  ex.train_valid = concat(ex.train, ex.valid);
  return ex;
}

Experiment Experiment::with_validation_in_training() const {
  Experiment ex = *this;
  ex.split.train = merge_parts(split.train, split.valid);
  ex.split.valid.users.clear();
  ex.split.valid.items.clear();
  ex.split.valid.ratings.clear();
  ex.split.valid.timestamps.clear();
  ex.train = lists_of(ex.split.train);
  ex.valid = lists_of(ex.split.valid);
  ex.train_valid = concat(ex.train, ex.valid);
  return ex;
}

TrainingData Experiment::training() const {
  return TrainingData{&split.train, &train, data.num_users(), data.num_items()};
}

Evaluator Experiment::validation_evaluator(const EvalOptions& opts) const {
  return Evaluator(valid, {&train}, opts, {&test});
}

Evaluator Experiment::test_evaluator(const EvalOptions& opts) const {
  if (!test_negatives.empty()) return Evaluator::with_negatives(test, test_negatives, opts);
  return Evaluator(test, {&train, &valid}, opts);
}

std::string Experiment::describe() const {
  return recgrad::detail::str_cat(data.name, ": ", data.num_users(), " users, ", data.num_items(),
                         " items, ", data.size(), " rows; split ", spec.split, ": ",
                         split.train.size(), "/", split.valid.size(), "/", split.test.size());
}

EvalResult evaluate_model(Recommender& model, const Experiment& ex, const EvalOptions& opts,
                          bool on_validation) {
  NoGradGuard no_grad;
  // As Recommender::recommend: a model already in eval mode is only read (docs/threads.md).
  const bool was_training = model.is_training();
  if (was_training) model.eval();
  EvalResult result;
  if (model.predicts_ratings()) {
    result = evaluate_ratings(
        [&](const std::vector<int64_t>& u, const std::vector<int64_t>& i) {
          return model.predict(u, i);
        },
        on_validation ? ex.split.valid : ex.split.test);
  } else {
    const UserItems& history = on_validation ? ex.train : ex.train_valid;
    const Evaluator evaluator =
        on_validation ? ex.validation_evaluator(opts) : ex.test_evaluator(opts);
    // Under the sampled and fixed protocols only each user's ~100 candidates are scored.
    result = evaluator.ranks_candidates()
                 ? evaluator.evaluate_pairs(
                       [&](const std::vector<int64_t>& users, const std::vector<int64_t>& items) {
                         return model.score_pairs(users, items, history);
                       })
                 : evaluator.evaluate([&](const std::vector<int64_t>& users) {
                     return model.score(users, history);
                   });
  }
  if (was_training) model.train();
  return result;
}

}  // namespace recgrad::recsys
