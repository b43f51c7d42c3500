#include "recsys/models/sasrec.h"

#include <algorithm>
#include <cmath>

#include "autograd/error.h"
#include "nn/attention.h"
#include "nn/init.h"
#include "nn/losses.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "optim/adam.h"

namespace recgrad::recsys {
namespace {

// Keeps the shared negatives of sampled softmax apart from the loader's streams.
constexpr uint64_t kSampledSalt = 0x5a5ec0de5a5ec0deull;

// [B, L, 1] with 1 at real items and 0 at padded slots: multiplied into [B, L, d] activations it
// zeroes the padded rows, and their gradient with them.
Tensor keep_mask(const Tensor& key_padding) {
  Tensor keep = Tensor::empty({key_padding.size(0), key_padding.size(1), 1});
  const float* pad = key_padding.data();
  for (int64_t i = 0; i < keep.numel(); ++i) keep.data()[i] = pad[i] == 0.f ? 1.f : 0.f;
  return keep;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const char* sasrec_loss_name(SasRecLoss loss) {
  switch (loss) {
    case SasRecLoss::kBce: return "bce";
    case SasRecLoss::kCrossEntropy: return "ce";
    case SasRecLoss::kSampledSoftmax: return "sampled_softmax";
  }
  return "?";
}

SasRecLoss parse_sasrec_loss(const std::string& name) {
  for (SasRecLoss loss : {SasRecLoss::kBce, SasRecLoss::kCrossEntropy, SasRecLoss::kSampledSoftmax})
    if (name == sasrec_loss_name(loss)) return loss;
  throw Error("sasrec: unknown loss '" + name + "'; losses: bce, ce, sampled_softmax");
}

const char* sasrec_block_name(SasRecBlock block) {
  switch (block) {
    case SasRecBlock::kPreLn: return "pre_ln";
    case SasRecBlock::kReference: return "reference";
  }
  return "?";
}

SasRecBlock parse_sasrec_block(const std::string& name) {
  for (SasRecBlock block : {SasRecBlock::kPreLn, SasRecBlock::kReference})
    if (name == sasrec_block_name(block)) return block;
  throw Error("sasrec: unknown block '" + name + "'; blocks: pre_ln, reference");
}

SasRec::SasRec(const SasRecConfig& c, int64_t num_users, int64_t num_items)
    : Recommender(c.train), config_(c), num_users_(num_users), num_items_(num_items) {
  RECGRAD_CHECK(num_users > 0 && num_items > 0, "sasrec: need users and items, got ", num_users,
                " users and ", num_items, " items");
  RECGRAD_CHECK(c.dim > 0 && c.num_heads > 0 && c.dim % c.num_heads == 0, "sasrec: dim ", c.dim,
                " must be positive and divisible by num_heads ", c.num_heads);
  RECGRAD_CHECK(c.num_blocks >= 0, "sasrec: num_blocks ", c.num_blocks, " is negative");
  RECGRAD_CHECK(c.max_len >= 1, "sasrec: max_len must be >= 1, got ", c.max_len);
  RECGRAD_CHECK(c.dropout >= 0.f && c.dropout < 1.f, "sasrec: dropout ", c.dropout,
                " must lie in [0, 1)");
  RECGRAD_CHECK(c.loss != SasRecLoss::kSampledSoftmax || c.num_sampled >= 1,
                "sasrec: sampled softmax needs num_sampled >= 1, got ", c.num_sampled);
  RECGRAD_CHECK(c.beta2 >= 0 && c.beta2 < 1, "sasrec: beta2 ", c.beta2, " must lie in [0, 1)");

  Generator gen(c.train.seed);
  // Dense gradients for the item table: the output layer (cross-entropy) touches every row
  // anyway, and Adam then decays every row's moments as the reference code's does.
  nn::EmbeddingLayerOptions eo;
  eo.sparse = false;
  eo.padding_idx = num_items;
  items_ = register_module("item_embedding",
                           std::make_shared<nn::Embedding>(num_items + 1, c.dim, gen, eo));
  positions_ = register_module(
      "position_embedding", std::make_shared<nn::LearnedPositionalEmbedding>(c.max_len, c.dim, gen));
  if (c.dropout > 0.f)
    emb_dropout_ = register_module("embedding_dropout", std::make_shared<nn::Dropout>(c.dropout, gen));
  nn::TransformerEncoderBlockOptions bo;
  bo.d_model = c.dim;
  bo.num_heads = c.num_heads;
  bo.d_ff = c.dim;  // the reference's point-wise FFN: two d x d 1x1 convolutions
  bo.dropout = c.dropout;
  bo.activation = nn::Activation::kRelu;
  bo.norm_first = true;
  bo.normalized_residual = c.block == SasRecBlock::kReference;
  bo.layer_norm_eps = 1e-8f;  // the reference's normalize()
  bo.zero_padded_outputs = true;  // the reference's `seq *= mask` after every block
  for (int64_t b = 0; b < c.num_blocks; ++b)
    blocks_.push_back(register_module("block" + std::to_string(b),
                                      std::make_shared<nn::TransformerEncoderBlock>(bo, gen)));
  nn::LayerNormOptions lo;
  lo.eps = 1e-8f;
  final_norm_ = register_module("final_norm", std::make_shared<nn::LayerNorm>(c.dim, lo));

  // The reference initialisation: every matrix xavier-uniform (TensorFlow's glorot default for
  // embeddings, dense layers and 1x1 convolutions), biases 0, layer norms 1 and 0.
  for (auto& [name, p] : named_parameters()) {
    Tensor handle = p;  // shares the parameter's storage
    if (p.dim() == 2) {
      const Tensor init = nn::init::xavier_uniform(p.shape(), gen);
      std::copy(init.data(), init.data() + init.numel(), handle.data());
    } else if (ends_with(name, "bias")) {
      std::fill(handle.data(), handle.data() + handle.numel(), 0.f);
    }
  }
  Tensor table = items_->weight();
  std::fill_n(table.data() + num_items * c.dim, c.dim, 0.f);  // the padding row
}

std::string SasRec::describe() const {
  return recgrad::detail::str_cat("SASRec(", num_items_, " items, d ", config_.dim, ", ",
                                  config_.num_blocks, config_.num_blocks == 1 ? " block, " : " blocks, ",
                                  config_.num_heads, config_.num_heads == 1 ? " head" : " heads",
                                  ", max_len ", config_.max_len, ", dropout ",
                                  config_.dropout, ", loss ", sasrec_loss_name(config_.loss),
                                  ", ", sasrec_block_name(config_.block), " blocks)");
}

void SasRec::attach(const TrainingData& data) {
  RECGRAD_CHECK(data.num_users == num_users_ && data.num_items == num_items_,
                "sasrec: model built for ", num_users_, " users x ", num_items_,
                " items, data has ", data.num_users, " x ", data.num_items);
  SequenceOptions opts;
  opts.batch_size = train_.batch_size;
  opts.seed = train_.seed;
  opts.max_len = config_.max_len;
  opts.num_negatives = config_.loss == SasRecLoss::kBce ? 1 : 0;
  loader_.emplace(*data.history, opts);
}

std::unique_ptr<optim::Optimizer> SasRec::make_optimizer() {
  optim::AdamOptions o;
  o.lr = train_.lr;
  o.beta2 = config_.beta2;
  o.weight_decay = train_.weight_decay;
  return std::make_unique<optim::Adam>(named_parameters(), o);
}

int64_t SasRec::start_epoch(int64_t epoch) {
  RECGRAD_CHECK(loader_.has_value(), "sasrec: attach() the training data before training");
  loader_->start_epoch(epoch);
  return loader_->num_batches();
}

int64_t SasRec::batch_examples(int64_t index) const {
  return std::min(train_.batch_size, loader_->num_examples() - index * train_.batch_size);
}

Tensor SasRec::encode(const Ids& seqs) {
  RECGRAD_CHECK(seqs.shape.size() == 2 && seqs.shape[1] >= 1 && seqs.shape[1] <= config_.max_len,
                "sasrec: sequences ", seqs.shape, ": expected [B, L] with 1 <= L <= max_len ",
                config_.max_len);
  const Tensor padding = nn::key_padding_mask(seqs, num_items_);  // [B, L], 1 = padded
  const Tensor keep = keep_mask(padding);                          // [B, L, 1]
  // E[s]·√d + P[max_len-L : max_len]: the item table is shared with the output layer, whose
  // logits it keeps at the scale of ⟨h, E_i⟩; the √d lifts the items over the positions at the
  // input. Right-aligned positions give the newest item the same position at any L.
  const int64_t len = seqs.shape[1];
  Tensor x = add(mul(items_->forward(seqs), std::sqrt(static_cast<float>(config_.dim))),
                 narrow(positions_->weight(), 0, config_.max_len - len, len));
  if (emb_dropout_) x = emb_dropout_->forward(x);
  x = mul(x, keep);  // padded slots start (and, after every block, stay) at exactly 0
  nn::AttentionMask mask;
  mask.causal = true;          // slot l sees slots <= l: no later item leaks into its output
  mask.key_padding = padding;  // and never a padded slot
  for (auto& block : blocks_) x = block->forward(x, mask);
  return mul(final_norm_->forward(x), keep);
}

Ids SasRec::target_slots(const Ids& targets) const {
  std::vector<int64_t> slots;
  for (int64_t p = 0; p < targets.numel(); ++p)
    if (targets.values[p] != num_items_) slots.push_back(p);
  return Ids(std::move(slots));
}

Tensor SasRec::output_table() const { return narrow(items_->weight(), 0, 0, num_items_); }

Tensor SasRec::sequence_loss(const SequenceBatch& batch, const Ids& shared_negatives) {
  RECGRAD_CHECK(batch.targets.shape == batch.inputs.shape, "sasrec: targets ",
                batch.targets.shape, " do not match inputs ", batch.inputs.shape);
  const int64_t d = config_.dim;
  const Ids slots = target_slots(batch.targets);
  const int64_t n = slots.numel();
  RECGRAD_CHECK(n > 0, "sasrec: a batch of ", batch.inputs.shape, " has no target to predict");
  // Only the non-padded slots go on: padded queries are outside the loss by construction.
  const Tensor h = index_select(reshape(encode(batch.inputs), {-1, d}), 0, slots);  // [n, d]
  std::vector<int64_t> targets(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) targets[j] = batch.targets.values[slots.values[j]];
  const Ids target_ids(targets);

  switch (config_.loss) {
    case SasRecLoss::kBce: {
      const Shape& ns = batch.negatives.shape;
      RECGRAD_CHECK(ns.size() == 3 && ns[0] == batch.inputs.shape[0] &&
                        ns[1] == batch.inputs.shape[1] && ns[2] >= 1,
                    "sasrec: bce needs negatives [B, L, k >= 1] for inputs ", batch.inputs.shape,
                    ", got ", ns);
      const int64_t k = ns[2];
      std::vector<int64_t> negs(static_cast<size_t>(n * k));
      for (int64_t j = 0; j < n; ++j)
        for (int64_t q = 0; q < k; ++q) negs[j * k + q] = batch.negatives.values[slots.values[j] * k + q];
      const Tensor pos = sum(mul(h, items_->forward(target_ids)), {1}, /*keepdim=*/true);  // [n,1]
      // [n,k,d]·[n,d,1] -> [n,k,1]: each slot against its own negatives.
      const Tensor neg = reshape(matmul(items_->forward(Ids(std::move(negs), {n, k})),
                                        reshape(h, {n, d, 1})),
                                 {n, k});
      Tensor labels = zeros({n, 1 + k});
      for (int64_t j = 0; j < n; ++j) labels.data()[j * (1 + k)] = 1.f;
      // The reference: Σ over slots of [-log σ(pos) - Σ_k log(1 - σ(neg))] / slots.
      return div(bce_with_logits(concat({pos, neg}, 1), labels, Reduction::kSum),
                 static_cast<float>(n));
    }
    case SasRecLoss::kCrossEntropy:
      // [n,d]·[N,d]ᵀ -> [n,N]: every item is a class; the transpose is a BLAS flag.
      return cross_entropy(matmul(h, output_table(), false, true), target_ids);
    case SasRecLoss::kSampledSoftmax: {
      RECGRAD_CHECK(shared_negatives.numel() >= 1, "sasrec: sampled softmax needs negatives");
      nn::SampledSoftmaxOptions opts;
      opts.pos_ids = target_ids;  // a negative that is the slot's own target is masked
      opts.neg_ids = shared_negatives;
      return nn::sampled_softmax_loss(h, items_->forward(target_ids),
                                      items_->forward(shared_negatives), opts);
    }
  }
  throw Error("sasrec: unknown loss");
}

Tensor SasRec::loss(int64_t index) {
  RECGRAD_CHECK(loader_.has_value(), "sasrec: attach() the training data before training");
  const SequenceBatch batch = loader_->batch(index);
  if (config_.loss != SasRecLoss::kSampledSoftmax) return sequence_loss(batch);
  // Uniform negatives shared by the whole batch, a function of (seed, epoch, batch index).
  Generator gen(recgrad::detail::mix64(
      recgrad::detail::mix64(train_.seed ^ kSampledSalt, static_cast<uint64_t>(loader_->epoch())),
      static_cast<uint64_t>(index)));
  std::vector<int64_t> negatives(static_cast<size_t>(config_.num_sampled));
  for (int64_t& item : negatives) item = static_cast<int64_t>(gen.next_below(num_items_));
  return sequence_loss(batch, Ids(std::move(negatives)));
}

Tensor SasRec::score(const std::vector<int64_t>& users, const UserItems& history) {
  RECGRAD_CHECK(history.num_items == num_items_, "sasrec: history over ", history.num_items,
                " items, model built for ", num_items_);
  const auto b = static_cast<int64_t>(users.size());
  const int64_t len = config_.max_len;
  const Tensor h = encode(last_items(history, users, len));            // [B, L, d]
  const Tensor last = reshape(narrow(h, 1, len - 1, 1), {b, config_.dim});  // the newest slot
  return matmul(last, output_table(), false, true);  // [B,d]·[N,d]ᵀ -> [B,N]
}

}  // namespace recgrad::recsys
