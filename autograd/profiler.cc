#include "autograd/profiler.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "autograd/error.h"

namespace recgrad {
namespace detail {
namespace {

double steady_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

ProfileClock g_clock = nullptr;  // set by tests only, before profiling starts

double now_ms() { return g_clock ? g_clock() : steady_ms(); }

}  // namespace

struct ProfileState {
  struct Totals {
    int64_t forward_calls = 0, backward_calls = 0;
    double forward_ms = 0, backward_ms = 0;
  };
  // Keyed by the name's pointer (ops pass string literals), so an op costs no string hashing;
  // equal names from different translation units are merged when the table is built.
  std::unordered_map<const char*, Totals> by_op;
  double start_ms = 0, stop_ms = 0;
  bool running = true;
  double mark_ms = 0;  // end of the last attributed stretch
  int pass_depth = 0, closure_depth = 0;
  double pass_start_ms = 0, pass_closures_ms = 0, closure_start_ms = 0;
  double engine_ms = 0, other_ms = 0;
};

void set_profile_clock(ProfileClock clock) { g_clock = clock; }

void profile_forward(const char* op) {
  ProfileState& s = *t_profile;
  if (s.pass_depth > 0) return;  // an op called inside a backward closure: the closure's time
  const double now = now_ms();
  ProfileState::Totals& t = s.by_op[op];
  t.forward_calls += 1;
  t.forward_ms += now - s.mark_ms;
  s.mark_ms = now;
}

}  // namespace detail

void profile_mark(const char* what) {
  if (detail::t_profile) detail::profile_forward(what);
}

namespace detail {

void profile_pass_begin() {
  ProfileState& s = *t_profile;
  if (s.pass_depth++ > 0) return;
  const double now = now_ms();
  s.other_ms += now - s.mark_ms;  // glue between the last op and backward() is no op's
  s.pass_start_ms = now;
  s.pass_closures_ms = 0;
}

void profile_pass_end() {
  ProfileState* s = t_profile;
  if (s == nullptr || --s->pass_depth > 0) return;  // the profiler may have stopped mid-pass
  const double now = now_ms();
  s->engine_ms += (now - s->pass_start_ms) - s->pass_closures_ms;
  s->mark_ms = now;
}

void profile_backward_begin() {
  ProfileState& s = *t_profile;
  if (s.closure_depth++ == 0) s.closure_start_ms = now_ms();
}

void profile_backward_end(const char* op) {
  ProfileState* s = t_profile;
  if (s == nullptr || --s->closure_depth > 0) return;
  const double spent = now_ms() - s->closure_start_ms;
  ProfileState::Totals& t = s->by_op[op];
  t.backward_calls += 1;
  t.backward_ms += spent;
  s->pass_closures_ms += spent;
}

}  // namespace detail

Profiler::Profiler() : state_(std::make_unique<detail::ProfileState>()) {
  if (detail::t_profile != nullptr)
    throw UsageError("Profiler: a profiler is already active on this thread; stop it first");
  state_->start_ms = state_->mark_ms = detail::now_ms();
  detail::t_profile = state_.get();
}

Profiler::~Profiler() { stop(); }

void Profiler::stop() {
  if (!state_->running) return;
  state_->stop_ms = detail::now_ms();
  state_->running = false;
  if (detail::t_profile == state_.get()) detail::t_profile = nullptr;
}

ProfileTable Profiler::table() const {
  const detail::ProfileState& s = *state_;
  const double end = s.running ? detail::now_ms() : s.stop_ms;
  std::map<std::string, OpProfile> merged;
  for (const auto& [name, t] : s.by_op) {
    OpProfile& row = merged[name];
    row.op = name;
    row.forward_calls += t.forward_calls;
    row.backward_calls += t.backward_calls;
    row.forward_ms += t.forward_ms;
    row.backward_ms += t.backward_ms;
  }
  ProfileTable table;
  for (auto& [name, row] : merged) table.ops.push_back(std::move(row));
  std::stable_sort(table.ops.begin(), table.ops.end(), [](const OpProfile& a, const OpProfile& b) {
    return a.total_ms() > b.total_ms();
  });
  table.wall_ms = end - s.start_ms;
  table.engine_ms = s.engine_ms;
  table.other_ms = s.other_ms + (s.pass_depth > 0 ? 0.0 : end - s.mark_ms);
  return table;
}

ProfileTable profile_step(const std::function<void()>& step) {
  Profiler profiler;
  step();
  profiler.stop();
  return profiler.table();
}

const OpProfile* ProfileTable::find(const std::string& op) const {
  for (const OpProfile& row : ops)
    if (row.op == op) return &row;
  return nullptr;
}

namespace {

double share(double ms, double wall) { return wall > 0 ? ms / wall : 0.0; }

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;  // op names are identifiers anyway
    out += c;
  }
  return out + "\"";
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

}  // namespace

std::string ProfileTable::str() const {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%-24s %9s %9s %12s %12s %12s %7s\n", "op", "fwd calls",
                "bwd calls", "forward ms", "backward ms", "total ms", "share");
  out += line;
  auto row = [&](const std::string& name, const std::string& fwd_calls,
                 const std::string& bwd_calls, double fwd, double bwd) {
    std::snprintf(line, sizeof line, "%-24s %9s %9s %12.3f %12.3f %12.3f %6.1f%%\n", name.c_str(),
                  fwd_calls.c_str(), bwd_calls.c_str(), fwd, bwd, fwd + bwd,
                  100.0 * share(fwd + bwd, wall_ms));
    out += line;
  };
  for (const OpProfile& op : ops)
    row(op.op, std::to_string(op.forward_calls), std::to_string(op.backward_calls), op.forward_ms,
        op.backward_ms);
  row("(backward engine)", "", "", 0.0, engine_ms);
  row("(not in an op)", "", "", other_ms, 0.0);
  double fwd = other_ms, bwd = engine_ms;  // the columns' sums: ops + engine + other = wall
  for (const OpProfile& op : ops) {
    fwd += op.forward_ms;
    bwd += op.backward_ms;
  }
  row("total", "", "", fwd, bwd);
  // The forward scheme's main limit, where readers of the table will meet it.
  out += "forward ms: time since the previous op, so the first op after a backward pass or at a "
         "step's start also carries the non-op work before it (e.g. building the batch)\n";
  return out;
}

std::string ProfileTable::json() const {
  std::string out = "{\"wall_ms\":" + number(wall_ms) + ",\"engine_ms\":" + number(engine_ms) +
                    ",\"other_ms\":" + number(other_ms) + ",\"ops\":[";
  for (size_t i = 0; i < ops.size(); ++i) {
    const OpProfile& op = ops[i];
    out += (i ? ",{" : "{");
    out +=
        "\"op\":" + json_string(op.op) + ",\"forward_calls\":" + std::to_string(op.forward_calls) +
        ",\"backward_calls\":" + std::to_string(op.backward_calls) +
        ",\"forward_ms\":" + number(op.forward_ms) + ",\"backward_ms\":" + number(op.backward_ms) +
        ",\"share\":" + number(share(op.total_ms(), wall_ms)) + "}";
  }
  return out + "]}";
}

}  // namespace recgrad
