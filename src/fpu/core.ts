/**
 * Exact reference softfloat over BigInt significands, one implementation for both binary32 and binary64
 * (parameterised by a {@link Format}). Every operation computes the exact result (or an exact integer
 * quotient/root plus a sticky bit) and rounds once in {@link roundPack}. This is the slow path: the public
 * f32/f64 functions try provably exact double-precision shortcuts first and fall back here.
 *
 * Semantics are QEMU's fpu/softfloat.c with the RISC-V specialisation (fpu/softfloat-specialize.c.inc):
 * every NaN result is the default NaN (no payload propagation), a signalling NaN operand raises NV,
 * tininess is detected after rounding, and underflow is raised only when the tiny result is inexact.
 * Values are raw bit patterns held in a bigint here; the wrappers convert f32 patterns to/from numbers.
 */
import { FloatFlag, RoundingMode, type FloatStatus } from './status.js';

const { NX, UF, OF, DZ, NV } = FloatFlag;

/** Description of an IEEE binary interchange format. */
export interface Format {
  readonly expBits: number;
  readonly fracBits: number;
  /** Exponent bias. */
  readonly bias: number;
  /** Precision in bits, hidden bit included. */
  readonly p: number;
  /** Exponent of the smallest normal number. */
  readonly emin: number;
  /** Value of the all-ones biased exponent (inf/NaN). */
  readonly maxE: number;
  /** Weight (log2) of the least significant bit of a subnormal. */
  readonly qmin: number;
  readonly signBit: bigint;
  readonly fracMask: bigint;
  readonly hidden: bigint;
  readonly expMask: bigint;
  readonly quietBit: bigint;
  /** RISC-V canonical NaN. */
  readonly defaultNaN: bigint;
}

function makeFormat(expBits: number, fracBits: number): Format {
  const bias = (1 << (expBits - 1)) - 1;
  const maxE = (1 << expBits) - 1;
  return {
    expBits, fracBits, bias, p: fracBits + 1, emin: 1 - bias, maxE, qmin: 1 - bias - fracBits,
    signBit: 1n << BigInt(expBits + fracBits),
    fracMask: (1n << BigInt(fracBits)) - 1n,
    hidden: 1n << BigInt(fracBits),
    expMask: BigInt(maxE) << BigInt(fracBits),
    quietBit: 1n << BigInt(fracBits - 1),
    defaultNaN: (BigInt(maxE) << BigInt(fracBits)) | (1n << BigInt(fracBits - 1)),
  };
}

/** IEEE binary32. */
export const F32: Format = makeFormat(8, 23);
/** IEEE binary64. */
export const F64: Format = makeFormat(11, 52);

/** Operand classes, ordered so that `cls >= QNAN` means "some NaN". */
export const ZERO = 0, FINITE = 1, INF = 2, QNAN = 3, SNAN = 4;

/** An unpacked operand: value = (-1)^sign × sig × 2^exp for FINITE (sig > 0, subnormals included). */
export interface Unpacked {
  cls: number;
  sign: number;
  sig: bigint;
  exp: number;
}

/** Splits a bit pattern into class, sign and an integer significand/exponent pair. */
export function unpack(f: Format, bits: bigint): Unpacked {
  const sign = (bits & f.signBit) !== 0n ? 1 : 0;
  const e = Number((bits & f.expMask) >> BigInt(f.fracBits));
  const frac = bits & f.fracMask;
  if (e === f.maxE) {
    if (frac === 0n) return { cls: INF, sign, sig: 0n, exp: 0 };
    return { cls: (frac & f.quietBit) !== 0n ? QNAN : SNAN, sign, sig: 0n, exp: 0 };
  }
  if (e === 0) {
    if (frac === 0n) return { cls: ZERO, sign, sig: 0n, exp: 0 };
    return { cls: FINITE, sign, sig: frac, exp: f.qmin };
  }
  return { cls: FINITE, sign, sig: frac | f.hidden, exp: e - f.bias - f.fracBits };
}

/** Number of significant bits of a positive bigint. */
export function bitLen(x: bigint): number {
  let n = 0;
  // Whole 32-bit chunks first so that wide values cost a few steps, then the top word exactly.
  while (x >= 0x100000000n) {
    x >>= 32n;
    n += 32;
  }
  return n + 32 - Math.clz32(Number(x));
}

