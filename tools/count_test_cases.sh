#!/usr/bin/env bash
# Sums doctest's "[doctest] test cases: T | P passed | F failed" lines over the test logs of the
# last `bazel test`. A binary that died before printing its summary counts as one failure.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
while IFS= read -r -d '' log; do
  line=$(grep -a "^\[doctest\] test cases:" "$log" | tail -n 1)
  if [[ -z "$line" ]]; then
    echo "no doctest summary in ${log#bazel-testlogs/} (crashed or timed out)" >&2
    failed=$((failed + 1))
    continue
  fi
  p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
  passed=$((passed + p))
  failed=$((failed + f))
done < <(find -L bazel-testlogs/ -name test.log -print0 2>/dev/null)

echo "${passed} passed, ${failed} failed"
