/**
 * Guest RAM blocks and their dirty bitmaps (QEMU RAMBlock, system/physmem.c, include/exec/ram_addr.h).
 *
 * The bytes of a block come from a {@link RamAllocator}, so a machine can place all of its RAM in one
 * `ArrayBuffer` or `WebAssembly.Memory` (see {@link ArenaRamAllocator}); the default allocates one
 * `ArrayBuffer` per block. Allocation happens on first use of {@link RamBlock.bytes}: large blocks
 * cost nothing until touched, and zero-filled buffers are mapped lazily by the host OS anyway.
 */
import { RamAllocationError } from './errors.js';

/** log2 of the dirty-tracking page size. */
export const RAM_PAGE_BITS = 12;
/** Dirty-tracking page size (4 KiB). */
export const RAM_PAGE_SIZE = 1 << RAM_PAGE_BITS;

/**
 * Dirty flag: the page was written since the TCG layer last cleared it (QEMU DIRTY_MEMORY_CODE).
 * The TCG layer clears it when it translates code from the page; a write to a page with the flag
 * clear may hit translated code.
 */
export const DIRTY_CODE = 1;
/** Dirty flag for snapshot/migration tracking (QEMU DIRTY_MEMORY_MIGRATION). */
export const DIRTY_MIGRATION = 2;
/** All dirty flags. */
export const DIRTY_ALL = DIRTY_CODE | DIRTY_MIGRATION;

/** Largest RAM block: what one typed array can index on 64-bit Node and browsers. */
export const RAM_BLOCK_MAX = 2 ** 32;

/** Supplies the backing bytes of RAM blocks. */
export interface RamAllocator {
  /** Returns `size` zeroed bytes for the block `name`, or throws {@link RamAllocationError}. */
  allocate(size: number, name: string): Uint8Array;
}

/** The default allocator: a fresh `ArrayBuffer` per block. */
export class HeapRamAllocator implements RamAllocator {
  allocate(size: number, name: string): Uint8Array {
    try {
      return new Uint8Array(size);
    } catch (e) {
      throw new RamAllocationError(`RAM block '${name}': cannot allocate ${size} bytes (${(e as Error).message})`);
    }
  }
}

/**
 * Carves RAM blocks out of one buffer (for instance `WebAssembly.Memory.buffer`, so translated code can
 * reach RAM with plain loads). Blocks are aligned to `align` bytes. The buffer must already be large
 * enough: growing a `WebAssembly.Memory` detaches views made before the growth.
 */
export class ArenaRamAllocator implements RamAllocator {
  private next: number;

  constructor(
    readonly buffer: ArrayBuffer | SharedArrayBuffer,
    /** First byte of the buffer the arena may use. */
    start = 0,
    /** One past the last byte the arena may use. */
    readonly limit: number = buffer.byteLength,
    readonly align: number = RAM_PAGE_SIZE,
  ) {
    if (!(align > 0 && (align & (align - 1)) === 0)) throw new RamAllocationError(`arena alignment ${align} is not a power of two`);
    this.next = start;
  }

  /** Offset in {@link buffer} where the next block would start. */
  get used(): number {
    return this.next;
  }

  allocate(size: number, name: string): Uint8Array {
    const start = Math.ceil(this.next / this.align) * this.align;
    if (start + size > this.limit) {
      throw new RamAllocationError(
        `RAM block '${name}' (${size} bytes) does not fit in the arena: ${this.limit - start} bytes left`,
      );
    }
    this.next = start + size;
    const bytes = new Uint8Array(this.buffer, start, size);
    bytes.fill(0);
    return bytes;
  }
}

const defaultAllocator = new HeapRamAllocator();

/**
 * One block of guest RAM (or ROM) and its dirty bitmap: one byte per 4 KiB page holding
 * {@link DIRTY_CODE}/{@link DIRTY_MIGRATION} bits. A new block starts all dirty, as in QEMU
 * (ram_block_add marks the whole block dirty for every client).
 *
 * Writes through an `AddressSpace` set the dirty bits; code that writes {@link bytes} directly (the
 * TCG fast path) marks pages itself with {@link setDirty}.
 */
export class RamBlock {
  /** Size in bytes. */
  readonly size: number;
  /** Dirty flags, one byte per {@link RAM_PAGE_SIZE} page. */
  readonly dirty: Uint8Array;
  private _bytes: Uint8Array | null = null;

  constructor(
    readonly name: string,
    size: number | bigint,
    private readonly allocator: RamAllocator = defaultAllocator,
  ) {
    const n = typeof size === 'bigint' ? Number(size) : size;
    if (!Number.isInteger(n) || n < 0 || n > RAM_BLOCK_MAX) {
      throw new RamAllocationError(`RAM block '${name}': size ${size} must be an integer in 0..${RAM_BLOCK_MAX}`);
    }
    this.size = n;
    this.dirty = new Uint8Array(Math.ceil(n / RAM_PAGE_SIZE)).fill(DIRTY_ALL);
  }

  /** The bytes of the block; allocated by the block's allocator on first use. */
  get bytes(): Uint8Array {
    return this._bytes ?? this.allocate();
  }

  /** Whether {@link bytes} has been allocated yet. */
  get allocated(): boolean {
    return this._bytes !== null;
  }

  private allocate(): Uint8Array {
    const b = this.allocator.allocate(this.size, this.name);
    if (b.length !== this.size) {
      throw new RamAllocationError(`RAM block '${this.name}': allocator returned ${b.length} bytes, wanted ${this.size}`);
    }
    this._bytes = b;
    return b;
  }

  private pages(start: number, len: number): [number, number] {
    if (!(start >= 0 && len >= 0 && start + len <= this.size)) {
      throw new RangeError(`RAM block '${this.name}': range ${start}+${len} outside 0..${this.size}`);
    }
    return [Math.floor(start / RAM_PAGE_SIZE), Math.ceil((start + len) / RAM_PAGE_SIZE)];
  }

  /** Sets `flags` on every page overlapping [start, start+len). */
  setDirty(start: number, len: number, flags: number = DIRTY_ALL): void {
    const [p0, p1] = this.pages(start, len);
    const d = this.dirty;
    for (let p = p0; p < p1; p++) d[p]! |= flags;
  }

  /** Clears `flag` (one or more bits) on every page overlapping [start, start+len). */
  clearDirty(flag: number, start = 0, len: number = this.size - start): void {
    const [p0, p1] = this.pages(start, len);
    const d = this.dirty;
    const keep = ~flag & 0xff;
    for (let p = p0; p < p1; p++) d[p]! &= keep;
  }

  /** True if any page overlapping [start, start+len) has `flag` set. */
  getDirty(flag: number, start = 0, len: number = this.size - start): boolean {
    const [p0, p1] = this.pages(start, len);
    const d = this.dirty;
    for (let p = p0; p < p1; p++) if (d[p]! & flag) return true;
    return false;
  }

  /** {@link getDirty} then {@link clearDirty} (QEMU cpu_physical_memory_test_and_clear_dirty). */
  testAndClearDirty(flag: number, start = 0, len: number = this.size - start): boolean {
    const r = this.getDirty(flag, start, len);
    this.clearDirty(flag, start, len);
    return r;
  }

  /**
   * True if any page overlapping [start, start+len) has `flag` clear (QEMU
   * cpu_physical_memory_range_includes_clean); for {@link DIRTY_CODE}: the range may hold translated code.
   */
  includesClean(flag: number, start: number, len: number): boolean {
    const [p0, p1] = this.pages(start, len);
    const d = this.dirty;
    for (let p = p0; p < p1; p++) if (!(d[p]! & flag)) return true;
    return false;
  }
}
