/**
 * IEEE binary64 operations on raw bit patterns (uint64 bigints), RISC-V flavoured (see core.ts).
 *
 * Fast paths (round-to-nearest-even only) use the host's IEEE doubles, whose +, −, ×, ÷ and sqrt are
 * correctly rounded to nearest-even; the exception flags come from exact error terms:
 * - sum: Fast2Sum gives the exact rounding error (|x| ≥ |y|, no overflow); a sum below 2^-1022 is exact,
 *   so underflow cannot arise;
 * - product: Dekker's TwoProduct gives the exact error inside its range (bits.productError); beyond it,
 *   exact iff the odd parts of the significands multiply to less than 2^53 (bits.productIsExact);
 * - quotient q = x / y: exact iff q × y = x, decided the same way (q × y is then exact in binary64);
 * - square root q: exact iff q × q = a;
 * - fused multiply-add: Boldo–Melquiond's round-to-odd emulation (see mulAddFast).
 * Anything that may overflow, be tiny, involve NaN/∞ operands, or use another rounding mode takes
 * the exact BigInt path.
 */
import * as core from './core.js';
import { F32, F64 } from './core.js';
import {
  f32FromBits, f32ToBits, f64FromBits, f64ToBits, hasEvenSignificand, nextDouble, productError,
  productIsExact, PRODUCT_ERR_MIN, SPLIT_MAX,
} from './bits.js';
import { doubleToInt32, doubleToInt64 } from './to-int.js';
import { FloatFlag, RoundingMode, type FloatStatus } from './status.js';

const MIN_NORMAL = 2 ** -1022;
/** Above this a dividend/radicand keeps q × y (≈ x) inside the normal range. */
const MIN_EXACT_CHECK = 2 ** -1021;
const EXP_MASK = 0x7ff0000000000000n;
const RNE = RoundingMode.RNE;
/** Products below this keep TwoProduct's partial products finite (they exceed |p| by at most 2^-25). */
const PRODUCT_EQ_MAX = 2 ** 1000;
const NX = FloatFlag.NX;

function isInfOrNaN(a: bigint): boolean {
  return (a & EXP_MASK) === EXP_MASK;
}

// ---- host-double fast paths --------------------------------------------------------------------
// Each takes finite doubles and rounds to nearest-even; it returns the result (setting NX in `s` when
// inexact) or undefined, with `s` untouched, when the exact path must decide. The bit-pattern operations
// below use them, and so can callers holding doubles already (RISC-V's D helpers read f registers as
// doubles), so that the common case costs no BigInt.

/** RNE x + y of finite doubles; undefined on overflow. */
export function f64AddFast(x: number, y: number, s: FloatStatus): number | undefined {
  const r = x + y;
  if (r === Infinity || r === -Infinity) return undefined;
  const err = Math.abs(x) >= Math.abs(y) ? y - (r - x) : x - (r - y);
  if (err !== 0) s.flags |= NX;
  return r;
}

/** a + b. */
export function f64Add(a: bigint, b: bigint, s: FloatStatus): bigint {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b)) {
    const r = f64AddFast(f64FromBits(a), f64FromBits(b), s);
    if (r !== undefined) return f64ToBits(r);
  }
  return core.add(F64, a, b, s);
}

/** a − b. */
export function f64Sub(a: bigint, b: bigint, s: FloatStatus): bigint {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b)) {
    const r = f64AddFast(f64FromBits(a), -f64FromBits(b), s);
    if (r !== undefined) return f64ToBits(r);
  }
  return core.sub(F64, a, b, s);
}

/** RNE x × y of finite doubles, with NX, when no underflow/overflow is possible; else undefined. */
export function f64MulFast(x: number, y: number, s: FloatStatus): number | undefined {
  const p = x * y;
  if (p === 0) return x === 0 || y === 0 ? p : undefined; // else underflowed to zero
  const m = Math.abs(p);
  if (m <= MIN_NORMAL || m === Infinity) return undefined;
  if (m >= PRODUCT_ERR_MIN && m <= PRODUCT_EQ_MAX && Math.abs(x) <= SPLIT_MAX && Math.abs(y) <= SPLIT_MAX) {
    if (productError(x, y, p) !== 0) s.flags |= NX;
  } else if (!productIsExact(x, y)) {
    s.flags |= NX;
  }
  return p;
}

