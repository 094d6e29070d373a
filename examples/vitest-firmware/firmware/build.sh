#!/usr/bin/env bash
# Builds the example firmware with Debian's riscv64-unknown-elf-gcc into $OUT (default: this folder).
# Deterministic (../../../tools/riscv-cc.sh says how; the debug info, kept for gdb, maps the scratch
# path to "."), so the same toolchain gives a byte-identical firmware.elf.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../../tools/riscv-cc.sh"
rv_setup "$here" "$here"/*.h "$here"/*.c "$here"/*.S "$here"/link.ld
rv_build firmware.elf -march=rv64imac_zicsr -mabi=lp64 -mcmodel=medany -O2 -g -fdebug-prefix-map="$RV_WORK"=. \
  -Wall -Wextra -Werror -ffreestanding -fno-builtin -fno-pic "${RV_LINK[@]}" -Wl,-T,link.ld \
  crt.S trap.c uart.c timer.c main.c
rv_out firmware.elf
