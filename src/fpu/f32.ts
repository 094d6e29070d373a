/**
 * IEEE binary32 operations on raw bit patterns (uint32 numbers), RISC-V flavoured (see core.ts).
 *
 * Fast paths (round-to-nearest-even only) compute in doubles and are exact by these arguments:
 * - a binary32 sum, product, quotient or square root rounded to binary64 and then to binary32 equals the
 *   directly rounded result, because 53 ≥ 2·24 + 2 (Figueroa, "When is double rounding innocuous?");
 * - a product of two binary32 values is exact in binary64 (48-bit significand, exponent ≥ −298);
 * - the rounding error of a double sum is exact by Fast2Sum (|x| ≥ |y|, no overflow);
 * - f × y and f × f for binary32 f, y are exact in binary64, so `f * y === x` decides exactness of x / y.
 * Results that could be tiny or overflow, and every other rounding mode, take the exact BigInt path.
 */
import * as core from './core.js';
import { F32 } from './core.js';
import { f32FromBits, f32ToBits } from './bits.js';
import { doubleToInt32, doubleToInt64 } from './to-int.js';
import { FloatFlag, RoundingMode, type FloatStatus } from './status.js';

const MIN_NORMAL = 2 ** -126;
const RNE = RoundingMode.RNE;
const NX = FloatFlag.NX;

const big = (a: number): bigint => BigInt(a >>> 0);
const num = (a: bigint): number => Number(a);

/** True for ±∞ and NaNs (all-ones exponent). */
function isInfOrNaN(a: number): boolean {
  return (a & 0x7f800000) === 0x7f800000;
}

/** Sum of two finite binary32 values given as doubles, RNE; undefined when the exact path is needed. */
function addFast(x: number, y: number, s: FloatStatus): number | undefined {
  const r = x + y;
  const err = Math.abs(x) >= Math.abs(y) ? y - (r - x) : x - (r - y);
  const f = Math.fround(r);
  if (f === Infinity || f === -Infinity) return undefined;
  // Binary32 sums below 2^-126 are exact (multiples of 2^-149), so no underflow can arise here.
  if (f !== r || err !== 0) s.flags |= NX;
  return f32ToBits(f);
}

/** a + b. */
export function f32Add(a: number, b: number, s: FloatStatus): number {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b)) {
    const r = addFast(f32FromBits(a), f32FromBits(b), s);
    if (r !== undefined) return r;
  }
  return num(core.add(F32, big(a), big(b), s));
}

/** a − b. */
export function f32Sub(a: number, b: number, s: FloatStatus): number {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b)) {
    const r = addFast(f32FromBits(a), -f32FromBits(b), s);
    if (r !== undefined) return r;
  }
  return num(core.sub(F32, big(a), big(b), s));
}

/** a × b. */
export function f32Mul(a: number, b: number, s: FloatStatus): number {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b)) {
    const p = f32FromBits(a) * f32FromBits(b); // exact
    const f = Math.fround(p);
    if ((Math.abs(p) > MIN_NORMAL && Math.abs(f) !== Infinity) || p === 0) {
      if (f !== p) s.flags |= NX;
      return f32ToBits(f);
    }
  }
  return num(core.mul(F32, big(a), big(b), s));
}

/** a ÷ b. */
export function f32Div(a: number, b: number, s: FloatStatus): number {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b) && (b & 0x7fffffff) !== 0) {
    const x = f32FromBits(a), y = f32FromBits(b);
    const q = x / y;
    const f = Math.fround(q);
    if ((Math.abs(q) > MIN_NORMAL && Math.abs(f) !== Infinity) || x === 0) {
      if (f * y !== x) s.flags |= NX;
      return f32ToBits(f);
    }
  }
  return num(core.div(F32, big(a), big(b), s));
}

/** √a. */
export function f32Sqrt(a: number, s: FloatStatus): number {
  // Positive finite non-zero operands only (sign bit clear, exponent not all ones, not ±0).
  if (s.rm === RNE && (a >>> 0) < 0x7f800000 && a !== 0) {
    const x = f32FromBits(a);
    const f = Math.fround(Math.sqrt(x));
    if (f * f !== x) s.flags |= NX;
    return f32ToBits(f);
  }
  return num(core.sqrt(F32, big(a), s));
}

/**
 * Fused multiply-add with a single rounding: (±a×b) ± c, as fmadd (false, false), fmsub (false, true),
 * fnmsub (true, false), fnmadd (true, true).
 */
export function f32MulAdd(a: number, b: number, c: number, negProduct: boolean, negAddend: boolean,
  s: FloatStatus): number {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b) && !isInfOrNaN(c)) {
    let p = f32FromBits(a) * f32FromBits(b); // exact, signed zero included
    if (negProduct) p = -p;
    let z = f32FromBits(c);
    if (negAddend) z = -z;
    const r = p + z;
    const err = Math.abs(p) >= Math.abs(z) ? z - (r - p) : p - (r - z);
    let f = Math.fround(r);
    if ((Math.abs(r) > MIN_NORMAL && Math.abs(f) !== Infinity) || (r === 0 && err === 0)) {
      if (err !== 0 && f !== r) {
        // r is the double nearest the exact sum and no binary32 midpoint lies strictly between them;
        // only when r is itself a midpoint can the second rounding go the wrong way: then the sign
        // of the error decides.
        const fb = f32ToBits(f);
        const g = f32FromBits(Math.abs(r) > Math.abs(f) ? fb + 1 : fb - 1);
        if ((f + g) / 2 === r && (r > f) === (err > 0)) f = g;
      }
      if (f !== r || err !== 0) s.flags |= NX;
      return f32ToBits(f);
    }
  }
  return num(core.mulAdd(F32, big(a), big(b), big(c), negProduct, negAddend, s));
}

