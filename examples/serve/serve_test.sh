#!/usr/bin/env bash
# examples/serve round trip: bpr_csv trains on a tiny CSV, writes its recommendations and a
# checkpoint; serve loads the checkpoint and must answer each user id with the same line, an
# unknown id with an error line, one line out per line in.
set -uo pipefail
source tools/check_lib.sh

dir=${TEST_TMPDIR:-$(mktemp -d)}
csv=$dir/interactions.csv
{
  echo "user,item"
  for u in $(seq 1 40); do
    for j in $(seq 0 5); do echo "user$u,item$(((u * 5 + j * 7) % 30))"; done
  done
} >"$csv"

train() {
  examples/bpr_csv/bpr_csv "$csv" "$dir/recs.tsv" --save "$dir/model.ckpt" --epochs 5 \
    2>"$dir/train.err" || { cat "$dir/train.err" >&2; return 1; }
}

# Queries: every 3rd user (with padding blanks on one), an unknown id, then user1 again.
printf 'user1\nuser4\n  user7 \nnobody\nuser10\nuser13\nuser1\n' >"$dir/queries"

serve() {
  examples/serve/serve "$dir/model.ckpt" <"$dir/queries" >"$dir/answers" 2>"$dir/serve.err" ||
    { cat "$dir/serve.err" >&2; return 1; }
}

one_line_per_query() {
  [[ $(wc -l <"$dir/answers") -eq $(wc -l <"$dir/queries") ]] ||
    { echo "$(wc -l <"$dir/answers") answers to $(wc -l <"$dir/queries") queries" >&2; return 1; }
}

# Known users get exactly bpr_csv's line (same weights through the checkpoint, same masking).
answers_match_training() {
  local ok=0
  while IFS= read -r answer; do
    local user=${answer%%$'\t'*}
    [[ "$user" == nobody ]] && continue
    local expected
    expected=$(grep -P "^$user\t" "$dir/recs.tsv")
    [[ "$answer" == "$expected" ]] || { echo "serve: '$answer' vs bpr_csv: '$expected'" >&2; ok=1; }
  done <"$dir/answers"
  return $ok
}

unknown_user_is_an_error_line() {
  grep -qxP 'nobody\tERROR unknown user' "$dir/answers" || { cat "$dir/answers" >&2; return 1; }
}

check "serve: bpr_csv trains and saves a checkpoint" train
check "serve: answers stdin from the checkpoint" serve
check "serve: one answer line per query line" one_line_per_query
check "serve: answers equal bpr_csv's recommendations" answers_match_training
check "serve: an unknown user gets an error line" unknown_user_is_an_error_line
check_summary
