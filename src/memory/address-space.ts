/**
 * AddressSpace: a view of a region tree as a guest physical address space, with listeners, transactions
 * and the access functions (QEMU system/memory.c address_space_*, MemoryListener, and system/physmem.c
 * flatview_read/flatview_write/address_space_write_rom).
 *
 * Behaviour choices, where QEMU has two paths (the CPU's soft TLB and address_space_rw):
 * - {@link AddressSpace.read}/{@link AddressSpace.write} are the CPU's view of one access. A store to
 *   read-only RAM (ROM, or RAM under a read-only alias/container) is discarded, as QEMU's TLB does with
 *   TLB_DISCARD_WRITE, and logged as a guest error. Read-only-ness comes from the section (QEMU's TLB
 *   uses section->readonly) so read-only aliases of RAM protect it.
 * - {@link AddressSpace.writeBytes} is address_space_write: a store to read-only RAM is dropped, logged,
 *   and reported as an `invalid` access (QEMU returns MEMTX_DECODE_ERROR from unassigned_mem_accepts).
 *   With `{ rom: true }` it is address_space_write_rom: RAM and ROM-device backing are written whatever
 *   their read-only flag, everything else is skipped silently.
 * - An access that straddles two sections is cut at the section boundary and each part is done on its
 *   own, as QEMU's subpage dispatch does (flatview_read_continue), and fails if any part fails.
 * - Bulk transfers do every part they can, then throw the first failure; unassigned bytes read as 0.
 * - The bus is little-endian: values are what a little-endian CPU load/store of `size` bytes gives.
 *   Pass `bigEndian = true` for a big-endian access (QEMU MO_BE): devices see it byte-swapped
 *   according to their `endianness`, RAM is read in big-endian byte order.
 * - QEMU's re-entrancy guard (a device's MMIO callback accessing the same device) is not modelled.
 */
import {
  type DispatchContext, MEMTX_DECODE_ERROR, MEMTX_ERROR, MEMTX_INVALID, MEMTX_OK, type MemTxResult,
  dispatchReadBig, dispatchReadNum, dispatchWriteBig, dispatchWriteNum, memoryAccessSize,
} from './dispatch.js';
import { MemoryAccessError, type MemoryAccessReason } from './errors.js';
import { type FlatRange, FlatView, type MemoryRegionSection } from './flatview.js';
import type { AccessSize, MemoryLog } from './ops.js';
import type { RamBlock } from './ram.js';
import type { MemoryRegion, RegionObserver } from './region.js';

/**
 * Hears about changes of an address space's map (QEMU MemoryListener). On every change: `begin`, then
 * `regionDel` for ranges that disappeared or changed (listeners in reverse order), then `regionAdd`
 * for new ranges and `regionNop` for unchanged ones, then `commit`. A listener added to a populated
 * space gets `begin`, `regionAdd` for every range, `commit`.
 */
export interface MemoryListener {
  begin?(): void;
  regionAdd?(section: MemoryRegionSection): void;
  regionDel?(section: MemoryRegionSection): void;
  regionNop?(section: MemoryRegionSection): void;
  commit?(): void;
}

/**
 * Called after bytes of a RAM block were written through the address space (CPU slow path, DMA,
 * loaders), before the pages' dirty bits are set: a page whose `DIRTY_CODE` bit is still clear may
 * hold translated code that must be invalidated.
 */
export type RamWriteHook = (block: RamBlock, offset: number, len: number) => void;

export interface AddressSpaceOptions {
  /** Receives guest errors (invalid accesses, writes to ROM). Default: discarded. */
  log?: MemoryLog;
  /** The target is big-endian: `native` devices are big-endian (default false: RISC-V, ARM). */
  bigEndian?: boolean;
}

/** Options of {@link AddressSpace.writeBytes}. */
export interface WriteBytesOptions {
  /** Write into ROM and ROM-device backing too, skip MMIO and holes (QEMU address_space_write_rom). */
  rom?: boolean;
}

const MODE_CPU = 1, MODE_ROM = 2;

