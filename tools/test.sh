#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what the build needs, runs
# `bazel test //...` and the consumer checks (tools/check_consumers.sh), then prints the
# test-case counts summed over every test binary and check ("N passed, N failed"; Bazel's own
# summary counts binaries, not cases). Extra arguments go to bazel test, e.g.
# tools/test.sh --config=asan.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || exit 1
# Tests on real MovieLens data read it from RECGRAD_DATA_DIR (they skip with a message when it
# is absent); the team's read-only copy sits beside the repository.
data_args=()
if [[ -z "${RECGRAD_DATA_DIR:-}" && -d ../shared/data ]]; then
  data_args=(--test_env=RECGRAD_DATA_DIR="$(cd ../shared/data && pwd)")
elif [[ -n "${RECGRAD_DATA_DIR:-}" ]]; then
  data_args=(--test_env=RECGRAD_DATA_DIR)
fi
bazel test //... "${data_args[@]}" "$@"
status=$?
# Then recgrad as outside programs use it (a Bazel workspace of their own, the installed
# library with pkg-config); its checks count as test cases in the final line.
consumer_log=$(mktemp)
trap 'rm -f "$consumer_log"' EXIT
tools/check_consumers.sh 2>&1 | tee "$consumer_log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
tools/count_test_cases.sh "$consumer_log"
exit $status
