#!/usr/bin/env bash
# Sums test-case counts over the test logs of the last `bazel test` and over any log files
# given as arguments (tools/test.sh passes the consumer checks' output). A log's count is its
# last summary line: doctest's "[doctest] test cases: T | P passed | F failed", or the shell
# checks' "[check] cases: T | P passed | F failed" (tools/check_lib.sh). A log without one
# (a binary or script that died before printing it) counts as one failure.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0
failed=0
count_log() {
  local log=$1 line p f
  line=$(grep -aE "^\[(doctest\] test cases|check\] cases):" "$log" | tail -n 1)
  if [[ -z "$line" ]]; then
    echo "no test summary in ${log#bazel-testlogs/} (crashed or timed out)" >&2
    failed=$((failed + 1))
    return
  fi
  p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
  passed=$((passed + p))
  failed=$((failed + f))
}

while IFS= read -r -d '' log; do
  count_log "$log"
done < <(find -L bazel-testlogs/ -name test.log -print0 2>/dev/null)
for log in "$@"; do
  count_log "$log"
done

echo "${passed} passed, ${failed} failed"