/**
 * Rounds `sig × 2^exp` (sig ≥ 0, possibly sticky-jammed in its lsb) to a multiple of `2^q` under `rm`
 * for a value of sign `sign`. Returns `(m << 1) | inexact` where `m × 2^q` is the rounded magnitude.
 */
export function roundAt(sig: bigint, exp: number, q: number, sign: number, rm: number): bigint {
  const shift = q - exp;
  if (shift <= 0) return (sig << BigInt(1 - shift));
  const sh = BigInt(shift);
  let m = sig >> sh;
  const rem = sig - (m << sh);
  if (rem === 0n) return m << 1n;
  const half = 1n << (sh - 1n);
  let up: boolean;
  switch (rm) {
    case RoundingMode.RTZ: up = false; break;
    case RoundingMode.RDN: up = sign !== 0; break;
    case RoundingMode.RUP: up = sign === 0; break;
    case RoundingMode.RMM: up = rem >= half; break;
    default: up = rem > half || (rem === half && (m & 1n) !== 0n); break;
  }
  if (up) m += 1n;
  return (m << 1n) | 1n;
}

/** The overflowed result for `rm`: infinity, or the largest finite number when rounding towards zero. */
function overflowResult(f: Format, sign: number, rm: number): bigint {
  const s = sign ? f.signBit : 0n;
  const toInf = rm === RoundingMode.RTZ ? false
    : rm === RoundingMode.RDN ? sign !== 0
      : rm === RoundingMode.RUP ? sign === 0
        : true;
  return toInf ? s | f.expMask : s | (f.expMask - f.hidden) | f.fracMask;
}

/**
 * Rounds the value `(-1)^sign × sig × 2^exp` into format `f` and packs it, raising NX/UF/OF.
 * `sig` may carry a sticky bit jammed into its lsb, in which case it must have at least p + 2 significant
 * bits (so the jammed bit lies strictly below the round bit). A zero `sig` gives a zero of the given sign.
 * Tininess is detected after rounding (as RISC-V and QEMU's parts_uncanon_normal).
 */
export function roundPack(f: Format, sign: number, sig: bigint, exp: number, s: FloatStatus): bigint {
  const sbit = sign ? f.signBit : 0n;
  if (sig === 0n) return sbit;
  const eTop = exp + bitLen(sig) - 1;
  const qUnbounded = eTop - f.fracBits;
  const q = qUnbounded < f.qmin ? f.qmin : qUnbounded;
  const r = roundAt(sig, exp, q, sign, s.rm);
  let m = r >> 1n;
  const inexact = (r & 1n) !== 0n;
  let qq = q;
  if (m >> BigInt(f.p) !== 0n) { // carried out to 2^p: renormalise (exact, m is a power of two)
    m >>= 1n;
    qq += 1;
  }
  let biased: number;
  let frac: bigint;
  if (m < f.hidden) {
    biased = 0;
    frac = m;
  } else {
    biased = qq + f.fracBits + f.bias;
    frac = m - f.hidden;
  }
  if (biased >= f.maxE) {
    s.flags |= OF | NX;
    return overflowResult(f, sign, s.rm);
  }
  if (inexact) {
    let flags = NX;
    if (eTop < f.emin) {
      // Tiny after rounding: the result rounded to p bits with an unbounded exponent is below 2^emin.
      let tiny = true;
      if (eTop === f.emin - 1) tiny = (roundAt(sig, exp, qUnbounded, sign, s.rm) >> 1n) >> BigInt(f.p) === 0n;
      if (tiny) flags |= UF;
    }
    s.flags |= flags;
  }
  return sbit | (BigInt(biased) << BigInt(f.fracBits)) | frac;
}

/** The NaN result of an operation with NaN operand(s): NV if any is signalling, then the default NaN. */
function nanResult(f: Format, s: FloatStatus, a: Unpacked, b?: Unpacked, c?: Unpacked): bigint {
  if (a.cls === SNAN || b?.cls === SNAN || c?.cls === SNAN) s.flags |= NV;
  return f.defaultNaN;
}

function invalid(f: Format, s: FloatStatus): bigint {
  s.flags |= NV;
  return f.defaultNaN;
}

