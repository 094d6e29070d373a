/**
 * Bit-pattern ↔ JS number conversions and small exact helpers for the double-precision fast paths.
 * The scratch DataView is module-level but holds no state between calls (every function writes it and
 * reads it back before returning), so it cannot leak anything between machines.
 */
const dv = new DataView(new ArrayBuffer(8));

/** The binary32 value of a bit pattern, as an (exactly equal) double. */
export function f32FromBits(bits: number): number {
  dv.setUint32(0, bits, true);
  return dv.getFloat32(0, true);
}

/** The binary32 bit pattern of a double already representable as binary32 (not NaN). */
export function f32ToBits(x: number): number {
  dv.setFloat32(0, x, true);
  return dv.getUint32(0, true);
}

/** The binary64 value of a bit pattern. */
export function f64FromBits(bits: bigint): number {
  dv.setBigUint64(0, bits, true);
  return dv.getFloat64(0, true);
}

/** The binary64 bit pattern of a double (not NaN: engines may canonicalise NaN payloads). */
export function f64ToBits(x: number): bigint {
  dv.setFloat64(0, x, true);
  return dv.getBigUint64(0, true);
}

/**
 * The significand of a finite non-zero double with its trailing zero bits removed (an odd integer
 * below 2^53, returned exactly as a double). Two doubles multiply exactly iff the product of their odd
 * significands is below 2^53 and the product is in the normal range.
 */
export function oddSignificand(x: number): number {
  dv.setFloat64(0, x, true);
  const hi = dv.getUint32(4, true), lo = dv.getUint32(0, true);
  let h = hi & 0xfffff;
  if ((hi & 0x7ff00000) !== 0) h |= 0x100000;
  if (lo === 0) return h / (h & -h);
  const tz = 31 - Math.clz32(lo & -lo);
  return h * 2 ** (32 - tz) + (lo >>> tz);
}

/** True when x × y (finite, non-zero, product in the normal range) is exactly representable. */
export function productIsExact(x: number, y: number): boolean {
  // A product of two integers rounds to a double ≥ 2^53 iff the exact product is ≥ 2^53 (2^53 is a
  // double and rounding is monotone), so this test is exact even though the multiplication rounds.
  return oddSignificand(x) * oddSignificand(y) < 9007199254740992;
}

const SPLIT = 134217729; // 2^27 + 1 (Veltkamp splitting into two 26-bit halves)
/** |x| bound for {@link productError}: splitting multiplies by 2^27 + 1 without overflowing. */
export const SPLIT_MAX = 2 ** 995;
/** |p| lower bound for {@link productError}: the partial products stay above 2^-1074 (no underflow). */
export const PRODUCT_ERR_MIN = 2 ** -968;

/**
 * The exact rounding error of p = fl(x × y), so that x × y = p + error (Dekker's TwoProduct with
 * Veltkamp splitting). Exact when |x|, |y| ≤ {@link SPLIT_MAX} and |p| ≥ {@link PRODUCT_ERR_MIN}
 * (then every partial product is exact and above the subnormal range).
 */
export function productError(x: number, y: number, p: number): number {
  let t = SPLIT * x;
  const xh = t - (t - x), xl = x - xh;
  t = SPLIT * y;
  const yh = t - (t - y), yl = y - yh;
  return ((xh * yh - p) + xh * yl + xl * yh) + xl * yl;
}

/**
 * The double next to a non-zero finite x, away from zero (`awayFromZero`) or towards it: used to emulate
 * round-to-odd. The magnitude bits of a double are ordered like its magnitude.
 */
export function nextDouble(x: number, awayFromZero: boolean): number {
  dv.setFloat64(0, x, true);
  let hi = dv.getUint32(4, true), lo = dv.getUint32(0, true);
  if (awayFromZero) {
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
  } else {
    if (lo === 0) hi = (hi - 1) >>> 0;
    lo = (lo - 1) >>> 0;
  }
  dv.setUint32(4, hi, true);
  dv.setUint32(0, lo, true);
  return dv.getFloat64(0, true);
}

/** True when the significand of a finite double is even (its last bit clear). */
export function hasEvenSignificand(x: number): boolean {
  dv.setFloat64(0, x, true);
  return (dv.getUint32(0, true) & 1) === 0;
}

/**
 * Rounds a double to an integral double under a RISC-V rounding mode. Exact: for |x| < 2^52,
 * x − floor(x) and x − trunc(x) are exact fractional parts; larger doubles are already integers.
 */
export function roundToIntegral(x: number, rm: number): number {
  switch (rm) {
    case 1: return Math.trunc(x);
    case 2: return Math.floor(x);
    case 3: return Math.ceil(x);
    case 4: {
      const t = Math.trunc(x);
      return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
    }
    default: {
      const fl = Math.floor(x);
      const d = x - fl;
      if (d > 0.5) return fl + 1;
      if (d < 0.5) return fl;
      return fl % 2 === 0 ? fl : fl + 1;
    }
  }
}
