#pragma once
// Lookup tables: Embedding (one row per id) and EmbeddingBag (pooled rows per jagged bag), over
// ops/embedding.h. Gradients are row-sparse by default, so an optimizer step over a 10M-row
// table costs O(rows looked up) with the lazy sparse optimizers (optim/).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/tensor.h"
#include "nn/module.h"
#include "ops/embedding.h"

namespace recgrad::nn {

struct EmbeddingLayerOptions {
  /// Row-sparse gradient (only looked-up rows); false gives a dense [N, D] gradient.
  bool sparse = true;
  /// A row in [0, N) that is zero at initialisation, looked up as it is, and never gets a
  /// gradient (so optimizers leave it at zero); -1 for none.
  int64_t padding_idx = -1;
  /// When set (> 0): before each lookup, every looked-up row whose norm exceeds max_norm is
  /// rescaled in place to norm max_norm (PyTorch's max_norm; see Embedding::forward).
  std::optional<float> max_norm;
  /// p of the p-norm used with max_norm (> 0).
  float norm_type = 2.f;
};

/// y[p, :] = W[ids[p], :].  ids of shape S -> S + [D];  W [N, D] ("weight").
/// Initialised as PyTorch's nn.Embedding: W ~ N(0, 1), the padding row zero.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t dim, Generator& gen, EmbeddingLayerOptions opts = {});
  /// y = W[ids].  ids of shape S, each in [0, N) -> S + [D]. With max_norm set, the looked-up
  /// rows of W are first renormalised in place, outside the graph (row ← row·max_norm/(‖row‖_p
  /// + 1e-7) where ‖row‖_p > max_norm), as PyTorch: the table changes even under NoGradGuard,
  /// and a graph that saved W's values before the lookup sees the new ones.
  Tensor forward(const Ids& ids) const;
  /// "Embedding(1000 x 64, sparse, padding_idx=0, max_norm=1)"
  std::string describe() const override;

  int64_t num_embeddings() const { return num_; }
  int64_t dim() const { return dim_; }
  const EmbeddingLayerOptions& options() const { return opts_; }
  /// W [N, D] (the registered parameter's handle).
  const Tensor& weight() const { return weight_; }

 private:
  int64_t num_, dim_;
  EmbeddingLayerOptions opts_;
  Tensor weight_;
};

struct EmbeddingBagOptions {
  BagMode mode = BagMode::kMean;  ///< PyTorch's default
};

/// Pooled lookups over jagged bags given as ids + offsets (layout in ops/embedding.h):
/// y[b] = Σ_{p in bag b} W[ids[p]] (kSum) or that sum / |bag b| (kMean); empty bags give zeros.
/// ids [n] -> [n_bags, D];  W [N, D] ("weight"), W ~ N(0, 1). The gradient is row-sparse.
class EmbeddingBag : public Module {
 public:
  EmbeddingBag(int64_t num_embeddings, int64_t dim, Generator& gen, EmbeddingBagOptions opts = {});
  /// ids [n] (all bags concatenated), offsets [n_bags] (bag starts) -> [n_bags, D]
  Tensor forward(const Ids& ids, const std::vector<int64_t>& offsets) const;
  /// "EmbeddingBag(1000 x 64, mean)"
  std::string describe() const override;

  int64_t num_embeddings() const { return num_; }
  int64_t dim() const { return dim_; }
  /// W [N, D].
  const Tensor& weight() const { return weight_; }

 private:
  int64_t num_, dim_;
  EmbeddingBagOptions opts_;
  Tensor weight_;
};

}  // namespace recgrad::nn