function infOf(f: Format, sign: number): bigint {
  return (sign ? f.signBit : 0n) | f.expMask;
}

function zeroOf(f: Format, sign: number): bigint {
  return sign ? f.signBit : 0n;
}

/** Sum of two finite non-zero unpacked values, rounded once (the exact sum is formed first). */
function addFinite(f: Format, sa: number, siga: bigint, ea: number, sb: number, sigb: bigint, eb: number,
  s: FloatStatus): bigint {
  const e = ea < eb ? ea : eb;
  const va = siga << BigInt(ea - e);
  const vb = sigb << BigInt(eb - e);
  let sum = (sa ? -va : va) + (sb ? -vb : vb);
  if (sum === 0n) return zeroOf(f, s.rm === RoundingMode.RDN ? 1 : 0); // exact cancellation
  let sign = 0;
  if (sum < 0n) { sign = 1; sum = -sum; }
  return roundPack(f, sign, sum, e, s);
}

/** a + b (QEMU parts_addsub). Subtraction is addition of b with its sign flipped. */
export function add(f: Format, a: bigint, b: bigint, s: FloatStatus): bigint {
  const ua = unpack(f, a), ub = unpack(f, b);
  if (ua.cls >= QNAN || ub.cls >= QNAN) return nanResult(f, s, ua, ub);
  if (ua.cls === INF) {
    if (ub.cls === INF && ua.sign !== ub.sign) return invalid(f, s);
    return a;
  }
  if (ub.cls === INF) return b;
  if (ua.cls === ZERO) {
    if (ub.cls === ZERO) {
      return zeroOf(f, ua.sign === ub.sign ? ua.sign : s.rm === RoundingMode.RDN ? 1 : 0);
    }
    return b;
  }
  if (ub.cls === ZERO) return a;
  return addFinite(f, ua.sign, ua.sig, ua.exp, ub.sign, ub.sig, ub.exp, s);
}

/** a − b. */
export function sub(f: Format, a: bigint, b: bigint, s: FloatStatus): bigint {
  return add(f, a, b ^ f.signBit, s);
}

/** a × b. */
export function mul(f: Format, a: bigint, b: bigint, s: FloatStatus): bigint {
  const ua = unpack(f, a), ub = unpack(f, b);
  if (ua.cls >= QNAN || ub.cls >= QNAN) return nanResult(f, s, ua, ub);
  const sign = ua.sign ^ ub.sign;
  if (ua.cls === INF || ub.cls === INF) {
    if (ua.cls === ZERO || ub.cls === ZERO) return invalid(f, s);
    return infOf(f, sign);
  }
  if (ua.cls === ZERO || ub.cls === ZERO) return zeroOf(f, sign);
  return roundPack(f, sign, ua.sig * ub.sig, ua.exp + ub.exp, s);
}

/** a ÷ b. */
export function div(f: Format, a: bigint, b: bigint, s: FloatStatus): bigint {
  const ua = unpack(f, a), ub = unpack(f, b);
  if (ua.cls >= QNAN || ub.cls >= QNAN) return nanResult(f, s, ua, ub);
  const sign = ua.sign ^ ub.sign;
  if (ua.cls === INF) return ub.cls === INF ? invalid(f, s) : infOf(f, sign);
  if (ub.cls === INF) return zeroOf(f, sign);
  if (ub.cls === ZERO) {
    if (ua.cls === ZERO) return invalid(f, s);
    s.flags |= DZ;
    return infOf(f, sign);
  }
  if (ua.cls === ZERO) return zeroOf(f, sign);
  // Scale the dividend so the integer quotient has at least p + 3 bits, then jam the remainder.
  let k = f.p + 3 + bitLen(ub.sig) - bitLen(ua.sig);
  if (k < 0) k = 0;
  const n = ua.sig << BigInt(k);
  const q = n / ub.sig;
  const sticky = n - q * ub.sig !== 0n ? 1n : 0n;
  return roundPack(f, sign, q | sticky, ua.exp - k - ub.exp, s);
}

