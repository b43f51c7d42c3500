#!/usr/bin/env bash
# Installs the Debian 12 packages recgrad needs, only those missing: a no-op on a ready machine.
#   tools/setup.sh            what building and testing need
#   tools/setup.sh --bench    also the PyTorch peers the benchmarks compare against
set -euo pipefail

# .bazelrc builds for x86-64-v3 (AVX2 + FMA): say so up front rather than fail with SIGILL.
if ! grep -qw avx2 /proc/cpuinfo || ! grep -qw fma /proc/cpuinfo; then
  echo "recgrad setup: this CPU lacks AVX2 or FMA; recgrad builds for x86-64-v3 (.bazelrc)" >&2
  exit 1
fi

packages=(g++ bazel-bootstrap bazel-rules-java bazel-platforms libopenblas-dev libtbb-dev doctest-dev
  libbenchmark-dev libcli11-dev nlohmann-json3-dev pkg-config
  clang-14 libclang-rt-14-dev)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch python3-numpy)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "recgrad setup: installing ${missing[*]}" >&2
sudo=""
[[ "$(id -u)" -ne 0 ]] && sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
