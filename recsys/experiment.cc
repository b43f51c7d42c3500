#include "recsys/experiment.h"

#include <charconv>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "recsys/filters.h"
#include "recsys/formats.h"
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

}  // namespace

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
  if (spec.path == "synthetic") {
    SyntheticOptions o;
    o.seed = spec.seed;
    if (spec.synthetic_users != 0) o.num_users = spec.synthetic_users;
    if (spec.synthetic_items != 0) o.num_items = spec.synthetic_items;
    if (spec.synthetic_rows != 0) o.num_interactions = spec.synthetic_rows;
    ex.data = make_synthetic(o);
  } else {
    RECGRAD_CHECK(spec.synthetic_users == 0 && spec.synthetic_items == 0 && spec.synthetic_rows == 0,
                  "data: ", spec.path, ": synthetic_users/items/rows apply only to synthetic data");
    ex.data = load_dataset(spec.path, spec.format);
  }
  if (spec.min_rating > 0) {
    ImplicitOptions o;
    o.threshold = static_cast<float>(spec.min_rating);
    o.ratings = RatingsAfterThreshold::kKeep;
    to_implicit(ex.data, o);
  }
  if (spec.split == "loo") {
    RECGRAD_CHECK(ex.data.has_timestamps(), "--split loo: ", ex.data.name,
                  " has no timestamps; use --split ratio");
    sort_by_user_time(ex.data);
    ex.split = leave_one_out(ex.data);
  } else if (spec.split == "ratio") {
    if (ex.data.has_timestamps()) sort_by_user_time(ex.data);
    ex.split = split_random_per_user(ex.data, SplitRatios{}, spec.seed);
  } else {
    throw Error("--split: '" + spec.split + "' is not one of loo, ratio");
  }
  ex.train = lists_of(ex.split.train);
  ex.valid = lists_of(ex.split.valid);
  ex.test = lists_of(ex.split.test);
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
    result = evaluator.evaluate(
        [&](const std::vector<int64_t>& users) { return model.score(users, history); });
  }
  if (was_training) model.train();
  return result;
}

}  // namespace recgrad::recsys
