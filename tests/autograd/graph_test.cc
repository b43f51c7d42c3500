// The engine on its own: tiny ops defined here with `record`, so these tests depend on nothing
// but autograd/.
#include "autograd/graph.h"

#include <doctest/doctest.h>

#include "autograd/generator.h"

using namespace recgrad;

namespace {

// y = c·x
Tensor scale(const Tensor& x, float c) {
  Tensor out = Tensor::empty(x.shape());
  for (int64_t i = 0; i < x.numel(); ++i) out.data()[i] = c * x.data()[i];
  return record("scale", out, {x}, [c](const Tensor& g, GradSink& s) {
    Tensor dx = Tensor::empty(g.shape());
    for (int64_t i = 0; i < g.numel(); ++i) dx.data()[i] = c * g.data()[i];
    s.add(0, dx);
  });
}

// y = a + b (same shapes); passes its gradient through by handle, exercising the copy rule.
Tensor plus(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) out.data()[i] = a.data()[i] + b.data()[i];
  return record("plus", out, {a, b}, [](const Tensor& g, GradSink& s) {
    s.add(0, g);
    s.add(1, g);
  });
}

// y = a ⊙ b (same shapes)
Tensor times(const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) out.data()[i] = a.data()[i] * b.data()[i];
  return record("times", out, {a, b}, [a, b](const Tensor& g, GradSink& s) {
    for (int64_t i = 0; i < g.numel(); ++i) {
      if (s.wants(0)) s.dense(0).data()[i] += g.data()[i] * b.data()[i];
      if (s.wants(1)) s.dense(1).data()[i] += g.data()[i] * a.data()[i];
    }
  });
}

Tensor total(const Tensor& x) {
  Tensor out = scalar(0.f);
  for (int64_t i = 0; i < x.numel(); ++i) out.data()[0] += x.data()[i];
  const Shape shape = x.shape();
  return record("total", out, {x}, [shape](const Tensor& g, GradSink& s) {
    s.add(0, full(shape, g.item()));
  });
}

}  // namespace

TEST_CASE("backward: a tensor used twice accumulates both contributions") {
  Tensor x = tensor({1, 2, 3}).set_requires_grad();
  total(times(x, x)).backward();  // d/dx Σx² = 2x
  CHECK(x.grad().to_vector() == std::vector<float>{2, 4, 6});
  Tensor y = tensor({1, 2}).set_requires_grad();
  total(plus(y, y)).backward();  // the same gradient handle sent to both inputs is not aliased
  CHECK(y.grad().to_vector() == std::vector<float>{2, 2});
}

TEST_CASE("backward: a diamond sums gradients over both paths before going further") {
  Tensor x = tensor({1, -1}).set_requires_grad();
  Tensor h = scale(x, 3);                      // shared intermediate
  Tensor y = plus(scale(h, 2), times(h, h));   // 6x + 9x²
  total(y).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{6 + 18, 6 - 18});
}

TEST_CASE("backward: gradients accumulate across calls until zero_grad") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  total(scale(x, 2)).backward();
  total(scale(x, 2)).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{4, 4});
  x.zero_grad();
  CHECK_FALSE(x.grad().defined());
}

TEST_CASE("backward: an explicit output gradient is required for non-scalars and must match") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  Tensor y = scale(x, 5);
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("output of shape [2] is not a scalar"),
                       Error);
  CHECK_THROWS_WITH_AS(y.backward(ones({3})), doctest::Contains("gradient of shape [3]"), Error);
  y.backward(tensor({1, 10}));
  CHECK(x.grad().to_vector() == std::vector<float>{5, 50});
}

TEST_CASE("backward: a second pass through a freed graph is a clear error") {
  Tensor x = tensor({1}).set_requires_grad();
  Tensor y = total(scale(x, 2));
  y.backward();
  CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already freed"), UsageError);
  Tensor z = total(scale(x, 2));
  z.backward(ones({}), /*retain_graph=*/true);
  z.backward();
  CHECK(x.grad().item() == 2 + 2 + 2);
}

TEST_CASE("NoGradGuard: ops record nothing, and recording resumes after the guard") {
  Tensor x = tensor({1}).set_requires_grad();
  {
    NoGradGuard guard;
    CHECK_FALSE(grad_enabled());
    Tensor y = scale(x, 2);
    CHECK_FALSE(y.requires_grad());
    CHECK(y.is_leaf());
    CHECK_THROWS_AS(y.backward(), UsageError);
  }
  CHECK(grad_enabled());
  CHECK(scale(x, 2).grad_fn_name() == "scale");
}

TEST_CASE("detach: shares storage but stops gradients") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  Tensor h = scale(x, 2);
  Tensor d = h.detach();
  CHECK(d.shares_storage_with(h));
  CHECK_FALSE(d.requires_grad());
  total(plus(times(d, x), x)).backward();  // d treated as a constant: grad = d + 1
  CHECK(x.grad().to_vector() == std::vector<float>{3, 5});
}

TEST_CASE("backward: inputs that do not require grad receive nothing") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  Tensor c = tensor({3, 4});
  total(times(x, c)).backward();
  CHECK(x.grad().to_vector() == std::vector<float>{3, 4});
  CHECK_FALSE(c.grad().defined());
}

TEST_CASE("backward: a chain of 100k nodes runs and is freed without deep recursion") {
  Tensor x = tensor({1}).set_requires_grad();
  Tensor y = x;
  for (int i = 0; i < 100000; ++i) y = scale(y, 1.0f);
  y.backward();
  CHECK(x.grad().item() == 1);
  // A long graph dropped without backward is also destroyed iteratively.
  Tensor z = x;
  for (int i = 0; i < 100000; ++i) z = plus(z, x);
  z = Tensor();
  CHECK(x.requires_grad());
}

