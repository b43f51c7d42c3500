#include <doctest/doctest.h>

#include <iostream>

#include "autograd/autograd.h"
#include "ops/ops.h"

using namespace recgrad;

TEST_CASE("tour 1: the graph of a logistic unit as DOT") {
  Generator gen(7);
  Tensor w = randn({3, 1}, gen).set_requires_grad();  // weights [3,1]
  Tensor x = randn({2, 3}, gen);                      // a batch of 2 examples [2,3]
  Tensor p = sigmoid(matmul(x, w));                   // [2,1]
  Tensor loss = mean(p);

  std::string dot = to_dot(loss, {{"w", w}});
  std::cout << dot;
  CHECK(dot.find("matmul") != std::string::npos);
  CHECK(dot.find("sigmoid") != std::string::npos);
  CHECK(dot.find("\"w") != std::string::npos);        // the parameter is labelled by name
}
