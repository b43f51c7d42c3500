#include "ops/layer_norm.h"

#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// Layer norm of one row by the textbook formula, in double.
std::vector<double> reference_row(const std::vector<double>& x, double eps) {
  double mean = 0, var = 0;
  for (double v : x) mean += v;
  mean /= x.size();
  for (double v : x) var += (v - mean) * (v - mean);
  var /= x.size();
  std::vector<double> y;
  for (double v : x) y.push_back((v - mean) / std::sqrt(var + eps));
  return y;
}

}  // namespace

TEST_CASE("layer_norm: a known row, without and with affine") {
  const Tensor x = tensor({1, 2, 3, 4, -1, 0, 0, 1}, {2, 4});
  const Tensor y = layer_norm(x, Tensor(), Tensor(), 1e-5f);
  const auto r0 = reference_row({1, 2, 3, 4}, 1e-5), r1 = reference_row({-1, 0, 0, 1}, 1e-5);
  for (int j = 0; j < 4; ++j) {
    CHECK(y.at({0, j}) == doctest::Approx(r0[j]).epsilon(1e-6));
    CHECK(y.at({1, j}) == doctest::Approx(r1[j]).epsilon(1e-6));
  }
  // (1 - 2.5)/√(1.25 + 1e-5) = -1.3416...
  CHECK(y.at({0, 0}) == doctest::Approx(-1.5 / std::sqrt(1.25 + 1e-5)).epsilon(1e-6));
  const Tensor w = tensor({2, -1, 0.5f, 1}), b = tensor({0, 1, 2, 3});
  const Tensor ya = layer_norm(x, w, b, 1e-5f);
  for (int j = 0; j < 4; ++j)
    CHECK(ya.at({1, j}) == doctest::Approx(r1[j] * w.data()[j] + b.data()[j]).epsilon(1e-6));
}

TEST_CASE("layer_norm: stable when the mean dwarfs the spread") {
  // Rows around 1e4 with spread ~1: a one-pass E[x²] - μ² variance would lose every digit.
  Generator gen(3);
  Tensor x = normal({4, 64}, 1e4f, 1.f, gen);
  const Tensor y = layer_norm(x, Tensor(), Tensor(), 0.f);
  for (int64_t r = 0; r < 4; ++r) {
    std::vector<double> row;
    for (int64_t j = 0; j < 64; ++j) row.push_back(x.at({r, j}));
    const auto ref = reference_row(row, 0.0);
    for (int64_t j = 0; j < 64; ++j) CHECK(y.at({r, j}) == doctest::Approx(ref[j]).epsilon(1e-3));
  }
}

TEST_CASE("layer_norm: gradients match central differences, with and without affine") {
  for (const Shape& shape : {Shape{3, 5}, Shape{2, 3, 4}, Shape{1, 7}, Shape{6}}) {
    INFO("shape ", shape);
    const int64_t d = shape.back();
    Generator gen(11);
    const Tensor x = randn(shape, gen), w = normal({d}, 1.f, 0.5f, gen), b = randn({d}, gen);
    CHECK(gradcheck([](const auto& in) { return layer_norm(in[0], Tensor(), Tensor()); }, {x}));
    CHECK(gradcheck([](const auto& in) { return layer_norm(in[0], in[1], in[2]); }, {x, w, b}));
    CHECK(gradcheck([](const auto& in) { return layer_norm(in[0], in[1], Tensor()); }, {x, w}));
    CHECK(gradcheck([](const auto& in) { return layer_norm(in[0], Tensor(), in[1]); }, {x, b}));
  }
}

TEST_CASE("layer_norm: D = 1 normalises every row to 0, so the output is the bias") {
  Generator gen(5);
  const Tensor x = randn({4, 1}, gen), w = tensor({3.f}, {1}), b = tensor({0.25f}, {1});
  const Tensor y = layer_norm(x, w, b);
  for (int64_t r = 0; r < 4; ++r) CHECK(y.at({r, 0}) == 0.25f);
  // dx and dweight are exactly zero; dbias counts the rows.
  CHECK(gradcheck([](const auto& in) { return layer_norm(in[0], in[1], in[2]); }, {x, w, b}));
  Tensor xi = x.clone().set_requires_grad(), wi = w.clone().set_requires_grad(),
         bi = b.clone().set_requires_grad();
  layer_norm(xi, wi, bi).backward(ones({4, 1}));
  CHECK(xi.grad().to_vector() == std::vector<float>(4, 0.f));
  CHECK(wi.grad().item() == 0.f);
  CHECK(bi.grad().item() == 4.f);
}

TEST_CASE("layer_norm: dweight and dbias sum every row (many chunks) and match a double reference") {
  // 3000 rows x 8 features: several fixed row chunks are combined.
  Generator gen(8);
  const int64_t rows = 3000, d = 8;
  Tensor x = randn({rows, d}, gen), g = randn({rows, d}, gen);
  Tensor w = ones({d}).set_requires_grad(), b = zeros({d}).set_requires_grad();
  Tensor y = layer_norm(x, w, b);
  y.backward(g);
  std::vector<double> dw(d, 0), db(d, 0);
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<double> row;
    for (int64_t j = 0; j < d; ++j) row.push_back(x.at({r, j}));
    const auto xhat = reference_row(row, 1e-5);
    for (int64_t j = 0; j < d; ++j) {
      dw[j] += g.at({r, j}) * xhat[j];
      db[j] += g.at({r, j});
    }
  }
  for (int64_t j = 0; j < d; ++j) {
    CHECK(w.grad().data()[j] == doctest::Approx(dw[j]).epsilon(1e-4));
    CHECK(b.grad().data()[j] == doctest::Approx(db[j]).epsilon(1e-4));
  }
}

TEST_CASE("layer_norm: forward and all gradients are bit-identical at 1 and 2 threads") {
  Generator gen(9);
  const Tensor x = randn({5000, 48}, gen), g = randn({5000, 48}, gen);
  const Tensor w = randn({48}, gen), b = randn({48}, gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor xi = x.clone().set_requires_grad(), wi = w.clone().set_requires_grad(),
           bi = b.clone().set_requires_grad();
    Tensor y = layer_norm(xi, wi, bi);
    y.backward(g);
    std::vector<float> all = y.to_vector();
    for (const Tensor& t : {xi.grad(), wi.grad(), bi.grad()})
      all.insert(all.end(), t.data(), t.data() + t.numel());
    results.push_back(all);
  }
  set_num_threads(restore);
  CHECK(results[0] == results[1]);
}

TEST_CASE("layer_norm: mismatched weight or bias and empty rows are rejected with shapes") {
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 4}), zeros({3}), Tensor()),
                       doctest::Contains("layer_norm: weight [3] does not match input [2,4]"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 4}), Tensor(), zeros({4, 1})),
                       doctest::Contains("bias [4,1] does not match input [2,4]: expected [4]"),
                       Error);
  CHECK_THROWS_WITH_AS(layer_norm(zeros({2, 0}), Tensor(), Tensor()),
                       doctest::Contains("[2,0] must have a non-empty last dimension"), Error);
  CHECK_THROWS_AS(layer_norm(scalar(1.f), Tensor(), Tensor()), Error);
}
