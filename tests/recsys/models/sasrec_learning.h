#pragma once
// The data, configuration and checks SASRec's two learning tests share.
#include <cstdint>
#include <memory>

#include "recsys/experiment.h"
#include "recsys/models/pop.h"
#include "recsys/models/sasrec.h"
#include "recsys/trainer.h"
#include "tests/recsys/model_testing.h"

namespace recgrad::testing {

/// The synthetic generator at 2,000 users, 800 items and 80,000 rows (40 per user), split
/// leave-one-out: 2,000 test items, half of all next choices a successor of one of the last 3
/// items. SequenceLoader trains on one sequence per user, so users, not rows, set how much a
/// sequence model sees: at 1,000 users SASRec beat BPR-MF by only 1.08x to 1.17x across data
/// seeds, and NDCG@10 over 1,000 test items is noisier. Histories are short (median ~30 training
/// items, 90% <= ~60), so max_len 50 keeps nearly all of them at a quarter of 200's cost.
inline recsys::DataSpec sequential_synthetic() {
  recsys::DataSpec d = small_synthetic("loo");
  d.synthetic_users = 2000;
  d.synthetic_rows = 80000;
  return d;
}

/// The paper's model (d 50, 2 blocks, 1 head, Adam β₂ 0.98) with max_len 50 (see above),
/// dropout 0.3, lr 3e-3 and batch 32: with only 2,000 sequences an epoch, the paper's batch 128
/// gives 16 steps, and the first ~60 steps learn little beyond popularity.
inline recsys::SasRecConfig learning_config(recsys::SasRecLoss loss) {
  recsys::SasRecConfig c;
  c.max_len = 50;
  c.dropout = 0.3f;
  c.loss = loss;
  c.train.lr = 3e-3;
  c.train.batch_size = 32;
  c.train.seed = 7;
  return c;
}

/// Builds, attaches and trains a SASRec quietly for `epochs` epochs.
inline std::unique_ptr<recsys::SasRec> train_sasrec(const recsys::SasRecConfig& c,
                                                    const recsys::Experiment& ex, int64_t epochs) {
  auto model = std::make_unique<recsys::SasRec>(c, ex.data.num_users(), ex.data.num_items());
  model->attach(ex.training());
  auto opt = model->make_optimizer();
  recsys::TrainerOptions t;
  t.epochs = epochs;
  t.progress = recsys::ProgressMode::kQuiet;
  recsys::train(*model, *opt, t);
  return model;
}

/// Pop's test NDCG@10.
inline double pop_ndcg_at_10(const recsys::Experiment& ex) {
  recsys::Pop pop(ex.data.num_items());
  pop.attach(ex.training());
  pop.fit();
  return test_ndcg_at_10(pop, ex);
}

/// Training left the padding row E[num_items] exactly 0 (it never receives a gradient).
inline bool padding_row_is_zero(const recsys::SasRec& model) {
  const Tensor& e = model.item_embedding();
  const int64_t d = model.config().dim;
  for (int64_t j = 0; j < d; ++j)
    if (e.data()[model.num_items() * d + j] != 0.f) return false;
  return true;
}

}  // namespace recgrad::testing
