// `recgrad profile`: where a model's training step spends its time, per op type (issue 7).
// The model trains for --warmup-epochs epochs first (so buffers are cached, the optimizer's
// moments exist and the step profiled is a typical one), then the next --steps training steps
// run under a Profiler (autograd/profiler.h) and their per-op totals are printed.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "autograd/error.h"
#include "autograd/profiler.h"
#include "ops/runtime.h"
#include "recsys/cli/commands.h"
#include "recsys/trainer.h"

namespace recgrad::recsys::cli {

int run_profile(const Flags& f) {
  if (f.threads > 0) set_num_threads(f.threads);
  RECGRAD_CHECK(f.warmup_epochs >= 0, "--warmup-epochs: must be >= 0, got ", f.warmup_epochs);
  RECGRAD_CHECK(f.profile_steps >= 1, "--steps: must be >= 1, got ", f.profile_steps);
  const ModelInfo& info = find_model(f.model.name);  // an unknown name fails before any data
  const Experiment ex = Experiment::load(f.data);
  std::fprintf(stderr, "%s\n%s\n", runtime_summary().c_str(), ex.describe().c_str());
  auto model = info.make(f.model, ex.data.num_users(), ex.data.num_items());
  model->attach(ex.training());
  RECGRAD_CHECK(model->is_iterative(), "profile: ", f.model.name,
                " is fitted in closed form; it has no training steps to profile");
  auto opt = model->make_optimizer();
  if (f.warmup_epochs > 0) {
    TrainerOptions t;
    t.epochs = f.warmup_epochs;
    t.progress = f.quiet ? ProgressMode::kQuiet : ProgressMode::kAuto;
    train(*model, *opt, t);
  }
  model->train();
  const int64_t batches = model->start_epoch(f.warmup_epochs);
  const int64_t steps = std::min(f.profile_steps, batches);
  RECGRAD_CHECK(steps > 0, "profile: ", f.model.name, " has no training batches");
  int64_t examples = 0;
  const ProfileTable table = profile_step([&] {
    for (int64_t b = 0; b < steps; ++b) {
      model->train_step(b, *opt);
      examples += model->batch_examples(b);
    }
  });
  std::printf("%s: per-op profile of %lld training step(s) (%lld examples) after %lld epoch(s), "
              "%d thread(s)\n%s",
              f.model.name.c_str(), static_cast<long long>(steps),
              static_cast<long long>(examples), static_cast<long long>(f.warmup_epochs),
              num_threads(), table.str().c_str());
  if (!f.profile_json.empty()) {
    std::ofstream out(f.profile_json);
    RECGRAD_CHECK(out.good(), "--json: cannot write ", f.profile_json);
    nlohmann::json j = {{"model", f.model.name},       {"steps", steps},
                        {"examples", examples},          {"warmup_epochs", f.warmup_epochs},
                        {"threads", num_threads()},      {"runtime", runtime_summary()}};
    j["profile"] = nlohmann::json::parse(table.json());
    out << j.dump(2) << "\n";
    RECGRAD_CHECK(out.good(), "--json: failed writing ", f.profile_json);
  }
  return 0;
}

}  // namespace recgrad::recsys::cli
