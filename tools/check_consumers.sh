#!/usr/bin/env bash
# Checks recgrad the way programs outside the repository use it:
#   - examples/external_workspace, a Bazel workspace of its own that reaches recgrad through
#     local_repository and depends on @recgrad//:recgrad_lib, builds and runs;
#   - tools/install.sh installs librecgrad.a, the headers and recgrad.pc under a temporary
#     prefix, and the same program compiled with plain
#     `g++ main.cc $(pkg-config --cflags --libs recgrad)` runs.
# Each check is one test case: a "[check] PASS|FAIL name" line, then a summary line that
# tools/count_test_cases.sh adds to the doctest counts (tools/test.sh runs this after the
# Bazel suite). Exits non-zero when a check fails.
set -uo pipefail
cd "$(dirname "$0")/.."
source tools/check_lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
consumer=examples/external_workspace

# What main.cc prints when everything works: its own op passes gradcheck, the model trained,
# and five recommendations came back.
output_ok() {
  grep -qx "gradcheck cube: ok" "$1" && grep -q "^trained bpr: 3 epochs, last loss [0-9]" "$1" &&
    grep -qE "^recommendations for user [^:]+:( [^ ]+){5}$" "$1" || { cat "$1" >&2; return 1; }
}

bazel_workspace_builds() {
  (cd "$consumer" && bazel build //:consumer) >"$work/bazel_build.log" 2>&1 ||
    { tail -n 40 "$work/bazel_build.log" >&2; return 1; }
}

bazel_workspace_runs() {
  "$consumer/bazel-bin/consumer" >"$work/bazel_run.out" 2>&1 && output_ok "$work/bazel_run.out" ||
    { cat "$work/bazel_run.out" >&2; return 1; }
}

installs() {
  tools/install.sh "$work/prefix" >"$work/install.log" 2>&1 &&
    [[ -f "$work/prefix/lib/librecgrad.a" && -f "$work/prefix/lib/pkgconfig/recgrad.pc" &&
       -f "$work/prefix/include/recgrad/recsys/recsys.h" ]] ||
    { tail -n 40 "$work/install.log" >&2; return 1; }
}

# The umbrella headers, and none of the command line's (it is not part of the library).
installed_headers() {
  local h
  for h in autograd/autograd.h ops/ops.h nn/nn.h optim/optim.h recsys/recsys.h; do
    [[ -f "$work/prefix/include/recgrad/$h" ]] || { echo "missing $h" >&2; return 1; }
  done
  [[ ! -e "$work/prefix/include/recgrad/recsys/cli" ]] || { echo "CLI headers installed" >&2; return 1; }
}

pkg_config_compiles() {
  local flags
  flags=$(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs recgrad) &&
    g++ -O2 -o "$work/consumer" "$consumer/main.cc" $flags 2>"$work/gxx.log" ||
    { echo "pkg-config flags: ${flags:-}" >&2; tail -n 40 "$work/gxx.log" >&2; return 1; }
}

installed_program_runs() {
  "$work/consumer" >"$work/installed.out" 2>&1 && output_ok "$work/installed.out"
}

start=$SECONDS
check "consumer: examples/external_workspace builds with Bazel (@recgrad//:recgrad_lib)" \
  bazel_workspace_builds
check "consumer: the Bazel-built program runs" bazel_workspace_runs
# The consumer workspace has a Bazel server of its own; do not leave it running.
(cd "$consumer" && bazel shutdown) >/dev/null 2>&1
check "consumer: tools/install.sh installs librecgrad.a, headers and recgrad.pc" installs
check "consumer: the umbrella headers are installed, the CLI's are not" installed_headers
check "consumer: g++ \$(pkg-config --cflags --libs recgrad) compiles the program" pkg_config_compiles
check "consumer: the pkg-config-built program runs" installed_program_runs
echo "consumer checks took $((SECONDS - start)) s"
check_summary
