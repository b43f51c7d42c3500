// SASRec's learning run with full cross-entropy (Bazel's moderate timeout): on the synthetic
// data's sequential signal it must beat both Pop and BPR-MF on leave-one-out NDCG@10. The
// paper's BCE runs in sasrec_bce_learning_test.cc, so the two binaries run side by side.
#include "recsys/models/sasrec.h"

#include <doctest/doctest.h>

#include "tests/recsys/models/sasrec_learning.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

TEST_CASE("sasrec: with cross-entropy, NDCG@10 well above Pop's and above BPR-MF's") {
  // Full softmax over the 800 items, d 50, 2 blocks, dropout 0.3, lr 3e-3, batch 32, 6 epochs.
  // Measured (model seed 7) at data seeds 0, 1, 2: SASRec 0.085, 0.086, 0.081; BPR-MF after 6
  // epochs (about its best: it overfits after 6 or 7) 0.068, 0.075, 0.070; Pop 0.044, 0.037,
  // 0.042. SASRec overfits too after ~6 epochs (0.080, 0.082, 0.078 at 7); with dropout 0.2 it
  // peaks a little lower on this data.
  const Experiment ex = Experiment::load(sequential_synthetic());
  SasRecConfig c = learning_config(SasRecLoss::kCrossEntropy);
  auto model = train_sasrec(c, ex, /*epochs=*/6);
  ModelSpec bpr;  // as in bpr_mf_test: lr 3e-3 for 256-row batches
  bpr.name = "bpr";
  bpr.lr = 3e-3;
  bpr.batch_size = 256;
  bpr.seed = 7;
  auto mf = train_model(bpr, ex, /*epochs=*/6);
  const double sasrec_ndcg = test_ndcg_at_10(*model, ex), bpr_ndcg = test_ndcg_at_10(*mf, ex),
               pop_ndcg = pop_ndcg_at_10(ex);
  MESSAGE("sasrec (ce) NDCG@10 ", sasrec_ndcg, ", bpr ", bpr_ndcg, ", pop ", pop_ndcg);
  CHECK(sasrec_ndcg >= 1.5 * pop_ndcg);
  CHECK(sasrec_ndcg >= 1.1 * bpr_ndcg);
  CHECK(padding_row_is_zero(*model));
}
