#include "optim/optimizer.h"

#include <cmath>
#include <set>

#include "autograd/anomaly.h"
#include "autograd/error.h"
#include "autograd/graph.h"
#include "autograd/profiler.h"

namespace recgrad::optim {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() > suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

constexpr const char* kStepsCounter = "steps";
const std::string kStepSuffix = ".step";

}  // namespace

Optimizer::Optimizer(const char* kind, const NamedTensors& params, double lr, double weight_decay,
                     std::vector<std::string> slot_names)
    : kind_(kind), slot_names_(std::move(slot_names)) {
  RECGRAD_CHECK(!params.empty(), kind_, ": no parameters to optimize");
  check_group_options("default", lr, weight_decay);
  ParamGroup group{"default", {}, lr, weight_decay, lr};
  std::set<std::string> names;
  std::set<const TensorImpl*> tensors;
  for (const auto& [name, t] : params) {
    RECGRAD_CHECK(!name.empty(), kind_, ": a parameter has an empty name");
    RECGRAD_CHECK(t.defined(), kind_, ": parameter '", name, "' is undefined");
    RECGRAD_CHECK(names.insert(name).second, kind_, ": parameter name '", name, "' appears twice");
    if (tensors.insert(t.impl()).second) group.params.emplace_back(name, t);
  }
  groups_.push_back(std::move(group));
}

void Optimizer::check_option(const char* option, double value, double lo,
                             std::optional<double> hi) const {
  const bool ok = std::isfinite(value) && value >= lo && (!hi || value < *hi);
  if (hi)
    RECGRAD_CHECK(ok, kind_, ": ", option, " = ", value, " is outside [", lo, ", ", *hi, ")");
  else
    RECGRAD_CHECK(ok, kind_, ": ", option, " = ", value, " must be finite and >= ", lo);
}

void Optimizer::check_group_options(const std::string& group, double lr, double weight_decay) const {
  RECGRAD_CHECK(std::isfinite(lr) && lr >= 0, kind_, ": group '", group, "': lr = ", lr,
                " must be finite and >= 0");
  RECGRAD_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, kind_, ": group '", group,
                "': weight_decay = ", weight_decay, " must be finite and >= 0");
}

// ---------------------------------------------------------------------------------------------
// Groups

void Optimizer::set_lr(double lr) {
  for (ParamGroup& g : groups_) check_group_options(g.name, lr, g.weight_decay);
  for (ParamGroup& g : groups_) g.lr = lr;
}

ParamGroup& Optimizer::group(const std::string& name) {
  for (ParamGroup& g : groups_)
    if (g.name == name) return g;
  throw Error(recgrad::detail::str_cat(kind_, ": no parameter group '", name, "'"));
}

NamedTensors Optimizer::named_parameters() const {
  NamedTensors out;
  for (const ParamGroup& g : groups_) out.insert(out.end(), g.params.begin(), g.params.end());
  return out;
}

const Tensor* Optimizer::find_param(const std::string& name) const {
  for (const ParamGroup& g : groups_)
    for (const auto& [n, t] : g.params)
      if (n == name) return &t;
  return nullptr;
}

ParamGroup& Optimizer::add_group(const std::string& name,
                                 const std::function<bool(const std::string&)>& select,
                                 GroupOptions options) {
  std::vector<bool> take;
  for (const ParamGroup& g : groups_)
    for (const auto& [n, t] : g.params) take.push_back(select(n));
  return form_group(name, take, options);
}

ParamGroup& Optimizer::add_group(const std::string& name, const std::vector<std::string>& param_names,
                                 GroupOptions options) {
  std::set<std::string> wanted;
  for (const std::string& n : param_names) {
    RECGRAD_CHECK(find_param(n) != nullptr, kind_, ": add_group '", name, "': no parameter '", n, "'");
    RECGRAD_CHECK(wanted.insert(n).second, kind_, ": add_group '", name, "': parameter '", n,
                  "' is listed twice");
  }
  return add_group(name, [&](const std::string& n) { return wanted.count(n) > 0; }, options);
}

