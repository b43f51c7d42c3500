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
#include "recsys/models/sasrec.h"
#include "recsys/model_options.h"

namespace recgrad::recsys {
namespace {

// Default epochs (also written out in each model's `defaults`).
constexpr int64_t kAutoRecEpochs = 50;
constexpr int64_t kMultDaeEpochs = 100;
constexpr int64_t kMultVaeEpochs = 100;
constexpr int64_t kCdaeEpochs = 40;
constexpr int64_t kCfganEpochs = 60;

// Fills the shared hyperparameters a user set (non-zero, or --set weight_decay=X) over a
// model's defaults.
void override_train(const ModelSpec& spec, ModelOptions& o, TrainConfig& train) {
  if (spec.lr > 0) train.lr = spec.lr;
  if (spec.batch_size > 0) train.batch_size = spec.batch_size;
  train.weight_decay = o.real("weight_decay", train.weight_decay);
  train.seed = spec.seed;
}

// Builds a model of type M from its config once every option has been read.
template <typename M, typename Config>
std::unique_ptr<Recommender> build(const ModelOptions& o, const Config& c, int64_t users,
                                   int64_t items) {
  o.finish();
  return std::unique_ptr<Recommender>(new M(c, users, items));
}

nn::Activation parse_activation(ModelOptions& o, const std::string& key, nn::Activation fallback) {
  const std::vector<std::pair<std::string, nn::Activation>> names = {
      {"identity", nn::Activation::kIdentity}, {"relu", nn::Activation::kRelu},
      {"tanh", nn::Activation::kTanh}, {"sigmoid", nn::Activation::kSigmoid}};
  std::string fallback_name, chosen;
  std::vector<std::string> allowed;
  for (const auto& [name, a] : names) {
    allowed.push_back(name);
    if (a == fallback) fallback_name = name;
  }
  chosen = o.choice(key, fallback_name, allowed);
  for (const auto& [name, a] : names)
    if (name == chosen) return a;
  return fallback;
}

std::vector<ModelInfo> build_registry() {
  std::vector<ModelInfo> r;
  r.push_back({"pop", "baseline", "most popular items (Cremonesi et al., RecSys 2010)",
               "no parameters", 0, [](const ModelSpec& spec, int64_t, int64_t items) {
                 ModelOptions(spec.name, spec.options).finish();
                 return std::unique_ptr<Recommender>(new Pop(items));
               }});
  r.push_back({"bpr", "matrix factorization", "BPR-MF (Rendle et al., UAI 2009)",
               "dim 64, Adam lr 1e-3, batch 2048, 1 uniform negative, 20 epochs; "
               "--set weight_decay",
               20, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 BprMfConfig c;
                 if (spec.dim > 0) c.dim = spec.dim;
                 override_train(spec, o, c.train);
                 return build<BprMf>(o, c, users, items);
               }});
  r.push_back({"biasedmf", "matrix factorization", "BiasedMF (Koren et al., IEEE Computer 2009)",
               "dim 64, L2 0.1 per rating, Adam lr 3e-3, batch 256, 20 epochs; RMSE; "
               "--set reg, weight_decay",
               20, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 BiasedMfConfig c;
                 if (spec.dim > 0) c.dim = spec.dim;
                 c.reg = o.real("reg", c.reg);
                 override_train(spec, o, c.train);
                 return build<BiasedMf>(o, c, users, items);
               }});
  // NCF (He et al., WWW 2017): GMF and MLP are NeuMF's towers alone, trained to pretrain it.
  auto ncf = [](NcfVariant variant) {
    return [variant](const ModelSpec& spec, int64_t users, int64_t items) {
      ModelOptions o(spec.name, spec.options);
      NeuMfConfig c;
      c.variant = variant;
      if (spec.dim > 0) {
        c.factors = spec.dim;
        c.layers = NeuMfConfig::tower(spec.dim);
      }
      if (variant != NcfVariant::kGmf) c.layers = o.sizes("layers", c.layers);
      c.num_negatives = o.integer("negatives", c.num_negatives);
      c.sparse_embedding_grads =
          o.choice("embedding_grads", "sparse", {"sparse", "dense"}) == "sparse";
      override_train(spec, o, c.train);
      return build<NeuMf>(o, c, users, items);
    };
  };
  const std::string ncf_training =
      "4 negatives per positive, BCE, Adam lr 1e-3, batch 256 rows (51 positives with their "
      "negatives), 20 epochs";
  r.push_back({"neumf", "matrix factorization", "NeuMF (He et al., WWW 2017)",
               "factors 8, MLP tower 64-32-16-8 (--dim f: 8f-4f-2f-f), " + ncf_training +
                   "; --pretrained GMF,MLP: NCF pretraining (alpha 0.5, then SGD); "
                   "--set layers, negatives, embedding_grads, weight_decay",
               20, ncf(NcfVariant::kNeuMf)});
  r.push_back({"gmf", "matrix factorization", "GMF, NeuMF's GMF part (He et al., WWW 2017)",
               "factors 8 (--dim), " + ncf_training +
                   "; --set negatives, embedding_grads, weight_decay",
               20, ncf(NcfVariant::kGmf)});
  r.push_back({"mlp", "matrix factorization", "MLP, NeuMF's MLP part (He et al., WWW 2017)",
               "tower 64-32-16-8 (--dim f: 8f-4f-2f-f), " + ncf_training +
                   "; --set layers, negatives, embedding_grads, weight_decay",
               20, ncf(NcfVariant::kMlp)});
  r.push_back({"itemknn", "baseline",
               "ItemKNN, item-based cosine (Sarwar et al., WWW 2001; shrinkage as Dacrema et al., "
               "RecSys 2019)",
               "k 100 neighbours per item, shrink 10; closed form (no epochs); --set k, shrink", 0,
               [](const ModelSpec& spec, int64_t, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 ItemKnnConfig c;
                 c.k = o.integer("k", c.k);
                 c.shrink = o.real("shrink", c.shrink);
                 o.finish();
                 return std::unique_ptr<Recommender>(new ItemKnn(c, items));
               }});
  r.push_back({"ease", "baseline", "EASE (Steck, WWW 2019)",
               "lambda 500; closed form via LAPACK Cholesky (no epochs); --set lambda", 0,
               [](const ModelSpec& spec, int64_t, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 EaseConfig c;
                 c.lambda = o.real("lambda", c.lambda);
                 o.finish();
                 return std::unique_ptr<Recommender>(new Ease(c, items));
               }});
  r.push_back({"autorec", "autoencoder", "I-AutoRec (Sedhain et al., WWW 2015)",
               "hidden 500 (dim), sigmoid/identity, lambda 300, Adam lr 1e-3, batch 256 items, "
               "50 epochs; --set lambda",
               kAutoRecEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 AutoRecConfig c;
                 if (spec.dim > 0) c.hidden = spec.dim;
                 c.l2 = o.real("lambda", c.l2);
                 override_train(spec, o, c.train);
                 return build<AutoRec>(o, c, users, items);
               }});
  r.push_back({"multdae", "autoencoder", "Mult-DAE (Liang et al., WWW 2018)",
               "600 -> 200 (dim) tanh, input dropout 0.5, weight decay 4e-5, Adam lr 1e-3, "
               "batch 500 users, 100 epochs; --set hidden, dropout, weight_decay",
               kMultDaeEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 MultDaeConfig c;
                 if (spec.dim > 0) c.latent = spec.dim;
                 c.hidden = o.sizes("hidden", c.hidden);
                 c.dropout = static_cast<float>(o.real("dropout", c.dropout));
                 override_train(spec, o, c.train);
                 return build<MultDae>(o, c, users, items);
               }});
  r.push_back({"multvae", "autoencoder", "Mult-VAE (Liang et al., WWW 2018)",
               "600 -> 200 (dim) tanh, input dropout 0.5, beta annealed to 0.2 over 80% of the "
               "epochs, Adam lr 1e-3, batch 500 users, 100 epochs; --set hidden, dropout, "
               "anneal_cap, anneal_steps, weight_decay, noise_std (of the reparameterisation's "
               "epsilon; RecBole's is 0.01), batching=users|interactions (interactions: "
               "RecBole's, a batch of --batch interactions read as user rows)",
               kMultVaeEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 MultVaeConfig c;
                 if (spec.dim > 0) c.latent = spec.dim;
                 c.hidden = o.sizes("hidden", c.hidden);
                 c.dropout = static_cast<float>(o.real("dropout", c.dropout));
                 c.anneal_cap = o.real("anneal_cap", c.anneal_cap);
                 c.noise_std = static_cast<float>(o.real("noise_std", c.noise_std));
                 c.total_anneal_steps = o.integer("anneal_steps", c.total_anneal_steps);
                 c.rows_per = o.choice("batching", "users", {"users", "interactions"}) == "users"
                                  ? UserRowsPer::kUser
                                  : UserRowsPer::kInteraction;
                 override_train(spec, o, c.train);
                 const int64_t epochs = spec.epochs > 0 ? spec.epochs : kMultVaeEpochs;
                 c.anneal_epochs = std::max<int64_t>(1, (8 * epochs + 9) / 10);
                 return build<MultVae>(o, c, users, items);
               }});
  r.push_back({"cdae", "autoencoder", "CDAE (Wu et al., WSDM 2016)",
               "hidden 50 (dim) ReLU, user node, corruption 0.5, cross-entropy on full rows, "
               "Adam lr 3e-3, batch 64 users, 40 epochs; --set corruption, user_node, "
               "activation, weight_decay",
               kCdaeEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 CdaeConfig c;
                 if (spec.dim > 0) c.hidden = spec.dim;
                 c.corruption = static_cast<float>(o.real("corruption", c.corruption));
                 c.user_node = o.boolean("user_node", c.user_node);
                 c.hidden_activation = parse_activation(o, "activation", c.hidden_activation);
                 override_train(spec, o, c.train);
                 return build<Cdae>(o, c, users, items);
               }});
  r.push_back({"cfgan", "GAN", "CFGAN (Chae et al., CIKM 2018)",
               "G 400 (dim), D 125, sigmoid, ZR+PM with S_ZR = S_PM = 0.7, alpha 0.3, "
               "Adam lr 1e-3 for G and D, G weight decay 1e-3, batch 64 users, 60 epochs; --set "
               "rows=user|item (item: iCFGAN), output=sigmoid|linear (G's), alternate=batch|epoch "
               "(epoch: d_steps passes of D, then g_steps of G, per epoch), d_batch (D's batch "
               "size with alternate=epoch), samples=independent|shared (shared: one draw "
               "decides ZR and PM, as the authors' code), d_hidden, zr_ratio, pm_ratio, alpha, "
               "d_steps, g_steps, d_lr, g_weight_decay, d_weight_decay",
               kCfganEpochs, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 CfganConfig c;
                 if (spec.dim > 0) c.generator_hidden = {spec.dim};
                 c.discriminator_hidden = o.sizes("d_hidden", c.discriminator_hidden);
                 c.zr_ratio = o.real("zr_ratio", c.zr_ratio);
                 c.pm_ratio = o.real("pm_ratio", c.pm_ratio);
                 c.zr_weight = o.real("alpha", c.zr_weight);
                 c.d_steps = o.integer("d_steps", c.d_steps);
                 c.g_steps = o.integer("g_steps", c.g_steps);
                 c.d_lr = o.real("d_lr", c.d_lr);
                 c.g_weight_decay = o.real("g_weight_decay", c.g_weight_decay);
                 c.d_weight_decay = o.real("d_weight_decay", c.d_weight_decay);
                 c.d_batch_size = o.integer("d_batch", c.d_batch_size);
                 if (o.choice("rows", "user", {"user", "item"}) == "item")
                   c.rows = CfganRows::kItem;
                 if (o.choice("output", "sigmoid", {"sigmoid", "linear"}) == "linear")
                   c.sigmoid_output = false;
                 if (o.choice("alternate", "batch", {"batch", "epoch"}) == "epoch")
                   c.schedule = CfganSchedule::kPerEpoch;
                 c.shared_samples =
                     o.choice("samples", "independent", {"independent", "shared"}) == "shared";
                 override_train(spec, o, c.train);
                 return build<Cfgan>(o, c, users, items);
               }});
  r.push_back({"sasrec", "sequential (self-attention)", "SASRec (Kang & McAuley, ICDM 2018)",
               "d 50, 2 blocks, 1 head, max_len 200, dropout 0.2, BCE with 1 negative per "
               "position, Adam lr 1e-3 (beta2 0.98), batch 128, 50 epochs (the paper: 200 on "
               "ML-1M); --set loss=bce|ce|sampled_softmax (ce: softmax over all items; "
               "sampled_softmax: num_sampled shared negatives), block=pre_ln|reference (reference: "
               "the reference code's query-only norms), max_len, blocks, heads, dropout, "
               "num_sampled, beta2, weight_decay",
               50, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 SasRecConfig c;
                 if (spec.dim > 0) c.dim = spec.dim;
                 c.loss = parse_sasrec_loss(o.choice("loss", sasrec_loss_name(c.loss),
                                                     {"bce", "ce", "sampled_softmax"}));
                 c.block = parse_sasrec_block(o.choice("block", sasrec_block_name(c.block),
                                                       {"pre_ln", "reference"}));
                 c.max_len = o.integer("max_len", c.max_len);
                 c.num_blocks = o.integer("blocks", c.num_blocks);
                 c.num_heads = o.integer("heads", c.num_heads);
                 c.dropout = static_cast<float>(o.real("dropout", c.dropout));
                 c.num_sampled = o.integer("num_sampled", c.num_sampled);
                 c.beta2 = o.real("beta2", c.beta2);
                 override_train(spec, o, c.train);
                 return build<SasRec>(o, c, users, items);
               }});
  r.push_back({"caser", "sequential (CNN)", "Caser (Tang & Wang, WSDM 2018)",
               "d 50, L 5, T 3, n_v 4, n_h 16, dropout 0.5, 3 negatives, Adam lr 1e-3 (L2 1e-6), "
               "batch 512, 30 epochs; --set window, targets, n_v, n_h, dropout, negatives, "
               "weight_decay",
               30, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 CaserConfig c;
                 if (spec.dim > 0) c.dim = spec.dim;
                 c.window = o.integer("window", c.window);
                 c.targets = o.integer("targets", c.targets);
                 c.n_v = o.integer("n_v", c.n_v);
                 c.n_h = o.integer("n_h", c.n_h);
                 c.dropout = static_cast<float>(o.real("dropout", c.dropout));
                 c.num_negatives = o.integer("negatives", c.num_negatives);
                 override_train(spec, o, c.train);
                 return build<Caser>(o, c, users, items);
               }});
  r.push_back({"gru4rec", "sequential (RNN)", "GRU4Rec (Hidasi et al., ICLR 2016; CIKM 2018)",
               "hidden 100 (dim), embedding 100, dropout 0.25 on outputs, max_len 50, full "
               "cross-entropy, Adam lr 3e-3, batch 64, 20 epochs; --set loss=ce|bpr_max|"
               "sampled_softmax, negatives (2048, sampled losses), max_len, layers, dropout, "
               "bpreg, weight_decay",
               20, [](const ModelSpec& spec, int64_t users, int64_t items) {
                 ModelOptions o(spec.name, spec.options);
                 Gru4RecConfig c;
                 if (spec.dim > 0) c.hidden = c.embedding = spec.dim;
                 c.loss = parse_gru4rec_loss(
                     o.choice("loss", "ce", {"ce", "bpr_max", "sampled_softmax"}));
                 c.num_negatives = o.integer("negatives", c.num_negatives);
                 c.max_len = o.integer("max_len", c.max_len);
                 c.num_layers = o.integer("layers", c.num_layers);
                 c.dropout_hidden = static_cast<float>(o.real("dropout", c.dropout_hidden));
                 c.bpreg = static_cast<float>(o.real("bpreg", c.bpreg));
                 override_train(spec, o, c.train);
                 return build<Gru4Rec>(o, c, users, items);
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
