/**
 * Run-time support of the generated-JS backend ({@link ./js.ts}): the small functions generated TB code
 * calls for operations too long to inline (64-bit double-width multiply, 64-bit division, variable
 * 64-bit rotates, bit counts). Every value is an int32 (`x | 0`); 64-bit values are (lo, hi) pairs.
 * Functions with a 64-bit or wider result return nothing and leave their result words in a scratch
 * `Int32Array` passed as first argument (S[0] = lo, S[1] = hi, S[2], S[3] for 128-bit products), which
 * the generated code reads immediately.
 *
 * Semantics are those of the reference interpreter (src/tcg/interp.ts `evalPureOp`).
 */

const TWO32 = 4294967296;

import { DIV_OUT, divu64, mulhu32 } from './wide-arith.js';

export { mulhu32 };


/** Population count of a 32-bit value. */
export function popcnt32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Count of trailing zeros of a non-zero 32-bit value (32 for zero). */
export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/** Byte swap of a 32-bit value. */
export function bswap32(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) | 0;
}

/**
 * 64×64 → 128-bit multiply: S[0..3] = product words, low first.
 * `kind` 0 = both unsigned (mulu2), 1 = both signed (muls2), 2 = a signed, b unsigned (mulsu2).
 */
export function mul128(S: Int32Array, al: number, ah: number, bl: number, bh: number, kind: number): void {
  const lo0 = Math.imul(al, bl), hi0 = mulhu32(al, bl);
  const lo1 = Math.imul(al, bh), hi1 = mulhu32(al, bh);
  const lo2 = Math.imul(ah, bl), hi2 = mulhu32(ah, bl);
  const lo3 = Math.imul(ah, bh), hi3 = mulhu32(ah, bh);
  // Column sums as doubles: exact (each below 2^34).
  const s1 = (hi0 >>> 0) + (lo1 >>> 0) + (lo2 >>> 0);
  const c1 = Math.floor(s1 / TWO32);
  const s2 = (hi1 >>> 0) + (hi2 >>> 0) + (lo3 >>> 0) + c1;
  const c2 = Math.floor(s2 / TWO32);
  let w2 = s2 | 0, w3 = (hi3 + c2) | 0;
  // Signed corrections of the high half (a_s = a_u - 2^64 [a < 0]).
  if (kind !== 0 && ah < 0) {
    const l = (w2 - bl) | 0;
    w3 = (w3 - bh - ((w2 >>> 0) < (bl >>> 0) ? 1 : 0)) | 0;
    w2 = l;
  }
  if (kind === 1 && bh < 0) {
    const l = (w2 - al) | 0;
    w3 = (w3 - ah - ((w2 >>> 0) < (al >>> 0) ? 1 : 0)) | 0;
    w2 = l;
  }
  S[0] = lo0; S[1] = s1 | 0; S[2] = w2; S[3] = w3;
}

function big(l: number, h: number): bigint {
  return (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
}

/**
 * 64-bit division and remainder with the interpreter's rules (RISC-V: x/0 = all ones, x%0 = x,
 * MIN/-1 = MIN, MIN%-1 = 0). `op`: 0 div, 1 divu, 2 rem, 3 remu. Result in S[0], S[1].
 * Values that fit in 32 bits take one double division; the rest {@link divu64} (signed operations on
 * magnitudes).
 */
export function div64(S: Int32Array, op: number, al: number, ah: number, bl: number, bh: number): void {
  if (bl === 0 && bh === 0) {
    if (op < 2) { S[0] = -1; S[1] = -1; } else { S[0] = al; S[1] = ah; }
    return;
  }
  if (op & 1) {
    if (ah === 0 && bh === 0) {
      const a = al >>> 0, b = bl >>> 0;
      S[0] = (op === 1 ? Math.floor(a / b) : a % b) | 0;
      S[1] = 0;
      return;
    }
    divu64(al, ah, bl, bh);
    const k = op === 1 ? 0 : 2;
    S[0] = DIV_OUT[k]!; S[1] = DIV_OUT[k + 1]!;
    return;
  }
  if (ah === al >> 31 && bh === bl >> 31) {
    // Both fit in int32: the quotient (at most 2^31 for MIN / -1) is exact as a double.
    const q = op === 0 ? Math.trunc(al / bl) : al % bl;
    const r = q === 0 ? 0 : q; // -0 → 0
    S[0] = r | 0;
    S[1] = r < 0 ? -1 : 0;
    return;
  }
  // Divide the magnitudes (MIN's is 2^63, fine unsigned), then set the signs: the quotient is negative
  // if the signs differ, the remainder has the dividend's sign. MIN / -1 gives 2^63 negated = MIN.
  const na = ah < 0, nb = bh < 0;
  const ml = na ? -al | 0 : al, mh = na ? (~ah + (al === 0 ? 1 : 0)) | 0 : ah;
  const dl = nb ? -bl | 0 : bl, dh = nb ? (~bh + (bl === 0 ? 1 : 0)) | 0 : bh;
  divu64(ml, mh, dl, dh);
  const k = op === 0 ? 0 : 2;
  const neg = op === 0 ? na !== nb : na;
  const l = DIV_OUT[k]!, h = DIV_OUT[k + 1]!;
  S[0] = neg ? -l | 0 : l;
  S[1] = neg ? (~h + (l === 0 ? 1 : 0)) | 0 : h;
}

/** 64-bit rotate left by `n & 63` (rotate right is rotate left by 64 - n). Result in S[0], S[1]. */
export function rotl64(S: Int32Array, l: number, h: number, n: number): void {
  n &= 63;
  if (n >= 32) { const t = l; l = h; h = t; n -= 32; }
  if (n === 0) { S[0] = l; S[1] = h; return; }
  S[0] = (l << n) | (h >>> (32 - n));
  S[1] = (h << n) | (l >>> (32 - n));
}

/** (lo, hi) → BigInt in [0, 2^64) (the helper calling convention for i64 arguments). */
export function toBig(l: number, h: number): bigint {
  return big(l, h);
}

/** The run-time kit handed to every generated TB factory. */
export interface JsKit {
  readonly mulhu32: typeof mulhu32;
  readonly popcnt32: typeof popcnt32;
  readonly ctz32: typeof ctz32;
  readonly bswap32: typeof bswap32;
  readonly mul128: typeof mul128;
  readonly div64: typeof div64;
  readonly rotl64: typeof rotl64;
  readonly toBig: typeof toBig;
  /** Helper functions of this TB, in the order the source names them (h0, h1, …). */
  readonly h: readonly ((cpu: any, ...args: any[]) => any)[];
  /** The TLB stand-in used when the runtime exposes no fast memory: every access misses. */
  readonly noFastMem: { readonly tlbEntries: Int32Array; readonly tlbBits: number; readonly ramBytes: readonly Uint8Array[] };
}
