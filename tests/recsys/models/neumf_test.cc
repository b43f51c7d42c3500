#include "recsys/models/neumf.h"

#include <doctest/doctest.h>

#include <cmath>

#include "autograd/error.h"
#include "tests/recsys/models/model_testing.h"

using namespace recgrad;
using namespace recgrad::recsys;
using namespace recgrad::testing;

namespace {

ModelSpec spec(const std::string& name = "neumf") {
  ModelSpec s;
  s.name = name;
  s.seed = 11;
  return s;
}

// A few optimisation steps (enough to move every part away from its initialisation).
void steps(Recommender& m, int64_t n) {
  auto opt = m.make_optimizer();
  m.start_epoch(0);
  for (int64_t b = 0; b < n; ++b) m.train_step(b, *opt);
}

NeuMf& as_neumf(Recommender& m) { return dynamic_cast<NeuMf&>(m); }

}  // namespace

TEST_CASE("neumf: beats Pop on the synthetic data (ratio split)") {
  const Experiment& ex = synthetic_ratio();
  ModelSpec s = spec();
  s.lr = 3e-3;  // fewer epochs than the default run: 3 instead of 20
  auto m = make_attached(s, ex);
  fit(*m, 3);
  const double ndcg = test_metrics(*m, ex).at("NDCG@10");
  const double pop = pop_metrics(ex).at("NDCG@10");
  MESSAGE("neumf NDCG@10 ", ndcg, " vs pop ", pop);
  CHECK(ndcg > 1.05 * pop);  // 0.205 vs 0.186 when written
}

TEST_CASE("neumf: score() (first layer split per user and item) equals the pairwise forward") {
  const Experiment& ex = synthetic_ratio();
  for (const char* name : {"neumf", "gmf", "mlp"}) {
    CAPTURE(name);
    auto m = make_attached(spec(name), ex);
    steps(*m, 20);
    const Tensor s = scores_of(*m, ex, 3);
    NoGradGuard no_grad;
    const Tensor l = as_neumf(*m).logits({0, 0, 1, 2, 2}, {0, 1699, 5, 17, 900});
    const int64_t pairs[5][2] = {{0, 0}, {0, 1699}, {1, 5}, {2, 17}, {2, 900}};
    for (int k = 0; k < 5; ++k)
      CHECK(l.data()[k] == doctest::Approx(s.at({pairs[k][0], pairs[k][1]})).epsilon(1e-5));
  }
}

TEST_CASE("neumf: score() in chunks of users (a wide tower) equals the pairwise forward") {
  // 64 factors: a 256-wide first layer over 1,700 items bounds a chunk at 9 users, so 40 users
  // span five chunks.
  const Experiment& ex = synthetic_ratio();
  ModelSpec s = spec("mlp");
  s.dim = 64;
  auto m = make_attached(s, ex);
  steps(*m, 5);
  const Tensor scores = scores_of(*m, ex, 40);
  NoGradGuard no_grad;
  const Ids users = {0, 8, 9, 17, 18, 39}, items = {3, 1699, 5, 17, 900, 42};
  const Tensor l = as_neumf(*m).logits(users, items);
  for (int64_t k = 0; k < users.numel(); ++k)
    CHECK(l.data()[k] ==
          doctest::Approx(scores.at({users.values[k], items.values[k]})).epsilon(1e-5));
}

TEST_CASE("neumf: embedding_grads=dense lets Adam move rows the batch did not touch") {
  // Rows that changed in the second Adam step. With dense gradients Adam moves every row its
  // momentum remembers (the first batch's rows too), as Keras' Adam in the reference code does;
  // with the default row-sparse ones only the second batch's rows move.
  const Experiment& ex = synthetic_ratio();
  auto rows_moved_in_step_2 = [&](const std::string& grads) {
    ModelSpec s = spec("gmf");
    s.options["embedding_grads"] = grads;
    auto m = make_attached(s, ex);
    const bool says_dense = m->describe().find("dense embedding grads") != std::string::npos;
    CHECK(says_dense == (grads == "dense"));
    auto opt = m->make_optimizer();
    m->start_epoch(0);
    m->train_step(0, *opt);
    Tensor table;
    for (const auto& [name, p] : m->named_parameters())
      if (name == "gmf_user_embedding") table = p;
    REQUIRE(table.defined());
    const std::vector<float> before = table.to_vector();
    opt->zero_grad();  // train_step leaves the first batch's gradients in place
    m->loss(1).backward();
    CHECK(table.has_sparse_grad() == (grads == "sparse"));
    opt->step();
    const std::vector<float> after = table.to_vector();
    const int64_t f = table.size(1);
    int64_t moved = 0;
    for (int64_t r = 0; r < table.size(0); ++r)
      moved += !std::equal(before.begin() + r * f, before.begin() + (r + 1) * f,
                           after.begin() + r * f);
    return moved;
  };
  const int64_t sparse = rows_moved_in_step_2("sparse"), dense = rows_moved_in_step_2("dense");
  MESSAGE("user rows moved by the second step: sparse ", sparse, ", dense ", dense);
  CHECK(sparse > 0);
  CHECK(dense > sparse);
  CHECK_THROWS_WITH_AS(make_attached([] {
                         ModelSpec s = spec("neumf");
                         s.options["embedding_grads"] = "lazy";
                         return s;
                       }(),
                                     synthetic_ratio()),
                       doctest::Contains("embedding_grads"), Error);
}

