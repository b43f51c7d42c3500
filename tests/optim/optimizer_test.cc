#include "optim/optimizer.h"

#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "optim/adam.h"
#include "optim/sgd.h"
#include "tests/optim/optim_testing.h"

using namespace recgrad;
using namespace recgrad::optim;
using namespace recgrad::testing;

namespace {

struct Net : nn::Module {
  Net() {
    emb = register_parameter("emb", tensor({1, 2, 3, 4}, {2, 2}));
    w = register_parameter("w", tensor({1, -1, 2}, {3}));
    b = register_parameter("b", tensor({0.5f}, {1}));
  }
  Tensor emb, w, b;
};

std::vector<std::string> counter_names(const OptimizerState& s) {
  std::vector<std::string> names;
  for (const auto& [name, v] : s.counters) names.push_back(name);
  return names;
}

}  // namespace

TEST_CASE("optimizer: a group selected by name gets its own lr and weight decay") {
  Net net;
  SGDOptions o;
  o.lr = 0.1, o.weight_decay = 0.5;
  SGD opt(net.named_parameters(), o);
  GroupOptions emb_opts;
  emb_opts.lr = 1.0, emb_opts.weight_decay = 0.0;
  ParamGroup& g = opt.add_group("embeddings", [](const std::string& n) { return n == "emb"; }, emb_opts);
  CHECK(g.params.size() == 1);
  CHECK(opt.groups().size() == 2);
  CHECK(opt.groups()[0].params.size() == 2);  // w, b stay in "default"

  set_grad(net.emb, ones({2, 2}));
  set_grad(net.w, ones({3}));
  set_grad(net.b, ones({1}));
  opt.step();
  // emb: p − 1.0·g;  w, b: p − 0.1·(g + 0.5·p).
  CHECK(net.emb.to_vector() == std::vector<float>{0, 1, 2, 3});
  CHECK(net.w.at({0}) == doctest::Approx(1 - 0.1 * (1 + 0.5)));
  CHECK(net.w.at({2}) == doctest::Approx(2 - 0.1 * (1 + 1.0)));
  CHECK(net.b.at({0}) == doctest::Approx(0.5 - 0.1 * (1 + 0.25)));
}

TEST_CASE("optimizer: a group from an explicit list inherits unset options; bad lists are rejected") {
  Net net;
  AdamOptions o;
  o.lr = 0.01, o.weight_decay = 0.1;
  Adam opt(net.named_parameters(), o);
  GroupOptions no_decay;
  no_decay.weight_decay = 0.0;
  opt.add_group("no_decay", std::vector<std::string>{"w", "b"}, no_decay);
  CHECK(opt.group("no_decay").lr == 0.01);
  CHECK(opt.group("no_decay").weight_decay == 0.0);
  CHECK(opt.group("default").params.size() == 1);
  CHECK_THROWS_WITH_AS(opt.add_group("x", std::vector<std::string>{"nope"}),
                       doctest::Contains("Adam: add_group 'x': no parameter 'nope'"), Error);
  CHECK_THROWS_WITH_AS(opt.add_group("no_decay", std::vector<std::string>{"emb"}),
                       doctest::Contains("group 'no_decay' already exists"), Error);
  CHECK_THROWS_WITH_AS(opt.add_group("y", [](const std::string&) { return false; }),
                       doctest::Contains("add_group 'y': no parameter matches"), Error);
  GroupOptions negative;
  negative.lr = -1;
  CHECK_THROWS_WITH_AS(opt.add_group("z", std::vector<std::string>{"emb"}, negative),
                       doctest::Contains("group 'z': lr = -1"), Error);
  CHECK(opt.groups().size() == 2);  // failed calls changed nothing
  CHECK_THROWS_WITH_AS(opt.group("missing"), doctest::Contains("no parameter group 'missing'"), Error);
}

TEST_CASE("optimizer: set_lr sets every group; lr() reads the default group") {
  Net net;
  SGD opt(net.named_parameters());
  GroupOptions fast;
  fast.lr = 5.0;
  opt.add_group("fast", std::vector<std::string>{"emb"}, fast);
  opt.set_lr(0.25);
  CHECK(opt.lr() == 0.25);
  CHECK(opt.group("fast").lr == 0.25);
  CHECK(opt.group("fast").initial_lr == 5.0);
  CHECK_THROWS_AS(opt.set_lr(-1), Error);
}

TEST_CASE("optimizer: parameters without a gradient are skipped, state and step count included") {
  Net net;
  AdamOptions o;
  o.lr = 0.1, o.weight_decay = 0.1;  // decay must not move a skipped parameter either
  Adam opt(net.named_parameters(), o);
  const Tensor w0 = net.w.clone();
  set_grad(net.emb, ones({2, 2}));
  opt.step();
  opt.zero_grad();
  CHECK(same_bits(net.w, w0));
  CHECK(counter_names(opt.state()) == std::vector<std::string>{"steps", "emb.step"});
  CHECK(opt.steps() == 1);

  // w's first step comes at the optimizer's second: its own bias correction uses t = 1, so
  // the element moves by ≈ lr (at t = 2 it would move by less than lr·0.53).
  set_grad(net.w, tensor({1.f, 1.f, 1.f}));
  opt.step();
  CHECK(net.w.at({0}) == doctest::Approx(1 - 0.1).epsilon(1e-4));
  for (const auto& [name, v] : opt.state().counters)
    if (name == "w.step") CHECK(v == 1);
    else if (name == "emb.step") CHECK(v == 1);
    else CHECK(v == 2);
}

