#include "recsys/models/ease.h"

#include <cstring>

#include "autograd/error.h"
#include "autograd/parallel.h"
#include "ops/blas.h"
#include "ops/matmul.h"
#include "recsys/cooccurrence.h"

namespace recgrad::recsys {

Ease::Ease(const EaseConfig& config, int64_t num_items)
    : Recommender(TrainConfig{}), config_(config) {
  RECGRAD_CHECK(config.lambda > 0, "ease: lambda must be positive, got ", config.lambda);
  RECGRAD_CHECK(num_items > 0, "ease: need items, got ", num_items);
  weights_ = register_buffer("item_weights", zeros({num_items, num_items}));
}

std::string Ease::describe() const {
  return recgrad::detail::str_cat("EASE(", weights_.size(0), " items, lambda ", config_.lambda,
                                  ")");
}

void Ease::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == weights_.size(0), "ease: model built for ", weights_.size(0),
                " items, data has ", data.num_items);
  history_ = data.history;
}

void Ease::fit() {
  RECGRAD_CHECK(history_ != nullptr, "ease: attach() the training data before fit()");
  const int64_t n = weights_.size(0);
  float* w = weights_.data();
  // G = XᵀX + λI, built in B's storage (exact integer counts, then + λ on the diagonal).
  const UserItems rows = distinct_items(*history_);
  const ItemUsers cols = item_users(rows);
  const auto lambda = static_cast<float>(config_.lambda);
  for_each_cooccurrence_row(rows, cols, [&](int64_t i, const float* c) {
    std::memcpy(w + i * n, c, sizeof(float) * n);
    w[i * n + i] += lambda;
  });
  // P = G⁻¹ in place (BLAS is called outside any TBB loop body).
  recgrad::detail::spd_inverse(n, w, n);
  // B_ij = -P_ij / P_jj, B_jj = 0: scale column j by -1/P_jj (diagonal read first).
  std::vector<float> inv_diag(n);
  for (int64_t j = 0; j < n; ++j) inv_diag[j] = -1.f / w[j * n + j];
  recgrad::detail::parallel_for(n, std::max<int64_t>(1, recgrad::detail::kGrainCheap / n),
                                [&](int64_t rb, int64_t re) {
                                  for (int64_t i = rb; i < re; ++i) {
                                    float* row = w + i * n;
                                    for (int64_t j = 0; j < n; ++j) row[j] *= inv_diag[j];
                                    row[i] = 0.f;
                                  }
                                });
}

Tensor Ease::loss(int64_t) { throw UsageError("ease: not trained by gradient descent"); }

Tensor Ease::score(const std::vector<int64_t>& users, const UserItems& history) {
  const int64_t n = weights_.size(0);
  RECGRAD_CHECK(history.num_items == n, "ease: history has ", history.num_items, " items, model ",
                n);
  const auto b = static_cast<int64_t>(users.size());
  Tensor x = zeros({b, n});  // X_users, 0/1
  float* xd = x.data();
  for (int64_t r = 0; r < b; ++r) {
    RECGRAD_CHECK(users[r] >= 0 && users[r] < history.num_users(), "ease: user ", users[r],
                  " is outside [0, ", history.num_users(), ")");
    for (const int64_t* it = history.begin(users[r]); it != history.end(users[r]); ++it)
      xd[r * n + *it] = 1.f;
  }
  return matmul(x, weights_);  // [B, n]·[n, n]
}

}  // namespace recgrad::recsys
