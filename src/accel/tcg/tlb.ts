/**
 * The per-CPU soft TLB and the guest memory access paths of translated code
 * (QEMU accel/tcg/cputlb.c, include/exec/cpu-defs.h CPUTLBEntry).
 *
 * ## Entry layout (read by the closure backend through {@link SoftTlb.load}/{@link SoftTlb.store}, and
 * meant to be read directly by a future WASM backend)
 *
 * `entries` is one `Int32Array`; entry `i` of MMU index `m` starts at word
 * `((m << tlbBits) + i) * TLB_ENTRY_WORDS`, with `i = (vaddrLo >>> 12) & (tlbSize - 1)` (direct mapped):
 *
 * | word | field |
 * |------|-------|
 * | 0, 1 | read tag lo, hi  |
 * | 2, 3 | write tag lo, hi |
 * | 4, 5 | code tag lo, hi  |
 * | 6    | RAM id (index into {@link RamTable}) or -1 when the page is not plain RAM |
 * | 7    | byte offset of the page inside that RAM block |
 *
 * A tag is the 64-bit virtual page address as (lo, hi) int32 halves; the low 12 bits of `lo` are zero
 * except for the `TLB_*` flag bits; an invalid tag is lo = -1 (so `TLB_INVALID` is set). An access of
 * `size` bytes at (lo, hi) hits the fast path iff `(lo & (PAGE_MASK | (size - 1))) === tag.lo &&
 * hi === tag.hi`: this also sends misaligned accesses and flagged pages (MMIO, code, hooks) to the slow
 * path, exactly as QEMU folds alignment and TLB_* flags into the comparison. A hit reads
 * `ram[id].bytes[offset + (lo & 0xfff)]`.
 */
import { MemoryAccessError } from '../../memory/errors.js';
import { MO_ALIGN, MO_BE, MO_SIGN, MO_SIZE } from '../../tcg/ir.js';
import {
  MmuAccess, PROT_EXEC, PROT_READ, PROT_WRITE, TARGET_PAGE_BITS, TARGET_PAGE_SIZE,
  type TcgCpuOps,
} from './tcg-cpu-ops.js';

// ---- the slice of the memory API (src/memory) that the TLB uses ------------------------------------

/** What the TLB needs of a RAM block (src/memory RamBlock). */
export interface TcgRamBlock {
  readonly bytes: Uint8Array;
  readonly size: number;
  /** Dirty flags per 4 KiB page (src/memory DIRTY_CODE = 1, DIRTY_MIGRATION = 2). */
  readonly dirty?: Uint8Array;
}

/** What the TLB needs of a memory region section (src/memory MemoryRegionSection). */
export interface TcgMemorySection {
  readonly mr: {
    readonly ram?: TcgRamBlock | undefined;
    /** 'ram' (RAM or ROM), 'rom-device', 'io', … (src/memory MemoryRegionKind). */
    readonly kind?: string;
  };
  readonly offsetWithinRegion: bigint;
  readonly offsetWithinAddressSpace: bigint;
  readonly size: bigint;
  /** Writes are refused (ROM): they go through the address space, which ignores them. */
  readonly readonly: boolean;
  /** ROM devices: reads come from the RAM backing (ROMD mode). */
  readonly romd?: boolean;
}

/** What the TLB needs of an address space (src/memory AddressSpace). */
export interface TcgAddressSpace {
  translate(addr: bigint): TcgMemorySection | null;
  /** Little-endian bus read; throws a `MemoryAccessError` when the bus rejects the access. */
  read(addr: bigint, size: 1 | 2 | 4 | 8): bigint;
  /** Little-endian bus write; throws a `MemoryAccessError` when the bus rejects the access. */
  write(addr: bigint, value: bigint, size: 1 | 2 | 4 | 8): void;
  addListener?(listener: { commit?(): void }): unknown;
}

/** True for the memory API's access errors, which become guest bus errors. */
export function isMemoryAccessError(e: unknown): boolean {
  return e instanceof MemoryAccessError;
}

/** src/memory DIRTY_MIGRATION: the TLB keeps it set for pages written by translated code. */
const DIRTY_MIGRATION = 2;
const DIRTY_ALL = 3;

// ---- RAM identities ---------------------------------------------------------------------------------

/**
 * Numbers the RAM blocks a machine's CPUs touch, so that TLB entries and translated-code pages can name
 * a RAM page with plain numbers (QEMU ram_addr_t). Shared by every CPU of one {@link TbCache}.
 */
export class RamTable {
  readonly blocks: TcgRamBlock[] = [];
  readonly bytes: Uint8Array[] = [];
  readonly views: DataView[] = [];
  private readonly ids = new Map<TcgRamBlock, number>();
  /** Called when a block gets its id (the wasm tier records where the block's bytes are). */
  onRegister: ((id: number, bytes: Uint8Array) => void) | null = null;
  /** Byte address of each block in the wasm tier's memory (set through {@link onRegister}), or -1. */
  readonly hostAddress: number[] = [];

