#pragma once
// The autograd graph behind a tensor as Graphviz DOT, to look at what backward() will walk:
//
//   Tensor loss = ...;                           // before backward(), or with retain_graph
//   std::ofstream("graph.dot") << to_dot(loss, model.named_parameters());
//   $ dot -Tsvg graph.dot -o graph.svg           # Debian's graphviz package
//
// Every recorded op is a box with the name it was recorded under and the shape it produced
// ("matmul\n[32,16]"); the output's box has a double border. Every leaf is an ellipse with its
// shape, filled when it requires grad (a parameter: backward fills its .grad()) and dashed
// when it does not (a constant: data, masks). Edges run from each input to the op that used it,
// one per use in input order, so an input used twice has two edges.
#include <string>
#include <utility>
#include <vector>

#include "autograd/tensor.h"

namespace recgrad {

/// The graph that produced `output` as a DOT digraph. Leaves found in `names` (e.g. a module's
/// named_parameters()) are labelled with their name. A leaf output gives a one-node graph.
/// Throws recgrad::UsageError when backward() already freed part of the graph.
std::string to_dot(const Tensor& output,
                   const std::vector<std::pair<std::string, Tensor>>& names = {});

}  // namespace recgrad
