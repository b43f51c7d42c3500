#!/usr/bin/env bash
# examples/two_tower on the built-in synthetic data: it trains (one log line per epoch),
# validates, and ranks test items better than popularity by NDCG@10.
set -uo pipefail
source tools/check_lib.sh

dir=${TEST_TMPDIR:-$(mktemp -d)}

run_example() {
  examples/two_tower/two_tower --epochs 12 >"$dir/out" 2>"$dir/err" ||
    { cat "$dir/out" "$dir/err" >&2; return 1; }
}

# The model summary names the towers' parameters by path.
summary_lists_towers() {
  grep -q "user_tower" "$dir/out" && grep -q "item_embedding" "$dir/out" || { cat "$dir/out" >&2; return 1; }
}

trained_and_validated() {
  grep -q "^best epoch [1-9]" "$dir/out" || { cat "$dir/out" "$dir/err" >&2; return 1; }
}

ndcg() { sed -nE "s/^$1 full: .*NDCG@10 ([0-9.e-]+),.*/\1/p" "$dir/out"; }

beats_popularity() {
  local model pop
  model=$(ndcg two_tower)
  pop=$(ndcg pop)
  echo "NDCG@10: two_tower $model, pop $pop" >&2
  [[ -n "$model" && -n "$pop" ]] && awk -v m="$model" -v p="$pop" 'BEGIN { exit !(m > p) }'
}

check "two_tower: trains on synthetic data" run_example
check "two_tower: summary lists the towers by name" summary_lists_towers
check "two_tower: the trainer validated and kept a best epoch" trained_and_validated
check "two_tower: beats popularity on test NDCG@10" beats_popularity
check_summary