TEST_CASE("optimizer: zero_grad forgets every gradient") {
  Net net;
  SGD opt(net.named_parameters());
  set_grad(net.w, ones({3}));
  opt.zero_grad();
  CHECK_FALSE(net.w.grad().defined());
  const Tensor w0 = net.w.clone();
  opt.step();
  CHECK(same_bits(net.w, w0));
}

TEST_CASE("optimizer: a tied tensor listed twice is updated once; bad lists are rejected") {
  Tensor p = zeros({2}).set_requires_grad();
  SGDOptions o;
  o.lr = 1;
  SGD opt({{"enc", p}, {"dec", p}}, o);
  set_grad(p, ones({2}));
  opt.step();
  CHECK(p.to_vector() == std::vector<float>{-1, -1});
  CHECK(opt.named_parameters().size() == 1);
  CHECK_THROWS_WITH_AS(SGD({}), doctest::Contains("SGD: no parameters"), Error);
  CHECK_THROWS_WITH_AS(SGD({{"a", p}, {"a", zeros({1})}}), doctest::Contains("'a' appears twice"),
                       Error);
  CHECK_THROWS_WITH_AS(SGD({{"a", Tensor()}}), doctest::Contains("'a' is undefined"), Error);
}

TEST_CASE("optimizer: state is named '<param>.<slot>' and round-trips into a fresh optimizer") {
  Net a, b;
  AdamOptions o;
  o.lr = 0.05;
  Adam opt_a(a.named_parameters(), o), opt_b(b.named_parameters(), o);
  auto step = [](Net& net, Adam& opt, float scale) {
    set_grad(net.emb, full({2, 2}, scale));
    set_grad(net.w, tensor({scale, -scale, 2 * scale}));
    opt.step();
    opt.zero_grad();
  };
  step(a, opt_a, 1.f);
  step(a, opt_a, -0.5f);
  std::vector<std::string> names;
  for (const auto& [name, t] : opt_a.state().tensors) names.push_back(name);
  CHECK(names == std::vector<std::string>{"emb.exp_avg", "emb.exp_avg_sq", "w.exp_avg", "w.exp_avg_sq"});

  OptimizerState s = opt_a.state();
  for (auto& [name, t] : s.tensors) t = t.clone();
  opt_b.load_state(s);
  CHECK(opt_b.steps() == 2);
  std::memcpy(b.emb.data(), a.emb.data(), sizeof(float) * 4);  // b's parameters catch up with a's
  std::memcpy(b.w.data(), a.w.data(), sizeof(float) * 3);
  step(a, opt_a, 0.25f);
  step(b, opt_b, 0.25f);
  CHECK(same_bits(a.emb, b.emb));
  CHECK(same_bits(a.w, b.w));
}

TEST_CASE("optimizer: load_state rejects bad state and changes nothing") {
  Net net;
  Adam opt(net.named_parameters());
  set_grad(net.w, ones({3}));
  opt.step();
  const OptimizerState good = opt.state();
  const Tensor m0 = good.tensors[0].second.clone();

  auto rejects = [&](OptimizerState s, const char* message) {
    CHECK_THROWS_WITH_AS(opt.load_state(s), doctest::Contains(message), Error);
    CHECK(opt.steps() == 1);
    CHECK(same_bits(opt.state().tensors[0].second, m0));
  };
  OptimizerState s = good;
  s.tensors.emplace_back("w.exp_avg_sqq", zeros({3}));
  rejects(s, "Adam: state: unexpected tensor 'w.exp_avg_sqq'");
  s = good;
  s.tensors.emplace_back("nope.exp_avg", zeros({3}));
  rejects(s, "unexpected tensor 'nope.exp_avg'");
  s = good;
  s.tensors.pop_back();
  rejects(s, "missing tensor 'w.exp_avg_sq'");
  s = good;
  s.tensors[0].second = zeros({4});
  rejects(s, "tensor 'w.exp_avg' has shape [4] but parameter 'w' has shape [3]");
  s = good;
  s.counters.erase(s.counters.begin());
  rejects(s, "missing counter 'steps'");
  s = good;
  s.counters.emplace_back("b.step", 1);
  rejects(s, "missing tensor 'b.exp_avg'");
  s = good;
  s.counters.pop_back();
  rejects(s, "missing counter 'w.step' for tensor 'w.exp_avg'");
  s = good;
  s.counters.emplace_back("zz.step", 1);
  rejects(s, "unexpected counter 'zz.step'");
  s = good;
  s.counters[0].second = -3;
  rejects(s, "counter 'steps' is negative");
}

TEST_CASE("optimizer: parameters absent from loaded state start fresh") {
  Net net;
  Adam opt(net.named_parameters());
  set_grad(net.w, ones({3}));
  opt.step();
  opt.load_state(OptimizerState{{}, {{"steps", 7}}});
  CHECK(opt.steps() == 7);
  CHECK(opt.state().tensors.empty());
}
