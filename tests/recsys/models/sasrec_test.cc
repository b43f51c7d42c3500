// SASRec: gradients of its losses, masks (padding and later items never matter), checkpoints,
// determinism and the registry's --loss. Learning is in sasrec_learning_test.cc.
#include "recsys/models/sasrec.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "autograd/error.h"
#include "autograd/graph.h"
#include "autograd/parallel.h"
#include "ops/runtime.h"
#include "ops/shape.h"
#include "recsys/batches.h"
#include "recsys/experiment.h"
#include "recsys/registry.h"
#include "tests/nn/param_gradcheck.h"
#include "tests/recsys/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

constexpr int64_t kItems = 7, kPad = kItems;
constexpr SasRecLoss kLosses[] = {SasRecLoss::kBce, SasRecLoss::kCrossEntropy,
                                  SasRecLoss::kSampledSoftmax};

// A tiny SASRec without dropout: d 4, 2 heads, 2 blocks, max_len 5.
SasRecConfig tiny(SasRecLoss loss = SasRecLoss::kBce) {
  SasRecConfig c;
  c.dim = 4;
  c.num_heads = 2;
  c.max_len = 5;
  c.dropout = 0.f;
  c.loss = loss;
  c.train.seed = 3;
  return c;
}

// Sequences as the SequenceLoader lays them out: left-padded, the next item as the target, one
// negative per position (pad where the target is pad). Slot 0 is padded in every row.
SequenceBatch tiny_batch() {
  const int64_t p = kPad;
  SequenceBatch b;
  b.users = Ids({0, 1, 2});
  b.inputs = Ids({p, p, 1, 2, 3, /**/ p, 4, 5, 6, 0, /**/ p, p, p, 2, 6}, {3, 5});
  b.targets = Ids({p, p, 2, 3, 4, /**/ p, 5, 6, 0, 1, /**/ p, p, p, 6, 1}, {3, 5});
  b.negatives = Ids({p, p, 5, 0, 6, /**/ p, 1, 2, 3, 4, /**/ p, p, p, 3, 0}, {3, 5, 1});
  return b;
}

// Row r of a batch, as a batch of one.
SequenceBatch row_of(const SequenceBatch& b, int64_t r) {
  const int64_t len = b.inputs.shape[1];
  auto slice = [&](const Ids& ids, int64_t width) {
    return std::vector<int64_t>(ids.values.begin() + r * width, ids.values.begin() + (r + 1) * width);
  };
  SequenceBatch one;
  one.users = Ids({b.users.values[r]});
  one.inputs = Ids(slice(b.inputs, len), {1, len});
  one.targets = Ids(slice(b.targets, len), {1, len});
  one.negatives = Ids(slice(b.negatives, len), {1, len, 1});
  return one;
}

const Ids kShared({0, 2, 4, 6, 1});  // shared negatives for sampled softmax

// Bit-identical rows [from, to) of two [B, L, d] outputs, for every batch row.
bool same_slots(const Tensor& a, const Tensor& b, int64_t from, int64_t to) {
  const int64_t len = a.size(1), d = a.size(2);
  for (int64_t r = 0; r < a.size(0); ++r)
    if (std::memcmp(a.data() + (r * len + from) * d, b.data() + (r * len + from) * d,
                    sizeof(float) * static_cast<size_t>((to - from) * d)) != 0)
      return false;
  return true;
}

// The registry's SASRec (the paper's defaults: max_len 200, BCE).
ModelSpec sasrec_spec() {
  ModelSpec s;
  s.name = "sasrec";
  s.seed = 5;
  return s;
}

// Small data for checkpoints and determinism.
DataSpec tiny_synthetic() {
  DataSpec d = small_synthetic("loo");
  d.synthetic_users = 100;
  d.synthetic_items = 200;
  d.synthetic_rows = 2500;
  return d;
}

}  // namespace

TEST_CASE("sasrec: gradients of every loss and block layout match central differences") {
  for (SasRecBlock block : {SasRecBlock::kPreLn, SasRecBlock::kReference})
    for (SasRecLoss loss : kLosses) {
      CAPTURE(sasrec_block_name(block));
      CAPTURE(sasrec_loss_name(loss));
      SasRecConfig c = tiny(loss);
      c.block = block;
      SasRec model(c, 3, kItems);
      const SequenceBatch b = tiny_batch();
      CHECK(gradcheck_parameters(model, [&] { return model.sequence_loss(b, kShared); }));
    }
}

