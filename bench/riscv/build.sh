#!/usr/bin/env bash
# Builds softboard's benchmark programs for the RISC-V virt board (bare metal, -bios none) with Debian's
# riscv64-unknown-elf-gcc, into $OUT (default: this directory).
#
# Each program's C is first built for the host ($HOSTCC, default cc) and run: its checksum is baked into
# the guest build (-DEXPECTED=...), which checks itself against it. Per program: <p>.elf (RV64GC, full
# size), <p>-small.elf (-DSMALL, for tests and `npm run bench -- --quick`), and the RV32IMAC variants
# <p>-rv32.elf, <p>-small-rv32.elf (not nbody: RV32IMAC has no FPU). empty[-rv32].elf measures start-up.
#
# Deterministic (tools/riscv-cc.sh says how), so the same toolchain gives byte-identical files
# (tools/build-fixtures.sh --check).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../tools/riscv-cc.sh"
HOSTCC=${HOSTCC:-cc}
rv_setup "$here" "$here"/bench.h "$here"/crt.S "$here"/link.ld "$here"/*.c

# Flags shared by the host and guest builds: the same C must compute the same checksum on both.
cflags_all=(-O2 -Wall -Werror -ffp-contract=off -fno-math-errno)
guest=("${RV_BAREMETAL[@]}" -mcmodel=medany -Wl,--strip-debug -Wl,-T,link.ld "${cflags_all[@]}")
rv64=("${RV64GC[@]}")
rv32=("${RV32IMAC[@]}")
# libgcc for 64-bit arithmetic on RV32 (__udivdi3 …). The _zicsr_zifencei spelling matches no multilib,
# so ask with the plain ISA string for the right directory.
libgcc64=$("$CC" -march=rv64gc -mabi=lp64d -print-libgcc-file-name)
libgcc32=$("$CC" -march=rv32imac -mabi=ilp32 -print-libgcc-file-name)

# Objects of the run-time, one set per ISA.
for isa in rv64 rv32; do
  declare -n flags=$isa
  "$CC" "${flags[@]}" "${guest[@]}" -c crt.S -o "crt-$isa.o"
  "$CC" "${flags[@]}" "${guest[@]}" -fno-tree-loop-distribute-patterns -c bench-rt.c -o "bench-rt-$isa.o"
done

# expected <program> <variant flags…>: the checksum the host build prints.
expected() {
  local prog=$1; shift
  "$HOSTCC" "${cflags_all[@]}" -DBENCH_HOST "$@" "$prog.c" -o "host-$prog"
  local line
  line=$("./host-$prog")
  [[ $line =~ checksum\ (0x[0-9a-f]{8}) ]] || { echo "build.sh: host $prog printed '$line'" >&2; exit 1; }
  echo "${BASH_REMATCH[1]}"
}

# guest_build <output.elf> <isa> <program> <flags…>
guest_build() {
  local out=$1 isa=$2 prog=$3; shift 3
  declare -n flags=$isa
  local lib=$libgcc64
  [[ $isa == rv32 ]] && lib=$libgcc32
  RV_OBJ_PREFIX=${out%.elf}. rv_build "$out" "${flags[@]}" "${guest[@]}" "$@" \
    "crt-$isa.o" "bench-rt-$isa.o" "$prog.c" "$lib"
}

# The RV32 builds get -DBENCH_RV32, which may select a smaller work size (bench.h); the host build with
# the same flags gives their expected checksum (and the harness's native time for them).
for prog in intmix memsort interp muldiv64 nbody; do
  guest_build "$prog.elf" rv64 "$prog" -DEXPECTED="$(expected "$prog")"
  guest_build "$prog-small.elf" rv64 "$prog" -DSMALL -DEXPECTED="$(expected "$prog" -DSMALL)"
  if [[ $prog != nbody ]]; then
    guest_build "$prog-rv32.elf" rv32 "$prog" -DBENCH_RV32 -DEXPECTED="$(expected "$prog" -DBENCH_RV32)"
    guest_build "$prog-small-rv32.elf" rv32 "$prog" -DBENCH_RV32 -DSMALL -DEXPECTED="$(expected "$prog" -DBENCH_RV32 -DSMALL)"
  fi
done
guest_build empty.elf rv64 empty -DEXPECTED=0
guest_build empty-rv32.elf rv32 empty -DEXPECTED=0

rv_out ./*.elf
