#include <doctest/doctest.h>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace recgrad;

TEST_CASE("tour 1: a tensor, a graph, a gradient") {
  Tensor w = tensor({1.f, 2.f, 3.f}, {3}).set_requires_grad();  // a leaf we train
  Tensor x = tensor({4.f, 5.f, 6.f}, {3});                      // data: no gradient
  Tensor y = sum(mul(w, x));                                    // y = Σ w·x = 32, shape []

  CHECK(y.item() == 32.f);
  CHECK(y.grad_fn_name() == "sum");       // y was made by an op: it has a node
  CHECK(w.is_leaf());
  y.backward();                           // dy/dw = x
  CHECK(w.grad().to_vector() == std::vector<float>{4.f, 5.f, 6.f});
  CHECK_FALSE(x.grad().defined());        // x did not ask for a gradient

  {
    NoGradGuard no_grad;                  // inference: ops record nothing
    Tensor z = sum(mul(w, x));
    CHECK(z.grad_fn_name().empty());
    CHECK_FALSE(z.requires_grad());
  }
}