/** a × b. */
export function f64Mul(a: bigint, b: bigint, s: FloatStatus): bigint {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b)) {
    const p = f64MulFast(f64FromBits(a), f64FromBits(b), s);
    if (p !== undefined) return f64ToBits(p);
  }
  return core.mul(F64, a, b, s);
}

/** RNE x ÷ y of finite doubles when the result is normal and exactness can be decided; else undefined. */
export function f64DivFast(x: number, y: number, s: FloatStatus): number | undefined {
  if (y === 0) return undefined;
  const q = x / y;
  if (x === 0) return q;
  const m = Math.abs(q);
  if (m > MIN_NORMAL && m !== Infinity && Math.abs(x) >= MIN_EXACT_CHECK) {
    if (!productEquals(q, y, x)) s.flags |= NX;
    return q;
  }
  return undefined;
}

/** True when the exact product q × y (finite, in the normal range) equals the double x. */
function productEquals(q: number, y: number, x: number): boolean {
  const p = q * y;
  // In TwoProduct's range: q × y = p + error exactly, and equals x iff p is x and nothing is left over.
  // (Below 2^1000 the partial products of the split halves cannot overflow either.)
  const ap = Math.abs(p);
  if (Math.abs(q) <= SPLIT_MAX && Math.abs(y) <= SPLIT_MAX && ap >= PRODUCT_ERR_MIN && ap <= PRODUCT_EQ_MAX) {
    return p === x && productError(q, y, p) === 0;
  }
  return productIsExact(q, y) && p === x;
}

/** a ÷ b. */
export function f64Div(a: bigint, b: bigint, s: FloatStatus): bigint {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b)) {
    const q = f64DivFast(f64FromBits(a), f64FromBits(b), s);
    if (q !== undefined) return f64ToBits(q);
  }
  return core.div(F64, a, b, s);
}

/** RNE √x of a finite double, when x is positive and not tiny; else undefined. */
export function f64SqrtFast(x: number, s: FloatStatus): number | undefined {
  if (!(x >= MIN_EXACT_CHECK)) return undefined;
  const q = Math.sqrt(x);
  if (!productEquals(q, q, x)) s.flags |= NX;
  return q;
}

/** √a. */
export function f64Sqrt(a: bigint, s: FloatStatus): bigint {
  if (s.rm === RNE && a < EXP_MASK) { // positive, finite (sign clear, exponent not all ones)
    const q = f64SqrtFast(f64FromBits(a), s);
    if (q !== undefined) return f64ToBits(q);
  }
  return core.sqrt(F64, a, s);
}

/** Operand range of the double-double fused multiply-add: no overflow, no underflow anywhere inside. */
const FMA_MIN = 2 ** -900, FMA_MAX = 2 ** 995;

/**
 * RNE (x × y) + z for finite non-zero doubles, after Boldo & Melquiond,
 * "Emulation of FMA and correctly rounded sums: proved algorithms using rounding to odd" (IEEE TC 2008):
 * (ph, pl) = TwoProduct(x, y), (th, tl) = TwoSum(z, ph), v = RO(tl + pl), result = RN(th + v).
 * Round-to-odd is emulated from the exact error of the RN sum. The sum is exact iff both additions are.
 * Undefined when an operand or the result leaves the range where no step can underflow or overflow.
 */
