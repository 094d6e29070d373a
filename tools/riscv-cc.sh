# shellcheck shell=bash
# Shared part of softboard's guest build scripts (test/fixtures/*/build.sh, bench/riscv/build.sh,
# examples/**/build.sh): sourced, not run. Each script states only its sources, ISA and extra flags:
#
#   set -euo pipefail
#   here=$(cd "$(dirname "$0")" && pwd)
#   source "$here/../../tools/riscv-cc.sh"
#   rv_setup "$here" "$here"/*.c "$here"/link.ld   # $OUT, $CC, scratch copy, cd into it
#   rv_build prog.elf "${RV64GC[@]}" "${RV_BAREMETAL[@]}" -O2 crt.S prog.c
#   rv_out prog.elf
#
# Why the builds are byte-identical from one run to the next (tools/build-fixtures.sh --check compares
# them with the committed files): sources are compiled from a scratch copy under relative names (no
# absolute path leaks into the objects), each object gets a fixed name (an object's name lands in the
# symbol table as its FILE symbol; gcc's one-step compile-and-link would use a random temporary one),
# and the link has no build id. Debug info, where a script keeps it, maps the scratch path to ".".

# The cross compiler: Debian's riscv64-unknown-elf-gcc (package gcc-riscv64-unknown-elf) unless $CC says.
CC=${CC:-riscv64-unknown-elf-gcc}

# ISA/ABI pairs. RV32's zicsr/zifencei are spelled out: under ISA spec 20191213 (gcc 12's default) csr*
# and fence.i need them, and unlike 'g' the 'imac' string does not imply them.
RV64GC=(-march=rv64gc -mabi=lp64d)
RV32IMAC=(-march=rv32imac_zicsr_zifencei -mabi=ilp32)

# A guest program with no libc and no host start files, linked deterministically (no build id; the
# RWX-segment warning is expected for one-segment bare-metal images).
RV_LINK=(-nostdlib -nostartfiles -static -Wl,--build-id=none -Wl,--no-warn-rwx-segments)
# Plus, for the bare-metal machine programs (not the Linux user-mode ones run by qemu-riscv64): C with no
# hosted assumptions, absolute code.
RV_BAREMETAL=("${RV_LINK[@]}" -ffreestanding -fno-pic)

# rv_setup <script-dir> [<file>…]: sets $OUT (default <script-dir>, made absolute and created), checks
# $CC, makes the scratch directory $RV_WORK (removed on exit), copies the files into it and cd's there.
rv_setup() {
  local dir=$1; shift
  OUT=${OUT:-$dir}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  if ! command -v "$CC" >/dev/null; then
    echo "$0: cross compiler '$CC' not found (Debian: apt install gcc-riscv64-unknown-elf)" >&2
    exit 1
  fi
  RV_WORK=$(mktemp -d)
  trap 'rm -rf "$RV_WORK"' EXIT
  if (($#)); then cp "$@" "$RV_WORK"/; fi
  cd "$RV_WORK"
}

# rv_build <output.elf> <flags…> <inputs…>: compiles each source input apart into
# "$RV_OBJ_PREFIX<stem>.o" (RV_OBJ_PREFIX empty unless set, e.g. RV_OBJ_PREFIX=hello. when one source
# goes into several programs), then links the objects in input order. Arguments starting with '-' are
# flags, used for every compile and for the link; inputs ending in .o or .a are linked as they are.
rv_build() {
  local out=$1; shift
  local flags=() inputs=() a obj
  for a in "$@"; do
    if [[ $a == -* ]]; then flags+=("$a"); fi
  done
  for a in "$@"; do
    [[ $a == -* ]] && continue
    if [[ $a == *.o || $a == *.a ]]; then
      inputs+=("$a")
    else
      obj=${RV_OBJ_PREFIX:-}$(basename "${a%.*}").o
      "$CC" "${flags[@]}" -c "$a" -o "$obj"
      inputs+=("$obj")
    fi
  done
  "$CC" "${flags[@]}" "${inputs[@]}" -o "$out"
}

# rv_out <file>…: copies built files from the scratch directory to $OUT.
rv_out() {
  cp "$@" "$OUT"/
}
