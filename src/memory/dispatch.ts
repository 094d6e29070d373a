/**
 * Dispatch of one access to a region's device callbacks (QEMU system/memory.c:
 * memory_region_dispatch_read/write, memory_region_access_valid, access_with_adjusted_size,
 * adjust_endianness, and system/physmem.c memory_access_size).
 *
 * Two versions of the split/combine logic: one on numbers for accesses whose pieces are all at most
 * 4 bytes (the common MMIO case, no BigInt), and one on BigInt for everything else. They compute the
 * same thing; the tests check both against a byte-level model.
 */
import { MemTxError } from './errors.js';
import type { AccessSize, Endianness, MemoryLog, MemoryRegionOps } from './ops.js';
import type { MemoryRegion } from './region.js';

/** Result of a transaction (QEMU MemTxResult, with `MEMTX_INVALID` split out of DECODE_ERROR). */
export type MemTxResult = number;
export const MEMTX_OK = 0;
/** The device reported a bus error. */
export const MEMTX_ERROR = 1;
/** Nothing is mapped at the address. */
export const MEMTX_DECODE_ERROR = 2;
/** The region refused the access (size, alignment, `accepts`, write to ROM). */
export const MEMTX_INVALID = 4;

/** Per-address-space dispatch state: configuration and a scratch slot for results (no allocation per access). */
export interface DispatchContext {
  /** Byte order of `native` devices. */
  readonly targetBigEndian: boolean;
  readonly log: MemoryLog | undefined;
  /** Result of the last successful number-path read. */
  num: number;
  /** Result of the last successful BigInt-path read. */
  big: bigint;
}

/** Whether a device of this endianness is big-endian (QEMU devend_big_endian). */
export function deviceIsBigEndian(e: Endianness | undefined, targetBigEndian: boolean): boolean {
  return e === 'big' || (e === 'native' && targetBigEndian) || (e === undefined && targetBigEndian);
}

export function bswap16(v: number): number {
  return ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
}
export function bswap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
export function bswap64(v: bigint): bigint {
  let r = 0n;
  for (let i = 0; i < 8; i++) {
    r = (r << 8n) | (v & 0xffn);
    v >>= 8n;
  }
  return r;
}
function bswapN(v: number, size: AccessSize): number {
  return size === 2 ? bswap16(v) : size === 4 ? bswap32(v) : v;
}
function bswapBig(v: bigint, size: AccessSize): bigint {
  return size === 8 ? bswap64(v) : BigInt(bswapN(Number(v), size));
}

const MASK64 = (1n << 64n) - 1n;
function maskN(size: number): number {
  return size >= 4 ? 0xffffffff : (1 << (size * 8)) - 1;
}
function maskBig(size: number): bigint {
  return (1n << BigInt(size * 8)) - 1n;
}

/** QEMU memory_region_access_valid (logs why an access is refused, as QEMU's LOG_INVALID_MEM). */
export function accessValid(ctx: DispatchContext, mr: MemoryRegion, ops: MemoryRegionOps, addr: number, size: AccessSize, isWrite: boolean): boolean {
  const v = ops.valid;
  let why: string | null = null;
  if (v?.accepts && !v.accepts(addr, size, isWrite)) why = 'rejected';
  else if (!v?.unaligned && addr % size !== 0) why = 'unaligned';
  else if (v?.max !== undefined && (size > v.max || size < (v.min ?? 0))) why = `invalid size (min:${v.min ?? 0} max:${v.max})`;
  if (why === null) return true;
  ctx.log?.guestError(`Invalid ${isWrite ? 'write' : 'read'} at addr 0x${addr.toString(16)}, size ${size}, region '${mr.name}', reason: ${why}`);
  return false;
}

function callRead(ops: MemoryRegionOps, addr: number, size: AccessSize): number | bigint {
  return ops.read(addr, size);
}

/**
 * Reads `size` ≤ 4 bytes at region offset `addr` through `ops`; result in `ctx.num` (unsigned).
 * `accessBigEndian`: byte order of the access as the CPU sees it.
 */
export function dispatchReadNum(ctx: DispatchContext, mr: MemoryRegion, ops: MemoryRegionOps, addr: number, size: 1 | 2 | 4, accessBigEndian: boolean): MemTxResult {
  if (!accessValid(ctx, mr, ops, addr, size, false)) return MEMTX_INVALID;
  const implMin = ops.impl?.min ?? 1, implMax = ops.impl?.max ?? 4;
  const as = Math.max(Math.min(size, implMax), implMin) as AccessSize;
  if (as > 4) {
    const r = dispatchReadBigNoCheck(ctx, ops, addr, size, accessBigEndian);
    if (r === MEMTX_OK) ctx.num = Number(ctx.big);
    return r;
  }
  const devBE = deviceIsBigEndian(ops.endianness, ctx.targetBigEndian);
  const mask = maskN(as);
  let v = 0;
  try {
    // access_with_adjusted_size: pieces of `as` bytes; big-endian devices put the first piece highest.
    for (let i = 0; i < size; i += as) {
      const shift = devBE ? (size - as - i) * 8 : i * 8;
      const raw = callRead(ops, addr + i, as);
      const tmp = (typeof raw === 'number' ? raw : Number(BigInt.asUintN(32, raw))) & mask;
      v |= shift >= 0 ? tmp << shift : tmp >>> -shift;
    }
  } catch (e) {
    if (e instanceof MemTxError) return MEMTX_ERROR;
    throw e;
  }
  v = size === 4 ? v >>> 0 : v & maskN(size);
  // adjust_endianness: the device's byte order versus the access's.
  if (accessBigEndian !== devBE) v = bswapN(v, size);
  ctx.num = v;
  return MEMTX_OK;
}

