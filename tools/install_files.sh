#!/usr/bin/env bash
# //:install: copies librecgrad.a, the public headers and a pkg-config file under PREFIX.
#   bazel run //:install -- PREFIX        (tools/install.sh PREFIX does the same)
# Layout:
#   PREFIX/lib/librecgrad.a
#   PREFIX/lib/pkgconfig/recgrad.pc
#   PREFIX/include/recgrad/{autograd,ops,nn,optim,recsys}/...h
# Headers keep their repository paths because they include each other that way
# ("autograd/tensor.h"), so Cflags point at include/recgrad.
set -euo pipefail

if [[ $# -ne 1 || -z "$1" ]]; then
  echo "usage: bazel run //:install -- PREFIX" >&2
  exit 2
fi
prefix=$1
# bazel run executes in the runfiles tree; a relative PREFIX means where the user ran bazel.
if [[ "$prefix" != /* ]]; then
  prefix="${BUILD_WORKING_DIRECTORY:-$PWD}/$prefix"
fi

# The runfiles (this script's data): librecgrad.a, librecgrad.linkopts and the headers.
runfiles="${RUNFILES_DIR:-$0.runfiles}/recgrad"
[[ -f "$runfiles/librecgrad.a" ]] || runfiles=$PWD
if [[ ! -f "$runfiles/librecgrad.a" ]]; then
  echo "install: librecgrad.a not found; run me with: bazel run //:install -- PREFIX" >&2
  exit 1
fi

mkdir -p "$prefix/lib/pkgconfig" "$prefix/include/recgrad"
prefix=$(cd "$prefix" && pwd)
install -m 0644 "$runfiles/librecgrad.a" "$prefix/lib/librecgrad.a"
headers=0
while IFS= read -r -d '' h; do
  rel=${h#"$runfiles"/}
  install -D -m 0644 "$h" "$prefix/include/recgrad/$rel"
  headers=$((headers + 1))
done < <(find "$runfiles"/{autograd,ops,nn,optim,recsys} -name '*.h' -print0)

# -ltbb, -ldl, ... as the Bazel targets declare them. OpenBLAS is not linked: recgrad loads
# libopenblas.so.0 at run time (ops/blas.cc), so it must be installed, not linked.
linkopts=$(cat "$runfiles/librecgrad.linkopts")
cat > "$prefix/lib/pkgconfig/recgrad.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: recgrad
Description: A from-scratch deep learning framework in C++17 for recommender systems
Version: 0.1.0
Cflags: -std=c++17 -I\${includedir}/recgrad
Libs: -L\${libdir} -lrecgrad $linkopts -lpthread
PC
echo "installed librecgrad.a, $headers headers and lib/pkgconfig/recgrad.pc under $prefix"