TEST_CASE("sasrec: the padding row and padded positions receive no gradient") {
  for (SasRecLoss loss : kLosses) {
    CAPTURE(sasrec_loss_name(loss));
    SasRec model(tiny(loss), 3, kItems);
    model.sequence_loss(tiny_batch(), kShared).backward();
    for (const auto& [name, p] : model.named_parameters()) {
      if (name == "item_embedding.weight") {
        const Tensor g = p.grad();
        REQUIRE(g.defined());
        for (int64_t j = 0; j < 4; ++j) CHECK(g.data()[kPad * 4 + j] == 0.f);  // the padding row
        CHECK(g.data()[0] != 0.f);                                            // a real item
      }
      if (name == "position_embedding.weight") {
        const Tensor g = p.grad();
        REQUIRE(g.defined());
        for (int64_t j = 0; j < 4; ++j) CHECK(g.data()[j] == 0.f);  // slot 0: padded everywhere
        CHECK(g.data()[4 * 4] != 0.f);                              // slot 4: never padded
      }
    }
  }
}

TEST_CASE("sasrec: the loss is the mean over non-padded positions only") {
  // Slots with a padded target are outside the loss: the batch's loss is the average of its
  // rows' losses weighted by their number of targets (3, 4 and 2 here, not 5 each).
  for (SasRecLoss loss : kLosses) {
    CAPTURE(sasrec_loss_name(loss));
    SasRec model(tiny(loss), 3, kItems);
    NoGradGuard no_grad;
    const SequenceBatch b = tiny_batch();
    const double whole = model.sequence_loss(b, kShared).item();
    const double weighted = (3 * model.sequence_loss(row_of(b, 0), kShared).item() +
                             4 * model.sequence_loss(row_of(b, 1), kShared).item() +
                             2 * model.sequence_loss(row_of(b, 2), kShared).item()) / 9;
    CHECK(whole == doctest::Approx(weighted).epsilon(1e-5));
  }
}

TEST_CASE("sasrec: padded slots never matter: the padding row and their positions change nothing") {
  SasRecConfig c = tiny();
  c.dropout = 0.2f;  // eval mode: off
  SasRec model(c, 3, kItems);
  model.eval();
  NoGradGuard no_grad;
  const UserItems history = UserItems::from_lists({{1, 2, 3}, {4, 5, 6, 0}, {2}}, kItems);
  const Tensor before = model.score({0, 1, 2}, history);
  // The padding row and the position of slot 0 (padded in every row) take other values.
  for (const auto& [name, p] : model.named_parameters()) {
    Tensor h = p;
    if (name == "item_embedding.weight")
      for (int64_t j = 0; j < 4; ++j) h.data()[kPad * 4 + j] = 3.f + static_cast<float>(j);
    if (name == "position_embedding.weight")
      for (int64_t j = 0; j < 4; ++j) h.data()[j] = -2.f + 0.5f * static_cast<float>(j);
  }
  CHECK(same_scores(model.score({0, 1, 2}, history), before));
  // The check can fail: a real item's row does matter.
  for (const auto& [name, p] : model.named_parameters())
    if (name == "item_embedding.weight") {
      Tensor h = p;
      h.data()[2 * 4] += 1.f;  // item 2, in every history
    }
  CHECK(!same_scores(model.score({0, 1, 2}, history), before));
}

