// Writes the autograd graph of a small MLP's loss as Graphviz DOT: the picture of what
// backward() walks. Ops are boxes (name and output shape), parameters filled ellipses with
// their names, data dashed ellipses.
//
//   graph_dot > mlp.dot && dot -Tsvg mlp.dot -o mlp.svg     (dot: Debian's graphviz)
#include <cstdio>

#include "nn/nn.h"

using namespace recgrad;

int main() {
  Generator gen(0);
  nn::MLP mlp({8, 16, 1}, gen);                      // Linear(8->16), ReLU, Linear(16->1)
  const Tensor x = randn({4, 8}, gen);               // a batch of 4 inputs
  const Tensor target = randn({4, 1}, gen);
  const Tensor loss = mse_loss(mlp.forward(x), target);
  // Names come from the module, so the picture says "0.weight" rather than "[16,8]" alone.
  std::fputs(to_dot(loss, mlp.named_parameters()).c_str(), stdout);
  return 0;
}
