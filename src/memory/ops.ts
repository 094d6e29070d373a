/**
 * The device side of the memory API: what an MMIO region's callbacks look like
 * (QEMU include/exec/memory.h, MemoryRegionOps).
 */

/** Size in bytes of one access. */
export type AccessSize = 1 | 2 | 4 | 8;

/**
 * Byte order of a device's registers. `native` is the target's order (little-endian for RISC-V and
 * ARM; an `AddressSpace` created with `bigEndian: true` makes it big-endian).
 */
export type Endianness = 'little' | 'big' | 'native';

/**
 * Callbacks and access rules of an MMIO region (QEMU MemoryRegionOps).
 *
 * `addr` is the offset of the access inside the region. A read returns the value as an unsigned number
 * for accesses of up to 4 bytes; an 8-byte read may return a bigint (or a number if it is exact).
 * A write receives a `number` when `size <= 4` and a `bigint` when `size === 8`. To report a bus error
 * throw `MemTxError`.
 *
 * `valid` says which accesses the device accepts; others fail with reason `invalid` (QEMU
 * memory_region_access_valid). As in QEMU, when `valid.max` is not given every size 1..8 is accepted
 * (`valid.min` is only looked at together with `valid.max`), and unaligned accesses are rejected unless
 * `valid.unaligned`.
 *
 * `impl` says which sizes the callbacks implement (default 1..4); other accepted accesses are split or
 * widened exactly as QEMU `access_with_adjusted_size` does (big-endian devices combine their pieces
 * most-significant first).
 */
export interface MemoryRegionOps {
  read(addr: number, size: AccessSize): number | bigint;
  write(addr: number, value: number | bigint, size: AccessSize): void;
  endianness?: Endianness;
  valid?: {
    min?: AccessSize;
    max?: AccessSize;
    unaligned?: boolean;
    /** Extra per-access check (QEMU valid.accepts). */
    accepts?(addr: number, size: AccessSize, isWrite: boolean): boolean;
  };
  impl?: {
    min?: AccessSize;
    max?: AccessSize;
    /** The callbacks handle unaligned accesses themselves (affects how bulk transfers are cut). */
    unaligned?: boolean;
  };
}

/** Where the memory API reports guest errors (structurally compatible with the machine logger). */
export interface MemoryLog {
  guestError(message: string): void;
}
