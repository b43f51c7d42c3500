#pragma once
// The model zoo by name: the CLI, benchmarks and checkpoints construct models from a ModelSpec.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "recsys/recommender.h"

namespace recgrad::recsys {

/// What a user sets from the command line; 0 means "the model's default".
struct ModelSpec {
  std::string name;        ///< registry name, e.g. "bpr"
  int64_t dim = 0;         ///< embedding / hidden size
  double lr = 0;           ///< learning rate
  int64_t batch_size = 0;  ///< examples per batch
  int64_t epochs = 0;      ///< training epochs (the trainer reads this)
  uint64_t seed = 0;       ///< parameters, shuffling, negatives
  /// The model's own settings by name (`--set lambda=250`), read by its factory through
  /// recsys/model_options.h; an unknown key is an error.
  std::map<std::string, std::string> options;
};

/// One registered model.
struct ModelInfo {
  std::string name;      ///< "bpr"
  std::string family;    ///< "matrix factorization", "autoencoder", ...
  std::string paper;     ///< "Rendle et al., UAI 2009"
  std::string defaults;  ///< "dim 64, lr 1e-3, batch 2048, 20 epochs"
  int64_t default_epochs = 20;
  /// Builds the model for a dataset of this many users and items.
  std::function<std::unique_ptr<Recommender>(const ModelSpec&, int64_t num_users,
                                             int64_t num_items)>
      make;
};

/// Every model, in the order `recgrad models` lists them.
const std::vector<ModelInfo>& model_registry();

/// The model called `name`; throws recgrad::Error listing the names when there is none.
const ModelInfo& find_model(const std::string& name);

/// spec.epochs, or the model's default when 0.
int64_t epochs_for(const ModelSpec& spec);

}  // namespace recgrad::recsys
