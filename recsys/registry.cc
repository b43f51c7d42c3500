#include "recsys/registry.h"

#include <algorithm>
#include <string>

#include "autograd/error.h"
#include "recsys/models/autorec.h"
#include "recsys/models/biased_mf.h"
#include "recsys/models/bpr_mf.h"
#include "recsys/models/caser.h"
#include "recsys/models/cdae.h"
#include "recsys/models/cfgan.h"
#include "recsys/models/ease.h"
#include "recsys/models/gru4rec.h"
#include "recsys/models/item_knn.h"
#include "recsys/models/mult_dae.h"
#include "recsys/models/mult_vae.h"
#include "recsys/models/neumf.h"
#include "recsys/models/pop.h"

namespace recgrad::recsys {
namespace {

// Default epochs (also written out in each model's `defaults`).
constexpr int64_t kAutoRecEpochs = 50;
constexpr int64_t kMultDaeEpochs = 100;
constexpr int64_t kMultVaeEpochs = 100;
constexpr int64_t kCdaeEpochs = 40;
constexpr int64_t kCfganEpochs = 60;

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
  r.push_back({"biasedmf", "matrix factorization", "BiasedMF (Koren et al., IEEE Computer 2009)",
               "dim 64, L2 0.1 per rating, Adam lr 3e-3, batch 256, 20 epochs; RMSE", 20,
               [](const ModelSpec& spec, int64_t users, int64_t items) {
                 BiasedMfConfig c;
                 if (spec.dim > 0) c.dim = spec.dim;
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new BiasedMf(c, users, items));
               }});
  // NCF (He et al., WWW 2017): GMF and MLP are NeuMF's towers alone, trained to pretrain it.
  auto ncf = [](NcfVariant variant) {
    return [variant](const ModelSpec& spec, int64_t users, int64_t items) {
      NeuMfConfig c;
      c.variant = variant;
      if (spec.dim > 0) {
        c.factors = spec.dim;
        c.layers = NeuMfConfig::tower(spec.dim);
      }
      override_train(spec, c.train);
      return std::unique_ptr<Recommender>(new NeuMf(c, users, items));
    };
  };
  const std::string ncf_training =
      "4 negatives per positive, BCE, Adam lr 1e-3, batch 256 rows (51 positives with their "
      "negatives), 20 epochs";
  r.push_back({"neumf", "matrix factorization", "NeuMF (He et al., WWW 2017)",
               "factors 8, MLP tower 64-32-16-8 (--dim f: 8f-4f-2f-f), " + ncf_training +
                   "; --pretrained GMF,MLP: NCF pretraining (alpha 0.5, then SGD)",
               20, ncf(NcfVariant::kNeuMf)});
  r.push_back({"gmf", "matrix factorization", "GMF, NeuMF's GMF part (He et al., WWW 2017)",
               "factors 8 (--dim), " + ncf_training, 20, ncf(NcfVariant::kGmf)});
  r.push_back({"mlp", "matrix factorization", "MLP, NeuMF's MLP part (He et al., WWW 2017)",
               "tower 64-32-16-8 (--dim f: 8f-4f-2f-f), " + ncf_training, 20,
               ncf(NcfVariant::kMlp)});
  r.push_back({"itemknn", "baseline",
               "ItemKNN, item-based cosine (Sarwar et al., WWW 2001; shrinkage as Dacrema et al., "
               "RecSys 2019)",
               "k 100 neighbours per item, shrink 10; closed form (no epochs)", 0,
               [](const ModelSpec&, int64_t, int64_t items) {
                 return std::unique_ptr<Recommender>(new ItemKnn(ItemKnnConfig{}, items));
               }});
  r.push_back({"ease", "baseline", "EASE (Steck, WWW 2019)",
               "lambda 500; closed form via LAPACK Cholesky (no epochs)", 0,
               [](const ModelSpec&, int64_t, int64_t items) {
                 return std::unique_ptr<Recommender>(new Ease(EaseConfig{}, items));
               }});
  r.push_back({"autorec", "autoencoder", "I-AutoRec (Sedhain et al., WWW 2015)",
               "hidden 500 (dim), sigmoid/identity, lambda 300, Adam lr 1e-3, batch 256 items, "
               "50 epochs",
               kAutoRecEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 AutoRecConfig c;
                 if (spec.dim > 0) c.hidden = spec.dim;
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new AutoRec(c, users, items));
               }});
  r.push_back({"multdae", "autoencoder", "Mult-DAE (Liang et al., WWW 2018)",
               "600 -> 200 (dim) tanh, input dropout 0.5, weight decay 4e-5, Adam lr 1e-3, "
               "batch 500 users, 100 epochs",
               kMultDaeEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 MultDaeConfig c;
                 if (spec.dim > 0) c.latent = spec.dim;
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new MultDae(c, users, items));
               }});
  r.push_back({"multvae", "autoencoder", "Mult-VAE (Liang et al., WWW 2018)",
               "600 -> 200 (dim) tanh, input dropout 0.5, beta annealed to 0.2 over 80% of the "
               "epochs, Adam lr 1e-3, batch 500 users, 100 epochs",
               kMultVaeEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 MultVaeConfig c;
                 if (spec.dim > 0) c.latent = spec.dim;
                 override_train(spec, c.train);
                 const int64_t epochs = spec.epochs > 0 ? spec.epochs : kMultVaeEpochs;
                 c.anneal_epochs = std::max<int64_t>(1, (8 * epochs + 9) / 10);
                 return std::unique_ptr<Recommender>(new MultVae(c, users, items));
               }});
  r.push_back({"cdae", "autoencoder", "CDAE (Wu et al., WSDM 2016)",
               "hidden 50 (dim) ReLU, user node, corruption 0.5, cross-entropy on full rows, "
               "Adam lr 3e-3, batch 64 users, 40 epochs",
               kCdaeEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 CdaeConfig c;
                 if (spec.dim > 0) c.hidden = spec.dim;
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new Cdae(c, users, items));
               }});
  r.push_back({"cfgan", "GAN", "CFGAN (Chae et al., CIKM 2018)",
               "G 400 (dim), D 125, sigmoid, ZR+PM with S_ZR = S_PM = 0.7, alpha 0.3, "
               "Adam lr 1e-3 for G and D, G weight decay 1e-3, batch 64 users, 60 epochs",
               kCfganEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 CfganConfig c;
                 if (spec.dim > 0) c.generator_hidden = {spec.dim};
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new Cfgan(c, users, items));
               }});
  r.push_back({"caser", "sequential (CNN)", "Caser (Tang & Wang, WSDM 2018)",
               "d 50, L 5, T 3, n_v 4, n_h 16, dropout 0.5, 3 negatives, Adam lr 1e-3 (L2 1e-6), "
               "batch 512, 30 epochs",
               30, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 CaserConfig c;
                 if (spec.dim > 0) c.dim = spec.dim;
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new Caser(c, users, items));
               }});
  r.push_back({"gru4rec", "sequential (RNN)", "GRU4Rec (Hidasi et al., ICLR 2016; CIKM 2018)",
               "hidden 100, embedding 100, dropout 0.25 on outputs, max_len 50, full "
               "cross-entropy, Adam lr 3e-3, batch 64, 20 epochs",
               20, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 Gru4RecConfig c;
                 if (spec.dim > 0) c.hidden = c.embedding = spec.dim;
                 override_train(spec, c.train);
                 return std::unique_ptr<Recommender>(new Gru4Rec(c, users, items));
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
