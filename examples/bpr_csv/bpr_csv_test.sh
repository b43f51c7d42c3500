#!/usr/bin/env bash
# examples/bpr_csv on a tiny CSV: 60 users with 8 items each out of 40, an extra column that
# must be ignored. Checks one line per user, 10 distinct known items per line, none seen.
set -uo pipefail
source tools/check_lib.sh

dir=${TEST_TMPDIR:-$(mktemp -d)}
csv=$dir/interactions.csv
{
  echo "user,item,rating"
  for u in $(seq 1 60); do
    for j in $(seq 0 7); do echo "u$u,i$(((u * 7 + j * 3) % 40)),1"; done
  done
} >"$csv"

run_example() {
  examples/bpr_csv/bpr_csv "$csv" "$dir/recs.tsv" --epochs 5 2>"$dir/stderr" ||
    { cat "$dir/stderr" >&2; return 1; }
}

# One line per user, in the CSV's order of first appearance.
one_line_per_user() {
  diff <(cut -f1 "$dir/recs.tsv") <(tail -n +2 "$csv" | cut -d, -f1 | awk '!seen[$0]++') >&2
}

# Every line: user<TAB>10 distinct items, each an item of the CSV, none the user's own.
lists_valid() {
  awk -F'\t' -v csv="$csv" '
    BEGIN { while ((getline line < csv) > 0) { if (n++ == 0) continue  # the header
              split(line, f, ","); known[f[2]] = 1; seen[f[1] "," f[2]] = 1 } }
    { k = split($2, items, ",")
      if (NF != 2 || k != 10) { print "line " NR ": " k " items: " $0 > "/dev/stderr"; bad = 1 }
      delete dup
      for (i = 1; i <= k; i++) {
        if (!(items[i] in known)) { print "line " NR ": unknown item " items[i] > "/dev/stderr"; bad = 1 }
        if ((($1 "," items[i]) in seen)) { print "line " NR ": seen item " items[i] > "/dev/stderr"; bad = 1 }
        if (items[i] in dup) { print "line " NR ": repeated item " items[i] > "/dev/stderr"; bad = 1 }
        dup[items[i]] = 1
      } }
    END { exit bad }' "$dir/recs.tsv"
}

# A bad file is reported with its name and line, and the program fails cleanly.
bad_csv_fails() {
  printf 'user,item\nu1\n' >"$dir/bad.csv"
  ! examples/bpr_csv/bpr_csv "$dir/bad.csv" "$dir/bad.tsv" 2>"$dir/bad.err" &&
    grep -q "bad.csv:2:" "$dir/bad.err" ||
    { cat "$dir/bad.err" >&2; return 1; }
}

check "bpr_csv: trains on the CSV and writes the file" run_example
check "bpr_csv: one line per user, in CSV order" one_line_per_user
check "bpr_csv: 10 distinct known unseen items per user" lists_valid
check "bpr_csv: a malformed CSV fails naming the file and line" bad_csv_fails
check_summary
