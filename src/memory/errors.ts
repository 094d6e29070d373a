/**
 * Errors of the memory API. They extend `Error` directly so that `src/memory` depends on nothing
 * else in the tree (it sits at the bottom of the layer stack with `qom` and `util`).
 */
/** Why a guest physical access failed (QEMU MemTxResult, with "invalid" split out of DECODE_ERROR). */
export type MemoryAccessReason = 'unassigned' | 'invalid' | 'device-error';

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

/**
 * A physical memory access through an {@link AddressSpace} failed: nothing is mapped there
 * (`unassigned`), the region rejected the access size/alignment/direction (`invalid`), or the device
 * reported a bus error (`device-error`). The CPU layer turns this into a guest access fault.
 */
export class MemoryAccessError extends Error {
  override readonly name = 'MemoryAccessError';
  constructor(
    /** Guest physical address of the access (the first byte). */
    readonly addr: bigint,
    /** Access size in bytes (for bulk accesses: the length of the transfer). */
    readonly size: number,
    readonly isWrite: boolean,
    readonly reason: MemoryAccessReason,
    /** Name of the address space the access went through. */
    readonly space = '',
    /** Name of the region that refused the access, when there is one. */
    readonly region = '',
  ) {
    super(
      `${isWrite ? 'write' : 'read'} of ${size} byte${size === 1 ? '' : 's'} at ${hex(addr)}` +
        (space ? ` in address space '${space}'` : '') +
        (region ? ` (region '${region}')` : '') +
        `: ${reason === 'unassigned' ? 'no region mapped there' : reason === 'invalid' ? 'access rejected by the region' : 'device reported a bus error'}`,
    );
  }
}

/**
 * Thrown by a device's {@link MemoryRegionOps} `read`/`write` callback to report a bus error for this
 * access (QEMU `read_with_attrs`/`write_with_attrs` returning MEMTX_ERROR). The address space turns it
 * into a {@link MemoryAccessError} with reason `device-error`. Any other exception propagates unchanged.
 */
export class MemTxError extends Error {
  override readonly name = 'MemTxError';
  constructor(message = 'device bus error') {
    super(message);
  }
}

/** Misuse of the region API (adding a region twice, cycles, bad ops descriptor, …). */
export class MemoryRegionError extends Error {
  override readonly name = 'MemoryRegionError';
}

/** A RAM block could not be allocated (too large, arena exhausted). */
export class RamAllocationError extends Error {
  override readonly name = 'RamAllocationError';
}
