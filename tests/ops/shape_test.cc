#include "ops/shape.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// 0, 1, 2, ... laid out with `shape`: every element tells where it came from.
Tensor iota(const Shape& shape) {
  std::vector<float> v(shape.numel());
  std::iota(v.begin(), v.end(), 0.f);
  return tensor(v, shape);
}

void check_tensor(const Tensor& got, const Shape& shape, const std::vector<float>& want) {
  REQUIRE(got.shape() == shape);
  CHECK(got.to_vector() == want);
}

// Permutation by multi-index arithmetic, the definition every fast path must reproduce.
Tensor naive_permute(const Tensor& x, const std::vector<int64_t>& dims) {
  const Shape& xs = x.shape();
  Shape os(dims.size());
  for (size_t k = 0; k < dims.size(); ++k) os[k] = xs[dims[k]];
  const std::vector<int64_t> xstr = contiguous_strides(xs);
  Tensor out = Tensor::empty(os);
  for (int64_t i = 0; i < out.numel(); ++i) {
    int64_t rem = i, off = 0;
    for (size_t k = os.size(); k-- > 0;) {
      off += (rem % os[k]) * xstr[dims[k]];
      rem /= os[k];
    }
    out.data()[i] = x.data()[off];
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// reshape and the other views

TEST_CASE("reshape: infers -1 and shares storage with its input") {
  Tensor x = iota({2, 3});
  Tensor y = reshape(x, {3, -1});
  check_tensor(y, {3, 2}, {0, 1, 2, 3, 4, 5});
  CHECK(y.shares_storage_with(x));
  x.data()[4] = 40.f;
  CHECK(y.at({2, 0}) == 40.f);
  CHECK(reshape(x, {-1}).shape() == Shape{6});
  CHECK(reshape(scalar(2.f), {1, 1}).shape() == Shape{1, 1});
  CHECK(reshape(zeros({0, 3}), {3, 0}).shape() == Shape{3, 0});
}

TEST_CASE("reshape: gradients match central differences, and the gradient has the input shape") {
  Generator gen(1);
  CHECK(gradcheck([](const auto& x) { return reshape(x[0], {4, -1, 2}); }, {randn({2, 12}, gen)}));
  CHECK(gradcheck([](const auto& x) { return reshape(x[0], {}); }, {randn({1, 1}, gen)}));
  Tensor x = randn({2, 3}, gen).set_requires_grad(true);
  Tensor y = reshape(x, {6});
  CHECK(y.grad_fn_name() == "reshape");
  y.backward(arange(6));
  check_tensor(x.grad(), {2, 3}, {0, 1, 2, 3, 4, 5});
}

TEST_CASE("reshape: a size that does not fit names both shapes") {
  CHECK_THROWS_WITH_AS(reshape(zeros({2, 3}), {4, -1}),
                       doctest::Contains("cannot view [2,3] (6 elements) as [4,-1]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(reshape(zeros({2, 3}), {5}),
                       doctest::Contains("cannot view [2,3] (6 elements) as [5] (5 elements)"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(reshape(zeros({2, 3}), {-1, -1}), doctest::Contains("more than one -1"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(reshape(zeros({0, 3}), {-1, 0}), doctest::Contains("cannot view [0,3]"),
                       recgrad::Error);
}

TEST_CASE("flatten: merges a range of dimensions as a view") {
  Tensor x = iota({2, 3, 4, 1});
  CHECK(flatten(x).shape() == Shape{24});
  CHECK(flatten(x, 1).shape() == Shape{2, 12});
  CHECK(flatten(x, 1, 2).shape() == Shape{2, 12, 1});
  CHECK(flatten(x, -3, -2).shape() == Shape{2, 12, 1});
  CHECK(flatten(x, 2, 2).shape() == Shape{2, 3, 4, 1});
  CHECK(flatten(scalar(3.f)).shape() == Shape{1});
  CHECK(flatten(x, 1).shares_storage_with(x));
  CHECK(flatten(x, 1).to_vector() == x.to_vector());
  Generator gen(2);
  CHECK(gradcheck([](const auto& v) { return flatten(v[0], 0, 1); }, {randn({3, 2, 2}, gen)}));
  CHECK_THROWS_WITH_AS(flatten(x, 2, 1),
                       doctest::Contains("start_dim 2 comes after end_dim 1 in shape [2,3,4,1]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(
      flatten(x, 4), doctest::Contains("flatten: dimension 4 is out of range for shape [2,3,4,1]"),
      recgrad::Error);
}

TEST_CASE("squeeze: drops one or all size-1 dimensions as a view") {
  Tensor x = iota({1, 2, 1, 3});
  CHECK(squeeze(x).shape() == Shape{2, 3});
  CHECK(squeeze(x, 0).shape() == Shape{2, 1, 3});
  CHECK(squeeze(x, -2).shape() == Shape{1, 2, 3});
  CHECK(squeeze(ones({1, 1})).shape() == Shape{});
  CHECK(squeeze(x, 2).shares_storage_with(x));
  Generator gen(3);
  CHECK(gradcheck([](const auto& v) { return squeeze(v[0], -1); }, {randn({3, 1}, gen)}));
  CHECK(gradcheck([](const auto& v) { return squeeze(v[0]); }, {randn({1, 3, 1, 2}, gen)}));
  CHECK_THROWS_WITH_AS(squeeze(x, 1),
                       doctest::Contains("dimension 1 of shape [1,2,1,3] has size 2, not 1"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(
      squeeze(x, -5),
      doctest::Contains("dimension -5 is out of range for shape [1,2,1,3] (valid: -4 to 3)"),
      recgrad::Error);
}

TEST_CASE("unsqueeze: inserts a size-1 dimension at any position, negative from the end") {
  Tensor x = iota({2, 3});
  CHECK(unsqueeze(x, 0).shape() == Shape{1, 2, 3});
  CHECK(unsqueeze(x, 1).shape() == Shape{2, 1, 3});
  CHECK(unsqueeze(x, 2).shape() == Shape{2, 3, 1});
  CHECK(unsqueeze(x, -1).shape() == Shape{2, 3, 1});
  CHECK(unsqueeze(x, -3).shape() == Shape{1, 2, 3});
  CHECK(unsqueeze(scalar(1.f), 0).shape() == Shape{1});
  CHECK(unsqueeze(x, 1).shares_storage_with(x));
  Generator gen(4);
  CHECK(gradcheck([](const auto& v) { return unsqueeze(v[0], -2); }, {randn({2, 3}, gen)}));
  CHECK_THROWS_WITH_AS(
      unsqueeze(x, 3),
      doctest::Contains("unsqueeze: dimension 3 is out of range for shape [2,3] (valid: -3 to 2)"),
      recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// transpose, permute, expand

TEST_CASE("transpose: swaps two dimensions (known values, negative dims)") {
  check_tensor(transpose(iota({2, 3}), 0, 1), {3, 2}, {0, 3, 1, 4, 2, 5});
  check_tensor(transpose(iota({2, 3}), -1, -2), {3, 2}, {0, 3, 1, 4, 2, 5});
  check_tensor(transpose(iota({2, 2, 2}), 0, 2), {2, 2, 2}, {0, 4, 2, 6, 1, 5, 3, 7});
  check_tensor(transpose(iota({3}), 0, 0), {3}, {0, 1, 2});
  CHECK_FALSE(transpose(iota({2, 3}), 0, 1).shares_storage_with(iota({2, 3})));
}

TEST_CASE("transpose: the tiled kernel agrees with index arithmetic on odd and batched shapes") {
  Generator gen(5);
  for (const Shape& s : {Shape{70, 45}, Shape{1, 33}, Shape{33, 1}, Shape{3, 33, 65},
                         Shape{2, 1, 40, 7}, Shape{300, 200}}) {
    INFO("shape ", s);
    Tensor x = randn(s, gen);
    const int64_t r = x.dim();
    std::vector<int64_t> dims(r);
    std::iota(dims.begin(), dims.end(), 0);
    std::swap(dims[r - 1], dims[r - 2]);
    CHECK(transpose(x, -1, -2).to_vector() == naive_permute(x, dims).to_vector());
  }
}

TEST_CASE("transpose: gradients match central differences on edge shapes") {
  Generator gen(6);
  CHECK(gradcheck([](const auto& x) { return transpose(x[0], 0, 1); }, {randn({3, 5}, gen)}));
  CHECK(gradcheck([](const auto& x) { return transpose(x[0], -1, 0); }, {randn({2, 1, 4}, gen)}));
  CHECK(gradcheck([](const auto& x) { return transpose(x[0], 0, 1); }, {randn({1, 1}, gen)}));
  CHECK(gradcheck([](const auto& x) { return transpose(x[0], 1, 2); }, {randn({2, 3, 4}, gen)}));
}

TEST_CASE("transpose: a dimension out of range names the shape") {
  CHECK_THROWS_WITH_AS(transpose(zeros({2, 3}), 0, 2),
                       doctest::Contains("transpose: dimension 2 is out of range for shape [2,3]"),
                       recgrad::Error);
}

TEST_CASE("permute: output dimension k is input dimension dims[k]") {
  Tensor x = iota({2, 3, 4});
  Tensor y = permute(x, {2, 0, 1});
  REQUIRE(y.shape() == Shape{4, 2, 3});
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) REQUIRE(y.at({k, i, j}) == x.at({i, j, k}));
  CHECK(permute(x, {-1, 0, -2}).to_vector() == y.to_vector());
  CHECK(permute(x, {0, 1, 2}).to_vector() == x.to_vector());
}

TEST_CASE(
    "permute: every permutation of 4-D shapes with size-1 dimensions matches index arithmetic") {
  Generator gen(7);
  for (const Shape& s : {Shape{2, 3, 4, 5}, Shape{3, 1, 4, 1}, Shape{1, 5, 1, 6}}) {
    Tensor x = randn(s, gen);
    std::vector<int64_t> dims{0, 1, 2, 3};
    do {
      INFO("shape ", s, " dims ", Shape(dims));
      REQUIRE(permute(x, dims).to_vector() == naive_permute(x, dims).to_vector());
    } while (std::next_permutation(dims.begin(), dims.end()));
  }
}

TEST_CASE("permute: gradients match central differences") {
  Generator gen(8);
  CHECK(gradcheck([](const auto& x) { return permute(x[0], {2, 0, 1}); }, {randn({2, 3, 4}, gen)}));
  CHECK(gradcheck(
      [](const auto& x) {
        return permute(x[0], {1, 3, 0, 2});
      },
      {randn({2, 1, 3, 2}, gen)}));
  CHECK(gradcheck([](const auto& x) { return permute(x[0], {-1, -2}); }, {randn({4, 3}, gen)}));
}

TEST_CASE("permute: dims that are not a permutation are named with the shape") {
  CHECK_THROWS_WITH_AS(
      permute(zeros({2, 3, 4}), {0, 1}),
      doctest::Contains("permute: dims [0,1] do not match the rank of shape [2,3,4]"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(
      permute(zeros({2, 3, 4}), {0, 2, -1}),
      doctest::Contains("permute: dims [0,2,-1] repeat dimension -1 of shape [2,3,4]"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(permute(zeros({2, 3}), {0, 2}),
                       doctest::Contains("dimension 2 is out of range for shape [2,3]"),
                       recgrad::Error);
}

TEST_CASE("expand: repeats size-1 dimensions and adds leading ones; -1 keeps a size") {
  check_tensor(expand(tensor({1, 2}, {2, 1}), {2, 3}), {2, 3}, {1, 1, 1, 2, 2, 2});
  check_tensor(expand(tensor({1, 2, 3}), {2, -1}), {2, 3}, {1, 2, 3, 1, 2, 3});
  check_tensor(expand(tensor({1, 2}, {2, 1}), {2, -1, 2}), {2, 2, 2}, {1, 1, 2, 2, 1, 1, 2, 2});
  check_tensor(expand(scalar(5.f), {3}), {3}, {5, 5, 5});
}

TEST_CASE("expand: gradients sum over the repeated dimensions") {
  Generator gen(9);
  CHECK(gradcheck([](const auto& x) { return expand(x[0], {2, 3, 4}); }, {randn({3, 1}, gen)}));
  CHECK(gradcheck([](const auto& x) { return expand(x[0], {-1, 5}); }, {randn({2, 1}, gen)}));
  CHECK(gradcheck([](const auto& x) { return expand(x[0], {2, 3}); }, {randn({2, 3}, gen)}));
  CHECK(gradcheck([](const auto& x) { return expand(x[0], {4, 1, 3}); }, {randn({1, 1, 1}, gen)}));
  Tensor x = ones({2, 1}).set_requires_grad(true);
  expand(x, {3, 2, 4}).backward(ones({3, 2, 4}));
  check_tensor(x.grad(), {2, 1}, {12, 12});
}

TEST_CASE("expand: a dimension that is neither equal nor 1 names both shapes") {
  CHECK_THROWS_WITH_AS(
      expand(zeros({2, 3}), {4, 3}),
      doctest::Contains("expand: shape [2,3] cannot be expanded to [4,3] (dimension 0: 2 vs 4)"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(expand(zeros({2, 3}), {3}), doctest::Contains("fewer dimensions"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(expand(zeros({3}), {-1, 3}), doctest::Contains("dimension 0 is new"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// concat, stack

TEST_CASE("concat: joins along any dimension (known values)") {
  Tensor a = iota({2, 2}), b = tensor({10, 11, 12, 13, 14, 15}, {2, 3});
  check_tensor(concat({a, b}, 1), {2, 5}, {0, 1, 10, 11, 12, 2, 3, 13, 14, 15});
  check_tensor(concat({a, b}, -1), {2, 5}, {0, 1, 10, 11, 12, 2, 3, 13, 14, 15});
  check_tensor(concat({a, tensor({9, 8}, {1, 2})}, 0), {3, 2}, {0, 1, 2, 3, 9, 8});
  check_tensor(concat({a}, 0), {2, 2}, {0, 1, 2, 3});
  check_tensor(concat({a, zeros({2, 0})}, 1), {2, 2}, {0, 1, 2, 3});
}

TEST_CASE("concat: gradients split back to every input") {
  Generator gen(10);
  CHECK(gradcheck(
      [](const auto& x) {
        return concat({x[0], x[1], x[2]}, 1);
      },
      {randn({2, 1, 3}, gen), randn({2, 4, 3}, gen), randn({2, 2, 3}, gen)}));
  CHECK(gradcheck(
      [](const auto& x) {
        return concat({x[0], x[1]}, 0);
      },
      {randn({1, 3}, gen), randn({2, 3}, gen)}));
  // The same tensor twice receives both halves.
  Tensor x = ones({2}).set_requires_grad(true);
  concat({x, x}, 0).backward(tensor({1, 2, 3, 4}));
  check_tensor(x.grad(), {2}, {4, 6});
}

TEST_CASE("concat: mismatched shapes are named") {
  CHECK_THROWS_WITH_AS(
      concat({zeros({2, 3}), zeros({3, 3})}, 1),
      doctest::Contains("concat: shapes [2,3] and [3,3] differ outside dimension 1"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(concat({zeros({2, 3}), zeros({2, 3, 1})}, 0),
                       doctest::Contains("shapes [2,3] and [2,3,1] differ"), recgrad::Error);
  CHECK_THROWS_WITH_AS(concat({}, 0), doctest::Contains("concat: no tensors"), recgrad::Error);
  CHECK_THROWS_WITH_AS(concat({zeros({2})}, 1),
                       doctest::Contains("dimension 1 is out of range for shape [2]"),
                       recgrad::Error);
}

TEST_CASE("stack: joins along a new dimension (known values, negative dim)") {
  Tensor a = iota({2, 2}), b = tensor({10, 11, 12, 13}, {2, 2});
  check_tensor(stack({a, b}, 0), {2, 2, 2}, {0, 1, 2, 3, 10, 11, 12, 13});
  check_tensor(stack({a, b}, 1), {2, 2, 2}, {0, 1, 10, 11, 2, 3, 12, 13});
  check_tensor(stack({a, b}, -1), {2, 2, 2}, {0, 10, 1, 11, 2, 12, 3, 13});
  check_tensor(stack({scalar(1.f), scalar(2.f)}, 0), {2}, {1, 2});
  Generator gen(11);
  CHECK(gradcheck(
      [](const auto& x) {
        return stack({x[0], x[1], x[0]}, 1);
      },
      {randn({3, 2}, gen), randn({3, 2}, gen)}));
  CHECK_THROWS_WITH_AS(stack({zeros({2, 3}), zeros({3, 2})}, 0),
                       doctest::Contains("stack: shapes [2,3] and [3,2] differ"), recgrad::Error);
  CHECK_THROWS_WITH_AS(
      stack({zeros({2, 3})}, 3),
      doctest::Contains("stack: dimension 3 is out of range for shape [2,3] (valid: -3 to 2)"),
      recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// narrow, slice

TEST_CASE("narrow: keeps a range of one dimension, start may count from the end") {
  Tensor x = iota({4, 3});
  check_tensor(narrow(x, 0, 1, 2), {2, 3}, {3, 4, 5, 6, 7, 8});
  check_tensor(narrow(x, 1, -2, 2), {4, 2}, {1, 2, 4, 5, 7, 8, 10, 11});
  check_tensor(narrow(x, -1, 3, 0), {4, 0}, {});
  Generator gen(12);
  CHECK(gradcheck([](const auto& v) { return narrow(v[0], 1, 1, 2); }, {randn({2, 4, 3}, gen)}));
  CHECK(gradcheck([](const auto& v) { return narrow(v[0], 0, 0, 1); }, {randn({1, 5}, gen)}));
  CHECK_THROWS_WITH_AS(
      narrow(x, 0, 3, 2),
      doctest::Contains(
          "narrow: start 3 and length 2 do not fit dimension 0 of shape [4,3] (size 4)"),
      recgrad::Error);
  CHECK_THROWS_AS(narrow(x, 0, -5, 1), recgrad::Error);
}

TEST_CASE("slice: Python semantics (negative indices, clamping, steps)") {
  Tensor x = iota({5, 2});
  check_tensor(slice(x, 0, 1, -1, 2), {2, 2}, {2, 3, 6, 7});
  check_tensor(slice(x, 0, -2, 100), {2, 2}, {6, 7, 8, 9});
  check_tensor(slice(x, 0, 0, 5, 3), {2, 2}, {0, 1, 6, 7});
  check_tensor(slice(x, 1, 1, 2), {5, 1}, {1, 3, 5, 7, 9});
  check_tensor(slice(x, 0, 4, 2), {0, 2}, {});
  check_tensor(slice(x, 0, -100, 1), {1, 2}, {0, 1});
}

TEST_CASE("slice: gradients land on the selected rows only") {
  Generator gen(13);
  CHECK(gradcheck([](const auto& v) { return slice(v[0], 1, 0, 5, 2); }, {randn({2, 5, 3}, gen)}));
  CHECK(gradcheck([](const auto& v) { return slice(v[0], -1, -3, -1); }, {randn({3, 4}, gen)}));
  Tensor x = zeros({5}).set_requires_grad(true);
  slice(x, 0, 1, 5, 2).backward(tensor({1, 2}));
  check_tensor(x.grad(), {5}, {0, 1, 0, 2, 0});
}

TEST_CASE("slice: a non-positive step names the shape") {
  CHECK_THROWS_WITH_AS(slice(zeros({4, 2}), 0, 0, 4, 0),
                       doctest::Contains("slice: step 0 must be positive (shape [4,2])"),
                       recgrad::Error);
}

// ---------------------------------------------------------------------------------------------
// index_select, gather

TEST_CASE("index_select: picks rows along a dimension, ids may repeat") {
  Tensor x = iota({3, 2});
  check_tensor(index_select(x, 0, {2, 0, 2}), {3, 2}, {4, 5, 0, 1, 4, 5});
  check_tensor(index_select(x, -1, {1, 1, 0}), {3, 3}, {1, 1, 0, 3, 3, 2, 5, 5, 4});
  check_tensor(index_select(x, 0, Ids(std::vector<int64_t>{})), {0, 2}, {});
}

TEST_CASE("index_select: repeated ids sum their gradients") {
  Tensor x = zeros({3, 2}).set_requires_grad(true);
  index_select(x, 0, {2, 0, 2}).backward(tensor({1, 2, 3, 4, 5, 6}, {3, 2}));
  check_tensor(x.grad(), {3, 2}, {3, 4, 0, 0, 6, 8});
  Generator gen(14);
  CHECK(gradcheck(
      [](const auto& v) {
        return index_select(v[0], 0, {1, 3, 1, 1, 0});
      },
      {randn({4, 3}, gen)}));
  CHECK(gradcheck(
      [](const auto& v) {
        return index_select(v[0], 1, {2, 2, 0});
      },
      {randn({2, 3, 2}, gen)}));
  CHECK(gradcheck([](const auto& v) { return index_select(v[0], -1, {0}); }, {randn({3, 1}, gen)}));
}

TEST_CASE("index_select: the backward is bit-identical at 1 and 2 threads") {
  Generator gen(15);
  Tensor x = randn({50, 64}, gen);
  std::vector<int64_t> ids(20000);
  for (auto& id : ids) id = static_cast<int64_t>(gen.next_below(50));
  Tensor dy = randn({20000, 64}, gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> grads;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor leaf = x.clone().set_requires_grad(true);
    index_select(leaf, 0, ids).backward(dy);
    grads.push_back(leaf.grad().to_vector());
  }
  set_num_threads(restore);
  CHECK(grads[0] == grads[1]);
}

TEST_CASE("index_select: an out-of-range id names the id, its position and the valid range") {
  CHECK_THROWS_WITH_AS(
      index_select(zeros({3, 2}), 0, {0, 3}),
      doctest::Contains(
          "index_select: id 3 at position 1 is out of range [0, 3) for dimension 0 of shape [3,2]"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(index_select(zeros({3, 2}), 1, {-1}),
                       doctest::Contains("id -1 at position 0"), recgrad::Error);
  CHECK_THROWS_WITH_AS(index_select(zeros({3, 2}), 0, Ids({0, 1}, {1, 2})),
                       doctest::Contains("index must be 1-D, got shape [1,2]"), recgrad::Error);
}

TEST_CASE("gather: y[i][j] = x[i][index[i][j]] (PyTorch semantics)") {
  Tensor x = tensor({1, 2, 3, 4}, {2, 2});
  check_tensor(gather(x, 1, Ids({0, 0, 1, 0}, {2, 2})), {2, 2}, {1, 1, 4, 3});
  check_tensor(gather(x, 0, Ids({1, 0, 0, 1}, {2, 2})), {2, 2}, {3, 2, 1, 4});
  // The index may be smaller than x outside the gathered dimension, and longer along it.
  Tensor z = iota({3, 4});
  check_tensor(gather(z, -1, Ids({3, 0, 3, 2, 1, 1}, {2, 3})), {2, 3}, {3, 0, 3, 6, 5, 5});
  check_tensor(gather(z, 0, Ids({2, 0}, {1, 2})), {1, 2}, {8, 1});
}

TEST_CASE("gather: repeated ids sum their gradients") {
  Tensor x = zeros({2, 3}).set_requires_grad(true);
  gather(x, 1, Ids({2, 2, 0, 1, 1, 1}, {2, 3})).backward(tensor({1, 2, 3, 4, 5, 6}, {2, 3}));
  check_tensor(x.grad(), {2, 3}, {3, 0, 3, 0, 15, 0});
  Generator gen(16);
  CHECK(gradcheck(
      [](const auto& v) {
        return gather(v[0], 1, Ids({0, 2, 2, 1, 1, 1, 0, 3}, {2, 4}));
      },
      {randn({3, 4}, gen)}));
  CHECK(gradcheck(
      [](const auto& v) {
        return gather(v[0], 0, Ids({1, 1, 0, 1, 0, 0}, {3, 1, 2}));
      },
      {randn({2, 2, 3}, gen)}));
  CHECK(gradcheck(
      [](const auto& v) {
        return gather(v[0], -1, Ids({0, 0}, {2, 1}));
      },
      {randn({2, 1}, gen)}));
}

TEST_CASE("gather: bad indices name the id, its position and the shapes") {
  CHECK_THROWS_WITH_AS(gather(zeros({2, 3}), 1, Ids({0, 1, 3, 0}, {2, 2})),
                       doctest::Contains("gather: id 3 at position [1,0] is out of range [0, 3) "
                                         "for dimension 1 of x of shape [2,3]"),
                       recgrad::Error);
  CHECK_THROWS_WITH_AS(
      gather(zeros({2, 3}), 1, Ids{0, 1, 2}),
      doctest::Contains("gather: index of shape [3] must have the rank of x of shape [2,3]"),
      recgrad::Error);
  CHECK_THROWS_WITH_AS(
      gather(zeros({2, 3}), 1, Ids({0, 0, 0}, {3, 1})),
      doctest::Contains("index shape [3,1] is larger than x shape [2,3] in dimension 0"),
      recgrad::Error);
}

TEST_CASE("group_ids: unique sorted ids with their positions in order, skipping one id") {
  detail::IdGroups g = detail::group_ids({4, 1, 4, 0, 1, 4, 9}, 9);
  CHECK(g.unique == std::vector<int64_t>{0, 1, 4});
  CHECK(g.starts == std::vector<int64_t>{0, 1, 3, 6});
  CHECK(g.positions == std::vector<int64_t>{3, 1, 4, 0, 2, 5});
}

TEST_CASE("group_ids: the radix path and the comparison path agree with a reference") {
  // Small non-negative ids take the packed radix sort; a negative id or one too large to pack
  // beside the positions takes the pair sort. Both must give the (id, position) order.
  Generator gen(23);
  const int64_t huge = int64_t{1} << 60;
  for (int64_t extra : {int64_t{-1}, int64_t{5}, int64_t{-7}, huge}) {
    std::vector<int64_t> ids(70000);
    for (auto& id : ids) id = static_cast<int64_t>(gen.next_below(3000));
    ids[123] = extra;
    ids[45678] = extra;
    std::vector<std::pair<int64_t, int64_t>> ref;
    for (size_t p = 0; p < ids.size(); ++p)
      if (ids[p] != -1) ref.emplace_back(ids[p], static_cast<int64_t>(p));
    std::sort(ref.begin(), ref.end());
    const detail::IdGroups g = detail::group_ids(ids, -1);
    INFO("extra id ", extra);
    REQUIRE(g.positions.size() == ref.size());
    REQUIRE(g.starts.size() == g.unique.size() + 1);
    bool same = true;
    for (size_t u = 0; u < g.unique.size(); ++u)
      for (int64_t q = g.starts[u]; q < g.starts[u + 1]; ++q)
        same = same && ref[q] == std::make_pair(g.unique[u], g.positions[q]);
    CHECK(same);
  }
}

TEST_CASE("shape ops: multi-task kernels (chunks starting mid-row) match the definitions") {
  // Big enough to split into several tasks at 2 threads, so chunks begin in the middle of
  // rows and blocks.
  Generator gen(17);
  const int restore = num_threads();
  set_num_threads(2);
  Tensor x = randn({40, 30, 50}, gen);
  for (std::vector<int64_t> dims :
       {std::vector<int64_t>{1, 0, 2}, {2, 1, 0}, {0, 2, 1}, {2, 0, 1}}) {
    INFO("dims ", Shape(dims));
    CHECK(permute(x, dims).to_vector() == naive_permute(x, dims).to_vector());
  }
  for (const Shape& s : {Shape{3000, 20}, Shape{20, 3000}, Shape{4, 100, 90}}) {
    INFO("transpose of ", s);
    Tensor m = randn(s, gen);
    std::vector<int64_t> dims(s.size());
    std::iota(dims.begin(), dims.end(), 0);
    std::swap(dims[s.size() - 1], dims[s.size() - 2]);
    CHECK(transpose(m, -1, -2).to_vector() == naive_permute(m, dims).to_vector());
  }
  Tensor e = expand(randn({1, 30, 1}, gen), {40, 30, 50});
  Tensor a = randn({600, 70}, gen), b = randn({600, 3}, gen);
  Tensor c = concat({a, b}, 1);
  Tensor s = slice(a, 0, 1, 600, 3);
  set_num_threads(restore);
  bool ok = true;
  for (int64_t i = 0; i < 40; ++i)
    for (int64_t j = 0; j < 30; ++j)
      for (int64_t k = 0; k < 50; ++k) ok = ok && e.at({i, j, k}) == e.at({0, j, 0});
  CHECK(ok);
  for (int64_t i = 0; i < 600; ++i) {
    for (int64_t j = 0; j < 73; ++j)
      ok = ok && c.at({i, j}) == (j < 70 ? a.at({i, j}) : b.at({i, j - 70}));
    if (i < 200)
      for (int64_t j = 0; j < 70; ++j) ok = ok && s.at({i, j}) == a.at({1 + 3 * i, j});
  }
  CHECK(s.shape() == Shape{200, 70});
  CHECK(ok);
}