/** floor(sqrt(n)) for n ≥ 0 (Newton's iteration from an over-estimate). */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitLen(n) >> 1) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/** √a. */
export function sqrt(f: Format, a: bigint, s: FloatStatus): bigint {
  const ua = unpack(f, a);
  if (ua.cls >= QNAN) return nanResult(f, s, ua);
  if (ua.cls === ZERO) return a; // √±0 = ±0
  if (ua.sign) return invalid(f, s);
  if (ua.cls === INF) return a;
  // Make the radicand have ≥ 2(p+3) bits and an even exponent; the root then has ≥ p+3 bits.
  let k = 2 * (f.p + 3) - bitLen(ua.sig);
  if (k < 0) k = 0;
  if (((ua.exp - k) & 1) !== 0) k += 1;
  const n = ua.sig << BigInt(k);
  const r = isqrt(n);
  const sticky = r * r !== n ? 1n : 0n;
  return roundPack(f, 0, r | sticky, (ua.exp - k) / 2, s);
}

/**
 * Fused (±a×b) ± c with one rounding (QEMU parts_muladd). RISC-V raises NV for ∞×0 even when c is a
 * quiet NaN (softfloat-specialize.c.inc pickNaNMulAdd).
 */
export function mulAdd(f: Format, a: bigint, b: bigint, c: bigint, negProduct: boolean, negAddend: boolean,
  s: FloatStatus): bigint {
  const ua = unpack(f, a), ub = unpack(f, b), uc = unpack(f, c);
  const infZero = (ua.cls === INF && ub.cls === ZERO) || (ua.cls === ZERO && ub.cls === INF);
  if (ua.cls >= QNAN || ub.cls >= QNAN || uc.cls >= QNAN) {
    if (infZero) s.flags |= NV;
    return nanResult(f, s, ua, ub, uc);
  }
  if (infZero) return invalid(f, s);
  const sp = ua.sign ^ ub.sign ^ (negProduct ? 1 : 0);
  const sc = uc.sign ^ (negAddend ? 1 : 0);
  if (ua.cls === INF || ub.cls === INF) {
    if (uc.cls === INF && sc !== sp) return invalid(f, s);
    return infOf(f, sp);
  }
  if (uc.cls === INF) return infOf(f, sc);
  if (ua.cls === ZERO || ub.cls === ZERO) {
    if (uc.cls === ZERO) return zeroOf(f, sp === sc ? sp : s.rm === RoundingMode.RDN ? 1 : 0);
    return negAddend ? c ^ f.signBit : c;
  }
  const psig = ua.sig * ub.sig, pexp = ua.exp + ub.exp;
  if (uc.cls === ZERO) return roundPack(f, sp, psig, pexp, s);
  return addFinite(f, sp, psig, pexp, sc, uc.sig, uc.exp, s);
}

/**
 * Orders two non-NaN values: -1, 0, 1 (−0 equals +0). Callers deal with NaNs first.
 */