TEST_CASE("sasrec: later items never reach an earlier position's output (causal)") {
  for (SasRecBlock block : {SasRecBlock::kPreLn, SasRecBlock::kReference}) {
    CAPTURE(sasrec_block_name(block));
    SasRecConfig c = tiny();
    c.dropout = 0.2f;
    c.block = block;
    SasRec model(c, 3, kItems);
    model.eval();
    NoGradGuard no_grad;
    const int64_t p = kPad;
    const Ids seqs({p, 1, 2, 3, 4, /**/ 4, 5, 6, 0, 1}, {2, 5});
    const Tensor h = model.encode(seqs);
    for (int64_t t = 1; t < 4; ++t) {
      CAPTURE(t);
      Ids changed = seqs;  // every item after slot t replaced
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t l = t + 1; l < 5; ++l)
          changed.values[r * 5 + l] = (changed.values[r * 5 + l] + 3) % kItems;
      const Tensor g = model.encode(changed);
      CHECK(same_slots(h, g, 1, t + 1));   // slots up to t: bit-identical
      CHECK(!same_slots(h, g, t + 1, 5));  // later slots see the change
    }
    // Padded slots output exactly 0.
    for (int64_t j = 0; j < 4; ++j) CHECK(h.data()[j] == 0.f);
  }
}

TEST_CASE("sasrec: more left padding changes no real slot's output (key padding, positions)") {
  // Positions are right-aligned and padded keys are never attended, so a window of 3 and the
  // same items left-padded to 5 agree at the real slots (up to summation order in the kernels).
  SasRec model(tiny(), 3, kItems);
  model.eval();
  NoGradGuard no_grad;
  const int64_t p = kPad;
  const Tensor narrow_h = model.encode(Ids({1, 2, 3, /**/ p, 4, 5}, {2, 3}));
  const Tensor wide_h = model.encode(Ids({p, p, 1, 2, 3, /**/ p, p, p, 4, 5}, {2, 5}));
  for (int64_t r = 0; r < 2; ++r)
    for (int64_t l = 0; l < 3; ++l)
      for (int64_t j = 0; j < 4; ++j) {
        CAPTURE(r);
        CAPTURE(l);
        const float a = narrow_h.data()[(r * 3 + l) * 4 + j];
        const float b = wide_h.data()[(r * 5 + l + 2) * 4 + j];
        CHECK(a == doctest::Approx(b).epsilon(1e-5));
        if (r == 1 && l == 0) CHECK(a == 0.f);  // a padded slot
      }
}

TEST_CASE("sasrec: a user's scores depend on their own latest max_len items only") {
  SasRec model(tiny(), 3, kItems);  // max_len 5
  model.eval();
  NoGradGuard no_grad;
  auto row = [](const Tensor& s, int64_t r) { return narrow(s, 0, r, 1); };
  // Another user's history changes: this user's row does not.
  const UserItems a = UserItems::from_lists({{1, 2, 3}, {4, 5, 6, 0}, {2}}, kItems);
  const UserItems b = UserItems::from_lists({{1, 2, 3}, {4, 5}, {2}}, kItems);
  const Tensor sa = model.score({0, 1, 2}, a), sb = model.score({0, 1, 2}, b);
  REQUIRE(sa.shape() == Shape({3, kItems}));
  CHECK(same_scores(row(sa, 0), row(sb, 0)));
  CHECK(!same_scores(row(sa, 1), row(sb, 1)));
  CHECK(same_scores(row(sa, 2), row(sb, 2)));
  // An item older than the latest 5 changes nothing; the latest one does.
  const UserItems older = UserItems::from_lists({{0, 6, 5, 1, 2, 3}, {4}, {2}}, kItems);
  const UserItems other_older = UserItems::from_lists({{4, 6, 5, 1, 2, 3}, {4}, {2}}, kItems);
  const UserItems other_latest = UserItems::from_lists({{0, 6, 5, 1, 2, 4}, {4}, {2}}, kItems);
  const Tensor s0 = model.score({0}, older);
  CHECK(same_scores(model.score({0}, other_older), s0));
  CHECK(!same_scores(model.score({0}, other_latest), s0));
}

TEST_CASE("sasrec: save/load round-trips its scores bit for bit") {
  const Experiment ex = Experiment::load(tiny_synthetic());
  auto model = train_model(sasrec_spec(), ex, /*epochs=*/1);
  check_save_load_round_trip(sasrec_spec(), *model, ex);
}

TEST_CASE("sasrec: with the reference block layout too, save/load round-trips its scores") {
  ModelSpec s = sasrec_spec();
  s.options["block"] = "reference";
  const Experiment ex = Experiment::load(tiny_synthetic());
  auto model = train_model(s, ex, /*epochs=*/1);
  REQUIRE(model->describe().find("reference blocks") != std::string::npos);
  check_save_load_round_trip(s, *model, ex);
}

