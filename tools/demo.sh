#!/usr/bin/env bash
# Trains and evaluates a small model end to end on a fresh Debian 12 machine: installs what the
# build needs, builds optimised, runs the demo (BPR matrix factorisation on synthetic data).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
exec bazel run -c opt //examples:demo -- "$@"
