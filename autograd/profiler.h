#pragma once
// A per-op profile: while a Profiler is alive on a thread, the time that thread spends is summed
// per op type ("matmul", "embedding", ...), forward and backward, with call counts. It answers
// "which op dominates a training step", so the next optimisation is obvious.
//
// How time is attributed (all on the profiling thread, wall clock):
//  - Backward: the engine times each node's closure and adds it to the node's op. Backward time
//    outside closures (the graph's topological sort, folding row-sparse gradient parts into a
//    dense one) is the profile's `engine` time.
//  - Forward: every op ends by calling record() (even under NoGradGuard, where it records no
//    node), so an op's forward time is taken as the time since the previous mark on the thread:
//    the previous record(), the profiler's start, or the end of a backward pass. Limits of this
//    scheme: (1) work between ops that is not an op (building ids, reading a scalar, a loop in
//    a model's code) is charged to the next op; (2) an op built from other ops records those
//    first, so it is charged only the tail after its last inner op (fused ops, which record
//    once, are charged in full); (3) an op that returns without calling record() is charged to
//    the next op; (4) ops run on other threads are not seen.
//  - Time after the last mark (the end of the step) and before each backward pass is `other`
//    time, so ops + engine + other = the wall time. Work that is not an op can name itself
//    with profile_mark() (Optimizer::step does: its row is "(optimizer step)").
//
// Cost when no Profiler is active: one thread-local load and branch per record() and per
// backward closure. When active: a clock read per forward op (two per backward closure) and a
// hash-map update keyed by the op's name pointer.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace recgrad {

/// One op type's totals in a profile.
struct OpProfile {
  std::string op;              ///< the name the op passes to record(), e.g. "matmul"
  int64_t forward_calls = 0;   ///< forward calls (record() calls, with or without a node)
  int64_t backward_calls = 0;  ///< backward closures run for the op's nodes
  double forward_ms = 0;       ///< forward time, attributed as described in the header
  double backward_ms = 0;      ///< time in the op's backward closures
  double total_ms() const { return forward_ms + backward_ms; }
};

/// A profile: rows per op sorted by total time (descending, then by name), plus the time no
/// op accounts for. ops' totals + engine_ms + other_ms == wall_ms.
struct ProfileTable {
  std::vector<OpProfile> ops;
  double wall_ms = 0;    ///< wall time of the profiled stretch
  double engine_ms = 0;  ///< backward time outside node closures
  double other_ms = 0;   ///< time before backward passes and after the last op: no op's
  /// The row of `op`, or nullptr when it never ran.
  const OpProfile* find(const std::string& op) const;
  /// An aligned table: op, fwd calls, bwd calls, forward ms, backward ms, share of wall time.
  std::string str() const;
  /// The same as a JSON object: {"wall_ms":..,"engine_ms":..,"other_ms":..,"ops":[{"op":..,
  /// "forward_calls":..,"backward_calls":..,"forward_ms":..,"backward_ms":..,"share":..}]}.
  std::string json() const;
};

namespace detail {
struct ProfileState;
}

/// Profiles this thread's ops while alive (see the header for what is measured). At most one
/// per thread at a time: a second one on the same thread throws UsageError. Not copyable.
class Profiler {
 public:
  Profiler();
  ~Profiler();
  Profiler(const Profiler&) = delete;
  Profiler& operator=(const Profiler&) = delete;
  /// Stops recording (the destructor does too); the table stays readable.
  void stop();
  /// The totals so far; wall time runs to now while active, to stop() after.
  ProfileTable table() const;

 private:
  std::unique_ptr<detail::ProfileState> state_;
};

/// Runs `step` (e.g. one training step: loss, backward, optimizer) under a Profiler on this
/// thread and returns its table.
ProfileTable profile_step(const std::function<void()>& step);

/// Charges the time since the previous mark to a row named `what`, as an op's forward would be
/// (a forward call of `what`). Work that calls no op, such as an optimizer's update loop, calls
/// this at its end so that its time is not charged to the next op (limit (1) above). `what`
/// must outlive the profile (a string literal). One branch when no Profiler is active.
void profile_mark(const char* what);

namespace detail {

/// The active profile of this thread, or nullptr (the one branch taken when profiling is off).
inline thread_local ProfileState* t_profile = nullptr;

/// Clock in milliseconds; nullptr restores the steady clock. Tests inject a fake one so that
/// attribution can be checked exactly, without timings.
using ProfileClock = double (*)();
void set_profile_clock(ProfileClock clock);

void profile_forward(const char* op);
void profile_backward_begin();
void profile_backward_end(const char* op);
void profile_pass_begin();
void profile_pass_end();

/// In record(): charges the op's forward time when it goes out of scope (every return path).
class ForwardMark {
 public:
  explicit ForwardMark(const char* op) : op_(op) {}
  ~ForwardMark() {
    if (t_profile) profile_forward(op_);
  }
  ForwardMark(const ForwardMark&) = delete;
  ForwardMark& operator=(const ForwardMark&) = delete;

 private:
  const char* op_;
};

/// In the engine, around one node's closure: charges its time to the node's op.
class BackwardMark {
 public:
  explicit BackwardMark(const char* op) : op_(op), on_(t_profile != nullptr) {
    if (on_) profile_backward_begin();
  }
  ~BackwardMark() {
    if (on_) profile_backward_end(op_);
  }
  BackwardMark(const BackwardMark&) = delete;
  BackwardMark& operator=(const BackwardMark&) = delete;

 private:
  const char* op_;
  bool on_;
};

/// In the engine, around a whole backward pass: what its closures do not account for is
/// engine time, and the next forward op is charged only from the pass's end.
class PassMark {
 public:
  PassMark() : on_(t_profile != nullptr) {
    if (on_) profile_pass_begin();
  }
  ~PassMark() {
    if (on_) profile_pass_end();
  }
  PassMark(const PassMark&) = delete;
  PassMark& operator=(const PassMark&) = delete;

 private:
  bool on_;
};

}  // namespace detail
}  // namespace recgrad
