#!/usr/bin/env bash
# examples/graph_dot: the DOT of mse_loss(MLP(8->16->1)(x), target) has the 4 ops (linear,
# relu, linear, mse_loss), the 4 named parameters filled, x and target dashed, 9 edges.
set -uo pipefail
source tools/check_lib.sh

dir=${TEST_TMPDIR:-$(mktemp -d)}
dot=$dir/mlp.dot

run_example() { examples/graph_dot/graph_dot >"$dot"; }
is_digraph() { [[ $(head -n 1 "$dot") == "digraph recgrad {" && $(tail -n 1 "$dot") == "}" ]]; }
count() { grep -c -- "$1" "$dot"; }
expect() { [[ $(count "$1") -eq $2 ]] || { echo "'$1': $(count "$1") lines, expected $2" >&2; return 1; }; }

ops_listed() {
  expect "shape=box" 4 && expect 'label="linear' 2 && expect 'label="relu' 1 &&
    expect 'label="mse_loss' 1
}
parameters_named() {
  expect "style=filled" 4 && expect 'label="0.weight\\n\[16,8\]"' 1 && expect 'label="1.bias\\n\[1\]"' 1
}
data_dashed() { expect "style=dashed" 2; }
edges() { expect " -> " 9; }

check "graph_dot: writes a DOT digraph" run_example
check "graph_dot: is one well-formed digraph" is_digraph
check "graph_dot: lists the MLP's ops" ops_listed
check "graph_dot: names the parameters" parameters_named
check "graph_dot: draws the data dashed" data_dashed
check "graph_dot: connects inputs to ops" edges
check_summary
