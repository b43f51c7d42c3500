# Shell checks counted like doctest cases. Sourced by the examples' tests (examples/*/*_test.sh)
# and by tools/check_consumers.sh. Each check is one case and prints one line:
#   [check] PASS <name>
#   [check] FAIL <name>
# and check_summary prints "[check] cases: T | P passed | F failed", which
# tools/count_test_cases.sh adds to the doctest counts. A check's command explains a failure on
# stderr.

checks_passed=0
checks_failed=0

# check NAME COMMAND [ARGS...]: one case, passing when COMMAND succeeds.
check() {
  local name=$1
  shift
  if "$@"; then
    echo "[check] PASS $name"
    checks_passed=$((checks_passed + 1))
  else
    echo "[check] FAIL $name"
    checks_failed=$((checks_failed + 1))
  fi
}

# Prints the summary line; succeeds when no check failed.
check_summary() {
  echo "[check] cases: $((checks_passed + checks_failed)) | $checks_passed passed | $checks_failed failed"
  [[ $checks_failed -eq 0 ]]
}
