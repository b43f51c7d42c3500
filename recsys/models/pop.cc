#include "recsys/models/pop.h"

#include <cstring>

#include "autograd/parallel.h"

namespace recgrad::recsys {

Pop::Pop(int64_t num_items) : Recommender(TrainConfig{}) {
  counts_ = register_buffer("item_counts", zeros({num_items}));
}

void Pop::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_items == counts_.numel(), "pop: model built for ", counts_.numel(),
                " items, data has ", data.num_items);
  history_ = data.history;
}

void Pop::fit() {
  RECGRAD_CHECK(history_ != nullptr, "pop: attach() the training data before fit()");
  float* c = counts_.data();
  std::memset(c, 0, sizeof(float) * counts_.numel());
  for (int64_t item : history_->items) c[item] += 1.f;
}

Tensor Pop::loss(int64_t) { throw UsageError("pop: not trained by gradient descent"); }

Tensor Pop::score(const std::vector<int64_t>& users, const UserItems&) {
  const int64_t n = counts_.numel();
  Tensor out = Tensor::empty({static_cast<int64_t>(users.size()), n});
  float* o = out.data();
  const float* c = counts_.data();
  recgrad::detail::parallel_for(static_cast<int64_t>(users.size()), 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) std::memcpy(o + r * n, c, sizeof(float) * n);
  });
  return out;
}

}  // namespace recgrad::recsys
