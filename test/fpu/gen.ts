/**
 * fast-check generators of floating-point operands, biased towards the values where softfloat goes
 * wrong: zeros, infinities, quiet and signalling NaNs, subnormals, the normal bounds, integer and
 * halfway boundaries, sparse significands (exact or near-tie results), close exponents (cancellation)
 * and fused products nearly cancelled by the addend.
 */
import fc from 'fast-check';
import * as sf from '../../src/fpu/index.js';
import type { Case, Kind, OpDef } from './oracle.js';

const F32_SPECIAL = [
  0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7fc00001, 0x7f800001, 0xff800001,
  0x7fa00000, 0x7fbfffff, 0x7fffffff, 1, 0x80000001, 0x007fffff, 0x807fffff, 0x00400000, 0x00800000,
  0x80800000, 0x00800001, 0x7f7fffff, 0xff7fffff, 0x7f000000, 0x3f800000, 0xbf800000, 0x3f800001,
  0x3f7fffff, 0x3f000000, 0xbf000000, 0x3fc00000, 0xbfc00000, 0x40200000, 0x4effffff, 0x4f000000,
  0xcf000000, 0xcf000001, 0x4f800000, 0x4f7fffff, 0x5effffff, 0x5f000000, 0xdf000000, 0xdf000001,
  0x5f800000, 0x5f7fffff, 0x34000000, 0x33800000, 0x0c000000,
];

const F64_SPECIAL = [
  0n, 0x8000000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n,
  0xfff8000000000000n, 0x7ff8000000000001n, 0x7ff0000000000001n, 0xfff0000000000001n, 0x7ff4000000000000n,
  0x7ff7ffffffffffffn, 0x7fffffffffffffffn, 1n, 0x8000000000000001n, 0x000fffffffffffffn,
  0x800fffffffffffffn, 0x0010000000000000n, 0x8010000000000000n, 0x0010000000000001n, 0x7fefffffffffffffn,
  0xffefffffffffffffn, 0x3ff0000000000000n, 0xbff0000000000000n, 0x3ff0000000000001n, 0x3fefffffffffffffn,
  0x3fe0000000000000n, 0xbfe0000000000000n, 0x3ff8000000000000n, 0x4004000000000000n, 0x41dfffffffc00000n,
  0x41e0000000000000n, 0xc1e0000000000000n, 0xc1e0000000200000n, 0x41efffffffe00000n, 0x41f0000000000000n,
  0x43dfffffffffffffn, 0x43e0000000000000n, 0xc3e0000000000000n, 0xc3e0000000000001n, 0x43efffffffffffffn,
  0x43f0000000000000n, 0x47efffffe0000000n, 0x47efffffefffffffn, 0x47effffff0000000n, 0x3810000000000000n,
  0x380fffffffffffffn, 0x3800000000000000n, 0x36a0000000000000n, 0x3690000000000000n, 0x3690000000000001n,
];

/** Exponents worth hitting: bounds, around 1, integer-conversion limits, binary32 limits for f64. */
const F32_EXPS = [0, 1, 2, 254, 253, 127, 126, 128, 150, 151, 157, 158, 159, 189, 190, 191, 103, 104];
const F64_EXPS = [0, 1, 2, 2046, 2045, 1023, 1022, 1024, 1075, 1076, 1053, 1054, 1055, 1085, 1086, 1087,
  897, 896, 895, 874, 873, 1150, 1151, 1152, 969, 970];

/** A significand with its low `n` bits cleared, optionally with a tie-ish low pattern. */
function sparse(bits: number, frac: fc.Arbitrary<bigint>): fc.Arbitrary<bigint> {
  return fc.tuple(frac, fc.integer({ min: 0, max: bits }), fc.constantFrom(0n, 1n, -1n))
    .map(([f, n, tweak]) => {
      const mask = (1n << BigInt(bits)) - 1n;
      return ((f >> BigInt(n)) << BigInt(n)) + tweak & mask;
    });
}

function floatBits(expBits: number, fracBits: number, exps: number[], specials: bigint[]): fc.Arbitrary<bigint> {
  const maxE = (1 << expBits) - 1;
  const frac = fc.bigInt({ min: 0n, max: (1n << BigInt(fracBits)) - 1n });
  const fields = fc.tuple(
    fc.boolean(),
    fc.oneof(fc.integer({ min: 0, max: maxE }), fc.constantFrom(...exps)),
    fc.oneof(frac, sparse(fracBits, frac), fc.constantFrom(0n, 1n, (1n << BigInt(fracBits)) - 1n,
      1n << BigInt(fracBits - 1), (1n << BigInt(fracBits - 1)) + 1n)),
  ).map(([s, e, f]) => (s ? 1n << BigInt(expBits + fracBits) : 0n) | (BigInt(e) << BigInt(fracBits)) | f);
  return fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...specials) },
    { weight: 5, arbitrary: fields },
    { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << BigInt(1 + expBits + fracBits)) - 1n }) },
  );
}

/** binary32 bit patterns (as bigints, upper 32 bits clear). */
export const f32Bits: fc.Arbitrary<bigint> = floatBits(8, 23, F32_EXPS, F32_SPECIAL.map((x) => BigInt(x)));
/** binary64 bit patterns. */
export const f64Bits: fc.Arbitrary<bigint> = floatBits(11, 52, F64_EXPS, F64_SPECIAL);