  /** The id of `block`, registering it on first use. */
  idOf(block: TcgRamBlock): number {
    let id = this.ids.get(block);
    if (id === undefined) {
      id = this.blocks.length;
      const b = block.bytes;
      this.ids.set(block, id);
      this.blocks.push(block);
      this.bytes.push(b);
      this.views.push(new DataView(b.buffer, b.byteOffset, b.byteLength));
      this.onRegister?.(id, b);
    }
    return id;
  }

  /** The id of `block` or -1 if it was never registered. */
  peekId(block: TcgRamBlock): number {
    return this.ids.get(block) ?? -1;
  }
}

/** Multiplier combining a RAM id and a page index into one page key (blocks up to 8 GiB). */
const RAM_PAGE_KEY_MUL = 1 << 21;

/** The page key of (RAM id, byte offset of the page): a number identifying a physical RAM page. */
export function ramPageKey(ramId: number, pageOffset: number): number {
  return ramId * RAM_PAGE_KEY_MUL + (pageOffset >>> TARGET_PAGE_BITS);
}

/** RAM id of a page key. */
export function pageKeyRamId(key: number): number {
  return Math.floor(key / RAM_PAGE_KEY_MUL);
}

/** Byte offset in its RAM block of the page named by a page key. */
export function pageKeyOffset(key: number): number {
  return (key % RAM_PAGE_KEY_MUL) * TARGET_PAGE_SIZE;
}

// ---- layout constants -------------------------------------------------------------------------------

/** int32 words per TLB entry. */
export const TLB_ENTRY_WORDS = 8;
export const TLB_READ_LO = 0, TLB_READ_HI = 1, TLB_WRITE_LO = 2, TLB_WRITE_HI = 3;
export const TLB_CODE_LO = 4, TLB_CODE_HI = 5, TLB_RAM_ID = 6, TLB_RAM_OFFSET = 7;

/** Tag flag: the entry is invalid (set in an all-ones tag). */
export const TLB_INVALID = 1 << 11;
/** Tag flag (write tag): the page holds translated code; writes must invalidate it (QEMU TLB_NOTDIRTY). */
export const TLB_NOTDIRTY = 1 << 10;
/** Tag flag: not plain RAM (MMIO, ROM write, unassigned, sub-page): accesses go through the address space. */
export const TLB_MMIO = 1 << 9;
/** Tag flag: memory hooks are installed; accesses take the slow path, which reports them. */
export const TLB_HOOK = 1 << 8;
/** The layout the wasm tier's inline TLB check reads (src/tcg/backend/wasm/tier.ts TierTlbLayout). */
export const TIER_TLB_LAYOUT = {
  tlbBits: 12, tlbEntryBytes: TLB_ENTRY_WORDS * 4, tlbReadTag: TLB_READ_LO * 4, tlbWriteTag: TLB_WRITE_LO * 4,
  tlbRamId: TLB_RAM_ID * 4, tlbRamOffset: TLB_RAM_OFFSET * 4, pageBits: TARGET_PAGE_BITS,
} as const;

/** All tag flags. */
export const TLB_FLAGS_MASK = TLB_INVALID | TLB_NOTDIRTY | TLB_MMIO | TLB_HOOK;

const PAGE_MASK = ~(TARGET_PAGE_SIZE - 1);
const PAGE_OFFSET_MASK = TARGET_PAGE_SIZE - 1;
const MASK32 = 0xffffffffn;
const MASK64 = 0xffffffffffffffffn;