function mulAddFast(x: number, y: number, z: number, negProduct: boolean, s: FloatStatus): number | undefined {
  const ax = Math.abs(x), ay = Math.abs(y), az = Math.abs(z);
  if (ax > FMA_MAX || ay > FMA_MAX || az > FMA_MAX || az < FMA_MIN) return undefined;
  let ph = x * y;
  const m = Math.abs(ph);
  if (m < FMA_MIN || m > FMA_MAX) return undefined;
  let pl = productError(x, y, ph);
  if (negProduct) { ph = -ph; pl = -pl; }
  const th = z + ph;
  const tl = az >= m ? ph - (th - z) : z - (th - ph);
  let v = tl + pl;
  const e = Math.abs(tl) >= Math.abs(pl) ? pl - (v - tl) : tl - (v - pl);
  if (e !== 0 && hasEvenSignificand(v)) v = nextDouble(v, (e > 0) === (v > 0)); // round to odd
  const r = th + v;
  const ar = Math.abs(r);
  if (ar < FMA_MIN || ar === Infinity) return undefined;
  const e2 = Math.abs(th) >= Math.abs(v) ? v - (r - th) : th - (r - v);
  if (e !== 0 || e2 !== 0) s.flags |= NX;
  return r;
}

/** RNE (±x × y) + z (z already negated for fmsub/fnmadd) of finite doubles; undefined when the exact path must decide. */
export function f64MulAddFast(x: number, y: number, z: number, negProduct: boolean, s: FloatStatus): number | undefined {
  if (x === 0 || y === 0) {
    // Exact zero product: the result is the (exact, correctly signed) sum of ±0 and z.
    const p = x * y;
    return f64AddFast(negProduct ? -p : p, z, s);
  }
  if (z === 0) {
    // Nothing to add: a single rounding of the product.
    const p = f64MulFast(x, y, s);
    return p === undefined ? undefined : negProduct ? -p : p;
  }
  return mulAddFast(x, y, z, negProduct, s);
}

/**
 * Fused multiply-add with a single rounding: (±a×b) ± c, as fmadd (false, false), fmsub (false, true),
 * fnmsub (true, false), fnmadd (true, true).
 */
export function f64MulAdd(a: bigint, b: bigint, c: bigint, negProduct: boolean, negAddend: boolean,
  s: FloatStatus): bigint {
  if (s.rm === RNE && !isInfOrNaN(a) && !isInfOrNaN(b) && !isInfOrNaN(c)) {
    const z = f64FromBits(c);
    const r = f64MulAddFast(f64FromBits(a), f64FromBits(b), negAddend ? -z : z, negProduct, s);
    if (r !== undefined) return f64ToBits(r);
  }
  return core.mulAdd(F64, a, b, c, negProduct, negAddend, s);
}

function minMax(a: bigint, b: bigint, isMax: boolean, s: FloatStatus): bigint {
  const x = f64FromBits(a), y = f64FromBits(b);
  if (x !== x || y !== y) return core.minMax(F64, a, b, isMax, s);
  // Equal values are identical patterns or ±0, where the larger pattern is −0.
  if (x === y) return isMax === (a < b) ? a : b;
  return (x < y) !== isMax ? a : b;
}

/** minimumNumber (RISC-V fmin.d). */
export function f64Min(a: bigint, b: bigint, s: FloatStatus): bigint {
  return minMax(a, b, false, s);
}

/** maximumNumber (RISC-V fmax.d). */
export function f64Max(a: bigint, b: bigint, s: FloatStatus): bigint {
  return minMax(a, b, true, s);
}

function isSNaN64(a: bigint): boolean {
  return isInfOrNaN(a) && (a & 0x000fffffffffffffn) !== 0n && (a & 0x0008000000000000n) === 0n;
}

/** Quiet equality (feq.d): NV only for a signalling NaN. */
export function f64Eq(a: bigint, b: bigint, s: FloatStatus): boolean {
  const x = f64FromBits(a), y = f64FromBits(b);
  if (x !== x || y !== y) {
    if (isSNaN64(a) || isSNaN64(b)) s.flags |= FloatFlag.NV;
    return false;
  }
  return x === y;
}

