#!/usr/bin/env bash
# Builds the package and runs each example's own test suite (examples/*/package.json) against it, as
# CI does: `npm ci` in the example (its lockfile is committed; `softboard` is `file:../..`, this
# checkout), then `npm test`. Examples with a firmware/build.sh also have their committed firmware
# checked against a rebuild when the RISC-V cross compiler is installed.
# SKIP_BUILD=1 skips `npm run build` (when dist/ is already fresh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
if [[ ${SKIP_BUILD:-} != 1 ]]; then npm run build; fi
status=0
for dir in examples/*/; do
  dir=${dir%/}
  [[ -f $dir/package.json ]] || continue
  echo "== $dir"
  if [[ -f $dir/firmware/build.sh ]]; then
    if command -v "${CC:-riscv64-unknown-elf-gcc}" >/dev/null; then
      tmp=$(mktemp -d)
      OUT="$tmp" bash "$dir/firmware/build.sh"
      for f in "$tmp"/*; do
        if ! cmp -s "$f" "$dir/firmware/$(basename "$f")"; then
          echo "$dir/firmware/$(basename "$f") differs from its rebuild (run bash $dir/firmware/build.sh)" >&2
          status=1
        fi
      done
      rm -rf "$tmp"
    else
      echo "(riscv64-unknown-elf-gcc not installed: committed firmware of $dir not checked)"
    fi
  fi
  if ! (cd "$root/$dir" && npm ci --no-audit --no-fund --loglevel=error && npm test); then
    echo "example $dir failed" >&2
    status=1
  fi
done
exit $status