function compareNumbers(f: Format, a: bigint, b: bigint): number {
  const ma = a & ~f.signBit, mb = b & ~f.signBit;
  const ka = (a & f.signBit) !== 0n ? -ma : ma;
  const kb = (b & f.signBit) !== 0n ? -mb : mb;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function isNaNBits(f: Format, x: bigint): boolean {
  return (x & f.expMask) === f.expMask && (x & f.fracMask) !== 0n;
}

function isSNaNBits(f: Format, x: bigint): boolean {
  return isNaNBits(f, x) && (x & f.quietBit) === 0n;
}

/**
 * IEEE 754-2019 minimumNumber / maximumNumber as RISC-V fmin/fmax (QEMU parts_minmax with
 * minmax_isnumber): a NaN operand is ignored (NV if signalling) unless both are NaN (default NaN);
 * −0 is less than +0.
 */
export function minMax(f: Format, a: bigint, b: bigint, isMax: boolean, s: FloatStatus): bigint {
  const an = isNaNBits(f, a), bn = isNaNBits(f, b);
  if (an || bn) {
    if (isSNaNBits(f, a) || isSNaNBits(f, b)) s.flags |= NV;
    if (an && bn) return f.defaultNaN;
    return an ? b : a;
  }
  const c = compareNumbers(f, a, b);
  if (c === 0) {
    // Equal values: they differ at most in the sign of zero.
    const aNeg = (a & f.signBit) !== 0n;
    return isMax === aNeg ? b : a;
  }
  return (c > 0) === isMax ? a : b;
}

/** Quiet equality (feq): NV only for signalling NaNs. */
export function eq(f: Format, a: bigint, b: bigint, s: FloatStatus): boolean {
  if (isNaNBits(f, a) || isNaNBits(f, b)) {
    if (isSNaNBits(f, a) || isSNaNBits(f, b)) s.flags |= NV;
    return false;
  }
  return compareNumbers(f, a, b) === 0;
}

/** Signalling less-than / less-or-equal (flt/fle): NV for any NaN operand. */
export function lessThan(f: Format, a: bigint, b: bigint, orEqual: boolean, s: FloatStatus): boolean {
  if (isNaNBits(f, a) || isNaNBits(f, b)) {
    s.flags |= NV;
    return false;
  }
  const c = compareNumbers(f, a, b);
  return orEqual ? c <= 0 : c < 0;
}

/**
 * RISC-V fclass mask: bit 0 −∞, 1 −normal, 2 −subnormal, 3 −0, 4 +0, 5 +subnormal, 6 +normal, 7 +∞,
 * 8 signalling NaN, 9 quiet NaN (QEMU target/riscv fpu_helper.c fclass_s/fclass_d).
 */
export function classify(f: Format, a: bigint): number {
  const neg = (a & f.signBit) !== 0n;
  const e = a & f.expMask, frac = a & f.fracMask;
  if (e === f.expMask) {
    if (frac === 0n) return neg ? 1 << 0 : 1 << 7;
    return (frac & f.quietBit) !== 0n ? 1 << 9 : 1 << 8;
  }
  if (e === 0n) {
    if (frac === 0n) return neg ? 1 << 3 : 1 << 4;
    return neg ? 1 << 2 : 1 << 5;
  }
  return neg ? 1 << 1 : 1 << 6;
}

/**
 * Float → integer of `width` bits (QEMU parts_float_to_sint/uint with RISC-V saturation): rounds with
 * s.rm; NaN gives the maximum, ±∞ and out-of-range values saturate; every invalid case raises NV alone
 * (no NX). A negative value that rounds to 0 converts to 0 for unsigned targets (NX only).
 * Returns the integer value (negative for negative results).
 */
export function toInt(f: Format, a: bigint, width: number, signed: boolean, s: FloatStatus): bigint {
  const max = signed ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
  const min = signed ? -(1n << BigInt(width - 1)) : 0n;
  const u = unpack(f, a);
  if (u.cls >= QNAN) { s.flags |= NV; return max; }
  if (u.cls === INF) { s.flags |= NV; return u.sign ? min : max; }
  if (u.cls === ZERO) return 0n;
  // Values ≥ 2^(width+1) certainly overflow; skip building huge integers for them.
  if (u.exp + bitLen(u.sig) - 1 > width + 1) { s.flags |= NV; return u.sign ? min : max; }
  const r = roundAt(u.sig, u.exp, 0, u.sign, s.rm);
  const m = r >> 1n;
  const nx = (r & 1n) !== 0n;
  let v: bigint;
  if (u.sign) {
    if (m === 0n) v = 0n;
    else if (!signed || -m < min) { s.flags |= NV; return min; } else v = -m;
  } else {
    if (m > max) { s.flags |= NV; return max; }
    v = m;
  }
  if (nx) s.flags |= NX;
  return v;
}

/** Integer (any size, as a bigint value) → float, rounded with s.rm. */
export function fromInt(f: Format, x: bigint, s: FloatStatus): bigint {
  if (x === 0n) return 0n;
  return x < 0n ? roundPack(f, 1, -x, 0, s) : roundPack(f, 0, x, 0, s);
}

/** Converts between formats (fcvt.s.d / fcvt.d.s): NaN → default NaN (NV if signalling), else rounded. */
export function convert(from: Format, to: Format, a: bigint, s: FloatStatus): bigint {
  const u = unpack(from, a);
  if (u.cls >= QNAN) return nanResult(to, s, u);
  if (u.cls === INF) return infOf(to, u.sign);
  if (u.cls === ZERO) return zeroOf(to, u.sign);
  return roundPack(to, u.sign, u.sig, u.exp, s);
}
