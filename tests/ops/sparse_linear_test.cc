#include "ops/sparse_linear.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <tuple>
#include <vector>

#include "autograd/generator.h"
#include "autograd/gradcheck.h"
#include "autograd/graph.h"
#include "ops/linear.h"
#include "ops/runtime.h"

using namespace recgrad;

namespace {

// A random [rows, cols] CSR matrix: each entry non-zero with probability `density`, values
// N(0, 1)-ish (never 0), every third row empty when `empty_rows`, and each row's columns
// shuffled so the ops cannot rely on sorted columns.
CsrMatrix random_csr(int64_t rows, int64_t cols, float density, Generator& gen,
                     bool empty_rows = false) {
  CsrMatrix m;
  m.rows = rows;
  m.cols = cols;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> row;
    if (!(empty_rows && r % 3 == 1))
      for (int64_t c = 0; c < cols; ++c)
        if (gen.next_float() < density) row.push_back(c);
    for (size_t i = row.size(); i > 1; --i) std::swap(row[i - 1], row[gen.next_below(i)]);
    for (int64_t c : row) {
      m.columns.push_back(c);
      m.values.push_back(gen.next_float() * 2.f - 1.f + (gen.next_float() < 0.5f ? 2.f : -2.f));
    }
    m.offsets.push_back(m.nnz());
  }
  return m;
}

std::vector<float> grad_of(const Tensor& t) { return t.grad().to_vector(); }

}  // namespace

TEST_CASE("sparse_linear: csr_from_dense and to_dense round-trip, zeros dropped") {
  const Tensor d = tensor({0, 2, 0, 0, 0, 0, -1, 0, 3}, {3, 3});
  const CsrMatrix m = csr_from_dense(d);
  CHECK(m.rows == 3);
  CHECK(m.cols == 3);
  CHECK(m.offsets == std::vector<int64_t>{0, 1, 1, 3});
  CHECK(m.columns == std::vector<int64_t>{1, 0, 2});
  CHECK(m.values == std::vector<float>{2, -1, 3});
  CHECK(m.to_dense().to_vector() == d.to_vector());
  const CsrMatrix empty = csr_from_dense(zeros({0, 5}));
  CHECK(empty.nnz() == 0);
  CHECK(empty.offsets == std::vector<int64_t>{0});
}

