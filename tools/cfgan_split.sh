#!/usr/bin/env bash
# The CFGAN authors' own ML-100K split, as recgrad reads it: their release
# (github.com/Bigdasgit/CFGAN, datasets/ML100K/ML100K.train and ML100K.test) has
# "user item rating" lines, space-separated with CRLF endings and ids renumbered from 0; this
# writes them tab-separated as OUT_DIR/train.tsv and OUT_DIR/test.tsv, the `uir` format that
# `recgrad train --data OUT_DIR/train.tsv --format uir --test-file OUT_DIR/test.tsv` takes.
# The reproduce runner's cfgan-authors-split rows read DIR/cfgan-ml-100k/ for `--splits DIR`:
#
#   tools/cfgan_split.sh SRC_DIR DIR/cfgan-ml-100k
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 SRC_DIR OUT_DIR  (SRC_DIR holds ML100K.train and ML100K.test)" >&2
  exit 2
fi
src=$1 out=$2
mkdir -p "$out"
for part in train test; do
  in="$src/ML100K.$part"
  [ -r "$in" ] || { echo "$0: cannot read $in" >&2; exit 1; }
  # Every line must be three fields; anything else is named rather than passed on.
  if ! tr -d '\r' < "$in" | awk -v f="$in" 'NF == 0 { next }
      NF != 3 { printf "%s:%d: expected \"user item rating\", got \"%s\"\n", f, NR, $0 \
                > "/dev/stderr"; exit 1 }
      { print $1 "\t" $2 "\t" $3 }' > "$out/$part.tsv.tmp"; then
    rm -f "$out/$part.tsv.tmp"
    exit 1
  fi
  mv "$out/$part.tsv.tmp" "$out/$part.tsv"
done
echo "wrote $out/train.tsv ($(wc -l < "$out/train.tsv") rows)" \
  "and $out/test.tsv ($(wc -l < "$out/test.tsv") rows)"
