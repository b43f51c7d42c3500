#include "ops/elementwise.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/anomaly.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/broadcast.h"
#include "ops/fast_math.h"

namespace recgrad {
namespace {

using detail::kGrainCheap;
using detail::kGrainExpensive;
using detail::map_tensor;
using detail::map_tensors;
using detail::select;
using detail::sum_to_shape;

// out = f(a, b) with broadcasting; the shape check names the op and both shapes.
template <typename F>
Tensor binary(const char* op, const Tensor& a, const Tensor& b, int64_t grain, const F& f) {
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape(), op));
  detail::broadcast_binary(a, b, out, grain, f);
  return out;
}

// An operand's gradient f(g, x) where g has the output's shape and x broadcasts into it,
// summed back down to the operand's shape `to`.
template <typename F>
Tensor grad_of(const Tensor& g, const Tensor& x, const Shape& to, int64_t grain, const F& f) {
  Tensor t = Tensor::empty(g.shape());
  detail::broadcast_binary(g, x, t, grain, f);
  return sum_to_shape(t, to);
}

// out[i] = f(a[ia], b[ib], c[ic]) with numpy broadcasting; `out` has the broadcast shape.
template <typename F>
void broadcast_ternary(const Tensor& a, const Tensor& b, const Tensor& c, Tensor& out,
                       int64_t grain, const F& f) {
  const float* pa = a.data();
  const float* pb = b.data();
  const float* pc = c.data();
  float* po = out.data();
  const int64_t n = out.numel();
  // An operand that broadcasts to `out` with the same numel has out's layout.
  if (a.numel() == n && b.numel() == n && c.numel() == n) {
    detail::parallel_map(po, n, grain, f, pa, pb, pc);
    return;
  }
  // Broadcast gradients of where/div/pow/maximum: rarer, so one scalar loop per row.
  const Shape& os = out.shape();
  const int64_t rank = static_cast<int64_t>(os.size());
  const std::vector<int64_t> sa = detail::broadcast_strides(a.shape(), os);
  const std::vector<int64_t> sb = detail::broadcast_strides(b.shape(), os);
  const std::vector<int64_t> sc = detail::broadcast_strides(c.shape(), os);
  const int64_t inner = std::max<int64_t>(os.back(), 1);
  const int64_t ia = sa.back(), ib = sb.back(), ic = sc.back();
  detail::parallel_for(n / inner, std::max<int64_t>(1, grain / inner), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      int64_t rem = r, oa = 0, ob = 0, oc = 0;
      for (int64_t d = rank - 2; d >= 0; --d) {
        const int64_t idx = rem % os[d];
        rem /= os[d];
        oa += idx * sa[d];
        ob += idx * sb[d];
        oc += idx * sc[d];
      }
      float* o = po + r * inner;
      for (int64_t j = 0; j < inner; ++j)
        o[j] = f(pa[oa + j * ia], pb[ob + j * ib], pc[oc + j * ic]);
    }
  });
}

// As grad_of, for a gradient f(g, x, z) of two broadcast operands. Returning the fresh tensor
// (not holding it) lets the sink adopt it without a copy.
template <typename F>
Tensor grad_of(const Tensor& g, const Tensor& x, const Tensor& z, const Shape& to, int64_t grain,
               const F& f) {
  Tensor t = Tensor::empty(g.shape());
  broadcast_ternary(g, x, z, t, grain, f);
  return sum_to_shape(t, to);
}

// The broadcast shape of three operands; the error names all three.
Shape broadcast_three(const char* op, const Shape& s0, const Shape& s1, const Shape& s2) {
  const Shape* shapes[] = {&s0, &s1, &s2};
  size_t rank = 0;
  for (const Shape* s : shapes) rank = std::max(rank, s->size());
  Shape out(rank, 1);
  for (size_t i = 0; i < rank; ++i)
    for (const Shape* s : shapes) {
      const int64_t d = i < rank - s->size() ? 1 : (*s)[i - (rank - s->size())];
      RECGRAD_CHECK(d == out[i] || d == 1 || out[i] == 1, op, ": shapes ", s0, ", ", s1, " and ",
                    s2, " cannot be broadcast (dimension ", i, ": ", out[i], " vs ", d, ")");
      if (d != 1) out[i] = d;
    }
  return out;
}