/** Signalling a < b (flt.d): NV for any NaN. */
export function f64Lt(a: bigint, b: bigint, s: FloatStatus): boolean {
  const x = f64FromBits(a), y = f64FromBits(b);
  if (x !== x || y !== y) { s.flags |= FloatFlag.NV; return false; }
  return x < y;
}

/** Signalling a ≤ b (fle.d): NV for any NaN. */
export function f64Le(a: bigint, b: bigint, s: FloatStatus): boolean {
  const x = f64FromBits(a), y = f64FromBits(b);
  if (x !== x || y !== y) { s.flags |= FloatFlag.NV; return false; }
  return x <= y;
}

/** RISC-V fclass.d mask (one bit set; see core.classify). */
export function f64Classify(a: bigint): number {
  return core.classify(F64, BigInt.asUintN(64, a));
}

/** fcvt.w.d: to int32 (returned as a signed number). */
export function f64ToI32(a: bigint, s: FloatStatus): number {
  return doubleToInt32(f64FromBits(a), true, s);
}

/** fcvt.wu.d: to uint32 (returned as 0..2^32−1). */
export function f64ToU32(a: bigint, s: FloatStatus): number {
  return doubleToInt32(f64FromBits(a), false, s);
}

/** fcvt.l.d: to int64 (signed bigint). */
export function f64ToI64(a: bigint, s: FloatStatus): bigint {
  return doubleToInt64(f64FromBits(a), true, s);
}

/** fcvt.lu.d: to uint64 (bigint 0..2^64−1). */
export function f64ToU64(a: bigint, s: FloatStatus): bigint {
  return doubleToInt64(f64FromBits(a), false, s);
}

/** fcvt.d.w: int32 (low 32 bits read as signed) to binary64, always exact. */
export function i32ToF64(x: number, _s: FloatStatus): bigint {
  return f64ToBits(x | 0);
}

/** fcvt.d.wu: uint32 (low 32 bits read as unsigned) to binary64, always exact. */
export function u32ToF64(x: number, _s: FloatStatus): bigint {
  return f64ToBits(x >>> 0);
}

const TWO53 = 1n << 53n;

function fromBigInt(v: bigint, s: FloatStatus): bigint {
  if (v >= -TWO53 && v <= TWO53) return f64ToBits(Number(v)); // exact in every rounding mode
  if (s.rm === RNE) {
    // ToNumber(BigInt) rounds to nearest, ties to even (ECMA-262 "the Number value for").
    const d = Number(v);
    if (BigInt(d) !== v) s.flags |= NX;
    return f64ToBits(d);
  }
  return core.fromInt(F64, v, s);
}

/** fcvt.d.l: int64 (low 64 bits read as signed) to binary64. */
export function i64ToF64(x: bigint, s: FloatStatus): bigint {
  return fromBigInt(BigInt.asIntN(64, x), s);
}

/** fcvt.d.lu: uint64 (low 64 bits read as unsigned) to binary64. */
export function u64ToF64(x: bigint, s: FloatStatus): bigint {
  return fromBigInt(BigInt.asUintN(64, x), s);
}

/** fcvt.d.s: binary32 to binary64 (exact; NaN → default NaN, NV if signalling). */
export function f32ToF64(a: number, s: FloatStatus): bigint {
  if ((a & 0x7f800000) !== 0x7f800000 || (a & 0x007fffff) === 0) return f64ToBits(f32FromBits(a));
  return core.convert(F32, F64, BigInt(a >>> 0), s);
}

/** fcvt.s.d: binary64 to binary32, rounded with s.rm. */
export function f64ToF32(a: bigint, s: FloatStatus): number {
  if (s.rm === RNE && !isInfOrNaN(a)) {
    const x = f64FromBits(a);
    const f = Math.fround(x);
    if ((Math.abs(x) > 2 ** -126 && Math.abs(f) !== Infinity) || x === 0) {
      if (f !== x) s.flags |= NX;
      return f32ToBits(f);
    }
  }
  return Number(core.convert(F64, F32, a, s));
}
