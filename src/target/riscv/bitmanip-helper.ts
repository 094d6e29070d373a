/**
 * Run-time helpers of the bit-manipulation extensions (QEMU target/riscv/bitmanip_helper.c):
 * the Zbc carry-less multiplications. Pure functions of their operands; the translator passes the
 * operation length (XLEN) as a constant, and writes the XLEN-bit result back (sign-extended on RV32).
 */
import {
  CALL_NO_READ_GLOBALS, CALL_NO_SIDE_EFFECTS, CALL_NO_WRITE_GLOBALS, type HelperInfo,
} from '../../tcg/ir.js';

/**
 * Carry-less product of two 32-bit values (as unsigned numbers): the 64-bit result as [low, high] words.
 * Each set bit i of `b` xors `a << i` into the product.
 */
function clmul32(a: number, b: number): [number, number] {
  let lo = 0, hi = 0;
  for (let i = 0; i < 32; i++) {
    if (((b >>> i) & 1) === 0) continue;
    lo ^= a << i;
    if (i !== 0) hi ^= a >>> (32 - i);
  }
  return [lo >>> 0, hi >>> 0];
}

/** The full carry-less product of two XLEN-bit values, as 32-bit words, least significant first. */
function product(a: bigint, b: bigint, xlen: number): number[] {
  const a0 = Number(a & 0xffff_ffffn), b0 = Number(b & 0xffff_ffffn);
  const [l00, h00] = clmul32(a0, b0);
  if (xlen === 32) return [l00, h00];
  const a1 = Number((a >> 32n) & 0xffff_ffffn), b1 = Number((b >> 32n) & 0xffff_ffffn);
  const [l01, h01] = clmul32(a0, b1);
  const [l10, h10] = clmul32(a1, b0);
  const [l11, h11] = clmul32(a1, b1);
  return [l00, (h00 ^ l01 ^ l10) >>> 0, (h01 ^ h10 ^ l11) >>> 0, h11];
}

const word = (w: number[], k: number): number => w[k] ?? 0;
/** XLEN bits of the product starting at bit 32·k + s (0 ≤ s < 32). */
function bitsAt(w: number[], k: number, s: number, xlen: number): bigint {
  const pick = (j: number): number => (s === 0 ? word(w, j) : ((word(w, j) >>> s) | (word(w, j + 1) << (32 - s))) >>> 0);
  const lo = BigInt(pick(k));
  return xlen === 32 ? lo : (BigInt(pick(k + 1)) << 32n) | lo;
}

/** clmul: bits XLEN-1..0 of the carry-less product of the low XLEN bits of `a` and `b`. */
export function clmul(a: bigint, b: bigint, xlen: 32 | 64): bigint {
  return bitsAt(product(a, b, xlen), 0, 0, xlen);
}

/** clmulh: bits 2·XLEN-1..XLEN of the carry-less product. */
export function clmulh(a: bigint, b: bigint, xlen: 32 | 64): bigint {
  return bitsAt(product(a, b, xlen), xlen / 32, 0, xlen);
}

/** clmulr: bits 2·XLEN-2..XLEN-1 of the carry-less product (the product of the bit-reversed operands, reversed). */
export function clmulr(a: bigint, b: bigint, xlen: 32 | 64): bigint {
  // bit XLEN-1 is bit 31 of word XLEN/32 - 1
  return bitsAt(product(a, b, xlen), xlen / 32 - 1, 31, xlen);
}

const PURE = CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS | CALL_NO_SIDE_EFFECTS;

function def(name: string, fn: (a: bigint, b: bigint, xlen: 32 | 64) => bigint): HelperInfo {
  return { name, fn: (_cpu: unknown, a: bigint, b: bigint, xlen: number) => fn(a, b, xlen === 32 ? 32 : 64), args: ['i64', 'i64', 'i32'], ret: 'i64', flags: PURE };
}

/** clmul(rs1, rs2, xlen) → rd (QEMU helper_clmul). */
export const helperClmul = def('clmul', clmul);
/** clmulh(rs1, rs2, xlen) → rd (QEMU gen_clmulh: clmulr >> 1). */
export const helperClmulh = def('clmulh', clmulh);
/** clmulr(rs1, rs2, xlen) → rd (QEMU helper_clmulr). */
export const helperClmulr = def('clmulr', clmulr);