TEST_CASE("set_requires_grad: only leaves can be marked") {
  Tensor x = tensor({1}).set_requires_grad();
  Tensor y = scale(x, 2);
  CHECK_THROWS_WITH_AS(y.set_requires_grad(false), doctest::Contains("only leaves"), UsageError);
}

TEST_CASE("row-sparse gradients: parts are coalesced in arrival order and densify exactly") {
  Tensor table = zeros({5, 2}).set_requires_grad();
  // A fake lookup op that sends two row-sparse parts with a repeated row.
  Tensor out = record("fake_lookup", scalar(0.f), {table}, [](const Tensor&, GradSink& s) {
    s.add_sparse(0, RowSparseGrad{{3, 1}, tensor({1, 2, 3, 4}, {2, 2})});
    s.add_sparse(0, RowSparseGrad{{3}, tensor({10, 20}, {1, 2})});
  });
  out.backward();
  REQUIRE(table.has_sparse_grad());
  RowSparseGrad g = table.sparse_grad();
  CHECK(g.rows == std::vector<int64_t>{1, 3});
  CHECK(g.values.to_vector() == std::vector<float>{3, 4, 11, 22});
  CHECK(table.grad().to_vector() == std::vector<float>{0, 0, 3, 4, 0, 0, 11, 22, 0, 0});
}

namespace {

// y = x, whose backward passes its output gradient through unchanged (as add, add_bias and
// reshape do) and remembers which buffer it received, so tests can see whether it was copied.
Tensor pass_through(const Tensor& x, const float** seen) {
  Tensor out = x.clone();
  return record("pass_through", out, {x}, [seen](const Tensor& g, GradSink& s) {
    *seen = g.data();
    s.add(0, g);
  });
}

// y = a + b, whose backward also checks that its output gradient is unchanged after both adds
// (both may route it to the same slot when a and b are one tensor).
Tensor plus_checked(const Tensor& a, const Tensor& b, bool* intact) {
  Tensor out = Tensor::empty(a.shape());
  for (int64_t i = 0; i < a.numel(); ++i) out.data()[i] = a.data()[i] + b.data()[i];
  return record("plus_checked", out, {a, b}, [intact](const Tensor& g, GradSink& s) {
    const std::vector<float> before = g.to_vector();
    s.add(0, g);
    s.add(1, g);
    *intact = g.to_vector() == before;
  });
}

}  // namespace

TEST_CASE("GradSink: a passed-through gradient is adopted, not copied") {
  Tensor x = tensor({1.f, 2.f, 3.f}, {3}).set_requires_grad();
  const float* seen_outer = nullptr;
  const float* seen_inner = nullptr;
  Tensor y = pass_through(pass_through(x, &seen_inner), &seen_outer);
  y.backward(tensor({4.f, 5.f, 6.f}, {3}));
  REQUIRE(seen_outer != nullptr);
  // The outer node's gradient (the engine's copy of the one passed to backward) travels
  // through the inner node into x.grad without a copy.
  CHECK(seen_inner == seen_outer);
  CHECK(x.grad().data() == seen_outer);
  CHECK(x.grad().to_vector() == std::vector<float>{4.f, 5.f, 6.f});
}

TEST_CASE("GradSink: one gradient sent to two inputs gives each its own buffer") {
  Tensor a = tensor({1.f, 2.f}, {2}).set_requires_grad();
  Tensor b = tensor({3.f, 4.f}, {2}).set_requires_grad();
  bool intact = false;
  plus_checked(a, b, &intact).backward(tensor({1.f, 1.f}, {2}));
  CHECK(intact);
  CHECK(a.grad().data() != b.grad().data());
  a.grad().data()[0] = 100.f;  // writing one gradient must not show through the other
  CHECK(b.grad().to_vector() == std::vector<float>{1.f, 1.f});
}

TEST_CASE("GradSink: an input used twice sums both without changing the gradient being read") {
  Tensor x = tensor({1.f, 2.f}, {2}).set_requires_grad();
  bool intact = false;
  plus_checked(x, x, &intact).backward(tensor({3.f, 5.f}, {2}));
  CHECK(intact);
  CHECK(x.grad().to_vector() == std::vector<float>{6.f, 10.f});
}

TEST_CASE("GradSink: an adopted gradient accumulates over passes and retain_graph") {
  Tensor x = tensor({1.f, 2.f}, {2}).set_requires_grad();
  const float* seen = nullptr;
  Tensor y = pass_through(x, &seen);
  const Tensor g = tensor({1.f, 2.f}, {2});
  y.backward(g, /*retain_graph=*/true);
  y.backward(g);
  CHECK(x.grad().to_vector() == std::vector<float>{2.f, 4.f});
  CHECK(g.to_vector() == std::vector<float>{1.f, 2.f});  // the caller's gradient is untouched
  // A diamond: both paths reach x; the second contribution is added to the adopted first.
  Tensor z = tensor({1.f, 1.f}, {2}).set_requires_grad();
  const float* s1 = nullptr;
  const float* s2 = nullptr;
  bool intact = false;
  plus_checked(pass_through(z, &s1), pass_through(z, &s2), &intact)
      .backward(tensor({7.f, 9.f}, {2}));
  CHECK(intact);
  CHECK(z.grad().to_vector() == std::vector<float>{14.f, 18.f});
}