// `take` has one flag per parameter, in group order. Validates everything before moving.
ParamGroup& Optimizer::form_group(const std::string& name, const std::vector<bool>& take,
                                  GroupOptions options) {
  RECGRAD_CHECK(!name.empty(), kind_, ": add_group: empty group name");
  for (const ParamGroup& g : groups_)
    RECGRAD_CHECK(g.name != name, kind_, ": add_group: group '", name, "' already exists");
  RECGRAD_CHECK(std::find(take.begin(), take.end(), true) != take.end(), kind_, ": add_group '",
                name, "': no parameter matches");
  const ParamGroup& def = groups_.front();
  ParamGroup fresh{name, {}, options.lr.value_or(def.lr),
                   options.weight_decay.value_or(def.weight_decay),
                   options.lr.value_or(def.initial_lr)};
  check_group_options(name, fresh.lr, fresh.weight_decay);
  size_t k = 0;
  for (ParamGroup& g : groups_) {
    NamedTensors keep;
    for (auto& entry : g.params) (take[k++] ? fresh.params : keep).push_back(std::move(entry));
    g.params = std::move(keep);
  }
  groups_.push_back(std::move(fresh));
  return groups_.back();
}

// ---------------------------------------------------------------------------------------------
// Steps

void Optimizer::step() {
  NoGradGuard no_grad;  // updates write parameter storage directly; nothing is recorded
  if (check_finite_) check_gradients_finite();
  for (const ParamGroup& group : groups_) {
    for (const auto& [name, param] : group.params) {
      Tensor p = param;
      const bool sparse = p.has_sparse_grad();
      Tensor dense;
      if (!sparse) {
        dense = p.grad();                // a handle to the accumulated gradient (no copy)
        if (!dense.defined()) continue;  // unused this step: state and step count untouched
      }
      ParamState& st = state_[name];
      if (st.step == 0) {
        st.slots.clear();
        for (size_t i = 0; i < slot_names_.size(); ++i) st.slots.push_back(init_slot(i, p));
      }
      ++st.step;
      if (sparse) update_sparse(p, detail::coalesced_sparse_grad(p), st, group);
      else update_dense(p, dense, st, group);
    }
  }
  ++steps_;
  // Under a Profiler the update loops get their own row instead of being charged to the next
  // op of the following step.
  profile_mark("(optimizer step)");
}

// Scans every gradient step() would apply, before any update, so a throw leaves every parameter
// as it was. A row-sparse gradient is coalesced here (Tensor::sparse_grad keeps the result, so
// step() does not coalesce twice) and only its touched rows are read.
void Optimizer::check_gradients_finite() const {
  for (const ParamGroup& group : groups_) {
    for (const auto& [name, param] : group.params) {
      int64_t at = -1;
      float value = 0;
      const char* kind = "";
      if (param.has_sparse_grad()) {
        const RowSparseGrad g = param.sparse_grad();
        const int64_t k = recgrad::detail::first_non_finite(g.values.data(), g.values.numel());
        if (k >= 0) {
          const int64_t width = recgrad::detail::row_width(param);
          at = g.rows[k / width] * width + k % width;
          value = g.values.data()[k];
          kind = "row-sparse ";
        }
      } else {
        const Tensor g = param.grad();
        if (!g.defined()) continue;
        at = recgrad::detail::first_non_finite(g.data(), g.numel());
        if (at >= 0) value = g.data()[at];
      }
      if (at >= 0)
        throw NonFiniteError(recgrad::detail::str_cat(
            kind_, ": the ", kind, "gradient of '", name, "' ", param.shape(), " holds ", recgrad::detail::value_str(value),
            " (element ", recgrad::detail::index_str(param.shape(), at), ")"));
    }
  }
}

void Optimizer::zero_grad() {
  for (const ParamGroup& g : groups_)
    for (const auto& [name, t] : g.params) Tensor(t).zero_grad();
}

Tensor Optimizer::init_slot(size_t, const Tensor& p) const { return zeros(p.shape()); }

void Optimizer::update_sparse(Tensor& p, const RowSparseGrad& g, ParamState& st,
                              const ParamGroup& group) {
  Tensor dense = zeros(p.shape());
  recgrad::detail::scatter_rows_into(dense, g);
  update_dense(p, dense, st, group);
}

// ---------------------------------------------------------------------------------------------
// State

OptimizerState Optimizer::state() const {
  OptimizerState s;
  s.counters.emplace_back(kStepsCounter, steps_);
  for (const ParamGroup& g : groups_)
    for (const auto& [name, t] : g.params) {
      auto it = state_.find(name);
      if (it == state_.end() || it->second.step == 0) continue;
      s.counters.emplace_back(name + kStepSuffix, it->second.step);
      for (size_t i = 0; i < slot_names_.size(); ++i)
        s.tensors.emplace_back(name + "." + slot_names_[i], it->second.slots[i]);
    }
  return s;
}

