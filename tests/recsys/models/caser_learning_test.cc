// Caser learns the synthetic data's sequential dynamics: it beats Pop and BPR-MF on next-item
// prediction (leave-one-out, full ranking).
#include <doctest/doctest.h>

#include "recsys/experiment.h"
#include "recsys/models/caser.h"
#include "tests/recsys/models/sequence_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

TEST_CASE("caser: beats Pop and BPR-MF on the synthetic data (leave-one-out, NDCG@10)") {
  const Experiment ex = Experiment::load(sequential_synthetic());
  const Baselines base = pop_and_bpr(ex, /*epochs=*/15);
  // The paper's defaults (d 50, L 5, T 3, n_v 4, n_h 16, dropout 0.5, 3 negatives, batch 512)
  // at lr 2e-3: ~150 batches an epoch, and the best validation comes at epoch 5-6.
  CaserConfig c;
  c.train.lr = 2e-3;
  Caser m(c, ex.data.num_users(), ex.data.num_items());
  m.attach(ex.training());
  const double ndcg = fit_and_test(m, ex, /*epochs=*/5);
  // Measured (data seed 0): 0.0772 against Pop 0.0542 and BPR-MF 0.0709; data seeds 1 and 2:
  // 0.109 vs 0.073 and 0.098, 0.089 vs 0.057 and 0.083. The margin over BPR-MF is real but thin:
  // Caser's sequential part is rank-d over a random successor map (see sequential_synthetic).
  MESSAGE("test NDCG@10: caser ", ndcg, ", pop ", base.pop, ", bpr ", base.bpr);
  CHECK(ndcg >= 1.25 * base.pop);
  CHECK(ndcg >= 1.05 * base.bpr);
}
