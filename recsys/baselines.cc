#include "recsys/baselines.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "autograd/error.h"
#include "autograd/generator.h"
#include "autograd/parallel.h"
#include "recsys/user_sets.h"

namespace recgrad::recsys {

Scorer popularity_scorer(const UserItems& train) {
  check_user_items(train, "popularity_scorer: train");
  auto counts = std::make_shared<std::vector<float>>(train.num_items, 0.f);
  for (int64_t item : train.items) (*counts)[item] += 1.f;
  return [counts](const std::vector<int64_t>& users) {
    const auto b_size = static_cast<int64_t>(users.size());
    const auto n = static_cast<int64_t>(counts->size());
    Tensor scores = Tensor::empty({b_size, n});
    float* s = scores.data();
    detail::parallel_for(b_size, 64, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) std::copy(counts->begin(), counts->end(), s + row * n);
    });
    return scores;
  };
}

Scorer random_scorer(int64_t num_items, uint64_t seed) {
  RECGRAD_CHECK(num_items >= 0, "random_scorer: num_items must be >= 0, got ", num_items);
  return [num_items, seed](const std::vector<int64_t>& users) {
    const auto b_size = static_cast<int64_t>(users.size());
    Tensor scores = Tensor::empty({b_size, num_items});
    float* s = scores.data();
    detail::parallel_for(b_size, 16, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const uint64_t key = detail::mix64(seed, static_cast<uint64_t>(users[row]));
        for (int64_t i = 0; i < num_items; ++i)
          s[row * num_items + i] =
              detail::bits_to_unit_float(detail::mix64(key, static_cast<uint64_t>(i)));
      }
    });
    return scores;
  };
}

}  // namespace recgrad::recsys