TEST_CASE("neumf: batches count rows, 256 rows = 51 positives with 4 negatives each") {
  const Experiment& ex = synthetic_ratio();
  auto m = make_attached(spec(), ex);
  const int64_t batches = m->start_epoch(0);
  const int64_t positives = static_cast<int64_t>(ex.train.items.size());
  CHECK(batches == (positives + 50) / 51);
  CHECK(m->batch_examples(0) == 255);
  CHECK(m->batch_examples(batches - 1) == (positives - 51 * (batches - 1)) * 5);
}

TEST_CASE("neumf: pretrained from GMF and MLP checkpoints gives α·GMF + (1-α)·MLP logits") {
  const Experiment& ex = synthetic_ratio();
  auto gmf = make_attached(spec("gmf"), ex), mlp = make_attached(spec("mlp"), ex);
  steps(*gmf, 30);
  steps(*mlp, 30);
  const std::string gmf_path = temp_dir() + "/pre_gmf.ckpt", mlp_path = temp_dir() + "/pre_mlp.ckpt";
  optim::save(*gmf, gmf_path);
  optim::save(*mlp, mlp_path);
  auto neumf = make_attached(spec(), ex);
  CHECK_FALSE(as_neumf(*neumf).pretrained());
  CHECK(neumf->make_optimizer()->describe().find("Adam") != std::string::npos);
  load_pretrained(as_neumf(*neumf), gmf_path, mlp_path);
  CHECK(as_neumf(*neumf).pretrained());
  CHECK(neumf->make_optimizer()->describe().find("SGD") != std::string::npos);
  NoGradGuard no_grad;
  const Ids users{0, 4, 9, 9}, items{3, 8, 0, 1000};
  const Tensor g = as_neumf(*gmf).logits(users, items), p = as_neumf(*mlp).logits(users, items),
               n = as_neumf(*neumf).logits(users, items);
  for (int k = 0; k < 4; ++k)
    CHECK(n.data()[k] ==
          doctest::Approx(0.5 * g.data()[k] + 0.5 * p.data()[k]).epsilon(1e-5));
  // The checkpoints in the wrong order are caught by name.
  auto other = make_attached(spec(), ex);
  CHECK_THROWS_AS(load_pretrained(as_neumf(*other), mlp_path, gmf_path), Error);
  CHECK_THROWS_WITH_AS(as_neumf(*other).init_from_pretrained(as_neumf(*mlp), as_neumf(*gmf)),
                       doctest::Contains("expects a gmf and an mlp"), Error);
}

TEST_CASE("neumf: save/load round-trips scores bit for bit") {
  const Experiment& ex = synthetic_ratio();
  for (const char* name : {"neumf", "gmf", "mlp"}) {
    CAPTURE(name);
    auto m = make_attached(spec(name), ex);
    steps(*m, 20);
    auto loaded = round_trip(*m, spec(name), ex);
    CHECK(bit_identical(scores_of(*m, ex), scores_of(*loaded, ex)));
  }
}

TEST_CASE("neumf: the same seed gives the same scores, another seed other scores") {
  const Experiment& ex = synthetic_ratio();
  auto a = make_attached(spec(), ex), b = make_attached(spec(), ex);
  ModelSpec s = spec();
  s.seed = 12;
  auto c = make_attached(s, ex);
  for (auto* m : {a.get(), b.get(), c.get()}) steps(*m, 40);
  CHECK(bit_identical(scores_of(*a, ex), scores_of(*b, ex)));
  CHECK_FALSE(bit_identical(scores_of(*a, ex), scores_of(*c, ex)));
}

TEST_CASE("neumf: bad towers and mismatched data are errors") {
  NeuMfConfig c;
  c.layers = {64, 32, 16};
  CHECK_THROWS_WITH_AS(NeuMf(c, 5, 6), doctest::Contains("must equal factors"), Error);
  c.layers = {63, 8};
  CHECK_THROWS_WITH_AS(NeuMf(c, 5, 6), doctest::Contains("must be even"), Error);
  c = NeuMfConfig{};
  c.num_negatives = 0;
  CHECK_THROWS_WITH_AS(NeuMf(c, 5, 6), doctest::Contains("num_negatives"), Error);
  NeuMf small(NeuMfConfig{}, 5, 6);
  CHECK_THROWS_WITH_AS(small.attach(synthetic_ratio().training()),
                       doctest::Contains("5 users x 6 items"), Error);
  CHECK_THROWS_AS(small.start_epoch(0), Error);
  CHECK(NeuMfConfig::tower(16) == std::vector<int64_t>{128, 64, 32, 16});
}
