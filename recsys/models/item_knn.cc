#include "recsys/models/item_knn.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "autograd/error.h"
#include "autograd/parallel.h"
#include "recsys/cooccurrence.h"

namespace recgrad::recsys {
namespace {

// Ids are stored as floats: exact up to 2^24.
constexpr int64_t kMaxExactId = int64_t{1} << 24;

}  // namespace

ItemKnn::ItemKnn(const ItemKnnConfig& config, int64_t num_items)
    : Recommender(TrainConfig{}), config_(config) {
  RECGRAD_CHECK(config.k >= 1, "itemknn: k must be >= 1, got ", config.k);
  RECGRAD_CHECK(config.shrink >= 0, "itemknn: shrink must be >= 0, got ", config.shrink);
  RECGRAD_CHECK(num_items > 0 && num_items <= kMaxExactId, "itemknn: num_items must be in [1, 2^24]",
                " (neighbour ids are stored as floats), got ", num_items);
  neighbours_ = register_buffer("neighbours", full({num_items, config.k}, -1.f));
  similarities_ = register_buffer("similarities", zeros({num_items, config.k}));
}

std::string ItemKnn::describe() const {
  return recgrad::detail::str_cat("ItemKNN(", neighbours_.size(0), " items, k ", config_.k,
                                  ", shrink ", config_.shrink, ")");
}

void ItemKnn::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == neighbours_.size(0), "itemknn: model built for ",
                neighbours_.size(0), " items, data has ", data.num_items);
  history_ = data.history;
}

void ItemKnn::fit() {
  RECGRAD_CHECK(history_ != nullptr, "itemknn: attach() the training data before fit()");
  const int64_t n = neighbours_.size(0), k = config_.k;
  const UserItems rows = distinct_items(*history_);
  const ItemUsers cols = item_users(rows);
  float* nb = neighbours_.data();
  float* sim = similarities_.data();
  const double h = config_.shrink;
  for_each_cooccurrence_row(rows, cols, [&](int64_t j, const float* c) {
    // Candidates i != j that share a user with j, ranked by (similarity desc, id asc).
    const double norm_j = std::sqrt(static_cast<double>(cols.count(j)));
    std::vector<std::pair<float, int64_t>> cand;
    for (int64_t i = 0; i < n; ++i) {
      if (i == j || c[i] == 0.f) continue;
      const double s = c[i] / (norm_j * std::sqrt(static_cast<double>(cols.count(i))) + h);
      cand.emplace_back(static_cast<float>(s), i);
    }
    const auto kept = std::min<int64_t>(k, static_cast<int64_t>(cand.size()));
    std::partial_sort(cand.begin(), cand.begin() + kept, cand.end(),
                      [](const auto& a, const auto& b) {
                        return a.first > b.first || (a.first == b.first && a.second < b.second);
                      });
    for (int64_t m = 0; m < k; ++m) {
      nb[j * k + m] = m < kept ? static_cast<float>(cand[m].second) : -1.f;
      sim[j * k + m] = m < kept ? cand[m].first : 0.f;
    }
  });
}

Tensor ItemKnn::loss(int64_t) { throw UsageError("itemknn: not trained by gradient descent"); }

Tensor ItemKnn::score(const std::vector<int64_t>& users, const UserItems& history) {
  const int64_t n = neighbours_.size(0), k = config_.k;
  RECGRAD_CHECK(history.num_items == n, "itemknn: history has ", history.num_items,
                " items, model ", n);
  for (int64_t u : users)
    RECGRAD_CHECK(u >= 0 && u < history.num_users(), "itemknn: user ", u, " is outside [0, ",
                  history.num_users(), ")");
  // S by rows: for each item i, the items j that have i as a neighbour, with sim(i, j), in
  // ascending j. Rebuilt from the buffers on every call (O(n·k), small beside the [B, n]
  // output), so it always matches what was fitted or loaded.
  const float* nb = neighbours_.data();
  const float* sim = similarities_.data();
  std::vector<int64_t> offsets(n + 1, 0);
  for (int64_t e = 0; e < n * k; ++e)
    if (nb[e] >= 0) ++offsets[static_cast<int64_t>(nb[e]) + 1];
  for (int64_t i = 0; i < n; ++i) offsets[i + 1] += offsets[i];
  std::vector<int64_t> target(offsets[n]);
  std::vector<float> weight(offsets[n]);
  std::vector<int64_t> next(offsets.begin(), offsets.end() - 1);
  for (int64_t j = 0; j < n; ++j)
    for (int64_t m = 0; m < k; ++m) {
      const float i = nb[j * k + m];
      if (i < 0) continue;
      const int64_t slot = next[static_cast<int64_t>(i)]++;
      target[slot] = j;
      weight[slot] = sim[j * k + m];
    }

  const auto b = static_cast<int64_t>(users.size());
  Tensor out = zeros({b, n});
  float* o = out.data();
  recgrad::detail::parallel_for(b, 1, [&](int64_t rb, int64_t re) {
    std::vector<int64_t> items;
    for (int64_t r = rb; r < re; ++r) {
      items.assign(history.begin(users[r]), history.end(users[r]));
      std::sort(items.begin(), items.end());
      items.erase(std::unique(items.begin(), items.end()), items.end());
      float* row = o + r * n;
      for (int64_t i : items)  // ascending i: a fixed summation order for every score
        for (int64_t s = offsets[i]; s < offsets[i + 1]; ++s) row[target[s]] += weight[s];
    }
  });
  return out;
}

}  // namespace recgrad::recsys
