#!/usr/bin/env bash
# Builds recgrad's libFuzzer targets with clang-14 (libFuzzer + AddressSanitizer + UBSan) and
# fuzzes each for a while, starting from the seed corpora in tools/fuzz/corpus/<target>/:
#   tools/fuzz/run.sh                       30 s per target (what CI runs)
#   tools/fuzz/run.sh 600                   the 10-minute runs (docs/reliability.md records them)
#   tools/fuzz/run.sh 3600 cli_fuzzer ...   the targets named, for an hour each
#   tools/fuzz/run.sh --seeds               rewrites the checkpoint seeds (after a format change)
# Targets: dataset_fuzzer (every dataset format's loader), checkpoint_fuzzer (the checkpoint
# reader and loader), cli_fuzzer (the command line's parse and its checks before any work).
# Objects, binaries, the growing corpora and crash files go to $RECGRAD_FUZZ_OUT (default
# /tmp/recgrad-fuzz), never into the repository. A crash stops the run
# with the input in $RECGRAD_FUZZ_OUT/artifacts/; reproduce it with
#   $RECGRAD_FUZZ_OUT/<target> <file>
# and once fixed, add the file to tools/fuzz/corpus/<target>/, where Bazel's
# //tools/fuzz:<target>_corpus_test replays it in every test run.
# The last line of output is "N passed, N failed", counting targets (a target that crashed or
# did not build failed). Exit status: non-zero when one did.
set -euo pipefail
cd "$(dirname "$0")/../.."

out=${RECGRAD_FUZZ_OUT:-/tmp/recgrad-fuzz}
mode=run
seconds=30
case "${1:-}" in
  --seeds) mode=seeds ;;
  "") ;;
  *) seconds=$1 ;;
esac
targets=(dataset_fuzzer checkpoint_fuzzer cli_fuzzer)
if [[ $# -gt 1 ]]; then
  targets=("${@:2}")
  for target in "${targets[@]}"; do
    if [[ ! -f tools/fuzz/$target.cc ]]; then
      echo "fuzz: no target '$target' (tools/fuzz/$target.cc)" >&2
      exit 1
    fi
  done
fi

if ! command -v clang++-14 >/dev/null; then
  echo "fuzz: clang++-14 is missing: apt-get install clang-14 libclang-rt-14-dev" >&2
  exit 1
fi
# -O1 as libFuzzer recommends; x86-64-v3 as .bazelrc builds (the kernels' 8-float vectors need
# AVX); FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION lets the checkpoint reader skip checksums (see
# checkpoint_fuzzer.cc).
flags=(-std=c++17 -O1 -g -fno-omit-frame-pointer -march=x86-64-v3 -I.
       -fsanitize=address,undefined -fno-sanitize-recover=all
       -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
# The sources the targets reach (an archive: the linker takes only the objects it needs).
# Everything but the CLI's commands and main(): the CLI target builds models from the registry.
sources=(autograd/*.cc ops/*.cc nn/*.cc optim/*.cc recsys/*.cc recsys/models/*.cc
         recsys/cli/parse.cc)

mkdir -p "$out/obj" "$out/artifacts"
# Objects are named by a hash of what they are built from (the flags, every header, the
# source), not by timestamps: a fresh clone (CI's) has new timestamps on every file but reuses
# the objects of an earlier run when nothing changed, and any header change rebuilds them all.
headers_key=$( { printf '%s\n' "${flags[*]}"; find autograd ops nn optim recsys -name '*.h' | sort |
  xargs cat; } | sha256sum | cut -c1-16)
objects=()
for src in "${sources[@]}"; do
  key=$(cat <(echo "$headers_key") "$src" | sha256sum | cut -c1-16)
  base="$out/obj/${src//\//_}"
  obj="$base.$key.o"
  objects+=("$obj")
  if [[ ! -f "$obj" ]]; then
    rm -f "$base".*.o  # this source's stale objects
    clang++-14 "${flags[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj.tmp" && mv "$obj.tmp" "$obj" &
    while (( $(jobs -rp | wc -l) >= 2 )); do wait -n; done
  fi
done
wait
rm -f "$out/librecgrad_fuzz.a"
ar rcs "$out/librecgrad_fuzz.a" "${objects[@]}"
libs=("$out/librecgrad_fuzz.a" -ltbb -ldl -lpthread)

if [[ $mode == seeds ]]; then
  clang++-14 "${flags[@]}" tools/fuzz/make_checkpoint_seeds.cc "${libs[@]}" -o "$out/make_checkpoint_seeds"
  mkdir -p tools/fuzz/corpus/checkpoint_fuzzer
  "$out/make_checkpoint_seeds" tools/fuzz/corpus/checkpoint_fuzzer
  exit 0
fi

passed=0
failed=0
# The targets write their inputs to files under TMPDIR: keep them out of /tmp's way.
export TMPDIR="$out/tmp"
rm -rf "$TMPDIR"
mkdir -p "$TMPDIR"
for target in "${targets[@]}"; do
  if ! clang++-14 "${flags[@]}" -fsanitize=fuzzer "tools/fuzz/$target.cc" "${libs[@]}" -o "$out/$target"; then
    failed=$((failed + 1))
    continue
  fi
  mkdir -p "$out/corpus/$target"
  # A target's dictionary (tools/fuzz/<target>.dict: its keywords) helps mutations reach them.
  dict=()
  [[ -f tools/fuzz/$target.dict ]] && dict=(-dict="tools/fuzz/$target.dict")
  start=$SECONDS
  # New inputs go to the first corpus directory (outside the repository); the seeds are read.
  if "$out/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      ${dict[@]+"${dict[@]}"} -artifact_prefix="$out/artifacts/$target-" "$out/corpus/$target" \
      "tools/fuzz/corpus/$target" >"$out/$target.log" 2>&1; then
    passed=$((passed + 1))
    echo "fuzz: $target: clean after $((SECONDS - start)) s: $(grep -E '^stat::number_of_executed_units' "$out/$target.log" | awk '{print $2}') executions, $(grep -oE 'cov: [0-9]+' "$out/$target.log" | tail -n 1)" >&2
  else
    failed=$((failed + 1))
    echo "fuzz: $target FAILED (log: $out/$target.log, input in $out/artifacts/):" >&2
    grep -E "ERROR|runtime error|SUMMARY|invariant|uncaught|deadly signal" "$out/$target.log" | head -n 5 >&2
  fi
done
echo "${passed} passed, ${failed} failed"
[[ $failed -eq 0 ]]
