#pragma once
// EASE: an item-item model with a closed-form solution.
//   Steck. "Embarrassingly Shallow Autoencoders for Sparse Data." WWW 2019.
// On the binary interaction matrix X [users, items]:
//   min_B ‖X - X·B‖²_F + λ‖B‖²_F  subject to diag(B) = 0
// is solved by P = (XᵀX + λI)⁻¹ and B = I - P·diag(1/diag(P)), i.e. B_ij = -P_ij / P_jj for
// i != j and B_jj = 0 (the paper's eq. 8 and its Algorithm 1). A user's scores are
//   score(u, ·) = X_u·B.
// Default λ = 500 (the paper's value for ML-20M). Not trained by gradient descent: fit() builds
// the Gram matrix sparsely (recsys/cooccurrence.h) and inverts it in place with LAPACK's
// Cholesky routines from OpenBLAS (ops/blas.h: spd_inverse), in float32: λI keeps XᵀX + λI
// well conditioned (eigenvalues >= λ). Memory: one [items, items] matrix, the buffer
// "item_weights" B that checkpoints carry.
#include "recsys/recommender.h"

namespace recgrad::recsys {

struct EaseConfig {
  double lambda = 500;  ///< λ > 0, the L2 weight
};

class Ease : public Recommender {
 public:
  /// Buffer "item_weights" [num_items, num_items], zero until fit().
  Ease(const EaseConfig& config, int64_t num_items);
  std::string name() const override { return "ease"; }
  std::string describe() const override;
  void attach(const TrainingData& data) override;
  bool is_iterative() const override { return false; }
  /// B from the attached training histories.
  void fit() override;
  int64_t start_epoch(int64_t) override { return 0; }
  int64_t batch_examples(int64_t) const override { return 0; }
  Tensor loss(int64_t) override;
  /// [B, num_items] = X_users·B, X_users the 0/1 rows of `history`.
  Tensor score(const std::vector<int64_t>& users, const UserItems& history) override;

  /// B [num_items, num_items].
  const Tensor& item_weights() const { return weights_; }

 private:
  EaseConfig config_;
  Tensor weights_;  // B [num_items, num_items], a buffer
  const UserItems* history_ = nullptr;
};

}  // namespace recgrad::recsys
