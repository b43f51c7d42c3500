// to_dot: the DOT text of known small graphs, read back line by line (node declarations and
// edges), so the structure is checked rather than the exact text.
#include "autograd/dot.h"

#include <doctest/doctest.h>

#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/generator.h"
#include "autograd/graph.h"
#include "ops/activation.h"
#include "ops/elementwise.h"
#include "ops/matmul.h"
#include "ops/reduce.h"

using namespace recgrad;

namespace {

struct Dot {
  std::vector<std::string> nodes;  // declaration lines: `  n3 [shape=box, label="..."];`
  std::vector<std::pair<std::string, std::string>> edges;
  bool well_formed = false;        // "digraph ... {" first, "}" last
};

Dot parse(const std::string& text) {
  static const std::regex node(R"(^  (n\d+) \[(.*)\];$)"), edge(R"(^  (n\d+) -> (n\d+);$)");
  Dot d;
  std::istringstream in(text);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  d.well_formed = lines.size() >= 2 && lines.front() == "digraph recgrad {" && lines.back() == "}";
  std::smatch m;
  for (const std::string& line : lines) {
    if (std::regex_match(line, m, node)) d.nodes.push_back(line);
    else if (std::regex_match(line, m, edge)) d.edges.emplace_back(m[1], m[2]);
  }
  return d;
}

int count_with(const std::vector<std::string>& lines, const std::string& part) {
  int n = 0;
  for (const std::string& l : lines) n += l.find(part) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("to_dot: a dense layer and its loss give 4 ops, 3 leaves and 6 edges") {
  Generator gen(1);
  Tensor x = randn({2, 3}, gen);                        // data: no gradient
  Tensor w = randn({3, 4}, gen).set_requires_grad();
  Tensor b = randn({4}, gen).set_requires_grad();
  Tensor loss = sum(relu(add(matmul(x, w), b)));        // matmul, add, relu, sum

  const Dot d = parse(to_dot(loss));
  CHECK(d.well_formed);
  CHECK(d.nodes.size() == 7);
  CHECK(d.edges.size() == 6);
  CHECK(count_with(d.nodes, "shape=box") == 4);
  CHECK(count_with(d.nodes, "shape=ellipse") == 3);
  CHECK(count_with(d.nodes, R"(label="matmul\n[2,4]")") == 1);
  CHECK(count_with(d.nodes, R"(label="sum\n[]", peripheries=2)") == 1);  // the output
  CHECK(count_with(d.nodes, "style=filled") == 2);   // w and b require grad
  CHECK(count_with(d.nodes, "style=dashed") == 1);   // x does not
}

TEST_CASE("to_dot: an input used twice is one node with two edges") {
  Tensor x = tensor({1, 2, 3}).set_requires_grad();
  const Dot d = parse(to_dot(mul(x, x)));
  CHECK(d.nodes.size() == 2);
  REQUIRE(d.edges.size() == 2);
  CHECK(d.edges[0] == d.edges[1]);
}

TEST_CASE("to_dot: leaves are labelled with the names given") {
  Tensor w = ones({2, 2}).set_requires_grad();
  Tensor v = ones({2, 2}).set_requires_grad();
  const Dot d = parse(to_dot(add(w, v), {{"encoder.weight", w}}));
  CHECK(count_with(d.nodes, R"(label="encoder.weight\n[2,2]")") == 1);
  CHECK(count_with(d.nodes, R"(label="[2,2]")") == 1);  // v: no name given
}

TEST_CASE("to_dot: a shared subexpression is drawn once") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  Tensor h = relu(x);
  const Dot d = parse(to_dot(add(mul(h, h), h)));  // relu used three times
  CHECK(count_with(d.nodes, "label=\"relu") == 1);
  CHECK(d.nodes.size() == 4);  // x, relu, mul, add
  CHECK(d.edges.size() == 5);  // x->relu, relu->mul twice, mul->add, relu->add
}

TEST_CASE("to_dot: a leaf or a tensor made under NoGradGuard is a single node") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  CHECK(parse(to_dot(x)).nodes.size() == 1);
  NoGradGuard no_grad;
  const Dot d = parse(to_dot(relu(x)));
  CHECK(d.nodes.size() == 1);
  CHECK(d.edges.empty());
}

TEST_CASE("to_dot: a graph freed by backward is a usage error; retain_graph keeps it") {
  Tensor x = tensor({1, 2}).set_requires_grad();
  Tensor kept = sum(mul(x, x));
  kept.backward(scalar(1.f), /*retain_graph=*/true);
  CHECK(parse(to_dot(kept)).nodes.size() == 3);

  Tensor freed = sum(mul(x, x));
  freed.backward();
  CHECK_THROWS_WITH_AS(to_dot(freed), doctest::Contains("freed by backward()"), UsageError);
}
