#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian 12 machine: installs what the build needs, then
#   1. `bazel test //...`                  every test, the normal -c opt build;
#   2. `bazel test --config=asan`          AddressSanitizer + UBSan: every test but the slow
#                                          *_learning_test ones (see asan_targets below);
#   3. `bazel test --config=tsan`          ThreadSanitizer: the tests of the TBB-parallel
#                                          kernels, loaders, evaluation and concurrent scoring;
#   4. tools/check_consumers.sh            recgrad as outside programs use it: a Bazel
#                                          workspace of their own, the installed library with
#                                          pkg-config (its checks count as cases);
#   5. tools/fuzz/run.sh 30                each libFuzzer target (dataset loaders, checkpoint
#                                          reader, CLI) for 30 s, counted as one case per target;
# and prints doctest's test-case counts summed over every binary of every run ("N passed,
# N failed"; Bazel's own summary counts binaries, not cases). Any failure in any run makes the
# exit status non-zero. Extra arguments go to every `bazel test`.
# RECGRAD_TEST_STAGES picks runs, e.g. RECGRAD_TEST_STAGES=default for a quick local check.
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
stages=${RECGRAD_TEST_STAGES:-default asan tsan consumers fuzz}

all_tests=$(bazel query --noshow_progress 'tests(//...)' 2>/dev/null | sort)
if [[ -z "$all_tests" ]]; then
  echo "test.sh: bazel query found no tests" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
# ASan+UBSan: everything but the *_learning_test targets, which train a model for many epochs
# to check that it learns (minutes under ASan on two cores) and exercise no code path that the
# model's own test does not also run under ASan.
asan_targets=$(grep -v '_learning_test$' <<<"$all_tests")
# TSan: where recgrad runs threads: the TBB-parallel kernels (ops, optimizers' parallel updates,
# the graph engine), data loading and batching, evaluation, and callers' threads sharing a model.
tsan_targets=$(grep -E '^//tests:(autograd|ops|optim)/|^//tests:recsys/(batches|rating_batches|item_rating_rows|dataset|formats|filters|split|sampler|cooccurrence|evaluator|metrics|topk|concurrent_scoring)_test$' \
  <<<"$all_tests")

status=0
total_passed=0
total_failed=0
# add_counts "N passed, N failed": adds to the totals; anything else counts as one failure.
add_counts() {
  local counts=$1
  [[ "$counts" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]] || counts="0 passed, 1 failed"
  local f=${counts#*passed, }
  total_passed=$((total_passed + ${counts%% passed*}))
  total_failed=$((total_failed + ${f%% failed*}))
}
# run NAME TARGETS BAZEL_ARGS...: one `bazel test BAZEL_ARGS`, then the counts of TARGETS' logs
# (taken at once: the next run's configuration repoints bazel-testlogs), added to the totals.
run() {
  local name=$1 targets=$2
  shift 2
  local start=$SECONDS
  bazel test "$@" "${data_args[@]}" || status=1
  local counts
  # shellcheck disable=SC2086
  counts=$(tools/count_test_cases.sh ${targets} | tail -n 1)
  add_counts "$counts"
  echo "test.sh: ${name}: $(wc -w <<<"$targets") test binaries, ${counts}, $((SECONDS - start)) s" >&2
}

for stage in $stages; do
  case "$stage" in
    # shellcheck disable=SC2086  # target lists: one label per word
    default) run "default build" "$all_tests" //... "$@" ;;
    asan) run "ASan+UBSan" "$asan_targets" --config=asan --build_tests_only $asan_targets "$@" ;;
    tsan) run "TSan" "$tsan_targets" --config=tsan --build_tests_only $tsan_targets "$@" ;;
    consumers)
      start=$SECONDS
      consumer_log=$(mktemp)
      if tools/check_consumers.sh >"$consumer_log" 2>&1; then
        grep -E '^\[check\]' "$consumer_log" >&2
      else
        status=1
        cat "$consumer_log" >&2
      fi
      add_counts "$(tools/count_test_cases.sh "$consumer_log" | tail -n 1)"
      rm -f "$consumer_log"
      echo "test.sh: consumer checks: $((SECONDS - start)) s" >&2
      ;;
    fuzz)
      start=$SECONDS
      counts=$(tools/fuzz/run.sh 30 | tail -n 1) || status=1
      add_counts "$counts"
      echo "test.sh: fuzz: ${counts} (targets), $((SECONDS - start)) s" >&2
      ;;
    *) echo "test.sh: unknown stage '$stage' in RECGRAD_TEST_STAGES" >&2; status=1 ;;
  esac
done

[[ $total_failed -ne 0 ]] && status=1
echo "${total_passed} passed, ${total_failed} failed"
exit $status
