#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what the build needs, runs
# `bazel test //...`, then prints doctest's test-case counts summed over every test binary
# ("N passed, N failed"; Bazel's own summary counts binaries, not cases). Extra arguments go to
# bazel test, e.g. tools/test.sh --config=asan.
set -uo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh || exit 1
bazel test //... "$@"
status=$?
tools/count_test_cases.sh
exit $status
