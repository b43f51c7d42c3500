#include <doctest/doctest.h>

#include "recsys/recsys.h"

using namespace recgrad;
using namespace recgrad::recsys;

TEST_CASE("tour 5: BPR-MF from the registry beats popularity") {
  DataSpec data;                        // built-in synthetic data, split 80/10/10 per user
  data.split = "ratio";
  data.synthetic_users = 500;
  data.synthetic_items = 800;
  data.synthetic_rows = 40000;
  const Experiment ex = Experiment::load(data);

  ModelSpec spec;
  spec.name = "bpr";                    // dim 64 by default
  spec.lr = 3e-3;
  spec.batch_size = 256;
  spec.seed = 7;
  auto model = find_model("bpr").make(spec, ex.data.num_users(), ex.data.num_items());
  model->attach(ex.training());
  auto opt = model->make_optimizer();   // Adam over the named parameters
  TrainerOptions t;
  t.epochs = 6;
  t.progress = ProgressMode::kQuiet;
  train(*model, *opt, t);               // loss -> backward -> step, batch after batch

  Pop pop(ex.data.num_items());         // the baseline every model must beat
  pop.attach(ex.training());
  pop.fit();
  const double bpr_ndcg = evaluate_model(*model, ex, EvalOptions{}).at("NDCG@10");
  const double pop_ndcg = evaluate_model(pop, ex, EvalOptions{}).at("NDCG@10");
  MESSAGE("NDCG@10 (full ranking): BPR-MF ", bpr_ndcg, ", Pop ", pop_ndcg);
  CHECK(bpr_ndcg > 1.1 * pop_ndcg);
}