Tensor negated(const Tensor& t) {
  return map_tensor(t, kGrainCheap, [](float v) { return -v; });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Binary, broadcasting. Gradients are computed at the output's shape and summed down to each
// operand's (sum_to_shape returns the gradient itself when no dimension was broadcast).

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary("add", a, b, kGrainCheap, [](float x, float y) { return x + y; });
  return record("add", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, GradSink& s) {
    if (s.wants(0)) s.add(0, sum_to_shape(g, sa));
    if (s.wants(1)) s.add(1, sum_to_shape(g, sb));
  });
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary("sub", a, b, kGrainCheap, [](float x, float y) { return x - y; });
  return record("sub", out, {a, b}, [sa = a.shape(), sb = b.shape()](const Tensor& g, GradSink& s) {
    if (s.wants(0)) s.add(0, sum_to_shape(g, sa));
    if (s.wants(1)) s.add(1, negated(sum_to_shape(g, sb)));  // reduce first: fewer negations
  });
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary("mul", a, b, kGrainCheap, [](float x, float y) { return x * y; });
  return record("mul", out, {a, b}, [a, b](const Tensor& g, GradSink& s) {
    auto times = [](float gv, float v) { return gv * v; };
    if (s.wants(0)) s.add(0, grad_of(g, b, a.shape(), kGrainCheap, times));
    if (s.wants(1)) s.add(1, grad_of(g, a, b.shape(), kGrainCheap, times));
  });
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary("div", a, b, kGrainCheap, [](float x, float y) { return x / y; });
  return record("div", out, {a, b}, [a, b, y = out.detach()](const Tensor& g, GradSink& s) {
    if (s.wants(0))
      s.add(0, grad_of(g, b, a.shape(), kGrainCheap, [](float gv, float bv) { return gv / bv; }));
    if (s.wants(1))  // d(a/b)/db = -(a/b)/b
      s.add(1, grad_of(g, y, b, b.shape(), kGrainCheap,
                       [](float gv, float yv, float bv) { return -gv * yv / bv; }));
  });
}

Tensor pow(const Tensor& a, const Tensor& b) {
  Tensor out =
      binary("pow", a, b, kGrainExpensive, [](float x, float p) { return std::pow(x, p); });
  return record("pow", out, {a, b}, [a, b, y = out.detach()](const Tensor& g, GradSink& s) {
    if (s.wants(0))  // b·a^(b-1), exactly 0 where b = 0 (a^-1 would be inf at a = 0)
      s.add(0, grad_of(g, a, b, a.shape(), kGrainExpensive, [](float gv, float av, float bv) {
              return select(bv == 0.f, 0.f, gv * bv * std::pow(av, bv - 1.f));
            }));
    if (s.wants(1))  // a^b·ln a, taken as 0 at a = 0 (where ln a = -inf)
      s.add(1, grad_of(g, y, a, b.shape(), kGrainExpensive, [](float gv, float yv, float av) {
              return select(av == 0.f, 0.f, gv * yv * detail::fast_log(av));
            }));
  });
}

namespace {

// maximum/minimum: `first_wins(a, b)` says where the output (and gradient) comes from a.
template <typename FirstWins>
Tensor extremum(const char* op, const Tensor& a, const Tensor& b, FirstWins first_wins) {
  Tensor out = binary(op, a, b, kGrainCheap,
                      [first_wins](float x, float y) { return first_wins(x, y) ? x : y; });
  return record(op, out, {a, b}, [a, b, first_wins](const Tensor& g, GradSink& s) {
    for (size_t i = 0; i < 2; ++i) {
      if (!s.wants(i)) continue;
      const bool to_a = i == 0;
      s.add(i, grad_of(g, a, b, (to_a ? a : b).shape(), kGrainCheap,
                       [first_wins, to_a](float gv, float x, float y) {
                         return first_wins(x, y) == to_a ? gv : 0.f;
                       }));
    }
  });
}

}  // namespace

// `x != x` keeps a NaN in a; a NaN in b loses every comparison, so it is chosen too.
Tensor maximum(const Tensor& a, const Tensor& b) {
  return extremum("maximum", a, b, [](float x, float y) { return x >= y || x != x; });
}

Tensor minimum(const Tensor& a, const Tensor& b) {
  return extremum("minimum", a, b, [](float x, float y) { return x <= y || x != x; });
}