function dispatchReadBigNoCheck(ctx: DispatchContext, ops: MemoryRegionOps, addr: number, size: AccessSize, accessBigEndian: boolean): MemTxResult {
  const implMin = ops.impl?.min ?? 1, implMax = ops.impl?.max ?? 4;
  const as = Math.max(Math.min(size, implMax), implMin) as AccessSize;
  const devBE = deviceIsBigEndian(ops.endianness, ctx.targetBigEndian);
  const mask = maskBig(as);
  let v = 0n;
  try {
    for (let i = 0; i < size; i += as) {
      const shift = devBE ? (size - as - i) * 8 : i * 8;
      const raw = callRead(ops, addr + i, as);
      const tmp = (typeof raw === 'bigint' ? raw : BigInt(raw)) & mask;
      v |= shift >= 0 ? tmp << BigInt(shift) : tmp >> BigInt(-shift);
    }
  } catch (e) {
    if (e instanceof MemTxError) return MEMTX_ERROR;
    throw e;
  }
  v &= size === 8 ? MASK64 : maskBig(size);
  if (accessBigEndian !== devBE) v = bswapBig(v, size);
  ctx.big = v;
  return MEMTX_OK;
}

/** Reads `size` bytes (any size) at region offset `addr` through `ops`; result in `ctx.big`. */
export function dispatchReadBig(ctx: DispatchContext, mr: MemoryRegion, ops: MemoryRegionOps, addr: number, size: AccessSize, accessBigEndian: boolean): MemTxResult {
  if (!accessValid(ctx, mr, ops, addr, size, false)) return MEMTX_INVALID;
  return dispatchReadBigNoCheck(ctx, ops, addr, size, accessBigEndian);
}

/** Writes `size` ≤ 4 bytes (`value` is truncated to the size) at region offset `addr` through `ops`. */
export function dispatchWriteNum(ctx: DispatchContext, mr: MemoryRegion, ops: MemoryRegionOps, addr: number, value: number, size: 1 | 2 | 4, accessBigEndian: boolean): MemTxResult {
  if (!accessValid(ctx, mr, ops, addr, size, true)) return MEMTX_INVALID;
  const implMin = ops.impl?.min ?? 1, implMax = ops.impl?.max ?? 4;
  const as = Math.max(Math.min(size, implMax), implMin) as AccessSize;
  if (as > 4) return dispatchWriteBigNoCheck(ctx, ops, addr, BigInt(size === 4 ? value >>> 0 : value & maskN(size)), size, accessBigEndian);
  const devBE = deviceIsBigEndian(ops.endianness, ctx.targetBigEndian);
  let v = size === 4 ? value >>> 0 : value & maskN(size);
  if (accessBigEndian !== devBE) v = bswapN(v, size);
  const mask = maskN(as);
  try {
    for (let i = 0; i < size; i += as) {
      const shift = devBE ? (size - as - i) * 8 : i * 8;
      const tmp = ((shift >= 0 ? v >>> shift : v << -shift) & mask) >>> 0;
      ops.write(addr + i, tmp, as);
    }
  } catch (e) {
    if (e instanceof MemTxError) return MEMTX_ERROR;
    throw e;
  }
  return MEMTX_OK;
}

function dispatchWriteBigNoCheck(ctx: DispatchContext, ops: MemoryRegionOps, addr: number, value: bigint, size: AccessSize, accessBigEndian: boolean): MemTxResult {
  const implMin = ops.impl?.min ?? 1, implMax = ops.impl?.max ?? 4;
  const as = Math.max(Math.min(size, implMax), implMin) as AccessSize;
  const devBE = deviceIsBigEndian(ops.endianness, ctx.targetBigEndian);
  let v = value & maskBig(size);
  if (accessBigEndian !== devBE) v = bswapBig(v, size);
  const mask = maskBig(as);
  try {
    for (let i = 0; i < size; i += as) {
      const shift = devBE ? (size - as - i) * 8 : i * 8;
      const tmp = (shift >= 0 ? v >> BigInt(shift) : v << BigInt(-shift)) & mask;
      // Devices get numbers for pieces up to 4 bytes, BigInt for 8-byte pieces.
      ops.write(addr + i, as === 8 ? tmp : Number(tmp), as);
    }
  } catch (e) {
    if (e instanceof MemTxError) return MEMTX_ERROR;
    throw e;
  }
  return MEMTX_OK;
}

/** Writes `size` bytes (any size; `value` truncated to it) at region offset `addr` through `ops`. */
export function dispatchWriteBig(ctx: DispatchContext, mr: MemoryRegion, ops: MemoryRegionOps, addr: number, value: bigint, size: AccessSize, accessBigEndian: boolean): MemTxResult {
  if (!accessValid(ctx, mr, ops, addr, size, true)) return MEMTX_INVALID;
  return dispatchWriteBigNoCheck(ctx, ops, addr, value, size, accessBigEndian);
}

/**
 * Largest piece a bulk transfer may hand a device at `addr` (QEMU physmem.c memory_access_size):
 * at most `valid.max` (4 if unset), at most the address's alignment unless `impl.unaligned`, a power
 * of two no larger than `len`.
 */
export function memoryAccessSize(ops: MemoryRegionOps, len: number, addr: number): AccessSize {
  let max: number = ops.valid?.max ?? 4;
  if (!ops.impl?.unaligned) {
    const low = addr % 8; // only alignments up to 8 matter
    const alignMax = low === 0 ? 8 : low & -low;
    if (alignMax < max) max = alignMax;
  }
  let l = Math.min(len, max);
  l = l >= 8 ? 8 : l >= 4 ? 4 : l >= 2 ? 2 : 1;
  return l as AccessSize;
}
