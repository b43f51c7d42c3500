#!/bin/bash
# Every block between `<!-- snippet: docs/snippets/X.cc -->` and `<!-- end snippet -->` in
# docs/*.md must be a fenced cpp block equal, byte for byte, to docs/snippets/X.cc; and every
# snippet file must appear in some chapter. Run from the runfiles root (bazel test).
set -u
cd "${TEST_SRCDIR:-.}/${TEST_WORKSPACE:-.}" 2>/dev/null || true
fail=0; used=""
tmp=$(mktemp -d)
for md in docs/*.md; do
  n=0
  while IFS= read -r path; do
    n=$((n + 1))
    # Body of the n-th marked block without its marker and fence lines.
    awk -v want="$n" '
      /^<!-- snippet: / { k++; inside = (k == want); fence = 0; next }
      /^<!-- end snippet -->/ { inside = 0; next }
      inside && /^```/ { fence++; next }
      inside && fence == 1 { print }' "$md" > "$tmp/block"
    if [ ! -f "$path" ]; then
      echo "$md: snippet $path does not exist"; fail=1; continue
    fi
    if ! cmp -s "$tmp/block" "$path"; then
      echo "$md: block $n differs from $path:"; diff "$path" "$tmp/block" | head -20; fail=1
    fi
    used="$used $path"
  done < <(sed -n 's/^<!-- snippet: \(.*\) -->$/\1/p' "$md")
  opens=$(grep -c '^<!-- snippet: ' "$md"); closes=$(grep -c '^<!-- end snippet -->' "$md")
  if [ "$opens" != "$closes" ]; then echo "$md: $opens snippet markers, $closes end markers"; fail=1; fi
done
# A block between `<!-- output: docs/snippets/X -->` and `<!-- end output -->` must equal what
# the snippet test X prints between its "digraph" line and the closing "}" (the DOT of chapter 1).
for md in docs/*.md; do
  while IFS= read -r bin; do
    awk -v want="$bin" '
      $0 == "<!-- output: " want " -->" { inside = 1; next }
      /^<!-- end output -->/ { inside = 0 }
      inside && !/^```/ { print }' "$md" > "$tmp/shown"
    "$bin" 2>/dev/null | sed -n '/^digraph/,/^}/p' > "$tmp/printed"
    if ! cmp -s "$tmp/shown" "$tmp/printed"; then
      echo "$md: the output shown for $bin differs from what it prints:"
      diff "$tmp/printed" "$tmp/shown" | head -20; fail=1
    fi
  done < <(sed -n 's/^<!-- output: \(.*\) -->$/\1/p' "$md")
done
for f in docs/snippets/*.cc; do
  case " $used " in *" $f "*) ;; *) echo "$f is not shown in any chapter"; fail=1 ;; esac
done
rm -rf "$tmp"
[ "$fail" = 0 ] && echo "all snippets match their files"
# One case in the suite's count (tools/count_test_cases.sh reads this line).
echo "[check] cases: 1 | $((1 - fail)) passed | $fail failed"
exit "$fail"