TEST_CASE("sasrec: the same seed trains to bit-identical scores") {
  check_determinism(sasrec_spec(), tiny_synthetic(), /*epochs=*/1);
}

TEST_CASE("sasrec: sampled softmax draws the same shared negatives from the same seed") {
  ModelSpec s = sasrec_spec();
  s.options["loss"] = "sampled_softmax";
  check_determinism(s, tiny_synthetic(), /*epochs=*/1);
}

TEST_CASE("sasrec: bit-identical at one thread as at two; one and two threads agree closely") {
  // The contract of matmul (tests/ops/matmul_test.cc) is per thread count: its block split
  // follows the thread count and OpenBLAS's edge kernels round differently, so runs at 1 and 2
  // threads agree closely, not bit for bit. Everything else SASRec runs is thread-invariant.
  const Experiment ex = Experiment::load(tiny_synthetic());
  const int threads = num_threads();
  set_num_threads(1);
  const Tensor one = score_batch(*train_model(sasrec_spec(), ex, /*epochs=*/1), ex);
  const Tensor again = score_batch(*train_model(sasrec_spec(), ex, /*epochs=*/1), ex);
  set_num_threads(2);
  const Tensor two = score_batch(*train_model(sasrec_spec(), ex, /*epochs=*/1), ex);
  set_num_threads(threads);
  CHECK(same_scores(one, again));
  REQUIRE(one.shape() == two.shape());
  double worst = 0, scale = 0;
  for (int64_t i = 0; i < one.numel(); ++i) {
    worst = std::max(worst, static_cast<double>(std::abs(one.data()[i] - two.data()[i])));
    scale = std::max(scale, static_cast<double>(std::abs(one.data()[i])));
  }
  CHECK(worst <= 1e-5 * scale);
}

TEST_CASE("sasrec: the registry's --set loss picks the objective; other names are refused") {
  ModelSpec s = sasrec_spec();
  CHECK(find_model("sasrec").make(s, 10, 20)->describe().find("loss bce") != std::string::npos);
  for (const char* loss : {"bce", "ce", "sampled_softmax"}) {
    s.options["loss"] = loss;
    CHECK(find_model("sasrec").make(s, 10, 20)->describe().find(std::string("loss ") + loss) !=
          std::string::npos);
  }
  s.options["loss"] = "bpr_max";
  CHECK_THROWS_WITH_AS(find_model("sasrec").make(s, 10, 20),
                       doctest::Contains("expects one of bce, ce, sampled_softmax"), Error);
}

TEST_CASE("sasrec: the registry's --set block picks the layout; other names are refused") {
  ModelSpec s = sasrec_spec();
  CHECK(find_model("sasrec").make(s, 10, 20)->describe().find("pre_ln blocks") !=
        std::string::npos);
  s.options["block"] = "reference";
  CHECK(find_model("sasrec").make(s, 10, 20)->describe().find("reference blocks") !=
        std::string::npos);
  s.options["block"] = "post_ln";
  CHECK_THROWS_WITH_AS(find_model("sasrec").make(s, 10, 20),
                       doctest::Contains("expects one of pre_ln, reference"), Error);
  CHECK_THROWS_WITH_AS(parse_sasrec_block("post"), doctest::Contains("blocks: pre_ln, reference"),
                       Error);
}

TEST_CASE("sasrec: bad configurations and data of another size are refused") {
  SasRecConfig c;
  c.num_heads = 3;  // 50 is not divisible by 3
  CHECK_THROWS_WITH_AS(SasRec(c, 10, 20), doctest::Contains("divisible by num_heads 3"), Error);
  const Experiment ex = Experiment::load(tiny_synthetic());
  SasRec model(SasRecConfig{}, 10, 20);
  CHECK_THROWS_WITH_AS(model.attach(ex.training()),
                       doctest::Contains("built for 10 users x 20 items, data has 100 x 200"), Error);
  CHECK_THROWS_WITH_AS(model.encode(Ids(std::vector<int64_t>(201, 0), {1, 201})),
                       doctest::Contains("[1,201]"), Error);
}
