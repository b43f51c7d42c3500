#!/usr/bin/env bash
# Installs recgrad for programs built without Bazel: PREFIX/lib/librecgrad.a, the headers under
# PREFIX/include/recgrad and PREFIX/lib/pkgconfig/recgrad.pc. Then:
#   g++ -O2 -o app app.cc $(PKG_CONFIG_PATH=PREFIX/lib/pkgconfig pkg-config --cflags --libs recgrad)
# The library is built as the repository's .bazelrc says (-c opt -O3 -march=x86-64-v3: CPUs
# with AVX2 and FMA). Extra arguments after PREFIX go to bazel run (e.g. --config=...).
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: tools/install.sh PREFIX [bazel flags]" >&2
  exit 2
fi
prefix=$1
shift
[[ "$prefix" == /* ]] || prefix="$PWD/$prefix"
cd "$(dirname "$0")/.."
tools/setup.sh
exec bazel run "$@" //:install -- "$prefix"