// ---------------------------------------------------------------------------------------------
// With a float.

Tensor add(const Tensor& x, float c) {
  Tensor out = map_tensor(x, kGrainCheap, [c](float v) { return v + c; });
  return record("add_scalar", out, {x}, [](const Tensor& g, GradSink& s) { s.add(0, g); });
}

Tensor sub(const Tensor& x, float c) { return add(x, -c); }

Tensor sub(float c, const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [c](float v) { return c - v; });
  return record("rsub_scalar", out, {x},
                [](const Tensor& g, GradSink& s) { s.add(0, negated(g)); });
}

Tensor mul(const Tensor& x, float c) {
  Tensor out = map_tensor(x, kGrainCheap, [c](float v) { return v * c; });
  return record("mul_scalar", out, {x}, [c](const Tensor& g, GradSink& s) {
    s.add(0, map_tensor(g, kGrainCheap, [c](float gv) { return gv * c; }));
  });
}

Tensor div(const Tensor& x, float c) {
  Tensor out = map_tensor(x, kGrainCheap, [c](float v) { return v / c; });
  return record("div_scalar", out, {x}, [c](const Tensor& g, GradSink& s) {
    s.add(0, map_tensor(g, kGrainCheap, [c](float gv) { return gv / c; }));
  });
}

Tensor div(float c, const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [c](float v) { return c / v; });
  return record("rdiv_scalar", out, {x}, [x, y = out.detach()](const Tensor& g, GradSink& s) {
    // d(c/x)/dx = -(c/x)/x
    s.add(0, map_tensors(g, y, x, kGrainCheap,
                         [](float gv, float yv, float xv) { return -gv * yv / xv; }));
  });
}

Tensor pow(const Tensor& x, float p) {
  // Exact shortcuts for the common exponents; std::pow (a libm call per element) otherwise.
  Tensor out;
  if (p == 2.f)
    out = map_tensor(x, kGrainCheap, [](float v) { return v * v; });
  else if (p == 3.f)
    out = map_tensor(x, kGrainCheap, [](float v) { return v * v * v; });
  else if (p == 0.5f)
    out = map_tensor(x, kGrainExpensive, [](float v) { return std::sqrt(v); });
  else if (p == -0.5f)
    out = map_tensor(x, kGrainExpensive, [](float v) { return 1.f / std::sqrt(v); });
  else if (p == -1.f)
    out = map_tensor(x, kGrainCheap, [](float v) { return 1.f / v; });
  else if (p == -2.f)
    out = map_tensor(x, kGrainCheap, [](float v) { return 1.f / (v * v); });
  else
    out = map_tensor(x, kGrainExpensive, [p](float v) { return std::pow(v, p); });
  return record("pow_scalar", out, {x}, [x, p](const Tensor& g, GradSink& s) {
    if (p == 0.f) return;  // a constant: no gradient (p·x^-1 would be NaN at 0)
    if (p == 1.f) return s.add(0, g);
    if (p == 2.f)
      return s.add(0,
                   map_tensors(g, x, kGrainCheap, [](float gv, float v) { return 2.f * v * gv; }));
    const float q = p - 1.f;
    s.add(0, map_tensors(g, x, kGrainExpensive,
                         [p, q](float gv, float v) { return p * std::pow(v, q) * gv; }));
  });
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& x, float s) { return add(x, s); }
Tensor operator+(float s, const Tensor& x) { return add(x, s); }
Tensor operator-(const Tensor& x, float s) { return sub(x, s); }
Tensor operator-(float s, const Tensor& x) { return sub(s, x); }
Tensor operator*(const Tensor& x, float s) { return mul(x, s); }
Tensor operator*(float s, const Tensor& x) { return mul(x, s); }
Tensor operator/(const Tensor& x, float s) { return div(x, s); }
Tensor operator/(float s, const Tensor& x) { return div(s, x); }
Tensor operator-(const Tensor& x) { return neg(x); }

// ---------------------------------------------------------------------------------------------
// Unary. fast_exp and fast_log are vectorised (~2 cycles per element: the cheap grain);
// sqrt stays a libm call because of errno, so GCC will not vectorise it.

Tensor neg(const Tensor& x) {
  return record("neg", negated(x), {x}, [](const Tensor& g, GradSink& s) { s.add(0, negated(g)); });
}

