#include <doctest/doctest.h>

#include "autograd/autograd.h"
#include "recsys/recsys.h"

using namespace recgrad;
using namespace recgrad::recsys;

// 1,000 items; user u's one test item is 500 + u. A toy model puts `above(u)` other items
// (items 0, 1, ...) above the test item, which then sits at 0-based rank above(u) in full ranking.
Scorer toy_model(int64_t (*above)(int64_t user)) {
  return [above](const std::vector<int64_t>& users) {
    Tensor s = zeros({static_cast<int64_t>(users.size()), 1000});
    for (size_t b = 0; b < users.size(); ++b) {
      float* row = s.data() + b * 1000;
      for (int64_t i = 0; i < above(users[b]); ++i) row[i] = 1.f;
      row[500 + users[b]] = 0.5f;
    }
    return s;
  };
}

TEST_CASE("tour 4: sampled metrics can reverse the order of two models") {
  std::vector<std::vector<int64_t>> test_items, no_history(100);
  for (int64_t u = 0; u < 100; ++u) test_items.push_back({500 + u});
  UserItems relevant = UserItems::from_lists(test_items, 1000);
  UserItems seen = UserItems::from_lists(no_history, 1000);

  // A: every test item at rank 50.  B: rank 5 for even users, rank 300 for odd ones.
  Scorer a = toy_model([](int64_t) -> int64_t { return 50; });
  Scorer b = toy_model([](int64_t u) -> int64_t { return u % 2 == 0 ? 5 : 300; });

  EvalOptions full;                                    // rank all 1,000 items
  EvalOptions sampled;
  sampled.protocol = Protocol::kSampled;               // rank among 100 random negatives
  sampled.num_negatives = 100;
  Evaluator on_full(relevant, {&seen}, full), on_sampled(relevant, {&seen}, sampled);

  double a_full = on_full.evaluate(a).at("HR@10"), b_full = on_full.evaluate(b).at("HR@10");
  double a_sampled = on_sampled.evaluate(a).at("HR@10");
  double b_sampled = on_sampled.evaluate(b).at("HR@10");
  CHECK(a_full == 0.0);         // rank 50 is never in the top 10 of 1,000
  CHECK(b_full == 0.5);         // half of B's users are
  CHECK(a_sampled > 0.8);       // ~5 of 100 negatives beat A's item: it lands near rank 5
  CHECK(b_sampled < 0.6);       // B's odd users still miss (~30 negatives beat them)
  CHECK(a_sampled > b_sampled); // the sampled metric prefers A; the full one prefers B
}
