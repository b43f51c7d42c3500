// BPR-MF: it learns (beats Pop), checkpoints round-trip, training is deterministic.
#include "recsys/models/bpr_mf.h"

#include <doctest/doctest.h>

#include "autograd/error.h"
#include "recsys/experiment.h"
#include "recsys/registry.h"
#include "tests/recsys/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

// The small synthetic data has 32,000 training rows: 125 batches of 256 an epoch, so lr 3e-3
// (RecBole's 1e-3 is tuned for 2048-row batches on bigger data) learns in 10 epochs.
ModelSpec bpr_spec() {
  ModelSpec s;
  s.name = "bpr";
  s.lr = 3e-3;
  s.batch_size = 256;
  s.seed = 7;
  return s;
}

}  // namespace

TEST_CASE("bpr: learns: NDCG@10 at least 1.2x Pop's on synthetic data") {
  const Comparison c = train_and_compare(bpr_spec(), small_synthetic(), /*epochs=*/10);
  CHECK(c.pop_ndcg > 0.05);  // Pop itself is a real baseline here, not a zero
  CHECK(c.model_ndcg >= 1.2 * c.pop_ndcg);
}

TEST_CASE("bpr: save/load round-trips its scores bit for bit") {
  const Experiment ex = Experiment::load(small_synthetic());
  auto model = train_model(bpr_spec(), ex, /*epochs=*/1);
  check_save_load_round_trip(bpr_spec(), *model, ex);
}

TEST_CASE("bpr: the same seed trains to bit-identical scores") {
  check_determinism(bpr_spec(), small_synthetic(), /*epochs=*/2);
}

TEST_CASE("bpr: data of another size is refused with both sizes") {
  const Experiment ex = Experiment::load(small_synthetic());
  BprMf model(BprMfConfig{}, 10, 20);
  CHECK_THROWS_WITH_AS(model.attach(ex.training()),
                       doctest::Contains("built for 10 users x 20 items, data has 500 x 800"), Error);
}
