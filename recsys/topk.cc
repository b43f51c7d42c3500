#include "recsys/topk.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "autograd/error.h"
#include "autograd/parallel.h"

namespace recgrad::recsys {
namespace {
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

void mask_row(float* row, const int64_t* begin, const int64_t* end) {
  for (const int64_t* it = begin; it != end; ++it) row[*it] = kNegInf;
}

void top_k_row(const float* row, int64_t n, int64_t k, int64_t* items, float* out_scores) {
  // One scan with a bounded heap whose top is the worst kept (score, item): most items lose a
  // single comparison against it (about k·ln(n/k) replacements on random scores), so a row
  // costs O(n + k log k) rather than building and partitioning n pairs. Items arrive in
  // increasing id order, so an equal score never displaces a kept item: the smaller id wins.
  using Entry = std::pair<float, int64_t>;
  auto better = [](const Entry& a, const Entry& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  std::vector<Entry> heap;
  heap.reserve(static_cast<size_t>(std::min(k, n)));
  for (int64_t i = 0; i < n; ++i) {
    const float s = row[i];
    if (!(s > kNegInf)) continue;  // masked, or NaN
    if (static_cast<int64_t>(heap.size()) < k) {
      heap.emplace_back(s, i);
      std::push_heap(heap.begin(), heap.end(), better);
    } else if (s > heap.front().first) {
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.back() = {s, i};
      std::push_heap(heap.begin(), heap.end(), better);
    }
  }
  std::sort_heap(heap.begin(), heap.end(), better);
  const auto m = static_cast<int64_t>(heap.size());
  for (int64_t i = 0; i < k; ++i) {
    items[i] = i < m ? heap[i].second : -1;
    out_scores[i] = i < m ? heap[i].first : kNegInf;
  }
}

void mask_items(Tensor& scores, const std::vector<int64_t>& users, const UserItems& mask) {
  const auto b_size = static_cast<int64_t>(users.size());
  RECGRAD_CHECK(scores.dim() == 2 && scores.size(0) == b_size && scores.size(1) == mask.num_items,
                "mask_items: scores ", scores.shape(), " do not match ", b_size, " users x ",
                mask.num_items, " items");
  for (int64_t u : users)
    RECGRAD_CHECK(u >= 0 && u < mask.num_users(), "mask_items: user ", u, " is outside [0, ",
                  mask.num_users(), ")");
  for (int64_t item : mask.items)
    RECGRAD_CHECK(item >= 0 && item < mask.num_items, "mask_items: masked item ", item,
                  " is outside [0, ", mask.num_items, ")");
  float* data = scores.data();
  const int64_t n = mask.num_items;
  detail::parallel_for(b_size, 64, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row)
      mask_row(data + row * n, mask.begin(users[row]), mask.end(users[row]));
  });
}

TopK top_k(const Tensor& scores, int64_t k) {
  RECGRAD_CHECK(scores.dim() == 2, "top_k: scores must be [B, n_items], got ", scores.shape());
  RECGRAD_CHECK(k >= 1, "top_k: k must be >= 1, got ", k);
  const int64_t b_size = scores.size(0), n = scores.size(1);
  std::vector<int64_t> items(b_size * k);
  Tensor top = Tensor::empty({b_size, k});
  const float* in = scores.data();
  float* out = top.data();
  detail::parallel_for(b_size, 8, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row)
      top_k_row(in + row * n, n, k, items.data() + row * k, out + row * k);
  });
  return {Ids(std::move(items), {b_size, k}), top};
}

}  // namespace recgrad::recsys
