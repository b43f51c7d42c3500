#include <doctest/doctest.h>

#include <memory>

#include "autograd/autograd.h"
#include "nn/nn.h"
#include "ops/ops.h"
#include "optim/optim.h"

using namespace recgrad;

/// Matrix factorisation with a bias: s(u, i) = p_u·q_i + b.
/// users [B] -> scores [B];  P [U, D], Q [I, D], b [1].
class DotScorer : public nn::Module {
 public:
  DotScorer(int64_t num_users, int64_t num_items, int64_t dim, Generator& gen)
      : users_(register_module("users", std::make_shared<nn::Embedding>(num_users, dim, gen))),
        items_(register_module("items", std::make_shared<nn::Embedding>(num_items, dim, gen))),
        bias_(register_parameter("bias", zeros({1}))) {}

  Tensor forward(const Ids& users, const Ids& items) const {
    Tensor p = users_->forward(users);        // [B, D]
    Tensor q = items_->forward(items);        // [B, D]
    return add(sum(mul(p, q), {1}), bias_);   // [B]
  }

 private:
  std::shared_ptr<nn::Embedding> users_, items_;
  Tensor bias_;
};

TEST_CASE("tour 3: a module trained with Adam fits four interactions") {
  Generator gen(1);
  DotScorer model(/*num_users=*/2, /*num_items=*/2, /*dim=*/4, gen);

  std::vector<std::string> names;
  for (const auto& [name, p] : model.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"bias", "users.weight", "items.weight"});

  // User 0 likes item 0 and not item 1; user 1 the other way round.
  Ids users{0, 0, 1, 1}, items{0, 1, 0, 1};
  Tensor labels = tensor({1.f, 0.f, 0.f, 1.f}, {4});

  optim::Adam opt(model.named_parameters(), {/*lr=*/0.05});
  float first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    Tensor loss = bce_with_logits(model.forward(users, items), labels);
    if (step == 0) first = loss.item();
    last = loss.item();
    opt.zero_grad();
    loss.backward();       // embeddings get row-sparse gradients, the bias a dense one
    opt.step();
  }
  CHECK(last < 0.1f * first);

  NoGradGuard no_grad;
  Tensor s = model.forward(users, items);
  CHECK(s.at({0}) > s.at({1}));
  CHECK(s.at({3}) > s.at({2}));
}
