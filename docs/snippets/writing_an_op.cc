#include <doctest/doctest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace recgrad;

/// y = x·σ(x) (swish).  x [...] -> y [...];  dy/dx = σ(x)·(1 + x·(1 − σ(x))).
Tensor swish(const Tensor& x) {
  Tensor out = Tensor::empty(x.shape());
  Tensor sig = Tensor::empty(x.shape());   // saved for backward: σ(x)
  const float* px = x.data();
  float* po = out.data();
  float* ps = sig.data();
  for (int64_t i = 0; i < x.numel(); ++i) {
    ps[i] = 1.f / (1.f + std::exp(-px[i]));
    po[i] = px[i] * ps[i];
  }
  return record("swish", out, {x}, [x, sig](const Tensor& dy, GradSink& g) {
    if (!g.wants(0)) return;
    Tensor& dx = g.dense(0);               // zeros shaped like x: add into it
    const float *pdy = dy.data(), *px = x.data(), *ps = sig.data();
    float* pdx = dx.data();
    for (int64_t i = 0; i < x.numel(); ++i)
      pdx[i] += pdy[i] * ps[i] * (1.f + px[i] * (1.f - ps[i]));
  });
}

/// The same forward with a wrong backward (forgets the x·σ'(x) term).
Tensor swish_wrong(const Tensor& x) {
  Tensor s = sigmoid(x).detach();
  Tensor out = mul(x.detach(), s);
  return record("swish_wrong", out, {x}, [s](const Tensor& dy, GradSink& g) {
    g.add(0, mul(dy, s));
  });
}

TEST_CASE("tour 2: swish has a known value and a correct gradient") {
  Tensor x = tensor({0.f, 2.f}, {2}).set_requires_grad();
  Tensor y = swish(x);
  CHECK(y.at({0}) == 0.f);
  CHECK(y.at({1}) == doctest::Approx(2.f / (1.f + std::exp(-2.f))));
  sum(y).backward();
  CHECK(x.grad().at({0}) == doctest::Approx(0.5f));  // σ(0)·(1 + 0) = 1/2

  Generator gen(42);
  for (Shape shape : {Shape{1}, Shape{3, 4}, Shape{2, 3, 5}}) {
    GradcheckResult r = gradcheck(
        [](const std::vector<Tensor>& in) { return swish(in[0]); }, {randn(shape, gen)});
    CHECK_MESSAGE(r, r.message);
  }
  GradcheckResult bad = gradcheck(
      [](const std::vector<Tensor>& in) { return swish_wrong(in[0]); }, {randn({3, 4}, gen)});
  CHECK_FALSE(bad);                                  // gradcheck catches the missing term
  CHECK(bad.message.find("analytic") != std::string::npos);
}
