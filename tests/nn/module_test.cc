#include "nn/module.h"

#include <doctest/doctest.h>

using namespace recgrad;
using namespace recgrad::nn;

namespace {

struct Leaf : Module {
  explicit Leaf(int64_t n) {
    weight = register_parameter("weight", zeros({n, 2}));
    bias = register_parameter("bias", zeros({n}));
    steps = register_buffer("steps", zeros({1}));
  }
  std::string describe() const override { return "Leaf"; }
  Tensor weight, bias, steps;
};

struct Tree : Module {
  Tree() {
    encoder = register_module("encoder", std::make_shared<Leaf>(3));
    decoder = register_module("decoder", std::make_shared<Leaf>(1));
    scale = register_parameter("scale", ones({1}));
  }
  std::string describe() const override { return "Tree"; }
  std::shared_ptr<Leaf> encoder, decoder;
  Tensor scale;
};

struct Misnamed : Module {
  explicit Misnamed(const std::string& name) {
    register_parameter("w", zeros({1}));
    register_parameter(name, zeros({1}));
  }
};

}  // namespace

TEST_CASE("module: named_parameters yields dotted paths in registration order") {
  Tree t;
  std::vector<std::string> names;
  for (auto& [name, p] : t.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"scale", "encoder.weight", "encoder.bias",
                                          "decoder.weight", "decoder.bias"});
  CHECK(t.named_buffers().size() == 2);
  CHECK(t.named_buffers()[0].first == "encoder.steps");
  CHECK(t.state().size() == 7);
  CHECK(t.num_parameters() == 1 + 6 + 3 + 2 + 1);
  CHECK(t.encoder->weight.requires_grad());
  CHECK_FALSE(t.encoder->steps.requires_grad());
}

TEST_CASE("module: parameters are the module's own handles, so updates are visible") {
  Tree t;
  t.parameters()[0].data()[0] = 42;
  CHECK(t.scale.item() == 42);
}

TEST_CASE("module: empty, dotted and duplicate names are rejected") {
  CHECK_THROWS_WITH_AS(Misnamed(""), doctest::Contains("empty name"), Error);
  CHECK_THROWS_WITH_AS(Misnamed("a.b"), doctest::Contains("'a.b' contains '.'"), Error);
  CHECK_THROWS_WITH_AS(Misnamed("w"), doctest::Contains("'w' is already registered"), Error);
}

TEST_CASE("module: train and eval reach every submodule") {
  Tree t;
  t.eval();
  CHECK_FALSE(t.is_training());
  CHECK_FALSE(t.encoder->is_training());
  t.train();
  CHECK(t.decoder->is_training());
}

TEST_CASE("module: zero_grad clears every parameter's gradient") {
  Tree t;
  t.encoder->bias.backward(ones({3}));
  CHECK(t.encoder->bias.grad().defined());
  t.zero_grad();
  CHECK_FALSE(t.encoder->bias.grad().defined());
}

TEST_CASE("module: summary lists each module with its parameter count") {
  Tree t;
  CHECK(t.summary() == "Tree  [13 parameters]\n  encoder: Leaf  [9 parameters]\n"
                       "  decoder: Leaf  [3 parameters]\n");
}