TEST_CASE("sparse_linear: equals linear on the dense matrix, incl. empty rows and edge shapes") {
  for (auto [rows, in, out, density] :
       {std::tuple{1, 1, 1, 1.f}, {1, 40, 7, 0.1f}, {9, 13, 1, 0.3f}, {30, 50, 20, 0.05f},
        {4, 6, 3, 0.f}, {0, 5, 4, 0.5f}, {64, 300, 33, 0.04f}}) {
    INFO("rows=", rows, " in=", in, " out=", out, " density=", density);
    Generator gen(7);
    const CsrMatrix x = random_csr(rows, in, density, gen, /*empty_rows=*/true);
    const Tensor w = randn({out, in}, gen), b = randn({out}, gen);
    for (bool with_bias : {true, false}) {
      const Tensor bb = with_bias ? b : Tensor();
      const Tensor got = sparse_linear(x, w, bb), want = linear(x.to_dense(), w, bb);
      REQUIRE(got.shape() == want.shape());
      for (int64_t i = 0; i < got.numel(); ++i)
        CHECK(got.data()[i] == doctest::Approx(want.data()[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("sparse_linear: weight and bias gradients match linear's and central differences") {
  // The last shape has two full 32-unit chunks and a ragged one, 8 x 8 transpose blocks with
  // ragged edges on both sides, and an odd number of rows (they go in pairs): checked against
  // linear only, as central differences over its 21,000 weights would take long.
  for (auto [rows, in, out] :
       {std::tuple{1, 1, 1}, {1, 9, 4}, {6, 11, 5}, {12, 3, 8}, {41, 301, 70}}) {
    INFO("rows=", rows, " in=", in, " out=", out);
    Generator gen(11);
    const CsrMatrix x = random_csr(rows, in, 0.35f, gen, /*empty_rows=*/true);
    const Tensor w = randn({out, in}, gen), b = randn({out}, gen);
    if (in * out <= 100) {
      CHECK(gradcheck([&x](const auto& t) { return sparse_linear(x, t[0], t[1]); }, {w, b}));
      CHECK(gradcheck([&x](const auto& t) { return sparse_linear(x, t[0], Tensor()); }, {w}));
    }

    const Tensor g = randn({rows, out}, gen);
    Tensor ws = w.detach().clone().set_requires_grad(), bs = b.detach().clone().set_requires_grad();
    Tensor wd = w.detach().clone().set_requires_grad(), bd = b.detach().clone().set_requires_grad();
    sparse_linear(x, ws, bs).backward(g);
    linear(x.to_dense(), wd, bd).backward(g);
    const auto gs = grad_of(ws), gd = grad_of(wd);
    for (size_t i = 0; i < gs.size(); ++i) CHECK(gs[i] == doctest::Approx(gd[i]).epsilon(1e-5));
    const auto hs = grad_of(bs), hd = grad_of(bd);
    for (size_t i = 0; i < hs.size(); ++i) CHECK(hs[i] == doctest::Approx(hd[i]).epsilon(1e-5));
  }
}

TEST_CASE("sparse_linear: a gradient on top of an existing one accumulates") {
  Generator gen(3);
  const CsrMatrix x = random_csr(5, 8, 0.4f, gen);
  Tensor w = randn({3, 8}, gen).set_requires_grad();
  const Tensor g = randn({5, 3}, gen);
  sparse_linear(x, w, Tensor()).backward(g);
  const auto once = grad_of(w);
  sparse_linear(x, w, Tensor()).backward(g);
  const auto twice = grad_of(w);
  for (size_t i = 0; i < once.size(); ++i) CHECK(twice[i] == doctest::Approx(2 * once[i]));
}

TEST_CASE("sparse_linear: output and gradients are bit-identical at 1 and 2 threads") {
  Generator gen(5);
  const CsrMatrix x = random_csr(300, 700, 0.05f, gen, /*empty_rows=*/true);
  const Tensor w0 = randn({120, 700}, gen), b0 = randn({120}, gen), g = randn({300, 120}, gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> y, dw, db;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor w = w0.clone().set_requires_grad(), b = b0.clone().set_requires_grad();
    const Tensor out = sparse_linear(x, w, b);
    out.backward(g);
    y.push_back(out.to_vector());
    dw.push_back(grad_of(w));
    db.push_back(grad_of(b));
  }
  set_num_threads(restore);
  CHECK(y[0] == y[1]);
  CHECK(dw[0] == dw[1]);
  CHECK(db[0] == db[1]);
}

TEST_CASE("sparse_linear: malformed CSR input and shape mismatches name the problem") {
  CsrMatrix m;
  m.rows = 2;
  m.cols = 4;
  m.offsets = {0, 2, 3};
  m.columns = {1, 3, 0};
  m.values = {1, 2, 3};
  const Tensor w = zeros({5, 4});
  CHECK_NOTHROW(sparse_linear(m, w, Tensor()));
  CHECK_THROWS_WITH_AS(sparse_linear(m, zeros({5, 3}), Tensor()),
                       doctest::Contains("the input's 4 columns differ from in_features 3"), Error);
  CHECK_THROWS_WITH_AS(sparse_linear(m, w, zeros({4})),
                       doctest::Contains("bias [4] does not match weight [5,4]"), Error);
  CsrMatrix bad = m;
  bad.columns = {1, 1, 0};
  CHECK_THROWS_WITH_AS(sparse_linear(bad, w, Tensor()),
                       doctest::Contains("row 0 repeats column 1"), Error);
  bad = m;
  bad.columns = {1, 4, 0};
  CHECK_THROWS_WITH_AS(sparse_linear(bad, w, Tensor()),
                       doctest::Contains("row 0 has column 4 outside [0, 4)"), Error);
  bad = m;
  bad.offsets = {0, 3, 2};
  CHECK_THROWS_WITH_AS(sparse_linear(bad, w, Tensor()),
                       doctest::Contains("offsets run from 0 to 2 over 3 columns"), Error);
  bad = m;
  bad.offsets = {0, 3};
  CHECK_THROWS_WITH_AS(sparse_linear(bad, w, Tensor()),
                       doctest::Contains("has 2 row offsets, expected 3"), Error);
}

TEST_CASE("sampled_linear: equals linear read at the pattern's entries, in CSR order") {
  for (auto [rows, in, out, density] :
       {std::tuple{1, 1, 1, 1.f}, {1, 5, 30, 0.2f}, {7, 4, 9, 0.3f}, {3, 6, 5, 0.f},
        {0, 3, 3, 0.5f}, {40, 16, 200, 0.05f}}) {
    INFO("rows=", rows, " in=", in, " out=", out, " density=", density);
    Generator gen(9);
    const CsrMatrix at = random_csr(rows, out, density, gen, /*empty_rows=*/true);
    const Tensor h = randn({rows, in}, gen), w = randn({out, in}, gen), b = randn({out}, gen);
    for (bool with_bias : {true, false}) {
      const Tensor bb = with_bias ? b : Tensor();
      const Tensor got = sampled_linear(h, w, bb, at), full = linear(h, w, bb);
      REQUIRE(got.shape() == Shape{at.nnz()});
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t k = at.offsets[r]; k < at.offsets[r + 1]; ++k)
          CHECK(got.data()[k] ==
                doctest::Approx(full.data()[r * out + at.columns[k]]).epsilon(1e-5));
    }
  }
}

TEST_CASE("sampled_linear: gradients of h, W and b match central differences on edge shapes") {
  for (auto [rows, in, out] : {std::tuple{1, 1, 1}, {1, 4, 9}, {6, 5, 7}, {10, 2, 3}}) {
    INFO("rows=", rows, " in=", in, " out=", out);
    Generator gen(13);
    const CsrMatrix at = random_csr(rows, out, 0.4f, gen, /*empty_rows=*/true);
    const Tensor h = randn({rows, in}, gen), w = randn({out, in}, gen), b = randn({out}, gen);
    CHECK(gradcheck([&at](const auto& t) { return sampled_linear(t[0], t[1], t[2], at); },
                    {h, w, b}));
    CHECK(gradcheck([&at](const auto& t) { return sampled_linear(t[0], t[1], Tensor(), at); },
                    {h, w}));
  }
}

TEST_CASE("sampled_linear: gradients are bit-identical at 1 and 2 threads") {
  Generator gen(17);
  const CsrMatrix at = random_csr(200, 900, 0.05f, gen, /*empty_rows=*/true);
  const Tensor h0 = randn({200, 64}, gen), w0 = randn({900, 64}, gen), b0 = randn({900}, gen);
  const Tensor g = randn({at.nnz()}, gen);
  const int restore = num_threads();
  std::vector<std::vector<float>> y, dh, dw, db;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    Tensor h = h0.clone().set_requires_grad(), w = w0.clone().set_requires_grad(),
           b = b0.clone().set_requires_grad();
    const Tensor out = sampled_linear(h, w, b, at);
    out.backward(g);
    y.push_back(out.to_vector());
    dh.push_back(grad_of(h));
    dw.push_back(grad_of(w));
    db.push_back(grad_of(b));
  }
  set_num_threads(restore);
  CHECK(y[0] == y[1]);
  CHECK(dh[0] == dh[1]);
  CHECK(dw[0] == dw[1]);
  CHECK(db[0] == db[1]);
}

TEST_CASE("sampled_linear: a pattern of the wrong shape names both shapes") {
  CsrMatrix at;
  at.rows = 2;
  at.cols = 6;
  at.offsets = {0, 0, 0};
  CHECK_THROWS_WITH_AS(sampled_linear(zeros({3, 4}), zeros({6, 4}), Tensor(), at),
                       doctest::Contains("entries of a [2, 6] pattern, but input [3,4] x weight "
                                         "[6,4] gives [3, 6]"),
                       Error);
  CHECK_THROWS_WITH_AS(sampled_linear(zeros({2, 5}), zeros({6, 4}), Tensor(), at),
                       doctest::Contains("expected an input [B, 4]"), Error);
}
