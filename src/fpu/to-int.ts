/**
 * Float → integer conversions computed on doubles (exact: every binary32/binary64 value is a double and
 * {@link roundToIntegral} is exact), with RISC-V saturation as QEMU parts_float_to_sint/uint:
 * NaN → maximum, out of range (±∞ included) → the bound on that side, each with NV alone (no NX);
 * otherwise NX when rounding changed the value. A negative value rounding to 0 is 0 for unsigned targets.
 */
import { roundToIntegral } from './bits.js';
import { FloatFlag, type FloatStatus } from './status.js';

const TWO31 = 2147483648, TWO32 = 4294967296, TWO63 = 9223372036854775808, TWO64 = 18446744073709551616;

/** To int32 (signed result) or uint32 (result in 0..2^32−1). */
export function doubleToInt32(x: number, signed: boolean, s: FloatStatus): number {
  const lo = signed ? -TWO31 : 0, hi = signed ? TWO31 - 1 : TWO32 - 1;
  if (x !== x) { s.flags |= FloatFlag.NV; return hi; }
  const r = roundToIntegral(x, s.rm);
  if (r < lo) { s.flags |= FloatFlag.NV; return lo; }
  if (r > hi) { s.flags |= FloatFlag.NV; return hi; }
  if (r !== x) s.flags |= FloatFlag.NX;
  return r + 0; // normalise −0
}

const I64_MIN = -(1n << 63n), I64_MAX = (1n << 63n) - 1n, U64_MAX = (1n << 64n) - 1n;

/** To int64 (signed bigint) or uint64 (bigint in 0..2^64−1). */
export function doubleToInt64(x: number, signed: boolean, s: FloatStatus): bigint {
  const hi = signed ? I64_MAX : U64_MAX, lo = signed ? I64_MIN : 0n;
  if (x !== x) { s.flags |= FloatFlag.NV; return hi; }
  const r = roundToIntegral(x, s.rm);
  // Bounds as doubles: −2^63 and 2^63/2^64 are exact, and r is an integral double.
  if (r < (signed ? -TWO63 : 0)) { s.flags |= FloatFlag.NV; return lo; }
  if (r >= (signed ? TWO63 : TWO64)) { s.flags |= FloatFlag.NV; return hi; }
  if (r !== x) s.flags |= FloatFlag.NX;
  return BigInt(r);
}