void Optimizer::check_state(const OptimizerState& s) const {
  bool has_steps = false;
  std::set<std::string> counters, stepped;
  for (const auto& [key, value] : s.counters) {
    RECGRAD_CHECK(counters.insert(key).second, kind_, ": state: counter '", key, "' appears twice");
    RECGRAD_CHECK(value >= 0, kind_, ": state: counter '", key, "' is negative (", value, ")");
    if (key == kStepsCounter) {
      has_steps = true;
      continue;
    }
    const std::string param = ends_with(key, kStepSuffix) ? key.substr(0, key.size() - kStepSuffix.size()) : "";
    RECGRAD_CHECK(!param.empty() && find_param(param) != nullptr, kind_,
                  ": state: unexpected counter '", key, "' (no parameter of that name)");
    stepped.insert(param);
  }
  RECGRAD_CHECK(has_steps, kind_, ": state: missing counter '", kStepsCounter, "'");

  std::set<std::string> tensors;
  for (const auto& [key, t] : s.tensors) {
    RECGRAD_CHECK(tensors.insert(key).second, kind_, ": state: tensor '", key, "' appears twice");
    const Tensor* param = nullptr;
    std::string param_name;
    for (const std::string& slot : slot_names_)
      if (ends_with(key, "." + slot)) {
        param_name = key.substr(0, key.size() - slot.size() - 1);
        if ((param = find_param(param_name))) break;
      }
    RECGRAD_CHECK(param != nullptr, kind_, ": state: unexpected tensor '", key,
                  "' (not '<parameter>.<slot>' for a parameter and a slot of this optimizer)");
    RECGRAD_CHECK(t.defined() && t.shape() == param->shape(), kind_, ": state: tensor '", key,
                  "' has shape ", t.defined() ? t.shape().str() : "(undefined)",
                  " but parameter '", param_name, "' has shape ", param->shape());
    RECGRAD_CHECK(stepped.count(param_name) > 0, kind_, ": state: missing counter '", param_name,
                  kStepSuffix, "' for tensor '", key, "'");
  }
  for (const std::string& param : stepped)
    for (const std::string& slot : slot_names_)
      RECGRAD_CHECK(tensors.count(param + "." + slot) > 0, kind_, ": state: missing tensor '",
                    param, ".", slot, "'");
}

void Optimizer::load_state(const OptimizerState& s) {
  check_state(s);
  std::map<std::string, ParamState> fresh;
  int64_t steps = 0;
  for (const auto& [key, value] : s.counters) {
    if (key == kStepsCounter) {
      steps = value;
      continue;
    }
    ParamState& st = fresh[key.substr(0, key.size() - kStepSuffix.size())];
    st.step = value;
    st.slots.resize(slot_names_.size());
  }
  for (const auto& [key, t] : s.tensors)
    for (size_t i = 0; i < slot_names_.size(); ++i) {
      const std::string& slot = slot_names_[i];
      if (!ends_with(key, "." + slot)) continue;
      auto it = fresh.find(key.substr(0, key.size() - slot.size() - 1));
      if (it == fresh.end()) continue;  // check_state guarantees a match for one slot
      it->second.slots[i] = t;
      break;
    }
  state_.swap(fresh);
  steps_ = steps;
}

}  // namespace recgrad::optim

namespace recgrad::detail {
using namespace recgrad::optim;  // this file's package types, unqualified

RowSparseGrad coalesced_sparse_grad(const Tensor& p) {
  RowSparseGrad g = p.sparse_grad();
  auto not_increasing = [](int64_t a, int64_t b) { return a >= b; };
  if (std::adjacent_find(g.rows.begin(), g.rows.end(), not_increasing) != g.rows.end()) {
    // coalesce() returns a single part as it is; a second, empty part makes it sort and sum.
    g = recgrad::detail::coalesce({g, RowSparseGrad{{}, Tensor()}}, p.shape());
  }
  RECGRAD_CHECK(g.rows.empty() || (g.rows.front() >= 0 && g.rows.back() < p.size(0)),
                "optimizer: row-sparse gradient of a ", p.shape(), " tensor touches row ",
                g.rows.front() < 0 ? g.rows.front() : g.rows.back(), ", outside the table");
  return g;
}

}  // namespace recgrad::detail

namespace recgrad::optim {
}  // namespace recgrad::optim
