#include "recsys/registry.h"

#include "autograd/error.h"
#include "recsys/models/bpr_mf.h"
#include "recsys/models/pop.h"

namespace recgrad::recsys {
namespace {

// Fills the shared hyperparameters a user set (non-zero) over a model's defaults.
void override_train(const ModelSpec& spec, TrainConfig& train) {
  if (spec.lr > 0) train.lr = spec.lr;
  if (spec.batch_size > 0) train.batch_size = spec.batch_size;
  train.seed = spec.seed;
}

std::vector<ModelInfo> build_registry() {
  std::vector<ModelInfo> r;
  r.push_back({"pop", "baseline", "most popular items (Cremonesi et al., RecSys 2010)",
               "no parameters", 0, [](const ModelSpec&, int64_t, int64_t items) {
                 return std::unique_ptr<Recommender>(new Pop(items));
               }});
  r.push_back({"bpr", "matrix factorization", "BPR-MF (Rendle et al., UAI 2009)",
               "dim 64, Adam lr 1e-3, batch 2048, 1 uniform negative, 20 epochs", 20,
               [](const ModelSpec& spec, int64_t users, int64_t items) {
                 BprMfConfig c;
                 if (spec.dim > 0) c.dim = spec.dim;
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new BprMf(c, users, items));
               }});
  return r;
}

}  // namespace

const std::vector<ModelInfo>& model_registry() {
  static const std::vector<ModelInfo> registry = build_registry();
  return registry;
}

const ModelInfo& find_model(const std::string& name) {
  std::string names;
  for (const ModelInfo& m : model_registry()) {
    if (m.name == name) return m;
    names += (names.empty() ? "" : ", ") + m.name;
  }
  throw Error("unknown model '" + name + "'; models: " + names);
}

int64_t epochs_for(const ModelSpec& spec) {
  return spec.epochs > 0 ? spec.epochs : find_model(spec.name).default_epochs;
}

}  // namespace recgrad::recsys
