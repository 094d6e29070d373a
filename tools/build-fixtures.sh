#!/usr/bin/env bash
# Rebuilds every guest fixture (test/fixtures/**/build.sh, bench/**/build.sh and the examples' build.sh)
# with Debian's cross toolchains; the scripts share tools/riscv-cc.sh (compiler, flags, deterministic
# scratch build). With --check, fails if a rebuilt binary differs from the committed one.
set -euo pipefail
cd "$(dirname "$0")/.."
check=${1:-}
status=0
shopt -s nullglob globstar
for script in test/fixtures/**/build.sh bench/**/build.sh examples/*/build.sh examples/*/firmware/build.sh; do
  dir=$(dirname "$script")
  if [[ "$check" == "--check" ]]; then
    tmp=$(mktemp -d)
    OUT="$tmp" bash "$script"
    for f in "$tmp"/*; do
      name=$(basename "$f")
      if ! cmp -s "$f" "$dir/$name"; then
        echo "fixture $dir/$name differs from its rebuild" >&2
        status=1
      fi
    done
    rm -rf "$tmp"
  else
    OUT="$dir" bash "$script"
  fi
done
exit $status