/** The first failing part of a transfer. */
interface TxError {
  res: MemTxResult;
  addr: bigint;
  len: number;
  region: string;
}
function newTxError(): TxError {
  return { res: MEMTX_OK, addr: 0n, len: 0, region: '' };
}
function fail(err: TxError, res: MemTxResult, addr: bigint, len: number, region: string): MemTxResult {
  if (err.res === MEMTX_OK) {
    err.res = res;
    err.addr = addr;
    err.len = len;
    err.region = region;
  }
  return res;
}
const TOP = 1n << 64n;

function reasonOf(r: MemTxResult): MemoryAccessReason {
  return r & MEMTX_DECODE_ERROR ? 'unassigned' : r & MEMTX_INVALID ? 'invalid' : 'device-error';
}

function ramReadN(b: Uint8Array, o: number, size: 1 | 2 | 4, be: boolean): number {
  if (size === 1) return b[o]!;
  if (size === 2) return be ? (b[o]! << 8) | b[o + 1]! : b[o]! | (b[o + 1]! << 8);
  return be
    ? ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0
    : (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function ramWriteN(b: Uint8Array, o: number, v: number, size: 1 | 2 | 4, be: boolean): void {
  if (size === 1) {
    b[o] = v;
  } else if (size === 2) {
    if (be) { b[o] = v >>> 8; b[o + 1] = v; } else { b[o] = v; b[o + 1] = v >>> 8; }
  } else if (be) {
    b[o] = v >>> 24; b[o + 1] = v >>> 16; b[o + 2] = v >>> 8; b[o + 3] = v;
  } else {
    b[o] = v; b[o + 1] = v >>> 8; b[o + 2] = v >>> 16; b[o + 3] = v >>> 24;
  }
}

function bytesToBig(b: Uint8Array, be: boolean): bigint {
  let v = 0n;
  if (be) for (let i = 0; i < b.length; i++) v = (v << 8n) | BigInt(b[i]!);
  else for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function bigToBytes(v: bigint, size: number, be: boolean): Uint8Array {
  const b = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    b[be ? size - 1 - i : i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return b;
}

/**
 * A guest physical address space over the region tree under `root` (QEMU AddressSpace). Several
 * address spaces may share regions (a CPU's view and a DMA view). The flat view is rendered lazily
 * after changes, or at once when listeners need to hear about them.
 */
export class AddressSpace implements RegionObserver {
  /** See {@link RamWriteHook}. */
  onRamWrite?: RamWriteHook | undefined;

  private view: FlatView | null = null;
  private stale = true;
  private depth = 0;
  private committing = false;
  private readonly listeners: MemoryListener[] = [];
  private readonly ctx: DispatchContext;
  private last: FlatRange | undefined;

  constructor(readonly root: MemoryRegion, readonly name: string, opts: AddressSpaceOptions = {}) {
    this.ctx = { targetBigEndian: opts.bigEndian ?? false, log: opts.log, num: 0, big: 0n };
    root._observers.add(this);
  }

  /** The current flattened map (re-rendered if the tree changed, except inside a transaction). */
  get flatView(): FlatView {
    return this.view !== null && !(this.stale && this.depth === 0) ? this.view : this.render();
  }

  /** Detaches the address space from its root: it no longer hears about changes. */
  destroy(): void {
    this.root._observers.delete(this);
    this.listeners.length = 0;
  }

  // ---- transactions and listeners ----------------------------------------------------------------

  /** Defers re-rendering and listener calls until the matching {@link commitTransaction} (nests). */
  beginTransaction(): void {
    this.depth++;
  }

  /** Ends a transaction; at depth 0 applies all changes made since it began at once. */
  commitTransaction(): void {
    if (this.depth === 0) throw new Error(`address space '${this.name}': commitTransaction without beginTransaction`);
    if (--this.depth === 0 && this.stale) this.applyChanges();
  }

  /** Runs `fn` inside a transaction (QEMU memory_region_transaction_begin/commit around it). */
  transaction<T>(fn: () => T): T {
    this.beginTransaction();
    try {
      return fn();
    } finally {
      this.commitTransaction();
    }
  }

  /** Adds a listener and replays the current map to it; returns a function that removes it. */
  addListener(l: MemoryListener): () => void {
    this.listeners.push(l);
    const fv = this.flatView;
    l.begin?.();
    for (const r of fv.ranges) l.regionAdd?.(r.section);
    l.commit?.();
    return () => this.removeListener(l);
  }

  /** Removes a listener, telling it every range goes away. */
  removeListener(l: MemoryListener): void {
    const i = this.listeners.indexOf(l);
    if (i < 0) return;
    this.listeners.splice(i, 1);
    const fv = this.view;
    l.begin?.();
    if (fv) for (const r of fv.ranges) l.regionDel?.(r.section);
    l.commit?.();
  }

  /** @internal Called by regions when something this space can see changed. */
  regionChanged(): void {
    this.stale = true;
    this.last = undefined;
    if (this.depth === 0) this.applyChanges();
  }

  private render(): FlatView {
    const v = FlatView.render(this.root);
    this.view = v;
    this.stale = false;
    this.last = undefined;
    return v;
  }

  private applyChanges(): void {
    // Without listeners nobody needs the new map now: render on next use.
    if (this.listeners.length === 0 || this.committing) return;
    this.committing = true;
    try {
      while (this.stale) {
        const old = this.view;
        const nv = this.render();
        const ls = this.listeners.slice();
        for (const l of ls) l.begin?.();
        this.updateTopology(old, nv, ls);
        for (const l of ls) l.commit?.();
      }
    } finally {
      this.committing = false;
    }
  }

  /** QEMU address_space_update_topology_pass, both passes. */
  private updateTopology(oldView: FlatView | null, newView: FlatView, ls: MemoryListener[]): void {
    const o = oldView ? oldView.ranges : [], n = newView.ranges;
    const same = (a: FlatRange, b: FlatRange): boolean =>
      a.start === b.start && a.end === b.end && a.mr === b.mr && a.offsetInRegion === b.offsetInRegion &&
      a.readonly === b.readonly && a.romd === b.romd;
    for (const adding of [false, true]) {
      let io = 0, inn = 0;
      while (io < o.length || inn < n.length) {
        const fo = o[io], fn = n[inn];
        if (fo && (!fn || fo.start < fn.start || (fo.start === fn.start && !same(fo, fn)))) {
          if (!adding) for (let k = ls.length - 1; k >= 0; k--) ls[k]!.regionDel?.(fo.section);
          io++;
        } else if (fo && fn && same(fo, fn)) {
          if (adding) for (const l of ls) l.regionNop?.(fn.section);
          io++;
          inn++;
        } else if (fn) {
          if (adding) for (const l of ls) l.regionAdd?.(fn.section);
          inn++;
        }
      }
    }
  }

  // ---- lookup ------------------------------------------------------------------------------------

  private range(addr: bigint): FlatRange | undefined {
    const fv = this.view !== null && !(this.stale && this.depth === 0) ? this.view : this.render();
    const l = this.last;
    if (l !== undefined && addr >= l.start && addr < l.end) return l;
    const r = fv.lookup(addr);
    if (r !== undefined) this.last = r;
    return r;
  }

  /**
   * The section containing `addr`, or null if nothing is mapped there (QEMU flatview_translate without
   * IOMMUs). The byte at `addr` is at offset `offsetWithinRegion + (addr - offsetWithinAddressSpace)` of
   * `section.mr`.
   */
  translate(addr: bigint): MemoryRegionSection | null {
    return this.range(addr)?.section ?? null;
  }

  // ---- single accesses ---------------------------------------------------------------------------

  private error(addr: bigint, size: number, isWrite: boolean, res: MemTxResult, region = ''): MemoryAccessError {
    return new MemoryAccessError(addr, size, isWrite, reasonOf(res), this.name, region);
  }

  private ramWritten(block: RamBlock, off: number, len: number): void {
    this.onRamWrite?.(block, off, len);
    block.setDirty(off, len);
  }

  private discardRomWrite(addr: bigint, size: number, mr: MemoryRegion): void {
    this.ctx.log?.guestError(`write of ${size} byte${size === 1 ? '' : 's'} at 0x${addr.toString(16)} to read-only region '${mr.name}' ignored`);
  }

  /**
   * Reads an unsigned value of `size` ≤ 4 bytes as a number (the fast path: no BigInt for RAM or for
   * devices implementing ≤ 4-byte accesses). Throws {@link MemoryAccessError}.
   */
  readNumber(addr: bigint, size: 1 | 2 | 4, bigEndian = false): number {
    const r = this.range(addr);
    if (r === undefined) throw this.error(addr, size, false, MEMTX_DECODE_ERROR);
    const off = addr - r.start;
    if (off + BigInt(size) > r.end - r.start) return Number(this.accessSplit(addr, size, false, 0n, bigEndian));
    const mr = r.mr;
    const regOff = Number(r.offsetInRegion + off);
    const ram = mr.ram;
    if (ram !== undefined && (mr.kind === 'ram' || r.romd)) return ramReadN(ram.bytes, regOff, size, bigEndian);
    const res = dispatchReadNum(this.ctx, mr, mr.ops!, regOff, size, bigEndian);
    if (res !== MEMTX_OK) throw this.error(addr, size, false, res, mr.name);
    return this.ctx.num;
  }

  /** Writes `size` ≤ 4 bytes of `value` (truncated). Throws {@link MemoryAccessError}. */
  writeNumber(addr: bigint, value: number, size: 1 | 2 | 4, bigEndian = false): void {
    const r = this.range(addr);
    if (r === undefined) throw this.error(addr, size, true, MEMTX_DECODE_ERROR);
    const off = addr - r.start;
    if (off + BigInt(size) > r.end - r.start) {
      this.accessSplit(addr, size, true, BigInt(value >>> 0), bigEndian);
      return;
    }
    const mr = r.mr;
    const regOff = Number(r.offsetInRegion + off);
    if (mr.kind === 'ram') {
      if (r.readonly) return this.discardRomWrite(addr, size, mr);
      const ram = mr.ram!;
      ramWriteN(ram.bytes, regOff, value, size, bigEndian);
      this.ramWritten(ram, regOff, size);
      return;
    }
    // MMIO, and ROM devices (whose writes always go to the device).
    const res = dispatchWriteNum(this.ctx, mr, mr.ops!, regOff, value, size, bigEndian);
    if (res !== MEMTX_OK) throw this.error(addr, size, true, res, mr.name);
  }

  /**
   * Reads `size` bytes at guest physical `addr` as an unsigned value (little-endian unless `bigEndian`).
   * Throws {@link MemoryAccessError}.
   */
  read(addr: bigint, size: AccessSize, bigEndian = false): bigint {
    if (size !== 8) return BigInt(this.readNumber(addr, size, bigEndian));
    const r = this.range(addr);
    if (r === undefined) throw this.error(addr, size, false, MEMTX_DECODE_ERROR);
    const off = addr - r.start;
    if (off + 8n > r.end - r.start) return this.accessSplit(addr, size, false, 0n, bigEndian);
    const mr = r.mr;
    const regOff = Number(r.offsetInRegion + off);
    const ram = mr.ram;
    if (ram !== undefined && (mr.kind === 'ram' || r.romd)) {
      const b = ram.bytes;
      const lo = ramReadN(b, regOff, 4, false), hi = ramReadN(b, regOff + 4, 4, false);
      const v = (BigInt(hi) << 32n) | BigInt(lo);
      return bigEndian ? bytesToBig(bigToBytes(v, 8, false), true) : v;
    }
    const res = dispatchReadBig(this.ctx, mr, mr.ops!, regOff, size, bigEndian);
    if (res !== MEMTX_OK) throw this.error(addr, size, false, res, mr.name);
    return this.ctx.big;
  }

  /**
   * Writes the low `size` bytes of `value` at guest physical `addr` (little-endian unless `bigEndian`).
   * Throws {@link MemoryAccessError}; stores to read-only RAM are discarded and logged (see the module notes).
   */
  write(addr: bigint, value: bigint, size: AccessSize, bigEndian = false): void {
    if (size !== 8) return this.writeNumber(addr, Number(BigInt.asUintN(32, value)), size, bigEndian);
    const v = BigInt.asUintN(64, value);
    const r = this.range(addr);
    if (r === undefined) throw this.error(addr, size, true, MEMTX_DECODE_ERROR);
    const off = addr - r.start;
    if (off + 8n > r.end - r.start) {
      this.accessSplit(addr, size, true, v, bigEndian);
      return;
    }
    const mr = r.mr;
    const regOff = Number(r.offsetInRegion + off);
    if (mr.kind === 'ram') {
      if (r.readonly) return this.discardRomWrite(addr, size, mr);
      const ram = mr.ram!;
      ram.bytes.set(bigToBytes(v, 8, bigEndian), regOff);
      this.ramWritten(ram, regOff, 8);
      return;
    }
    const res = dispatchWriteBig(this.ctx, mr, mr.ops!, regOff, v, size, bigEndian);
    if (res !== MEMTX_OK) throw this.error(addr, size, true, res, mr.name);
  }

  /** An access crossing a section boundary: done part by part as a small CPU-mode bulk transfer. */
  private accessSplit(addr: bigint, size: AccessSize, isWrite: boolean, value: bigint, be: boolean): bigint {
    // A store that would fault on a hole does nothing at all (no half-done store before the fault).
    const end = addr + BigInt(size);
    for (let a = addr; a < end;) {
      const r = a < TOP ? this.range(a) : undefined;
      if (r === undefined) throw this.error(addr, size, isWrite, MEMTX_DECODE_ERROR);
      a = r.end;
    }
    const buf = isWrite ? bigToBytes(value, size, be) : new Uint8Array(size);
    const err = newTxError();
    const res = this.rw(addr, buf, isWrite, MODE_CPU, err);
    if (res !== MEMTX_OK) throw this.error(addr, size, isWrite, err.res, err.region);
    return isWrite ? 0n : bytesToBig(buf, be);
  }

  // ---- bulk ----------------------------------------------------------------------------------------

  /** Reads `len` bytes starting at `addr` across regions (QEMU address_space_read). Throws {@link MemoryAccessError}. */
  readBytes(addr: bigint, len: number): Uint8Array {
    const buf = new Uint8Array(len);
    this.readInto(addr, buf);
    return buf;
  }

  /** Fills `buf` from guest memory at `addr`. Throws {@link MemoryAccessError} after doing every part it can. */
  readInto(addr: bigint, buf: Uint8Array): void {
    const err = newTxError();
    if (this.rw(addr, buf, false, 0, err) !== MEMTX_OK) throw this.error(err.addr, err.len, false, err.res, err.region);
  }

  /**
   * Writes `data` at `addr` across regions (QEMU address_space_write, or address_space_write_rom with
   * `{ rom: true }`). Throws {@link MemoryAccessError} after doing every part it can.
   */
  writeBytes(addr: bigint, data: Uint8Array, opts: WriteBytesOptions = {}): void {
    const err = newTxError();
    if (this.rw(addr, data, true, opts.rom ? MODE_ROM : 0, err) !== MEMTX_OK) throw this.error(err.addr, err.len, true, err.res, err.region);
  }

  /**
   * Non-throwing bulk transfer (QEMU address_space_rw): returns the OR of the results of all parts
   * (0 = MEMTX_OK). Unassigned bytes read as 0.
   */
  rwBytes(addr: bigint, buf: Uint8Array, isWrite: boolean, opts: WriteBytesOptions = {}): MemTxResult {
    return this.rw(addr, buf, isWrite, opts.rom && isWrite ? MODE_ROM : 0, newTxError());
  }

  private rw(addr: bigint, buf: Uint8Array, isWrite: boolean, mode: number, err: TxError): MemTxResult {
    let result: MemTxResult = MEMTX_OK;
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      const a = addr + BigInt(pos);
      const r = a < TOP ? this.range(a) : undefined;
      if (r === undefined) {
        const next = a < TOP ? this.flatView.nextMapped(a) : null;
        const l = next === null ? len - pos : Math.min(len - pos, Number(next - a));
        if (!isWrite) buf.fill(0, pos, pos + l);
        if (!(mode & MODE_ROM)) result |= fail(err, MEMTX_DECODE_ERROR, a, l, '');
        pos += l;
        continue;
      }
      const avail = r.end - a;
      const l = avail < BigInt(len - pos) ? Number(avail) : len - pos;
      const mr = r.mr;
      const regOff = Number(r.offsetInRegion + (a - r.start));
      const ram = mr.ram;
      if (isWrite) {
        if (ram !== undefined && (mode & MODE_ROM ? mr.kind === 'ram' || r.romd : mr.kind === 'ram' && !r.readonly)) {
          ram.bytes.set(buf.subarray(pos, pos + l), regOff);
          this.ramWritten(ram, regOff, l);
        } else if (mode & MODE_ROM) {
          // address_space_write_rom skips everything that is not RAM or ROMD.
        } else if (mr.kind === 'ram') {
          this.discardRomWrite(a, l, mr);
          if (!(mode & MODE_CPU)) result |= fail(err, MEMTX_INVALID, a, l, mr.name);
        } else {
          result |= this.ioTransfer(mr, regOff, buf, pos, l, true, a, err);
        }
      } else if (ram !== undefined && (mr.kind === 'ram' || r.romd)) {
        buf.set(ram.bytes.subarray(regOff, regOff + l), pos);
      } else {
        result |= this.ioTransfer(mr, regOff, buf, pos, l, false, a, err);
      }
      pos += l;
    }
    return result;
  }

  /** Moves `l` bytes between `buf` and a device in the largest pieces it allows (flatview_*_continue_step). */
  private ioTransfer(mr: MemoryRegion, regOff: number, buf: Uint8Array, pos: number, l: number, isWrite: boolean, a: bigint, err: TxError): MemTxResult {
    const ops = mr.ops!;
    const ctx = this.ctx;
    let result: MemTxResult = MEMTX_OK;
    let done = 0;
    while (done < l) {
      const n = memoryAccessSize(ops, l - done, regOff + done);
      const p = pos + done;
      let res: MemTxResult;
      if (isWrite) {
        res = n === 8
          ? dispatchWriteBig(ctx, mr, ops, regOff + done, bytesToBig(buf.subarray(p, p + 8), false), 8, false)
          : dispatchWriteNum(ctx, mr, ops, regOff + done, ramReadN(buf, p, n, false), n, false);
      } else if (n === 8) {
        res = dispatchReadBig(ctx, mr, ops, regOff + done, 8, false);
        buf.set(res === MEMTX_OK ? bigToBytes(ctx.big, 8, false) : new Uint8Array(8), p);
      } else {
        res = dispatchReadNum(ctx, mr, ops, regOff + done, n, false);
        ramWriteN(buf, p, res === MEMTX_OK ? ctx.num : 0, n, false);
      }
      if (res !== MEMTX_OK) result |= fail(err, res, a + BigInt(done), n, mr.name);
      done += n;
    }
    return result;
  }
}

/** Whether reads of the section can go straight to RAM (QEMU memory_access_is_direct, read). */
export function sectionIsDirectRead(s: MemoryRegionSection): boolean {
  return s.mr.kind === 'ram' || (s.mr.kind === 'rom-device' && s.romd);
}

/** Whether writes to the section can go straight to RAM (QEMU memory_access_is_direct, write). */
export function sectionIsDirectWrite(s: MemoryRegionSection): boolean {
  return s.mr.kind === 'ram' && !s.readonly;
}

export { MEMTX_OK, MEMTX_ERROR, MEMTX_DECODE_ERROR, MEMTX_INVALID };
export type { MemTxResult };
