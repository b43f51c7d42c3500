#pragma once
// Finding the first NaN or infinity. Anomaly mode (like torch.autograd.detect_anomaly): under an
// AnomalyModeGuard, every op's forward output and every gradient a backward closure produces are
// scanned, and the first non-finite value throws NonFiniteError naming the op (the name given to
// record()), its shapes and the element:
//
//   AnomalyModeGuard anomaly;
//   Tensor y = log(x);   // x holds -1: "anomaly mode: 'log' produced nan in its forward
//                        //  output [3] at [1] (inputs: [3])"
//
// What counts, and why:
//  - Forward: a NaN always. An infinity only where it is created from finite inputs: -inf logits
//    used as a mask flow on through concat and log_softmax by design, so an infinity passed
//    through is not reported again; masked_fill with an infinite fill value declares its output's
//    infinities on purpose (detail::ExpectInfinities).
//  - Backward: any NaN or infinity in a gradient (no rule legitimately produces one); the op named
//    is the one whose backward made a gradient non-finite from a finite output gradient.
//
// Cost: when off, one thread-local branch per recorded op and per backward node. When on, one
// extra read of every op output and gradient: a debugging tool, not for production runs.
#include <cstdint>
#include <string>
#include <vector>

#include "autograd/shape.h"
#include "autograd/tensor.h"

namespace recgrad {

/// Whether anomaly mode is on for the calling thread.
bool anomaly_mode_enabled();

/// Turns anomaly mode on (or, with false, off) for its lifetime on this thread; nests.
class AnomalyModeGuard {
 public:
  explicit AnomalyModeGuard(bool enabled = true);
  ~AnomalyModeGuard();
  AnomalyModeGuard(const AnomalyModeGuard&) = delete;
  AnomalyModeGuard& operator=(const AnomalyModeGuard&) = delete;

 private:
  bool previous_;
};

namespace detail {

/// Index of the first NaN or ±inf among p[0, n), or -1 when all are finite. Scans in parallel
/// with integer compares (a value is non-finite iff its exponent bits are all ones), which
/// vectorise and, unlike std::isfinite, survive -ffinite-math-only.
int64_t first_non_finite(const float* p, int64_t n);

/// A value as messages print it: "nan" whatever the NaN's sign bit (x86 makes inf - inf a
/// negative NaN, which streams as "-nan"), "inf", "-inf", or the number.
std::string value_str(float v);

/// "[i,j]": the multi-index of flat element `flat` of a row-major tensor shaped `shape`.
std::string index_str(const Shape& shape, int64_t flat);

/// While alive, the op recorded on this thread may write ±inf on purpose (masked_fill with an
/// infinite value masks logits): anomaly mode then reports only its NaNs.
class ExpectInfinities {
 public:
  explicit ExpectInfinities(bool expected);
  ~ExpectInfinities();
  ExpectInfinities(const ExpectInfinities&) = delete;
  ExpectInfinities& operator=(const ExpectInfinities&) = delete;

 private:
  bool previous_;
};

/// Anomaly mode's forward check of `op`'s output (see the rules above); throws NonFiniteError.
void check_forward_anomaly(const char* op, const Tensor& out, const std::vector<Tensor>& inputs);

}  // namespace detail
}  // namespace recgrad
