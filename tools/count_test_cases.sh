#!/usr/bin/env bash
# Sums test-case counts over test logs and prints "N passed, N failed". A log's count is its last
# summary line: doctest's "[doctest] test cases: T | P passed | F failed", or the shell checks'
# "[check] cases: T | P passed | F failed" (tools/check_lib.sh).
#   tools/count_test_cases.sh                       every log under bazel-testlogs
#   tools/count_test_cases.sh //tests:ops/a_test    these targets' logs
#   tools/count_test_cases.sh /tmp/consumers.log    these files (e.g. the consumer checks' output)
# bazel-testlogs points at the last run's configuration (--config=asan and --config=tsan have
# trees of their own), so tools/test.sh counts right after each run, passing the targets that run
# tested: logs left in the tree by earlier runs of other targets are not counted.
# A target without a log, or a log without a summary (it crashed, timed out or did not build),
# counts as one failure; so does a test whose binary exited non-zero after a clean summary (a
# sanitizer report at exit, e.g. LeakSanitizer's).
set -uo pipefail
cd "$(dirname "$0")/.."

logs=()
if [[ $# -eq 0 ]]; then
  while IFS= read -r -d '' log; do logs+=("$log"); done \
    < <(find -L bazel-testlogs/ -name test.log -print0 2>/dev/null)
else
  for arg in "$@"; do
    if [[ "$arg" == //* ]]; then
      path=${arg#//}
      path=${path#:}
      logs+=("bazel-testlogs/${path/://}/test.log")
    else
      logs+=("$arg")
    fi
  done
fi

passed=0
failed=0
for log in "${logs[@]}"; do
  name=${log#bazel-testlogs/}
  name=${name%/test.log}
  if [[ ! -f "$log" ]]; then
    echo "no test log for ${name} (not built or not run)" >&2
    failed=$((failed + 1))
    continue
  fi
  line=$(grep -aE "^\[(doctest\] test cases|check\] cases):" "$log" | tail -n 1)
  if [[ -z "$line" ]]; then
    echo "no test summary in ${name} (crashed or timed out)" >&2
    failed=$((failed + 1))
    continue
  fi
  p=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
  f=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
  xml="${log%test.log}test.xml"
  if [[ "$log" == */test.log && "$f" -eq 0 && -f "$xml" ]] &&
      grep -qE '(errors|failures)="[1-9]' "$xml"; then
    echo "${name} exited non-zero after its summary (a sanitizer report at exit?)" >&2
    f=1
  fi
  passed=$((passed + p))
  failed=$((failed + f))
done

echo "${passed} passed, ${failed} failed"
