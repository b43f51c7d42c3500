#include "recsys/model_utils.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <functional>

#include "autograd/error.h"
#include "autograd/parallel.h"
#include "nn/init.h"
#include "ops/dropout_mask.h"
#include "ops/sparse_linear.h"

namespace recgrad::recsys {

Tensor history_rows(const UserItems& history, const std::vector<int64_t>& users) {
  const int64_t n = history.num_items, b_size = static_cast<int64_t>(users.size());
  for (int64_t u : users)
    RECGRAD_CHECK(u >= 0 && u < history.num_users(), "history_rows: user ", u,
                  " is outside the history's ", history.num_users(), " users");
  Tensor rows = zeros({b_size, n});
  float* r = rows.data();
  recgrad::detail::parallel_for(b_size, 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      for (const int64_t* it = history.begin(users[i]); it != history.end(users[i]); ++it)
        r[i * n + *it] = 1.f;
  });
  return rows;
}

CsrMatrix history_csr(const UserItems& history, const std::vector<int64_t>& users) {
  CsrMatrix m;
  m.rows = static_cast<int64_t>(users.size());
  m.cols = history.num_items;
  m.offsets.reserve(users.size() + 1);
  for (int64_t u : users) {
    RECGRAD_CHECK(u >= 0 && u < history.num_users(), "history_csr: user ", u,
                  " is outside the history's ", history.num_users(), " users");
    const auto first = static_cast<std::ptrdiff_t>(m.columns.size());
    m.columns.insert(m.columns.end(), history.begin(u), history.end(u));
    // Rows that already ascend strictly (UserRowLoader's history) skip the sort: it was ~1.5% of
    // a Mult-VAE step.
    if (std::adjacent_find(m.columns.begin() + first, m.columns.end(),
                           std::greater_equal<int64_t>()) != m.columns.end()) {
      std::sort(m.columns.begin() + first, m.columns.end());
      m.columns.erase(std::unique(m.columns.begin() + first, m.columns.end()), m.columns.end());
    }
    m.offsets.push_back(static_cast<int64_t>(m.columns.size()));
  }
  m.values.assign(m.columns.size(), 1.f);
  return m;
}

Tensor l2_normalize_rows(const Tensor& x) {
  RECGRAD_CHECK(x.dim() == 2, "l2_normalize_rows: expected [B, n], got ", x.shape());
  const int64_t rows = x.size(0), n = x.size(1);
  Tensor out = Tensor::empty({rows, n});
  const float* src = x.data();
  float* dst = out.data();
  recgrad::detail::parallel_for(rows, 16, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      double ss = 0;
      for (int64_t i = 0; i < n; ++i) ss += static_cast<double>(src[r * n + i]) * src[r * n + i];
      const float scale = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.f;
      for (int64_t i = 0; i < n; ++i) dst[r * n + i] = src[r * n + i] * scale;
    }
  });
  return out;
}

void l2_normalize_rows(CsrMatrix& x) {
  recgrad::detail::parallel_for(x.rows, 16, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      // Summed in double in the stored order: for csr_from_dense's rows that is column order,
      // the dense version's (its zeros add nothing), so both give the same scale.
      double ss = 0;
      for (int64_t k = x.offsets[r]; k < x.offsets[r + 1]; ++k)
        ss += static_cast<double>(x.values[k]) * x.values[k];
      const float scale = ss > 0 ? static_cast<float>(1.0 / std::sqrt(ss)) : 0.f;
      for (int64_t k = x.offsets[r]; k < x.offsets[r + 1]; ++k) x.values[k] *= scale;
    }
  });
}

void dropout_nonzeros(CsrMatrix& x, float p, bool training, Generator& gen) {
  RECGRAD_CHECK(p >= 0.f && p < 1.f, "dropout_nonzeros: p = ", p, " for a [", x.rows, ", ", x.cols,
                "] input: p must lie in [0, 1)");
  if (!training || p == 0.f) return;
  // The key and the per-element test are dropout's (ops/dropout_mask.h), indexed by the dense
  // position.
  const uint64_t key = gen.next_u64();
  const uint32_t threshold = recgrad::detail::dropout_threshold(p);
  const float scale = 1.f / (1.f - p);
  recgrad::detail::parallel_for(x.rows, 16, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (int64_t k = x.offsets[r]; k < x.offsets[r + 1]; ++k) {
        const auto i = static_cast<uint64_t>(r * x.cols + x.columns[k]);
        x.values[k] *= recgrad::detail::dropout_keeps(key, threshold, i) ? scale : 0.f;
      }
  });
}

Tensor mlp_forward_sparse(const nn::MLP& mlp, const CsrMatrix& x, nn::Activation activation,
                          bool final_activation) {
  RECGRAD_CHECK(!mlp.dropout_layer(), "mlp_forward_sparse: ", mlp.describe(),
                " has dropout between layers; only dropout-free MLPs are supported");
  const auto& layers = mlp.layers();
  Tensor h = sparse_linear(x, layers[0]->weight(), layers[0]->bias());
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) h = layers[i]->forward(h);
    if (i + 1 < layers.size() || final_activation) h = nn::activate(activation, h);
  }
  return h;
}

uint64_t batch_key(uint64_t seed, uint64_t salt, int64_t epoch, int64_t index) {
  return recgrad::detail::mix64(recgrad::detail::mix64(seed ^ salt, static_cast<uint64_t>(epoch)),
                                static_cast<uint64_t>(index));
}

void xavier_init(nn::MLP& mlp, Generator& gen, float bias_std) {
  for (const auto& layer : mlp.layers()) {
    Tensor w = layer->weight();
    const Tensor init_w = nn::init::xavier_uniform(w.shape(), gen);
    std::memcpy(w.data(), init_w.data(), sizeof(float) * w.numel());
    if (!layer->bias().defined()) continue;
    Tensor b = layer->bias();
    const Tensor init_b = bias_std > 0 ? nn::init::truncated_normal(b.shape(), 0.f, bias_std, gen)
                                       : nn::init::zeros(b.shape());
    std::memcpy(b.data(), init_b.data(), sizeof(float) * b.numel());
  }
}

}  // namespace recgrad::recsys