/** Integers whose conversion rounds near a tie (an integer significand followed by 10…0 / 10…1). */
function intNearTie(width: number): fc.Arbitrary<bigint> {
  return fc.tuple(fc.integer({ min: 0, max: width - 1 }), fc.bigInt({ min: 0n, max: (1n << 30n) - 1n }),
    fc.constantFrom(-1n, 0n, 1n)).map(([sh, m, t]) => BigInt.asUintN(width, ((m << BigInt(sh)) + t)));
}

const I32_SPECIAL = [0n, 1n, 0xffffffffn, 0x7fffffffn, 0x80000000n, 0x01000000n, 0x01000001n, 0x01000003n,
  0xfeffffffn, 0x00ffffffn, 0xfffffff0n];
const I64_SPECIAL = [0n, 1n, 0xffffffffffffffffn, 0x7fffffffffffffffn, 0x8000000000000000n, 0x20000000000001n,
  0x20000000000003n, 0x1000001n, 0xffdfffffffffffffn, 0x7fffff8000000000n, 0xffffff8000000001n, 0x100000000n];

/** 32-bit integers as register values (sign-extended, sometimes with junk upper bits, which must be ignored). */
export const i32Bits: fc.Arbitrary<bigint> = fc.tuple(
  fc.oneof(fc.constantFrom(...I32_SPECIAL), fc.bigInt({ min: 0n, max: 0xffffffffn }), intNearTie(32)),
  fc.oneof({ weight: 4, arbitrary: fc.constant(-1n) }, { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 0xffffffffn }) }),
).map(([v, hi]) => (hi === -1n ? BigInt.asUintN(64, BigInt.asIntN(32, v)) : (hi << 32n) | v));

/** 64-bit integers as register values. */
export const i64Bits: fc.Arbitrary<bigint> = fc.oneof(
  fc.constantFrom(...I64_SPECIAL),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  intNearTie(64),
  intNearTie(64).map((x) => BigInt.asUintN(64, -x)),
);

const byKind: Record<Kind, fc.Arbitrary<bigint>> = { f32: f32Bits, f64: f64Bits, i32: i32Bits, i64: i64Bits };

/** A second operand whose exponent is close to the first's (cancellation, alignment by a few bits). */
function near(kind: Kind, a: bigint): fc.Arbitrary<bigint> {
  const fracBits = kind === 'f32' ? 23 : 52, expBits = kind === 'f32' ? 8 : 11;
  const maxE = (1 << expBits) - 1;
  const e = Number((a >> BigInt(fracBits)) & BigInt(maxE));
  return fc.tuple(fc.boolean(), fc.integer({ min: -fracBits - 3, max: fracBits + 3 }),
    sparse(fracBits, fc.bigInt({ min: 0n, max: (1n << BigInt(fracBits)) - 1n })))
    .map(([s, d, f]) => {
      const ne = Math.min(maxE - 1, Math.max(0, e + d));
      return (s ? 1n << BigInt(expBits + fracBits) : 0n) | (BigInt(ne) << BigInt(fracBits)) | f;
    });
}

/** A fused-multiply-add addend close to ±a·b (so the sum nearly or exactly cancels). */
function nearProduct(kind: Kind, a: bigint, b: bigint): fc.Arbitrary<bigint> {
  return fc.tuple(fc.constantFrom(0, 1, 2, 3, 4), fc.boolean(), fc.integer({ min: -2, max: 2 }))
    .map(([rm, neg, tweak]) => {
      const s: sf.FloatStatus = { rm: rm as sf.RoundingMode, flags: 0 };
      const p = kind === 'f32' ? BigInt(sf.f32Mul(Number(a), Number(b), s)) : sf.f64Mul(a, b, s);
      const signBit = kind === 'f32' ? 0x80000000n : 0x8000000000000000n;
      const mask = kind === 'f32' ? 0xffffffffn : 0xffffffffffffffffn;
      return ((neg ? p ^ signBit : p) + BigInt(tweak)) & mask;
    });
}

/** Operands (a, b, c) for an op. */
export function operands(op: OpDef): fc.Arbitrary<[bigint, bigint, bigint]> {
  const [ka, kb, kc] = op.args;
  const gen = (k: Kind | undefined): fc.Arbitrary<bigint> => (k ? byKind[k] : fc.constant(0n));
  const independent = fc.tuple(gen(ka), gen(kb), gen(kc));
  if (!ka || !kb || (ka !== 'f32' && ka !== 'f64')) return independent;
  const close = gen(ka).chain((a) => fc.tuple(fc.constant(a), near(ka, a), gen(kc)));
  if (!kc) return fc.oneof(independent, close);
  const fused = fc.tuple(gen(ka), gen(kb)).chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b),
    fc.oneof(nearProduct(ka, a, b), nearProduct(ka, a, b).chain((p) => near(ka, p)))));
  return fc.oneof(independent, close, fused);
}

/** Cases for an op across all rounding modes. */
export function cases(op: OpDef): fc.Arbitrary<Case> {
  return fc.tuple(operands(op), fc.constantFrom<sf.RoundingMode>(0, 1, 2, 3, 4))
    .map(([[a, b, c], rm]) => ({ op, rm, a, b, c }));
}
