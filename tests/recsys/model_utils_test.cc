#include "recsys/model_utils.h"

#include <doctest/doctest.h>

#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "ops/dropout.h"
#include "ops/sparse_linear.h"

using namespace recgrad;
using namespace recgrad::recsys;

namespace {

// A [rows, cols] 0/1 matrix with about `density` ones, every fourth row empty.
Tensor binary_rows(int64_t rows, int64_t cols, float density, Generator& gen) {
  Tensor x = zeros({rows, cols});
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      if (r % 4 != 3 && gen.next_float() < density) x.data()[r * cols + c] = 1.f;
  return x;
}

}  // namespace

TEST_CASE("model_utils: CSR normalisation and dropout give the dense versions' values exactly") {
  Generator data_gen(3);
  const Tensor rows = binary_rows(37, 211, 0.06f, data_gen);
  for (float p : {0.f, 0.2f, 0.5f, 0.9f}) {
    INFO("p = ", p);
    Generator dense_gen(99), sparse_gen(99);
    const Tensor dense = dropout(l2_normalize_rows(rows), p, /*training=*/true, dense_gen);
    CsrMatrix x = csr_from_dense(rows);
    l2_normalize_rows(x);
    dropout_nonzeros(x, p, /*training=*/true, sparse_gen);
    CHECK(x.to_dense().to_vector() == dense.to_vector());     // bit for bit
    CHECK(sparse_gen.next_u64() == dense_gen.next_u64());     // the same draws from gen
  }
  // Not training: nothing changes and gen does not move.
  Generator gen(5), untouched(5);
  CsrMatrix x = csr_from_dense(rows);
  const std::vector<float> before = x.values;
  dropout_nonzeros(x, 0.5f, /*training=*/false, gen);
  CHECK(x.values == before);
  CHECK(gen.next_u64() == untouched.next_u64());
  CHECK_THROWS_AS(dropout_nonzeros(x, 1.f, true, gen), Error);
}

TEST_CASE("model_utils: history_csr is csr_from_dense of history_rows, repeats once") {
  // Unsorted lists with a repeated item, an empty user, and the last item; lists already
  // ascending (the fast path), a repeat next to itself, and one out of order only at its end.
  const UserItems history = UserItems::from_lists(
      {{5, 1, 9, 1}, {}, {9, 0, 3}, {2}, {0, 4, 7}, {3, 3}, {1, 6, 2}}, /*num_items=*/10);
  for (const std::vector<int64_t>& users :
       {std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6}, {2, 0, 2}, {4, 6, 5, 4}, std::vector<int64_t>{}}) {
    const CsrMatrix got = history_csr(history, users);
    const CsrMatrix want = csr_from_dense(history_rows(history, users));
    CHECK(got.rows == want.rows);
    CHECK(got.cols == 10);
    CHECK(got.offsets == want.offsets);
    CHECK(got.columns == want.columns);
    CHECK(got.values == want.values);
  }
  CHECK_THROWS_WITH_AS(history_csr(history, {7}),
                       doctest::Contains("history_csr: user 7 is outside the history's 7 users"),
                       Error);
}

TEST_CASE("model_utils: mlp_forward_sparse equals the MLP on the dense rows") {
  Generator gen(8);
  const Tensor rows = binary_rows(9, 50, 0.1f, gen);
  for (bool final_activation : {false, true}) {
    nn::MLPOptions opts;
    opts.activation = nn::Activation::kTanh;
    opts.final_activation = final_activation;
    nn::MLP mlp({50, 16, 7}, gen, opts);
    const Tensor want = mlp.forward(rows);
    const Tensor got =
        mlp_forward_sparse(mlp, csr_from_dense(rows), nn::Activation::kTanh, final_activation);
    REQUIRE(got.shape() == want.shape());
    for (int64_t i = 0; i < got.numel(); ++i)
      CHECK(got.data()[i] == doctest::Approx(want.data()[i]).epsilon(1e-5));
  }
}
