// Row-sparse gradients through every optimizer: lazy updates touch only the rows that have a
// gradient, and agree with the dense step when every row is touched.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "autograd/generator.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {

// Rows `rows` of a [n, d] tensor, as a [rows.size(), d] tensor.
Tensor take_rows(const Tensor& t, const std::vector<int64_t>& rows) {
  const int64_t d = t.size(1);
  Tensor out = Tensor::empty({static_cast<int64_t>(rows.size()), d});
  for (size_t k = 0; k < rows.size(); ++k)
    std::memcpy(out.data() + k * d, t.data() + rows[k] * d, sizeof(float) * d);
  return out;
}

bool same_row_bits(const Tensor& a, const Tensor& b, int64_t row) {
  const int64_t d = a.size(1);
  return std::memcmp(a.data() + row * d, b.data() + row * d, sizeof(float) * d) == 0;
}

using MakeOpt = std::function<std::unique_ptr<Optimizer>(const nn::NamedTensors&)>;

struct Case {
  const char* name;
  MakeOpt make;
};

std::vector<Case> all_optimizers() {
  return {
      {"SGD", [](const auto& p) { SGDOptions o; o.lr = 0.1, o.weight_decay = 0.05; return std::make_unique<SGD>(p, o); }},
      {"SGD+momentum", [](const auto& p) { SGDOptions o; o.lr = 0.1, o.momentum = 0.9, o.nesterov = true; return std::make_unique<SGD>(p, o); }},
      {"Adam", [](const auto& p) { AdamOptions o; o.lr = 0.05, o.weight_decay = 0.1; return std::make_unique<Adam>(p, o); }},
      {"AdamW", [](const auto& p) { AdamWOptions o; o.lr = 0.05, o.weight_decay = 0.1; return std::make_unique<AdamW>(p, o); }},
      {"Adagrad", [](const auto& p) { AdagradOptions o; o.lr = 0.1, o.lr_decay = 0.1, o.weight_decay = 0.1; return std::make_unique<Adagrad>(p, o); }},
      {"RMSProp", [](const auto& p) { RMSPropOptions o; o.lr = 0.01, o.momentum = 0.5, o.centered = true; return std::make_unique<RMSProp>(p, o); }},
  };
}

}  // namespace

TEST_CASE("sparse updates: with every row touched, a sparse step equals the dense step bit for bit") {
  for (const Case& c : all_optimizers()) {
    INFO(c.name);
    Generator gen(7);
    Tensor dense = randn({6, 4}, gen).set_requires_grad();
    Tensor sparse = dense.clone().set_requires_grad();
    auto opt_d = c.make({{"table", dense}});
    auto opt_s = c.make({{"table", sparse}});
    for (int t = 0; t < 3; ++t) {
      const Tensor g = randn({6, 4}, gen);
      set_grad(dense, g);
      // Rows arrive unsorted in one part, as an op may send them; the optimizer must coalesce.
      const std::vector<int64_t> rows{5, 2, 0, 3, 1, 4};
      set_sparse_grad(sparse, {RowSparseGrad{rows, take_rows(g, rows)}});
      opt_d->step();
      opt_s->step();
      opt_d->zero_grad();
      opt_s->zero_grad();
      CHECK_MESSAGE(same_bits(dense, sparse), "step ", t + 1);
    }
    const OptimizerState sd = opt_d->state(), ss = opt_s->state();
    REQUIRE(sd.tensors.size() == ss.tensors.size());
    for (size_t i = 0; i < sd.tensors.size(); ++i) CHECK(same_bits(sd.tensors[i].second, ss.tensors[i].second));
  }
}

TEST_CASE("sparse updates: Adam, AdamW, Adagrad and plain SGD leave untouched rows bit for bit") {
  for (const Case& c : all_optimizers()) {
    const std::string name = c.name;
    if (name == "SGD+momentum" || name == "RMSProp") continue;  // these densify (documented)
    INFO(c.name);
    Generator gen(3);
    Tensor table = randn({10, 3}, gen).set_requires_grad();
    const Tensor before = table.clone();
    auto opt = c.make({{"table", table}});
    const std::vector<std::vector<int64_t>> touched{{1, 4}, {4, 7}, {2}};
    for (const auto& rows : touched) {
      set_sparse_grad(table, {RowSparseGrad{rows, randn({static_cast<int64_t>(rows.size()), 3}, gen)}});
      opt->step();
      opt->zero_grad();
    }
    for (int64_t r : {0, 3, 5, 6, 8, 9}) {
      CHECK_MESSAGE(same_row_bits(table, before, r), "row ", r);
      for (const auto& [slot, t] : opt->state().tensors)  // every slot starts at 0 here
        for (int64_t j = 0; j < 3; ++j) CHECK_MESSAGE(t.at({r, j}) == 0.f, slot, " row ", r);
    }
    for (int64_t r : {1, 2, 4, 7}) CHECK_MESSAGE(!same_row_bits(table, before, r), "row ", r);
  }
}