Tensor exp(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [](float v) { return detail::fast_exp(v); });
  return record("exp", out, {x}, [y = out.detach()](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, y, kGrainCheap, [](float gv, float yv) { return gv * yv; }));
  });
}

Tensor log(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [](float v) { return detail::fast_log(v); });
  return record("log", out, {x}, [x](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, x, kGrainCheap, [](float gv, float v) { return gv / v; }));
  });
}

Tensor sqrt(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainExpensive, [](float v) { return std::sqrt(v); });
  return record("sqrt", out, {x}, [y = out.detach()](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, y, kGrainCheap, [](float gv, float yv) { return 0.5f * gv / yv; }));
  });
}

Tensor rsqrt(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainExpensive, [](float v) { return 1.f / std::sqrt(v); });
  return record("rsqrt", out, {x}, [y = out.detach()](const Tensor& g, GradSink& s) {
    // d(x^-1/2)/dx = -x^-3/2 / 2 = -y³/2
    s.add(0, map_tensors(g, y, kGrainCheap,
                         [](float gv, float yv) { return -0.5f * gv * yv * yv * yv; }));
  });
}

Tensor abs(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [](float v) { return std::fabs(v); });
  return record("abs", out, {x}, [x](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, x, kGrainCheap,
                         [](float gv, float v) { return v > 0.f ? gv : (v < 0.f ? -gv : 0.f); }));
  });
}

Tensor square(const Tensor& x) { return pow(x, 2.f); }

Tensor reciprocal(const Tensor& x) {
  Tensor out = map_tensor(x, kGrainCheap, [](float v) { return 1.f / v; });
  return record("reciprocal", out, {x}, [y = out.detach()](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, y, kGrainCheap, [](float gv, float yv) { return -gv * yv * yv; }));
  });
}

Tensor clamp(const Tensor& x, float lo, float hi) {
  RECGRAD_CHECK(lo <= hi, "clamp: lower bound ", lo, " is above upper bound ", hi,
                " (tensor of shape ", x.shape(), ")");
  Tensor out =
      map_tensor(x, kGrainCheap, [lo, hi](float v) { return v < lo ? lo : (v > hi ? hi : v); });
  return record("clamp", out, {x}, [x, lo, hi](const Tensor& g, GradSink& s) {
    s.add(0, map_tensors(g, x, kGrainCheap,
                         [lo, hi](float gv, float v) { return (v > lo && v < hi) ? gv : 0.f; }));
  });
}

// ---------------------------------------------------------------------------------------------
// Selection.

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(broadcast_three("where", cond.shape(), a.shape(), b.shape()));
  broadcast_ternary(cond, a, b, out, kGrainCheap,
                    [](float c, float x, float y) { return c != 0.f ? x : y; });
  // cond is a mask, not differentiated: it is kept out of the graph's inputs.
  return record("where", out, {a, b},
                [cond, sa = a.shape(), sb = b.shape()](const Tensor& g, GradSink& s) {
                  if (s.wants(0))
                    s.add(0, grad_of(g, cond, sa, kGrainCheap,
                                     [](float gv, float c) { return c != 0.f ? gv : 0.f; }));
                  if (s.wants(1))
                    s.add(1, grad_of(g, cond, sb, kGrainCheap,
                                     [](float gv, float c) { return c != 0.f ? 0.f : gv; }));
                });
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  const Shape shape = broadcast_shapes(x.shape(), mask.shape(), "masked_fill");
  RECGRAD_CHECK(shape == x.shape(), "masked_fill: mask ", mask.shape(),
                " does not broadcast to the input's shape ", x.shape(), " (it would give ", shape,
                ")");
  Tensor out = Tensor::empty(shape);
  detail::broadcast_binary(x, mask, out, kGrainCheap,
                           [value](float v, float m) { return m != 0.f ? value : v; });
  // Masking logits with -inf is the point of an infinite fill: not an anomaly (anomaly.h).
  const detail::ExpectInfinities on_purpose(!std::isfinite(value));
  return record("masked_fill", out, {x}, [mask](const Tensor& g, GradSink& s) {
    s.add(0, grad_of(g, mask, g.shape(), kGrainCheap,
                     [](float gv, float m) { return m != 0.f ? 0.f : gv; }));
  });
}

}  // namespace recgrad
