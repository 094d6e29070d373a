#!/usr/bin/env bash
# Builds firmware.elf for the custom board with Debian's riscv64-unknown-elf-gcc (RV32IMAC, ilp32).
# Deterministic (no build id, no debug info), so the committed ELF can be checked with `./build.sh --check`
# or by tools/build-fixtures.sh --check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-riscv64-unknown-elf-gcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/firmware/* "$work"/
cd "$work"
flags=(-march=rv32imac_zicsr -mabi=ilp32 -nostdlib -nostartfiles -static -ffreestanding -fno-pic -O2 -Wall -Werror
       -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-T,link.ld)
"$CC" "${flags[@]}" -c start.S -o start.o
"$CC" "${flags[@]}" -c main.c -o main.o
"$CC" "${flags[@]}" start.o main.o -o firmware.elf
# $OUT (tools/build-fixtures.sh sets it) is where the ELF goes; default: beside this script.
out=${OUT:-$here}
if [[ ${1:-} == --check ]]; then
  cmp firmware.elf "$here/firmware.elf" && echo "firmware.elf is up to date"
else
  mkdir -p "$out"
  cp firmware.elf "$out/firmware.elf"
  echo "built $out/firmware.elf"
fi