function minMax(a: number, b: number, isMax: boolean, s: FloatStatus): number {
  if (isNaN32(a) || isNaN32(b)) return num(core.minMax(F32, big(a), big(b), isMax, s));
  const x = f32FromBits(a), y = f32FromBits(b);
  // Equal values are identical patterns or ±0, where the larger pattern is −0.
  if (x === y) return (isMax === (a >>> 0) < (b >>> 0) ? a : b) >>> 0;
  return ((x < y) !== isMax ? a : b) >>> 0;
}

/** minimumNumber (RISC-V fmin.s). */
export function f32Min(a: number, b: number, s: FloatStatus): number {
  return minMax(a, b, false, s);
}

/** maximumNumber (RISC-V fmax.s). */
export function f32Max(a: number, b: number, s: FloatStatus): number {
  return minMax(a, b, true, s);
}

function isNaN32(a: number): boolean {
  return (a & 0x7fffffff) > 0x7f800000;
}

function isSNaN32(a: number): boolean {
  return isNaN32(a) && (a & 0x00400000) === 0;
}

/** Quiet equality (feq.s): NV only for a signalling NaN. */
export function f32Eq(a: number, b: number, s: FloatStatus): boolean {
  if (isNaN32(a) || isNaN32(b)) {
    if (isSNaN32(a) || isSNaN32(b)) s.flags |= FloatFlag.NV;
    return false;
  }
  return f32FromBits(a) === f32FromBits(b);
}

/** Signalling a < b (flt.s): NV for any NaN. */
export function f32Lt(a: number, b: number, s: FloatStatus): boolean {
  if (isNaN32(a) || isNaN32(b)) { s.flags |= FloatFlag.NV; return false; }
  return f32FromBits(a) < f32FromBits(b);
}

/** Signalling a ≤ b (fle.s): NV for any NaN. */
export function f32Le(a: number, b: number, s: FloatStatus): boolean {
  if (isNaN32(a) || isNaN32(b)) { s.flags |= FloatFlag.NV; return false; }
  return f32FromBits(a) <= f32FromBits(b);
}

/** RISC-V fclass.s mask (one bit set; see core.classify). */
export function f32Classify(a: number): number {
  const neg = (a & 0x80000000) !== 0;
  const e = a & 0x7f800000, frac = a & 0x007fffff;
  if (e === 0x7f800000) {
    if (frac === 0) return neg ? 1 << 0 : 1 << 7;
    return (frac & 0x00400000) !== 0 ? 1 << 9 : 1 << 8;
  }
  if (e === 0) {
    if (frac === 0) return neg ? 1 << 3 : 1 << 4;
    return neg ? 1 << 2 : 1 << 5;
  }
  return neg ? 1 << 1 : 1 << 6;
}

// The conversions to integers read NaN as NaN (a NaN bit pattern decodes to a JS NaN), so the
// double-based converter sees the same classes the bits have.

/** fcvt.w.s: to int32 (returned as a signed number). */
export function f32ToI32(a: number, s: FloatStatus): number {
  return doubleToInt32(f32FromBits(a), true, s);
}

/** fcvt.wu.s: to uint32 (returned as 0..2^32−1). */
export function f32ToU32(a: number, s: FloatStatus): number {
  return doubleToInt32(f32FromBits(a), false, s);
}

/** fcvt.l.s: to int64 (signed bigint). */
export function f32ToI64(a: number, s: FloatStatus): bigint {
  return doubleToInt64(f32FromBits(a), true, s);
}

/** fcvt.lu.s: to uint64 (bigint 0..2^64−1). */
export function f32ToU64(a: number, s: FloatStatus): bigint {
  return doubleToInt64(f32FromBits(a), false, s);
}

/** Integer (exact in a double, |x| < 2^53) to binary32. */
function fromSafeInt(x: number, s: FloatStatus): number {
  if (x >= -16777216 && x <= 16777216) return f32ToBits(x); // exact in every rounding mode
  if (s.rm === RNE) {
    const f = Math.fround(x); // single rounding of an exact value
    if (f !== x) s.flags |= NX;
    return f32ToBits(f);
  }
  return num(core.fromInt(F32, BigInt(x), s));
}

/** fcvt.s.w: int32 (any number; its low 32 bits read as signed) to binary32. */
export function i32ToF32(x: number, s: FloatStatus): number {
  return fromSafeInt(x | 0, s);
}

/** fcvt.s.wu: uint32 (low 32 bits read as unsigned) to binary32. */
export function u32ToF32(x: number, s: FloatStatus): number {
  return fromSafeInt(x >>> 0, s);
}

/** fcvt.s.l: int64 (low 64 bits read as signed) to binary32. */
export function i64ToF32(x: bigint, s: FloatStatus): number {
  const v = BigInt.asIntN(64, x);
  if (v >= -16777216n && v <= 16777216n) return f32ToBits(Number(v));
  return num(core.fromInt(F32, v, s));
}

/** fcvt.s.lu: uint64 (low 64 bits read as unsigned) to binary32. */
export function u64ToF32(x: bigint, s: FloatStatus): number {
  const v = BigInt.asUintN(64, x);
  if (v <= 16777216n) return f32ToBits(Number(v));
  return num(core.fromInt(F32, v, s));
}
