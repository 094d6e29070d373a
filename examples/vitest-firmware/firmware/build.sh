#!/usr/bin/env bash
# Builds the example firmware with Debian's riscv64-unknown-elf-gcc into $OUT (default: this folder).
# Deterministic: sources are compiled from a scratch copy under fixed names, with the scratch path
# mapped to "." in the debug info (kept for gdb) and no build id, so the same toolchain gives a
# byte-identical firmware.elf.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$here}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
CC=${CC:-riscv64-unknown-elf-gcc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/*.h "$here"/*.c "$here"/*.S "$here"/link.ld "$work"/
cd "$work"
flags=(-march=rv64imac_zicsr -mabi=lp64 -mcmodel=medany -O2 -g -fdebug-prefix-map="$work"=. -Wall -Wextra -Werror
       -ffreestanding -fno-builtin -fno-pic -nostdlib -nostartfiles -static
       -Wl,-T,link.ld -Wl,--build-id=none -Wl,--no-warn-rwx-segments)
objs=()
for src in crt.S trap.c uart.c timer.c main.c; do
  "$CC" "${flags[@]}" -c "$src" -o "${src%.*}.o"
  objs+=("${src%.*}.o")
done
"$CC" "${flags[@]}" "${objs[@]}" -o firmware.elf
cp firmware.elf "$OUT"/
