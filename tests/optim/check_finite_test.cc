// Optimizer::set_check_finite: a NaN/inf gradient is refused before any parameter moves, the
// error names the parameter and element; row-sparse gradients are checked on their rows.
#include <doctest/doctest.h>

#include <limits>
#include <vector>

#include "optim/adam.h"
#include "optim/sgd.h"
#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
}  // namespace

TEST_CASE("optimizer: check_finite refuses a NaN gradient, naming it, before moving anything") {
  Tensor a = tensor({1.f, 2.f}, {2}).set_requires_grad();
  Tensor b = tensor({1.f, 2.f, 3.f, 4.f}, {2, 2}).set_requires_grad();
  SGDOptions o;
  o.lr = 0.1;
  SGD opt({{"encoder.a", a}, {"decoder.layers.0.weight", b}}, o);
  CHECK_FALSE(opt.check_finite());
  opt.set_check_finite(true);
  set_grad(a, tensor({1.f, 1.f}, {2}));
  set_grad(b, tensor({0.f, 0.f, kNaN, 0.f}, {2, 2}));
  CHECK_THROWS_WITH_AS(opt.step(),
                       "SGD: the gradient of 'decoder.layers.0.weight' [2,2] holds nan (element "
                       "[1,0])",
                       NonFiniteError);
  // `a` comes first and its gradient is fine, yet it did not move: checks run before updates.
  CHECK(a.to_vector() == std::vector<float>{1.f, 2.f});
  CHECK(opt.steps() == 0);
}

TEST_CASE("optimizer: without check_finite a NaN gradient is applied (the opt-out)") {
  Tensor a = tensor({1.f, 2.f}, {2}).set_requires_grad();
  Adam opt({{"a", a}});
  set_grad(a, tensor({kNaN, 1.f}, {2}));
  opt.step();
  CHECK(std::isnan(a.at({0})));
  CHECK(opt.steps() == 1);
}

TEST_CASE("optimizer: a row-sparse gradient is checked on its rows, in table coordinates") {
  Tensor table = zeros({100, 3}).set_requires_grad();
  Adam opt({{"items.weight", table}});
  opt.set_check_finite(true);
  // Two parts, one duplicate row: the check sees the coalesced rows (7, 42, 90).
  set_sparse_grad(table, {RowSparseGrad{{42, 7}, tensor({1, 1, 1, 2, 2, 2}, {2, 3})},
                          RowSparseGrad{{90, 42}, tensor({0, 0, -kInf, 3, 3, 3}, {2, 3})}});
  CHECK_THROWS_WITH_AS(opt.step(),
                       "Adam: the row-sparse gradient of 'items.weight' [100,3] holds -inf "
                       "(element [90,2])",
                       NonFiniteError);
  CHECK(table.at({42, 0}) == 0.f);
  // Finite again: the step goes through and touches only those rows.
  opt.zero_grad();
  set_sparse_grad(table, {RowSparseGrad{{42, 7}, tensor({1, 1, 1, 2, 2, 2}, {2, 3})}});
  opt.step();
  CHECK(table.at({42, 0}) != 0.f);
  CHECK(table.at({90, 2}) == 0.f);
}

TEST_CASE("optimizer: an inf in a dense gradient is refused too, and parameters without one skipped") {
  Tensor a = tensor({1.f}, {1}).set_requires_grad();
  Tensor unused = tensor({5.f}, {1}).set_requires_grad();
  SGD opt({{"a", a}, {"unused", unused}});
  opt.set_check_finite(true);
  set_grad(a, tensor({kInf}, {1}));
  CHECK_THROWS_WITH_AS(opt.step(), doctest::Contains("'a' [1] holds inf (element [0])"), NonFiniteError);
  opt.zero_grad();
  set_grad(a, tensor({1.f}, {1}));
  CHECK_NOTHROW(opt.step());
}