/** (lo, hi) int32 halves → unsigned 64-bit BigInt. */
export function joinAddr(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function bswap32(x: number): number {
  return ((x >>> 24) | ((x >>> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) | 0;
}

/**
 * Receives writes to RAM pages that hold translated code (the execution loop implements it; QEMU
 * notdirty_write + tb_invalidate_phys_range_fast).
 */
export interface CodeWriteHandler {
  /**
   * Called before bytes [offset, offset+len) of RAM block `ramId` are written. Invalidates the TBs there;
   * may throw a `CpuLoopExit` when the executing TB itself is hit (nothing has been written yet).
   */
  beforeCodeWrite(ramId: number, offset: number, len: number): void;
  /** True if the RAM page (by page key) still holds translated code. */
  pageHasCode(key: number): boolean;
  /**
   * Called before every device (non-RAM) access by translated code, before anything is accessed; may
   * throw a `CpuLoopExit` to have the instruction run again as the last of a TB (QEMU cpu_io_recompile).
   */
  beforeIo?(): void;
}

/** Receives the accesses when memory hooks are installed. */
export interface MemHookSink {
  memRead(vaddr: bigint, size: number, value: bigint): void;
  memWrite(vaddr: bigint, size: number, value: bigint): void;
}

/** Options of a soft TLB. */
export interface SoftTlbOptions {
  /**
   * log2 of the number of entries per MMU index (default 12: 4096 entries, 16 MiB reach; with 1024,
   * memsort's four 2 MiB arrays evicted each other and it ran 1.6× slower. QEMU resizes its TLB
   * dynamically instead, accel/tcg/cputlb.c tlb_mmu_resize_locked).
   */
  readonly tlbBits?: number;
  /**
   * Allocates the entry array (`words` int32s), e.g. inside a wasm memory so translated code reads the
   * TLB directly; default: a fresh `Int32Array`.
   */
  readonly allocateEntries?: ((words: number) => Int32Array) | undefined;
  /**
   * Allocates the addends (one int32 per entry: the byte address of the entry's RAM page in the wasm
   * tier's memory, from {@link RamTable.hostAddress}, or -1), kept for translated wasm code; default none.
   */
  readonly allocateAddends?: ((entries: number) => Int32Array) | undefined;
}

/** Statistics of one soft TLB. */
export interface TlbStats {
  /** Entries filled after a miss (calls to the target's tlbFill that succeeded). */
  fills: number;
  /** Full flushes (all MMU indexes). */
  flushes: number;
  /** Flushes of one page or one MMU index. */
  partialFlushes: number;
}

/**
 * A per-CPU soft TLB with the load/store paths of translated code. The execution loop's runtime
 * extends this class, so `load`/`store` are direct methods of the {@link TbRuntime} a TB runs against.
 */
export class SoftTlb {
  /** See the module comment for the layout. */
  readonly entries: Int32Array;
  /** Per entry: the byte address of its RAM page in the wasm tier's memory, or -1 (see SoftTlbOptions). */
  readonly addends: Int32Array | null;
  /** Physical address of each entry's page (the slow path and code tracking use it); index = word / 8. */
  readonly physPages: bigint[];
  readonly tlbBits: number;
  readonly tlbSize: number;
  readonly nbMmuModes: number;
  /** High half of the last 64-bit load (TbRuntime.loadHi). */
  loadHi = 0;
  /** Index of the guest instruction executing in the current TB (TbRuntime.curInsn). */
  curInsn = 0;
  readonly tlbStats: TlbStats = { fills: 0, flushes: 0, partialFlushes: 0 };
  /** Called after any flush (the loop clears its jump cache: virtual→TB mappings may be stale). */
  onFlush: (() => void) | null = null;
  /** Set while memory hooks are installed; entries are then filled with {@link TLB_HOOK}. */
  memHooks: MemHookSink | null = null;
  codeWrites: CodeWriteHandler | null = null;

  private readonly bytes: Uint8Array[];
  private readonly views: DataView[];
  /** Per MMU index: the large page covering all large-page entries (QEMU tlb_add_large_page). */
  private readonly largeAddr: bigint[];
  private readonly largeMask: bigint[];

  constructor(
    readonly ops: TcgCpuOps,
    readonly as: TcgAddressSpace,
    readonly ram: RamTable,
    options: SoftTlbOptions = {},
  ) {
    this.tlbBits = options.tlbBits ?? 12;
    this.tlbSize = 1 << this.tlbBits;
    this.nbMmuModes = Math.max(1, ops.nbMmuModes);
    const words = this.nbMmuModes * this.tlbSize * TLB_ENTRY_WORDS;
    this.entries = (options.allocateEntries?.(words) ?? new Int32Array(words)).fill(-1);
    this.addends = options.allocateAddends?.(words / TLB_ENTRY_WORDS).fill(-1) ?? null;
    this.physPages = new Array<bigint>(this.nbMmuModes * this.tlbSize).fill(-1n);
    this.bytes = ram.bytes;
    this.views = ram.views;
    this.largeAddr = new Array<bigint>(this.nbMmuModes).fill(-1n);
    this.largeMask = new Array<bigint>(this.nbMmuModes).fill(0n);
    // A change of the memory map may move RAM or devices under any cached page (QEMU tcg_commit).
    as.addListener?.({ commit: () => this.flushAll() });
  }

  // ---- the fast paths (TbRuntime.load / TbRuntime.store) ------------------------------------------

  /** Guest load for translated code (see TbRuntime.load). */
  load(addrLo: number, addrHi: number, memop: number, mmuIdx: number): number {
    const sizeLog = memop & MO_SIZE;
    const e = ((mmuIdx << this.tlbBits) + ((addrLo >>> TARGET_PAGE_BITS) & (this.tlbSize - 1))) * TLB_ENTRY_WORDS;
    const ent = this.entries;
    // MO_BE (bit 3) is never set in a valid tag: big-endian accesses fall to the slow path for free.
    if (((addrLo & (PAGE_MASK | ((1 << sizeLog) - 1))) | (memop & MO_BE)) === ent[e] && addrHi === ent[e + 1]) {
      const off = (ent[e + TLB_RAM_OFFSET]! >>> 0) + (addrLo & PAGE_OFFSET_MASK);
      const id = ent[e + TLB_RAM_ID]!;
      switch (sizeLog) {
        case 0: {
          const v = this.bytes[id]![off]!;
          return (memop & MO_SIGN) !== 0 ? (v << 24) >> 24 : v;
        }
        case 1: return (memop & MO_SIGN) !== 0 ? this.views[id]!.getInt16(off, true) : this.views[id]!.getUint16(off, true);
        case 2: return this.views[id]!.getInt32(off, true);
        default: {
          const dv = this.views[id]!;
          this.loadHi = dv.getInt32(off + 4, true);
          return dv.getInt32(off, true);
        }
      }
    }
    return this.loadSlow(addrLo, addrHi, memop, mmuIdx);
  }

  /** Guest store for translated code (see TbRuntime.store). */
  store(addrLo: number, addrHi: number, valLo: number, valHi: number, memop: number, mmuIdx: number): void {
    const sizeLog = memop & MO_SIZE;
    const e = ((mmuIdx << this.tlbBits) + ((addrLo >>> TARGET_PAGE_BITS) & (this.tlbSize - 1))) * TLB_ENTRY_WORDS;
    const ent = this.entries;
    if (((addrLo & (PAGE_MASK | ((1 << sizeLog) - 1))) | (memop & MO_BE)) === ent[e + TLB_WRITE_LO]
        && addrHi === ent[e + TLB_WRITE_HI]) {
      const off = (ent[e + TLB_RAM_OFFSET]! >>> 0) + (addrLo & PAGE_OFFSET_MASK);
      const id = ent[e + TLB_RAM_ID]!;
      switch (sizeLog) {
        case 0: this.bytes[id]![off] = valLo; return;
        case 1: this.views[id]!.setInt16(off, valLo, true); return;
        case 2: this.views[id]!.setInt32(off, valLo, true); return;
        default: {
          const dv = this.views[id]!;
          dv.setInt32(off, valLo, true);
          dv.setInt32(off + 4, valHi, true);
          return;
        }
      }
    }
    this.storeSlow(addrLo, addrHi, valLo, valHi, memop, mmuIdx);
  }

  // ---- the slow paths (QEMU load_helper / store_helper) --------------------------------------------

  /** Word index of the entry for (addr, mmuIdx), filled for `access` (may throw a guest fault). */
  private entryFor(addrLo: number, addrHi: number, access: MmuAccess, mmuIdx: number): number {
    const e = ((mmuIdx << this.tlbBits) + ((addrLo >>> TARGET_PAGE_BITS) & (this.tlbSize - 1))) * TLB_ENTRY_WORDS;
    const t = e + access * 2;
    if ((this.entries[t]! & ~(TLB_FLAGS_MASK & ~TLB_INVALID)) === (addrLo & PAGE_MASK) && this.entries[t + 1] === addrHi) return e;
    this.fill(joinAddr(addrLo, addrHi), access, mmuIdx, false);
    return e;
  }

  private loadSlow(addrLo: number, addrHi: number, memop: number, mmuIdx: number): number {
    const sizeLog = memop & MO_SIZE;
    const size = 1 << sizeLog;
    if ((addrLo & (size - 1)) !== 0) {
      if ((memop & MO_ALIGN) !== 0) this.alignmentFault(addrLo, addrHi, MmuAccess.LOAD, mmuIdx);
      if ((addrLo & PAGE_OFFSET_MASK) + size > TARGET_PAGE_SIZE) return this.loadCrossPage(addrLo, addrHi, memop, mmuIdx);
    }
    const e = this.entryFor(addrLo, addrHi, MmuAccess.LOAD, mmuIdx);
    const tag = this.entries[e]!;
    const pageOff = addrLo & PAGE_OFFSET_MASK;
    let lo: number, hi = 0;
    if ((tag & TLB_MMIO) !== 0) {
      const v = this.ioRead(e, addrLo, addrHi, pageOff, size, MmuAccess.LOAD);
      lo = Number(v & MASK32) | 0;
      hi = Number(v >> 32n) | 0;
    } else {
      const dv = this.views[this.entries[e + TLB_RAM_ID]!]!;
      const off = (this.entries[e + TLB_RAM_OFFSET]! >>> 0) + pageOff;
      switch (sizeLog) {
        case 0: lo = dv.getUint8(off); break;
        case 1: lo = dv.getUint16(off, true); break;
        case 2: lo = dv.getInt32(off, true); break;
        default: lo = dv.getInt32(off, true); hi = dv.getInt32(off + 4, true);
      }
    }
    if ((tag & TLB_HOOK) !== 0) this.memHooks?.memRead(joinAddr(addrLo, addrHi), size, joinAddr(lo, size === 8 ? hi : 0));
    return this.finishLoad(lo, hi, memop);
  }

  /** Byte-by-byte load of an access crossing a page (QEMU load_helper's unaligned split). */
  private loadCrossPage(addrLo: number, addrHi: number, memop: number, mmuIdx: number): number {
    const size = 1 << (memop & MO_SIZE);
    // Fill both pages first (first page first), so a fault on the second page happens before any
    // device is read.
    const base = joinAddr(addrLo, addrHi);
    const next = BigInt.asUintN(64, (base | BigInt(PAGE_OFFSET_MASK)) + 1n);
    this.entryFor(addrLo, addrHi, MmuAccess.LOAD, mmuIdx);
    this.entryFor(Number(next & MASK32) | 0, Number(next >> 32n) | 0, MmuAccess.LOAD, mmuIdx);
    let lo = 0, hi = 0;
    for (let k = 0; k < size; k++) {
      const a = BigInt.asUintN(64, base + BigInt(k));
      const b = this.loadSlow(Number(a & MASK32) | 0, Number(a >> 32n) | 0, 0, mmuIdx) & 0xff;
      if (k < 4) lo |= b << (8 * k); else hi |= b << (8 * (k - 4));
    }
    return this.finishLoad(lo, hi, memop);
  }

  /** Applies endianness and sign extension to a little-endian (lo, hi) value; sets loadHi. */
  private finishLoad(lo: number, hi: number, memop: number): number {
    const sizeLog = memop & MO_SIZE;
    const be = (memop & MO_BE) !== 0;
    const sign = (memop & MO_SIGN) !== 0;
    switch (sizeLog) {
      case 0:
        lo &= 0xff;
        if (sign) lo = (lo << 24) >> 24;
        break;
      case 1:
        lo &= 0xffff;
        if (be) lo = ((lo >>> 8) | (lo << 8)) & 0xffff;
        if (sign) lo = (lo << 16) >> 16;
        break;
      case 2:
        if (be) lo = bswap32(lo);
        lo |= 0;
        break;
      default:
        if (be) { const t = bswap32(hi); hi = bswap32(lo); lo = t; }
        this.loadHi = hi | 0;
        return lo | 0;
    }
    this.loadHi = sign ? lo >> 31 : 0;
    return lo;
  }

  private storeSlow(addrLo: number, addrHi: number, valLo: number, valHi: number, memop: number, mmuIdx: number): void {
    const sizeLog = memop & MO_SIZE;
    const size = 1 << sizeLog;
    if ((memop & MO_BE) !== 0) {
      // Convert to the little-endian byte order of the bus.
      switch (sizeLog) {
        case 0: break;
        case 1: valLo = ((valLo >>> 8) & 0xff) | ((valLo & 0xff) << 8); break;
        case 2: valLo = bswap32(valLo); break;
        default: { const t = bswap32(valHi); valHi = bswap32(valLo); valLo = t; }
      }
    }
    if ((addrLo & (size - 1)) !== 0) {
      if ((memop & MO_ALIGN) !== 0) this.alignmentFault(addrLo, addrHi, MmuAccess.STORE, mmuIdx);
      if ((addrLo & PAGE_OFFSET_MASK) + size > TARGET_PAGE_SIZE) {
        this.storeCrossPage(addrLo, addrHi, valLo, valHi, size, mmuIdx);
        return;
      }
    }
    const e = this.entryFor(addrLo, addrHi, MmuAccess.STORE, mmuIdx);
    const pageOff = addrLo & PAGE_OFFSET_MASK;
    const tag = this.entries[e + TLB_WRITE_LO]!;
    if ((tag & TLB_MMIO) !== 0) {
      this.ioWrite(e, addrLo, addrHi, pageOff, size, valLo, valHi);
    } else {
      if ((tag & TLB_NOTDIRTY) !== 0) this.notDirtyBefore(e, pageOff, size);
      const dv = this.views[this.entries[e + TLB_RAM_ID]!]!;
      const off = (this.entries[e + TLB_RAM_OFFSET]! >>> 0) + pageOff;
      switch (sizeLog) {
        case 0: dv.setUint8(off, valLo & 0xff); break;
        case 1: dv.setUint16(off, valLo & 0xffff, true); break;
        case 2: dv.setInt32(off, valLo, true); break;
        default: dv.setInt32(off, valLo, true); dv.setInt32(off + 4, valHi, true);
      }
      if ((tag & TLB_NOTDIRTY) !== 0) this.notDirtyAfter(e, addrLo, addrHi);
    }
    if ((tag & TLB_HOOK) !== 0) {
      const v = size === 8 ? joinAddr(valLo, valHi) : BigInt((size === 4 ? valLo : valLo & ((1 << (8 * size)) - 1)) >>> 0);
      this.memHooks?.memWrite(joinAddr(addrLo, addrHi), size, v);
    }
  }

  /**
   * A store crossing a page: both pages are filled and checked for code first, so a fault or a
   * self-modifying-code exit happens before any byte is written (QEMU store_helper_unaligned).
   */
  private storeCrossPage(addrLo: number, addrHi: number, valLo: number, valHi: number, size: number, mmuIdx: number): void {
    const base = joinAddr(addrLo, addrHi);
    const next = BigInt.asUintN(64, (base | BigInt(PAGE_OFFSET_MASK)) + 1n);
    const nLo = Number(next & MASK32) | 0, nHi = Number(next >> 32n) | 0;
    const first = TARGET_PAGE_SIZE - (addrLo & PAGE_OFFSET_MASK);
    // Each page is checked right after its fill: with a tiny TLB the second fill may evict the first.
    const e1 = this.entryFor(addrLo, addrHi, MmuAccess.STORE, mmuIdx);
    if ((this.entries[e1 + TLB_WRITE_LO]! & (TLB_NOTDIRTY | TLB_MMIO)) === TLB_NOTDIRTY) this.notDirtyBefore(e1, addrLo & PAGE_OFFSET_MASK, first);
    const e2 = this.entryFor(nLo, nHi, MmuAccess.STORE, mmuIdx);
    if ((this.entries[e2 + TLB_WRITE_LO]! & (TLB_NOTDIRTY | TLB_MMIO)) === TLB_NOTDIRTY) this.notDirtyBefore(e2, 0, size - first);
    for (let k = 0; k < size; k++) {
      const b = (k < 4 ? valLo >>> (8 * k) : valHi >>> (8 * (k - 4))) & 0xff;
      const a = BigInt.asUintN(64, base + BigInt(k));
      this.storeSlow(Number(a & MASK32) | 0, Number(a >> 32n) | 0, b, 0, 0, mmuIdx);
    }
  }

  private alignmentFault(addrLo: number, addrHi: number, access: MmuAccess, mmuIdx: number): never {
    const vaddr = joinAddr(addrLo, addrHi);
    if (this.ops.raiseAlignmentFault) this.ops.raiseAlignmentFault(vaddr, access, mmuIdx);
    return this.ops.raiseBusError(vaddr, access);
  }

  private ioRead(e: number, addrLo: number, addrHi: number, pageOff: number, size: number, access: MmuAccess): bigint {
    this.codeWrites?.beforeIo?.();
    const phys = this.physPages[e / TLB_ENTRY_WORDS]! + BigInt(pageOff);
    try {
      return this.as.read(phys, size as 1 | 2 | 4 | 8);
    } catch (err) {
      if (isMemoryAccessError(err)) return this.ops.raiseBusError(joinAddr(addrLo, addrHi), access);
      throw err;
    }
  }

  private ioWrite(e: number, addrLo: number, addrHi: number, pageOff: number, size: number, valLo: number, valHi: number): void {
    this.codeWrites?.beforeIo?.();
    const phys = this.physPages[e / TLB_ENTRY_WORDS]! + BigInt(pageOff);
    const v = size === 8 ? joinAddr(valLo, valHi) : BigInt((valLo >>> 0)) & ((1n << BigInt(8 * size)) - 1n);
    try {
      this.as.write(phys, v, size as 1 | 2 | 4 | 8);
    } catch (err) {
      if (isMemoryAccessError(err)) this.ops.raiseBusError(joinAddr(addrLo, addrHi), MmuAccess.STORE);
      throw err;
    }
  }

  private notDirtyBefore(e: number, pageOff: number, len: number): void {
    this.codeWrites?.beforeCodeWrite(this.entries[e + TLB_RAM_ID]!, (this.entries[e + TLB_RAM_OFFSET]! >>> 0) + pageOff, len);
  }

  /** After a write to a code page: once no code is left, writes to it may take the fast path (QEMU tlb_set_dirty). */
  private notDirtyAfter(e: number, addrLo: number, addrHi: number): void {
    const ramId = this.entries[e + TLB_RAM_ID]!, off = this.entries[e + TLB_RAM_OFFSET]! >>> 0;
    const dirty = this.ram.blocks[ramId]?.dirty;
    if (dirty !== undefined && (off >>> TARGET_PAGE_BITS) < dirty.length) dirty[off >>> TARGET_PAGE_BITS]! |= DIRTY_ALL;
    const key = ramPageKey(ramId, off);
    if (this.codeWrites?.pageHasCode(key)) return;
    this.setDirty(addrLo, addrHi, key);
  }

  private setDirty(addrLo: number, addrHi: number, key: number): void {
    const ent = this.entries;
    const idx = (addrLo >>> TARGET_PAGE_BITS) & (this.tlbSize - 1);
    for (let m = 0; m < this.nbMmuModes; m++) {
      const e = ((m << this.tlbBits) + idx) * TLB_ENTRY_WORDS;
      if ((ent[e + TLB_WRITE_LO]! & (TLB_NOTDIRTY | TLB_INVALID)) === TLB_NOTDIRTY && ent[e + TLB_WRITE_HI] === addrHi
          && ((ent[e + TLB_WRITE_LO]! ^ addrLo) & PAGE_MASK) === 0
          && ramPageKey(ent[e + TLB_RAM_ID]!, ent[e + TLB_RAM_OFFSET]! >>> 0) === key) {
        ent[e + TLB_WRITE_LO] = ent[e + TLB_WRITE_LO]! & ~TLB_NOTDIRTY;
      }
    }
  }

  // ---- fill ----------------------------------------------------------------------------------------

  /**
   * Fills the entry for `vaddr` through the target's page walk (QEMU tlb_fill + tlb_set_page_full).
   * Returns the entry's word index, or -1 if `probe` and the translation faults.
   */
  fill(vaddr: bigint, access: MmuAccess, mmuIdx: number, probe: boolean): number {
    const r = this.ops.tlbFill(vaddr, access, mmuIdx, probe);
    if (r === null) return -1;
    this.tlbStats.fills++;
    const pageBits = Math.max(TARGET_PAGE_BITS, r.pageBits);
    // physPage may name the whole large page or the 4 KiB piece holding vaddr: accept both.
    const bigMask = (1n << BigInt(pageBits)) - 1n;
    const pieceOff = vaddr & bigMask & ~BigInt(PAGE_OFFSET_MASK);
    let phys = r.physPage & ~BigInt(PAGE_OFFSET_MASK);
    if ((phys & bigMask) !== pieceOff) phys = (phys & ~bigMask) + pieceOff;
    if (pageBits > TARGET_PAGE_BITS) this.addLargePage(vaddr, bigMask, mmuIdx);

    const vpage = vaddr & ~BigInt(PAGE_OFFSET_MASK);
    const lo = Number(vpage & MASK32) | 0;
    const hi = Number(vpage >> 32n) | 0;
    const e = ((mmuIdx << this.tlbBits) + ((lo >>> TARGET_PAGE_BITS) & (this.tlbSize - 1))) * TLB_ENTRY_WORDS;
    const ent = this.entries;
    const hook = this.memHooks !== null ? TLB_HOOK : 0;

    const sec = this.as.translate(phys);
    let ramId = -1, ramOff = 0, readFlags = TLB_MMIO, writeFlags = TLB_MMIO, codeRam = false;
    const ramBlock = sec?.mr.ram;
    if (sec && ramBlock && sec.offsetWithinAddressSpace <= phys
        && phys + BigInt(TARGET_PAGE_SIZE) <= sec.offsetWithinAddressSpace + sec.size) {
      const off = sec.offsetWithinRegion + (phys - sec.offsetWithinAddressSpace);
      const romDevice = sec.mr.kind === 'rom-device';
      if (off + BigInt(TARGET_PAGE_SIZE) <= BigInt(ramBlock.size) && (!romDevice || sec.romd === true)) {
        ramId = this.ram.idOf(ramBlock);
        ramOff = Number(off);
        readFlags = 0;
        codeRam = true;
        // ROM and ROM devices: writes go through the address space (ignored / device ops).
        writeFlags = sec.readonly || romDevice ? TLB_MMIO : 0;
        // Writes to code pages, or to pages not yet marked dirty for migration, take the slow path
        // once (QEMU TLB_NOTDIRTY: cpu_physical_memory_is_clean).
        if (writeFlags === 0 && (this.codeWrites?.pageHasCode(ramPageKey(ramId, ramOff))
            || (ramBlock.dirty !== undefined && ((ramBlock.dirty[ramOff >>> TARGET_PAGE_BITS] ?? DIRTY_ALL) & DIRTY_MIGRATION) === 0))) {
          writeFlags = TLB_NOTDIRTY;
        }
      }
    }
    // The target granted this access: its permission is implied even if prot forgot it (PROT_* bit n = access n).
    const prot = r.prot | (1 << access);
    ent[e + TLB_READ_LO] = (prot & PROT_READ) !== 0 ? lo | readFlags | hook : -1;
    ent[e + TLB_READ_HI] = (prot & PROT_READ) !== 0 ? hi : -1;
    ent[e + TLB_WRITE_LO] = (prot & PROT_WRITE) !== 0 ? lo | writeFlags | hook : -1;
    ent[e + TLB_WRITE_HI] = (prot & PROT_WRITE) !== 0 ? hi : -1;
    ent[e + TLB_CODE_LO] = (prot & PROT_EXEC) !== 0 ? lo | (codeRam ? 0 : TLB_MMIO) : -1;
    ent[e + TLB_CODE_HI] = (prot & PROT_EXEC) !== 0 ? hi : -1;
    ent[e + TLB_RAM_ID] = ramId;
    ent[e + TLB_RAM_OFFSET] = ramOff;
    if (this.addends !== null) {
      const base = ramId >= 0 ? this.ram.hostAddress[ramId] ?? -1 : -1;
      this.addends[e / TLB_ENTRY_WORDS] = base >= 0 ? base + ramOff : -1;
    }
    this.physPages[e / TLB_ENTRY_WORDS] = phys;
    return e;
  }

  /**
   * Code-fetch entry for (lo, hi) of MMU index `mmuIdx`: word index of a filled entry, or -1 if `probe`
   * and the fetch faults. Without `probe` a fault throws `CpuLoopExit` (QEMU get_page_addr_code).
   */
  codeEntry(lo: number, hi: number, mmuIdx: number, probe: boolean): number {
    const e = ((mmuIdx << this.tlbBits) + ((lo >>> TARGET_PAGE_BITS) & (this.tlbSize - 1))) * TLB_ENTRY_WORDS;
    const tag = this.entries[e + TLB_CODE_LO]!;
    if ((tag & ~TLB_MMIO) === (lo & PAGE_MASK) && this.entries[e + TLB_CODE_HI] === hi) return e;
    return this.fill(joinAddr(lo, hi), MmuAccess.FETCH, mmuIdx, probe);
  }

  /** True if the code entry at word index `e` maps plain RAM (translated code can be cached for it). */
  codeIsRam(e: number): boolean {
    return (this.entries[e + TLB_CODE_LO]! & TLB_MMIO) === 0;
  }

  /** Reads `size` (1, 2 or 4) code bytes within the page of code entry `e` (little-endian, unsigned). */
  readCode(e: number, pageOff: number, size: 1 | 2 | 4, vaddr: bigint): number {
    if (this.codeIsRam(e)) {
      const dv = this.views[this.entries[e + TLB_RAM_ID]!]!;
      const off = (this.entries[e + TLB_RAM_OFFSET]! >>> 0) + pageOff;
      return size === 1 ? dv.getUint8(off) : size === 2 ? dv.getUint16(off, true) : dv.getUint32(off, true);
    }
    const phys = this.physPages[e / TLB_ENTRY_WORDS]! + BigInt(pageOff);
    try {
      return Number(this.as.read(phys, size) & MASK32) >>> 0;
    } catch (err) {
      if (isMemoryAccessError(err)) return this.ops.raiseBusError(vaddr, MmuAccess.FETCH);
      throw err;
    }
  }

  // ---- flushes (QEMU tlb_flush, tlb_flush_page, tlb_flush_by_mmuidx) -------------------------------

  /** Invalidates every entry of every MMU index. */
  flushAll(): void {
    this.entries.fill(-1);
    this.largeAddr.fill(-1n);
    this.largeMask.fill(0n);
    this.tlbStats.flushes++;
    this.onFlush?.();
  }

  /** Invalidates every entry of the MMU indexes in `mask` (bit n = MMU index n). */
  flushByMmuIdx(mask: number): void {
    for (let m = 0; m < this.nbMmuModes; m++) {
      if ((mask & (1 << m)) === 0) continue;
      const start = (m << this.tlbBits) * TLB_ENTRY_WORDS;
      this.entries.fill(-1, start, start + this.tlbSize * TLB_ENTRY_WORDS);
      this.largeAddr[m] = -1n;
      this.largeMask[m] = 0n;
    }
    this.tlbStats.partialFlushes++;
    this.onFlush?.();
  }

  /** Invalidates the page holding `vaddr` in the MMU indexes in `mask` (default: all). */
  flushPage(vaddr: bigint, mask = -1): void {
    const page = vaddr & ~BigInt(PAGE_OFFSET_MASK);
    const lo = Number(page & MASK32) | 0, hi = Number(page >> 32n) | 0;
    const idx = (lo >>> TARGET_PAGE_BITS) & (this.tlbSize - 1);
    const ent = this.entries;
    for (let m = 0; m < this.nbMmuModes; m++) {
      if ((mask & (1 << m)) === 0) continue;
      // A page inside a large page: all its 4 KiB pieces may be cached, flush the MMU index.
      if (this.largeAddr[m] !== -1n && (page & ~this.largeMask[m]!) === this.largeAddr[m]) {
        const start = (m << this.tlbBits) * TLB_ENTRY_WORDS;
        ent.fill(-1, start, start + this.tlbSize * TLB_ENTRY_WORDS);
        this.largeAddr[m] = -1n;
        this.largeMask[m] = 0n;
        continue;
      }
      const e = ((m << this.tlbBits) + idx) * TLB_ENTRY_WORDS;
      for (let k = 0; k < 6; k += 2) {
        if ((ent[e + k]! & PAGE_MASK) === lo && ent[e + k + 1] === hi) { ent[e + k] = -1; ent[e + k + 1] = -1; }
      }
    }
    this.tlbStats.partialFlushes++;
    this.onFlush?.();
  }

  /** Remembers a large page mapping (QEMU tlb_add_large_page): the union of all large pages seen. */
  private addLargePage(vaddr: bigint, mask: bigint, m: number): void {
    let lpMask = mask;
    let lpAddr = this.largeAddr[m]!;
    if (lpAddr === -1n) {
      lpAddr = vaddr & ~mask;
    } else {
      lpMask |= this.largeMask[m]!;
      while (((lpAddr ^ vaddr) & ~lpMask & MASK64) !== 0n) lpMask = (lpMask << 1n) | 1n;
      lpAddr &= ~lpMask;
    }
    this.largeAddr[m] = lpAddr & MASK64;
    this.largeMask[m] = lpMask & MASK64;
  }

  /**
   * Marks the write entries mapping RAM page `key` as holding code, so stores to it take the slow
   * path and invalidate the code (QEMU tlb_protect_code / tlb_reset_dirty).
   */
  protectCodePage(key: number): void {
    const ent = this.entries;
    const ramId = pageKeyRamId(key), off = pageKeyOffset(key) | 0;
    for (let e = 0; e < ent.length; e += TLB_ENTRY_WORDS) {
      if (ent[e + TLB_RAM_ID] === ramId && ent[e + TLB_RAM_OFFSET] === off) {
        const w = ent[e + TLB_WRITE_LO]!;
        if ((w & (TLB_INVALID | TLB_MMIO)) === 0) ent[e + TLB_WRITE_LO] = w | TLB_NOTDIRTY;
      }
    }
  }
}
