#include <doctest/doctest.h>

#include <cmath>

#include "autograd/autograd.h"
#include "nn/nn.h"
#include "ops/ops.h"

using namespace recgrad;

TEST_CASE("tour 9: a GRU's output at step t depends only on steps 0..t") {
  Generator gen(5);
  const int64_t B = 2, T = 5, E = 3, H = 4;
  nn::GRU gru(/*input_size=*/E, /*hidden_size=*/H, gen);
  Tensor x = randn({B, T, E}, gen).set_requires_grad();      // embedded item sequences

  nn::GRUOutput y = gru.forward(x);
  CHECK(y.output.shape() == Shape{B, T, H});                 // h_t at every step
  CHECK(y.h_n.shape() == Shape{1, B, H});                    // last state per layer

  // Backpropagate from h_2 of sequence 0 only: steps 3 and 4 get exactly zero gradient.
  Tensor h2 = sum(narrow(narrow(y.output, 0, 0, 1), 1, 2, 1));
  h2.backward();
  for (int64_t t = 0; t < T; ++t) {
    float g = 0;
    for (int64_t e = 0; e < E; ++e) g += std::abs(x.grad().at({0, t, e}));
    if (t <= 2) CHECK(g > 0.f);
    else CHECK(g == 0.f);
  }
}