TEST_CASE("sparse updates: lazy Adam corrects bias with the parameter's step count, not the row's") {
  Tensor table = zeros({3, 2}).set_requires_grad();
  AdamOptions o;
  o.lr = 0.1, o.beta1 = 0.5, o.beta2 = 0.75;
  Adam opt({{"table", table}}, o);
  set_sparse_grad(table, {RowSparseGrad{{0}, tensor({1, 1}, {1, 2})}});
  opt.step();
  opt.zero_grad();
  set_sparse_grad(table, {RowSparseGrad{{1}, tensor({2, -4}, {1, 2})}});
  opt.step();
  // Row 1's first gradient arrives at t = 2: m = (1−β₁)g, v = (1−β₂)g², untouched by step 1.
  for (int j = 0; j < 2; ++j) {
    const double g = j == 0 ? 2 : -4;
    const double m = (1 - o.beta1) * g, v = (1 - o.beta2) * g * g;
    const double want = -o.lr / (1 - o.beta1 * o.beta1) * m /
                        (std::sqrt(v) / std::sqrt(1 - o.beta2 * o.beta2) + o.eps);
    CHECK(table.at({1, j}) == doctest::Approx(want).epsilon(1e-5));
  }
  CHECK(table.at({0, 0}) == doctest::Approx(-0.1).epsilon(1e-5));  // not decayed at step 2
  CHECK(table.at({2, 0}) == 0.f);
}

TEST_CASE("sparse updates: duplicate rows across parts are summed before the update") {
  Tensor a = zeros({4, 2}).set_requires_grad();
  Tensor b = zeros({4, 2}).set_requires_grad();
  AdagradOptions o;
  o.lr = 1;
  Adagrad opt_a({{"t", a}}, o), opt_b({{"t", b}}, o);
  set_sparse_grad(a, {RowSparseGrad{{1, 3}, tensor({1, 2, 3, 4}, {2, 2})},
                      RowSparseGrad{{3}, tensor({10, 20}, {1, 2})}});
  set_sparse_grad(b, {RowSparseGrad{{1, 3}, tensor({1, 2, 13, 24}, {2, 2})}});
  opt_a.step();
  opt_b.step();
  CHECK(same_bits(a, b));
}

TEST_CASE("sparse updates: a gradient with dense and sparse parts takes the dense path") {
  Tensor a = ones({3, 2}).set_requires_grad();
  Tensor b = ones({3, 2}).set_requires_grad();
  AdamOptions o;
  o.lr = 0.1;
  Adam opt_a({{"t", a}}, o), opt_b({{"t", b}}, o);
  set_grad(a, full({3, 2}, 0.5f));
  set_sparse_grad(a, {RowSparseGrad{{2}, tensor({1, 1}, {1, 2})}});
  REQUIRE_FALSE(a.has_sparse_grad());
  set_grad(b, tensor({0.5f, 0.5f, 0.5f, 0.5f, 1.5f, 1.5f}, {3, 2}));
  opt_a.step();
  opt_b.step();
  CHECK(same_bits(a, b));
}

TEST_CASE("sparse updates: SGD with momentum densifies, so untouched rows follow their momentum") {
  Tensor t = zeros({2, 1}).set_requires_grad();
  SGDOptions o;
  o.lr = 1, o.momentum = 0.5;
  SGD opt({{"t", t}}, o);
  set_sparse_grad(t, {RowSparseGrad{{0, 1}, tensor({1, 1}, {2, 1})}});
  opt.step();
  opt.zero_grad();
  set_sparse_grad(t, {RowSparseGrad{{0}, tensor({1}, {1, 1})}});
  opt.step();
  // Row 1 had no gradient at step 2 but its buffer (1) still decays and moves it: −1 − 0.5.
  CHECK(t.to_vector() == std::vector<float>{-2.5f, -1.5f});
}
