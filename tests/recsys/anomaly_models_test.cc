// Anomaly mode has no false alarms on the library's own models: every registered model trains an
// epoch and scores under it (its forward rule lets -inf masks and log-softmax pass, see
// autograd/anomaly.h), with the same results as without it.
#include <doctest/doctest.h>

#include "autograd/anomaly.h"
#include "recsys/experiment.h"
#include "recsys/registry.h"
#include "tests/recsys/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

TEST_CASE("anomaly mode: every registered model trains an epoch and scores without a report") {
  DataSpec d;
  d.split = "ratio";
  d.synthetic_users = 80;
  d.synthetic_items = 120;
  d.synthetic_rows = 2400;
  const Experiment ex = Experiment::load(d);
  for (const ModelInfo& info : model_registry()) {
    CAPTURE(info.name);
    ModelSpec spec;
    spec.name = info.name;
    spec.seed = 1;
    Tensor plain = score_batch(*train_model(spec, ex, /*epochs=*/1), ex);
    AnomalyModeGuard anomaly;
    std::unique_ptr<Recommender> model;
    CHECK_NOTHROW(model = train_model(spec, ex, /*epochs=*/1));
    if (!model) continue;
    Tensor checked;
    CHECK_NOTHROW(checked = score_batch(*model, ex));
    CHECK(same_scores(plain, checked));  // checking changes no value
  }
}
