/**
 * RISC-V boot helpers (QEMU 7.2 hw/riscv/boot.c, include/hw/riscv/boot_opensbi.h): the reset stub in
 * the mask ROM, the OpenSBI `fw_dynamic_info` block that follows it, and where firmware, kernel, initrd
 * and the device tree go in RAM.
 *
 * Everything here is a pure function of its arguments: the board (virt.ts) decides what to load and
 * hands the resulting blobs to the machine, which writes them into guest memory at every reset (as
 * QEMU's rom_reset re-copies ROM blobs).
 * @module
 */

/** `fw_dynamic_info.magic` ("OSBI" little-endian; QEMU FW_DYNAMIC_INFO_MAGIC_VALUE). */
export const FW_DYNAMIC_INFO_MAGIC = 0x4942534f;
/** `fw_dynamic_info.version` QEMU 7.2 writes (FW_DYNAMIC_INFO_VERSION). */
export const FW_DYNAMIC_INFO_VERSION = 2;
/** `next_mode` values (FW_DYNAMIC_INFO_NEXT_MODE_*). */
export const FW_DYNAMIC_NEXT_MODE_U = 0, FW_DYNAMIC_NEXT_MODE_S = 1, FW_DYNAMIC_NEXT_MODE_M = 3;

/** Number of 32-bit words of the reset stub (instructions + the two address dwords). */
export const RESET_VEC_WORDS = 10;
/** Size in bytes of the reset stub; `fw_dynamic_info` starts right after it. */
export const RESET_VEC_SIZE = RESET_VEC_WORDS * 4;

const MiB = 1n << 20n;
const GiB = 1n << 30n;

/** Base ISA width of the harts the boot code is built for. */
export type Xlen = 32 | 64;

/**
 * The reset stub words, as QEMU riscv_setup_rom_reset_vec:
 * ```
 * 1: auipc t0, %pcrel_hi(fw_dyn)    # t0 = stub address
 *    addi  a2, t0, %pcrel_lo(1b)    # a2 = &fw_dynamic_info (stub + 40)
 *    csrr  a0, mhartid
 *    ld/lw a1, 32(t0)               # a1 = fdt address
 *    ld/lw t0, 24(t0)               # t0 = start address
 *    jr    t0
 * start: .dword start_addr
 * fdt:   .dword fdt_addr
 * ```
 * On RV32 the high halves of the two dwords are 0 and the loads are `lw`.
 */
export function resetVectorWords(xlen: Xlen, startAddr: bigint, fdtAddr: bigint): number[] {
  const lo = (v: bigint): number => Number(BigInt.asUintN(32, v));
  const hi = (v: bigint): number => (xlen === 64 ? Number(BigInt.asUintN(32, v >> 32n)) : 0);
  return [
    0x00000297, // auipc t0, 0
    0x02828613, // addi  a2, t0, 40
    0xf1402573, // csrr  a0, mhartid
    xlen === 32 ? 0x0202a583 : 0x0202b583, // lw/ld a1, 32(t0)
    xlen === 32 ? 0x0182a283 : 0x0182b283, // lw/ld t0, 24(t0)
    0x00028067, // jr    t0
    lo(startAddr), hi(startAddr),
    lo(fdtAddr), hi(fdtAddr),
  ];
}

/** The reset stub as little-endian bytes ({@link resetVectorWords}). */
export function resetVectorBytes(xlen: Xlen, startAddr: bigint, fdtAddr: bigint): Uint8Array {
  const words = resetVectorWords(xlen, startAddr, fdtAddr);
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return out;
}

/** The fields of OpenSBI's `struct fw_dynamic_info`. */
export interface FwDynamicInfo {
  readonly magic: bigint;
  readonly version: bigint;
  /** Where the firmware jumps next (the kernel / U-Boot entry), 0 if none. */
  readonly nextAddr: bigint;
  /** Privilege of the next stage (1 = S). */
  readonly nextMode: bigint;
  readonly options: bigint;
  readonly bootHart: bigint;
}

/**
 * `struct fw_dynamic_info` as QEMU riscv_rom_copy_firmware_info writes it: six target_longs
 * (4 bytes each on RV32, 8 on RV64, little-endian) magic, version, next_addr, next_mode, options,
 * boot_hart.
 */
export function fwDynamicInfoBytes(xlen: Xlen, nextAddr: bigint, nextMode = FW_DYNAMIC_NEXT_MODE_S, bootHart = 0): Uint8Array {
  const w = xlen / 8;
  const fields = [BigInt(FW_DYNAMIC_INFO_MAGIC), BigInt(FW_DYNAMIC_INFO_VERSION), nextAddr, BigInt(nextMode), 0n, BigInt(bootHart)];
  const out = new Uint8Array(fields.length * w);
  const dv = new DataView(out.buffer);
  fields.forEach((f, i) => {
    if (w === 8) dv.setBigUint64(i * 8, BigInt.asUintN(64, f), true);
    else dv.setUint32(i * 4, Number(BigInt.asUintN(32, f)), true);
  });
  return out;
}

/** Decodes a `fw_dynamic_info` block (for tests and debugging). */
export function parseFwDynamicInfo(xlen: Xlen, bytes: Uint8Array): FwDynamicInfo {
  const w = xlen / 8;
  if (bytes.length < 6 * w) throw new RangeError(`fw_dynamic_info needs ${6 * w} bytes, got ${bytes.length}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f = (i: number): bigint => (w === 8 ? dv.getBigUint64(i * 8, true) : BigInt(dv.getUint32(i * 4, true)));
  return { magic: f(0), version: f(1), nextAddr: f(2), nextMode: f(3), options: f(4), bootHart: f(5) };
}

function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}
function alignDown(v: bigint, a: bigint): bigint {
  return (v / a) * a;
}

/**
 * Where the kernel goes after the firmware (QEMU riscv_calc_kernel_start_addr): the firmware's end
 * rounded up to 4 MiB on RV32 (megapage) or 2 MiB on RV64. With `-bios none` the "firmware end" is
 * the start of RAM, so the kernel loads there.
 */
export function kernelStartAddr(xlen: Xlen, firmwareEnd: bigint): bigint {
  return alignUp(firmwareEnd, xlen === 32 ? 4n * MiB : 2n * MiB);
}

/**
 * Where the device tree goes (QEMU 7.2 riscv_load_fdt): as high as possible so the kernel and initrd
 * do not overwrite it, but below 3 GiB so 32-bit code can reach it, on a 2 MiB boundary:
 * `align_down(min(dram_end, 3 GiB) - fdt_size, 2 MiB)` (when RAM starts below 3 GiB).
 */
export function fdtLoadAddr(dramBase: bigint, memSize: bigint, fdtSize: number): bigint {
  const dramEnd = dramBase + memSize;
  const top = dramBase < 3n * GiB ? (dramEnd < 3n * GiB ? dramEnd : 3n * GiB) : dramEnd;
  return alignDown(top - BigInt(fdtSize), 2n * MiB);
}

/**
 * Where the initrd goes (QEMU riscv_load_initrd): far enough above the kernel that an uncompressing
 * kernel does not clobber it: half of RAM for small machines, 128 MiB above the kernel otherwise.
 */
export function initrdStartAddr(kernelEntry: bigint, memSize: bigint): bigint {
  const half = memSize / 2n;
  return kernelEntry + (half < 128n * MiB ? half : 128n * MiB);
}
