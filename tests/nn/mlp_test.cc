#include "nn/mlp.h"

#include <doctest/doctest.h>

#include <vector>

#include "autograd/gradcheck.h"
#include "tests/nn/param_gradcheck.h"
#include "ops/activation.h"
#include "ops/elementwise.h"

using namespace recgrad;
using namespace recgrad::nn;

TEST_CASE("MLP: shapes, parameter names and the layer-by-layer composition") {
  Generator gen(1);
  MLP mlp({6, 5, 4, 2}, gen);
  CHECK(mlp.describe() == "MLP(6 -> 5 -> 4 -> 2, ReLU)");
  std::vector<std::string> names;
  for (auto& [name, p] : mlp.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias", "2.weight",
                                          "2.bias"});
  CHECK(mlp.num_parameters() == 6 * 5 + 5 + 5 * 4 + 4 + 4 * 2 + 2);
  Generator data(2);
  const Tensor x = randn({3, 7, 6}, data);
  const Tensor y = mlp.forward(x);
  CHECK(y.shape() == Shape{3, 7, 2});
  // The same as applying the layers by hand: relu between, none after the last.
  const auto& l = mlp.layers();
  const Tensor by_hand = l[2]->forward(relu(l[1]->forward(relu(l[0]->forward(x)))));
  CHECK(y.to_vector() == by_hand.to_vector());
}

TEST_CASE("MLP: the final activation is optional and the activation is selectable") {
  Generator gen(3);
  MLPOptions opts;
  opts.activation = Activation::kSigmoid;
  opts.final_activation = true;
  MLP mlp({4, 3, 2}, gen, opts);
  Generator data(4);
  const Tensor x = mul(randn({5, 4}, data), 10.f);
  const Tensor y = mlp.forward(x);
  for (float v : y.to_vector()) CHECK((v > 0.f && v < 1.f));
  const auto& l = mlp.layers();
  CHECK(y.to_vector() == sigmoid(l[1]->forward(sigmoid(l[0]->forward(x)))).to_vector());
  CHECK(mlp.describe() == "MLP(4 -> 3 -> 2, Sigmoid (also on the output))");
}

TEST_CASE("MLP: eval() disables dropout; training mode drops differently call to call") {
  Generator gen(5);
  MLPOptions opts;
  opts.dropout = 0.5f;
  MLP mlp({8, 16, 16, 4}, gen, opts);
  CHECK(mlp.describe() == "MLP(8 -> 16 -> 16 -> 4, ReLU, dropout=0.5)");
  Generator data(6);
  const Tensor x = randn({10, 8}, data);
  mlp.eval();
  const Tensor e1 = mlp.forward(x), e2 = mlp.forward(x);
  CHECK(e1.to_vector() == e2.to_vector());
  const auto& l = mlp.layers();
  CHECK(e1.to_vector() == l[2]->forward(relu(l[1]->forward(relu(l[0]->forward(x))))).to_vector());
  mlp.train();
  const Tensor t1 = mlp.forward(x), t2 = mlp.forward(x);
  CHECK(t1.to_vector() != t2.to_vector());
  CHECK(t1.to_vector() != e1.to_vector());
  // Same seed, same construction: the same dropout masks, call for call.
  Generator gen2(5);
  MLP twin({8, 16, 16, 4}, gen2, opts);
  CHECK(twin.forward(x).to_vector() == t1.to_vector());
}

TEST_CASE("MLP: gradients of the input and every parameter match central differences") {
  for (Activation act : {Activation::kTanh, Activation::kGelu, Activation::kLeakyRelu}) {
    INFO(activation_name(act));
    Generator gen(7);
    MLPOptions opts;
    opts.activation = act;
    opts.leaky_slope = 0.2f;
    opts.dropout = 0.25f;  // training mode: each evaluation rewinds the stream to the same mask
    MLP mlp({3, 4, 4, 2}, gen, opts);
    Generator& drop = mlp.dropout_layer()->generator();
    const uint64_t state = drop.state();
    const Tensor x = randn({5, 3}, gen);
    auto run = [&](const Tensor& in) {
      drop.set_state(state);
      return mlp.forward(in);
    };
    CHECK(gradcheck([&](const auto& in) { return run(in[0]); }, {x}));
    CHECK(testing::gradcheck_parameters(mlp, [&] { return run(x); }));
  }
}

TEST_CASE("MLP: bad sizes, dropout and input widths are rejected naming the MLP") {
  Generator gen(8);
  CHECK_THROWS_WITH_AS(MLP({4}, gen), doctest::Contains("MLP(4): needs at least"), Error);
  CHECK_THROWS_WITH_AS(MLP({4, 0, 2}, gen), doctest::Contains("MLP(4 -> 0 -> 2)"), Error);
  MLPOptions opts;
  opts.dropout = 1.f;
  CHECK_THROWS_WITH_AS(MLP({4, 2}, gen, opts), doctest::Contains("dropout p = 1"), Error);
  MLP mlp({4, 3, 2}, gen);
  CHECK(mlp.dropout_layer() == nullptr);
  CHECK_THROWS_WITH_AS(mlp.forward(zeros({2, 5})),
                       doctest::Contains("MLP(4 -> 3 -> 2, ReLU): input [2,5]: expected the last "
                                         "dimension to be 4"),
                       Error);
}
