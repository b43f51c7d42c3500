#include "nn/embedding.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "nn/init.h"

namespace recgrad::nn {
namespace {

void check_sizes(const char* layer, int64_t num, int64_t dim) {
  RECGRAD_CHECK(num > 0 && dim > 0, layer, "(", num, " x ", dim,
                "): the number of rows and the dimension must be positive");
}

// ‖row‖_p, in double.
double row_norm(const float* row, int64_t d, float p) {
  double s = 0.0;
  if (p == 2.f) {
    for (int64_t j = 0; j < d; ++j) s += static_cast<double>(row[j]) * row[j];
    return std::sqrt(s);
  }
  if (p == 1.f) {
    for (int64_t j = 0; j < d; ++j) s += std::abs(static_cast<double>(row[j]));
    return s;
  }
  for (int64_t j = 0; j < d; ++j) s += std::pow(std::abs(static_cast<double>(row[j])), p);
  return std::pow(s, 1.0 / p);
}

}  // namespace

Embedding::Embedding(int64_t num_embeddings, int64_t dim, Generator& gen, EmbeddingLayerOptions opts)
    : num_(num_embeddings), dim_(dim), opts_(opts) {
  check_sizes("Embedding", num_, dim_);
  RECGRAD_CHECK(opts.padding_idx == -1 || (opts.padding_idx >= 0 && opts.padding_idx < num_),
                "Embedding(", num_, " x ", dim_, "): padding_idx ", opts.padding_idx,
                " is out of range [0, ", num_, ") (-1 means none)");
  RECGRAD_CHECK(!opts.max_norm || *opts.max_norm > 0.f, "Embedding(", num_, " x ", dim_,
                "): max_norm ", opts.max_norm.value_or(0.f), " must be positive");
  RECGRAD_CHECK(opts.norm_type > 0.f && std::isfinite(opts.norm_type), "Embedding(", num_, " x ",
                dim_, "): norm_type ", opts.norm_type, " must be a positive finite p");
  Tensor w = init::normal({num_, dim_}, 0.f, 1.f, gen);
  if (opts.padding_idx >= 0) std::fill_n(w.data() + opts.padding_idx * dim_, dim_, 0.f);
  weight_ = register_parameter("weight", w);
}

Tensor Embedding::forward(const Ids& ids) const {
  // Checked here, before max_norm writes rows by id.
  RECGRAD_CHECK(ids.shape.numel() == ids.numel(), describe(), ": ", ids.numel(),
                " ids do not fill their shape ", ids.shape);
  for (int64_t p = 0; p < ids.numel(); ++p) {
    const int64_t id = ids.values[p];
    RECGRAD_CHECK(id >= 0 && id < num_, describe(), ": id ", id, " at position ", p,
                  " of ids ", ids.shape, " is out of range [0, ", num_, ")");
  }
  if (opts_.max_norm) {
    // PyTorch's embedding_renorm_: each distinct looked-up row, once, outside the graph.
    NoGradGuard no_grad;
    std::vector<int64_t> rows = ids.values;
    std::sort(rows.begin(), rows.end());
    rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    Tensor w = weight_;  // a handle: writes reach the parameter's storage
    float* pw = w.data();
    const float max_norm = *opts_.max_norm, p = opts_.norm_type;
    const int64_t d = dim_;
    detail::parallel_for(static_cast<int64_t>(rows.size()),
                         std::max<int64_t>(1, detail::kGrainCheap / d), [&](int64_t lo, int64_t hi) {
                           for (int64_t k = lo; k < hi; ++k) {
                             float* row = pw + rows[k] * d;
                             const double norm = row_norm(row, d, p);
                             if (norm > max_norm) {
                               const float scale = static_cast<float>(max_norm / (norm + 1e-7));
                               for (int64_t j = 0; j < d; ++j) row[j] *= scale;
                             }
                           }
                         });
  }
  recgrad::EmbeddingOptions op;
  op.sparse = opts_.sparse;
  op.padding_idx = opts_.padding_idx;
  return embedding(weight_, ids, op);
}

std::string Embedding::describe() const {
  std::string s = detail::str_cat("Embedding(", num_, " x ", dim_, opts_.sparse ? ", sparse" : ", dense");
  if (opts_.padding_idx >= 0) s += detail::str_cat(", padding_idx=", opts_.padding_idx);
  if (opts_.max_norm) s += detail::str_cat(", max_norm=", *opts_.max_norm);
  return s + ")";
}

EmbeddingBag::EmbeddingBag(int64_t num_embeddings, int64_t dim, Generator& gen,
                           EmbeddingBagOptions opts)
    : num_(num_embeddings), dim_(dim), opts_(opts) {
  check_sizes("EmbeddingBag", num_, dim_);
  weight_ = register_parameter("weight", init::normal({num_, dim_}, 0.f, 1.f, gen));
}

Tensor EmbeddingBag::forward(const Ids& ids, const std::vector<int64_t>& offsets) const {
  try {
    return embedding_bag(weight_, ids, offsets, opts_.mode);
  } catch (const Error& e) {  // the op's message (ids, offsets, shapes), prefixed by the layer
    throw Error(describe() + ": " + e.what());
  }
}

std::string EmbeddingBag::describe() const {
  return detail::str_cat("EmbeddingBag(", num_, " x ", dim_,
                         opts_.mode == BagMode::kSum ? ", sum)" : ", mean)");
}

}  // namespace recgrad::nn
