#!/usr/bin/env bash
# Builds firmware.elf for the custom board with Debian's riscv64-unknown-elf-gcc (RV32IMAC, ilp32).
# Deterministic (../../tools/riscv-cc.sh says how), so the committed ELF can be checked with
# `./build.sh --check` or by tools/build-fixtures.sh --check.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tools/riscv-cc.sh"
# $OUT (tools/build-fixtures.sh sets it) is where the ELF goes; default: beside this script.
rv_setup "$here" "$here"/firmware/*
rv_build firmware.elf -march=rv32imac_zicsr -mabi=ilp32 "${RV_BAREMETAL[@]}" -O2 -Wall -Werror -Wl,-T,link.ld \
  start.S main.c
if [[ ${1:-} == --check ]]; then
  cmp firmware.elf "$here/firmware.elf" && echo "firmware.elf is up to date"
else
  rv_out firmware.elf
  echo "built $OUT/firmware.elf"
fi
