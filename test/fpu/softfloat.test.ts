/**
 * Special cases of the softfloat, with expected values derived by hand from IEEE 754 and the RISC-V
 * F/D specification (and cross-checked once against qemu-riscv64), plus a property that the double
 * fast paths agree with the exact BigInt reference on generated operands.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import * as sf from '../../src/fpu/index.js';
import * as core from '../../src/fpu/core.js';
import { F32, F64 } from '../../src/fpu/core.js';
import { f32Bits, f64Bits, i64Bits } from './gen.js';

const { RNE, RTZ, RDN, RUP, RMM } = sf.RoundingMode;
const { NX, UF, OF, DZ, NV } = sf.FloatFlag;
const ALL_RM = [RNE, RTZ, RDN, RUP, RMM] as const;

/** Runs `f` with a fresh status in mode `rm`; returns [result, flags]. */
function run<T>(rm: sf.RoundingMode, f: (s: sf.FloatStatus) => T): [T, number] {
  const s = sf.makeFloatStatus(rm);
  const r = f(s);
  return [r, s.flags];
}

// binary32 constants
const P0 = 0x00000000, N0 = 0x80000000, PINF = 0x7f800000, NINF = 0xff800000;
const QNAN = 0x7fc00000, SNAN = 0x7f800001, DNAN = 0x7fc00000;
const ONE = 0x3f800000, TWO = 0x40000000, THREE = 0x40400000, HALF = 0x3f000000;
const MAX = 0x7f7fffff, NMAX = 0xff7fffff, MINSUB = 0x00000001;
// binary64 constants
const D1 = 0x3ff0000000000000n, D_DNAN = 0x7ff8000000000000n, D_SNAN = 0x7ff0000000000001n;
const D_PINF = 0x7ff0000000000000n, D_NINF = 0xfff0000000000000n, D_MAX = 0x7fefffffffffffffn;

describe('signed zeros', () => {
  it('x + (−x) is +0, except −0 when rounding down', () => {
    for (const rm of ALL_RM) {
      const want = rm === RDN ? N0 : P0;
      expect(run(rm, (s) => sf.f32Add(P0, N0, s))).toEqual([want, 0]);
      expect(run(rm, (s) => sf.f32Sub(THREE, THREE, s))).toEqual([want, 0]);
      expect(run(rm, (s) => sf.f64Sub(D1, D1, s))).toEqual([rm === RDN ? 0x8000000000000000n : 0n, 0]);
    }
    expect(run(RNE, (s) => sf.f32Add(N0, N0, s))).toEqual([N0, 0]);
  });
  it('products and quotients carry the xor of the signs', () => {
    expect(run(RNE, (s) => sf.f32Mul(N0, THREE, s))).toEqual([N0, 0]);
    expect(run(RNE, (s) => sf.f64Div(0n, 0xc000000000000000n, s))).toEqual([0x8000000000000000n, 0]);
  });
  it('√−0 is −0 without flags', () => {
    expect(run(RNE, (s) => sf.f32Sqrt(N0, s))).toEqual([N0, 0]);
    expect(run(RTZ, (s) => sf.f64Sqrt(0x8000000000000000n, s))).toEqual([0x8000000000000000n, 0]);
  });
});

describe('infinities and invalid operations', () => {
  it('∞ − ∞, ∞ × 0, 0 ÷ 0, ∞ ÷ ∞ and √−1 are invalid and give the default NaN', () => {
    expect(run(RNE, (s) => sf.f32Sub(PINF, PINF, s))).toEqual([DNAN, NV]);
    expect(run(RNE, (s) => sf.f32Mul(NINF, P0, s))).toEqual([DNAN, NV]);
    expect(run(RNE, (s) => sf.f32Div(P0, N0, s))).toEqual([DNAN, NV]);
    expect(run(RNE, (s) => sf.f64Div(D_PINF, D_NINF, s))).toEqual([D_DNAN, NV]);
    expect(run(RNE, (s) => sf.f32Sqrt(0xbf800000, s))).toEqual([DNAN, NV]);
    expect(run(RNE, (s) => sf.f64Sqrt(D_NINF, s))).toEqual([D_DNAN, NV]);
  });
  it('x ÷ 0 is a signed infinity with DZ', () => {
    expect(run(RNE, (s) => sf.f32Div(ONE, P0, s))).toEqual([PINF, DZ]);
    expect(run(RNE, (s) => sf.f32Div(ONE, N0, s))).toEqual([NINF, DZ]);
    expect(run(RUP, (s) => sf.f64Div(0xbff0000000000000n, 0n, s))).toEqual([D_NINF, DZ]);
  });
  it('arithmetic on ∞ is exact', () => {
    expect(run(RNE, (s) => sf.f32Add(PINF, MAX, s))).toEqual([PINF, 0]);
    expect(run(RNE, (s) => sf.f32Div(THREE, NINF, s))).toEqual([N0, 0]);
    expect(run(RNE, (s) => sf.f64Sqrt(D_PINF, s))).toEqual([D_PINF, 0]);
  });
});

describe('NaNs', () => {
  it('a quiet NaN operand gives the default NaN quietly, payload and sign dropped', () => {
    expect(run(RNE, (s) => sf.f32Add(0xffc12345, ONE, s))).toEqual([DNAN, 0]);
    expect(run(RNE, (s) => sf.f64Mul(D1, 0xfff8000000000abcn, s))).toEqual([D_DNAN, 0]);
  });
  it('a signalling NaN operand raises NV', () => {
    expect(run(RNE, (s) => sf.f32Add(SNAN, ONE, s))).toEqual([DNAN, NV]);
    expect(run(RNE, (s) => sf.f64Sqrt(D_SNAN, s))).toEqual([D_DNAN, NV]);
    expect(run(RNE, (s) => sf.f32MulAdd(ONE, ONE, SNAN, false, false, s))).toEqual([DNAN, NV]);
  });
  it('∞ × 0 + qNaN raises NV (RISC-V)', () => {
    expect(run(RNE, (s) => sf.f32MulAdd(PINF, P0, QNAN, false, false, s))).toEqual([DNAN, NV]);
    expect(run(RNE, (s) => sf.f64MulAdd(0n, D_NINF, D_DNAN, true, true, s))).toEqual([D_DNAN, NV]);
  });
  it('format conversions turn NaNs into the default NaN, NV for signalling ones', () => {
    expect(run(RNE, (s) => sf.f32ToF64(SNAN, s))).toEqual([D_DNAN, NV]);
    expect(run(RNE, (s) => sf.f32ToF64(0xffc00001, s))).toEqual([D_DNAN, 0]);
    expect(run(RNE, (s) => sf.f64ToF32(D_SNAN, s))).toEqual([DNAN, NV]);
  });
});

describe('subnormals and underflow (tininess after rounding)', () => {
  it('half the smallest subnormal: ties to even 0 in RNE, away in RMM/RUP, always UF|NX', () => {
    expect(run(RNE, (s) => sf.f32Mul(MINSUB, HALF, s))).toEqual([P0, UF | NX]);
    expect(run(RMM, (s) => sf.f32Mul(MINSUB, HALF, s))).toEqual([MINSUB, UF | NX]);
    expect(run(RUP, (s) => sf.f32Mul(MINSUB, HALF, s))).toEqual([MINSUB, UF | NX]);
    expect(run(RDN, (s) => sf.f32Mul(MINSUB | 0x80000000, HALF, s))).toEqual([0x80000001, UF | NX]);
  });
  it('exact subnormal results raise nothing', () => {
    expect(run(RNE, (s) => sf.f32Mul(0x00000002, HALF, s))).toEqual([MINSUB, 0]);
    expect(run(RNE, (s) => sf.f32Sub(0x00800001, 0x00800000, s))).toEqual([MINSUB, 0]);
    expect(run(RNE, (s) => sf.f64Sqrt(1n, s))).toEqual([0x1e60000000000000n, 0]); // √2^-1074 = 2^-537
  });
  it('a value rounding up to the smallest normal is tiny only if its 24-bit rounding stays below it', () => {
    // (1 − 2^-26)·2^-126 rounds to 2^-126 even with an unbounded exponent: not tiny, no UF.
    expect(run(RNE, (s) => sf.f64ToF32(0x380ffffff8000000n, s))).toEqual([0x00800000, NX]);
    expect(run(RUP, (s) => sf.f64ToF32(0x380ffffff8000000n, s))).toEqual([0x00800000, NX]);
    expect(run(RTZ, (s) => sf.f64ToF32(0x380ffffff8000000n, s))).toEqual([0x007fffff, UF | NX]);
    // (1 − 2^-24)·2^-126 is a 24-bit value below 2^-126: tiny, then rounds (tie to even) to 2^-126.
    expect(run(RNE, (s) => sf.f64ToF32(0x380fffffe0000000n, s))).toEqual([0x00800000, UF | NX]);
  });
});

describe('overflow in each rounding mode', () => {
  it('MAX × 2 saturates to the largest finite value when rounding towards zero', () => {
    const pos: Record<number, number> = { [RNE]: PINF, [RTZ]: MAX, [RDN]: MAX, [RUP]: PINF, [RMM]: PINF };
    const neg: Record<number, number> = { [RNE]: NINF, [RTZ]: NMAX, [RDN]: NINF, [RUP]: NMAX, [RMM]: NINF };
    for (const rm of ALL_RM) {
      expect(run(rm, (s) => sf.f32Mul(MAX, TWO, s))).toEqual([pos[rm], OF | NX]);
      expect(run(rm, (s) => sf.f32Mul(NMAX, TWO, s))).toEqual([neg[rm], OF | NX]);
    }
    expect(run(RNE, (s) => sf.f64Add(D_MAX, D_MAX, s))).toEqual([D_PINF, OF | NX]);
    expect(run(RTZ, (s) => sf.f64ToF32(D_MAX, s))).toEqual([MAX, OF | NX]);
  });
});

describe('exact products and quotients next to the largest double', () => {
  // TwoProduct's split halves can multiply past the largest double when the product is near it: the
  // fast paths must not read that overflow as an inexact result.
  const D_TWO32 = 0x41f0000000000000n; // 2^32
  const D_MAX_OVER_2_32 = 0x7defffffffffffffn; // MAX / 2^32, exactly
  it('MAX / 2^32 × 2^32 and −MAX ÷ 2^32 are exact', () => {
    expect(run(RNE, (s) => sf.f64Mul(D_MAX_OVER_2_32, D_TWO32, s))).toEqual([D_MAX, 0]);
    expect(run(RNE, (s) => sf.f64Div(D_MAX | (1n << 63n), D_TWO32, s))).toEqual([D_MAX_OVER_2_32 | (1n << 63n), 0]);
    expect(run(RNE, (s) => sf.f64Div(D_MAX, D_MAX_OVER_2_32, s))).toEqual([D_TWO32, 0]);
  });
});

describe('fused multiply-add', () => {
  it('exact cancellation gives +0 (−0 in RDN) with no flags', () => {
    const M15 = 0xc1700000; // −15
    expect(run(RNE, (s) => sf.f32MulAdd(THREE, 0x40a00000, M15, false, false, s))).toEqual([P0, 0]);
    expect(run(RDN, (s) => sf.f32MulAdd(THREE, 0x40a00000, M15, false, false, s))).toEqual([N0, 0]);
    // fnmadd: −(3·5) − (−15)
    expect(run(RNE, (s) => sf.f32MulAdd(THREE, 0x40a00000, M15, true, true, s))).toEqual([P0, 0]);
  });
  it('rounds once: (1+2^-52)² − (1+2^-51) = 2^-104 exactly', () => {
    const a = 0x3ff0000000000001n;
    expect(run(RNE, (s) => sf.f64MulAdd(a, a, 0xbff0000000000002n, false, false, s))).toEqual([0x3970000000000000n, 0]);
  });
  it('a product on a binary32 tie is pushed off it by a tiny addend', () => {
    // (1+2^-12)² = 1 + 2^-11 + 2^-24 is a tie at 24 bits; ± 2^-80 decides the direction.
    const a = 0x3f800800;
    expect(run(RNE, (s) => sf.f32MulAdd(a, a, 0x17800000, false, false, s))).toEqual([0x3f801001, NX]);
    expect(run(RNE, (s) => sf.f32MulAdd(a, a, 0x97800000, false, false, s))).toEqual([0x3f801000, NX]);
    expect(run(RNE, (s) => sf.f32MulAdd(a, a, P0, false, false, s))).toEqual([0x3f801000, NX]);
  });
  it('binary64: a sum that double-rounds to a tie still rounds once', () => {
    // (1+2^-27)² + 2^-54(1+2^-52) = 1 + 2^-26 + 2^-53 + 2^-106: just above a tie, so it rounds up.
    const x = 0x3ff0000002000000n, z = 0x3c90000000000001n;
    expect(run(RNE, (s) => sf.f64MulAdd(x, x, z, false, false, s))).toEqual([0x3ff0000004000001n, NX]);
    expect(run(RNE, (s) => sf.f64MulAdd(x, x, z, false, true, s))).toEqual([0x3ff0000004000000n, NX]);
    expect(run(RDN, (s) => sf.f64MulAdd(x, x, z, false, false, s))).toEqual([0x3ff0000004000000n, NX]);
  });
});

describe('fmin/fmax (minimumNumber/maximumNumber)', () => {
  it('orders −0 below +0 in both argument orders', () => {
    expect(run(RNE, (s) => sf.f32Min(P0, N0, s))).toEqual([N0, 0]);
    expect(run(RNE, (s) => sf.f32Min(N0, P0, s))).toEqual([N0, 0]);
    expect(run(RNE, (s) => sf.f32Max(N0, P0, s))).toEqual([P0, 0]);
    expect(run(RNE, (s) => sf.f64Max(0n, 0x8000000000000000n, s))).toEqual([0n, 0]);
  });
  it('ignores one NaN (NV if signalling); two NaNs give the default NaN', () => {
    expect(run(RNE, (s) => sf.f32Min(QNAN, THREE, s))).toEqual([THREE, 0]);
    expect(run(RNE, (s) => sf.f32Max(THREE, SNAN, s))).toEqual([THREE, NV]);
    expect(run(RNE, (s) => sf.f32Min(0xffc00001, QNAN, s))).toEqual([DNAN, 0]);
    expect(run(RNE, (s) => sf.f64Max(D_SNAN, 0xfff8000000000000n, s))).toEqual([D_DNAN, NV]);
  });
});

describe('comparisons', () => {
  it('feq is quiet, flt/fle signal on any NaN', () => {
    expect(run(RNE, (s) => sf.f32Eq(QNAN, QNAN, s))).toEqual([false, 0]);
    expect(run(RNE, (s) => sf.f32Eq(SNAN, ONE, s))).toEqual([false, NV]);
    expect(run(RNE, (s) => sf.f32Lt(QNAN, ONE, s))).toEqual([false, NV]);
    expect(run(RNE, (s) => sf.f64Le(D1, D_DNAN, s))).toEqual([false, NV]);
  });
  it('treat ±0 as equal', () => {
    expect(run(RNE, (s) => sf.f32Eq(P0, N0, s))).toEqual([true, 0]);
    expect(run(RNE, (s) => sf.f32Lt(N0, P0, s))).toEqual([false, 0]);
    expect(run(RNE, (s) => sf.f64Le(0n, 0x8000000000000000n, s))).toEqual([true, 0]);
  });
});

describe('fclass', () => {
  it('sets exactly the bit of each class', () => {
    const cases: [number, number][] = [[NINF, 0], [0xbf800000, 1], [0x80000001, 2], [N0, 3], [P0, 4],
      [MINSUB, 5], [ONE, 6], [PINF, 7], [SNAN, 8], [QNAN, 9]];
    for (const [x, bit] of cases) expect(sf.f32Classify(x)).toBe(1 << bit);
    const d: [bigint, number][] = [[D_NINF, 0], [0xbff0000000000000n, 1], [0x800fffffffffffffn, 2],
      [0x8000000000000000n, 3], [0n, 4], [1n, 5], [D1, 6], [D_PINF, 7], [D_SNAN, 8], [D_DNAN, 9]];
    for (const [x, bit] of d) expect(sf.f64Classify(x)).toBe(1 << bit);
  });
});

describe('float → integer', () => {
  it('saturates with NV alone: NaN → max, ±∞ and out of range → the bound on that side', () => {
    expect(run(RNE, (s) => sf.f32ToI32(QNAN, s))).toEqual([0x7fffffff, NV]);
    expect(run(RNE, (s) => sf.f32ToI32(0xffc00000, s))).toEqual([0x7fffffff, NV]);
    expect(run(RNE, (s) => sf.f32ToI32(NINF, s))).toEqual([-0x80000000, NV]);
    expect(run(RNE, (s) => sf.f32ToI32(0x4f000000, s))).toEqual([0x7fffffff, NV]); // 2^31
    expect(run(RNE, (s) => sf.f32ToI32(0xcf000000, s))).toEqual([-0x80000000, 0]); // −2^31 fits
    expect(run(RNE, (s) => sf.f32ToI32(0xcf000001, s))).toEqual([-0x80000000, NV]);
    expect(run(RNE, (s) => sf.f32ToU32(0x4f7fffff, s))).toEqual([4294967040, 0]);
    expect(run(RNE, (s) => sf.f32ToU32(0x4f800000, s))).toEqual([0xffffffff, NV]); // 2^32
    expect(run(RNE, (s) => sf.f64ToI64(0x43e0000000000000n, s))).toEqual([(1n << 63n) - 1n, NV]);
    expect(run(RNE, (s) => sf.f64ToI64(0xc3e0000000000000n, s))).toEqual([-(1n << 63n), 0]);
    expect(run(RNE, (s) => sf.f64ToU64(D_DNAN, s))).toEqual([(1n << 64n) - 1n, NV]);
    expect(run(RNE, (s) => sf.f64ToU64(D_NINF, s))).toEqual([0n, NV]);
    expect(run(RTZ, (s) => sf.f64ToU64(0x43efffffffffffffn, s))).toEqual([0xfffffffffffff800n, 0]);
  });
  it('negative values: 0 with NX if they round to 0, else NV for unsigned targets', () => {
    expect(run(RNE, (s) => sf.f32ToU32(0xbf000000, s))).toEqual([0, NX]); // −0.5 → −0
    expect(run(RDN, (s) => sf.f32ToU32(0xbf000000, s))).toEqual([0, NV]); // −0.5 → −1
    expect(run(RTZ, (s) => sf.f64ToU64(0xbfefffffffffffffn, s))).toEqual([0n, NX]);
    expect(run(RNE, (s) => sf.f32ToU64(0xbf800000, s))).toEqual([0n, NV]);
  });
  it('rounds ±2.5 per mode', () => {
    const pos = { [RNE]: 2, [RTZ]: 2, [RDN]: 2, [RUP]: 3, [RMM]: 3 };
    const neg = { [RNE]: -2, [RTZ]: -2, [RDN]: -3, [RUP]: -2, [RMM]: -3 };
    for (const rm of ALL_RM) {
      expect(run(rm, (s) => sf.f32ToI32(0x40200000, s))).toEqual([pos[rm], NX]);
      expect(run(rm, (s) => sf.f64ToI64(0xc004000000000000n, s))).toEqual([BigInt(neg[rm]), NX]);
    }
  });
});

describe('integer → float', () => {
  it('rounds 2^24 + 1 and 2^53 + 1 per mode', () => {
    expect(run(RNE, (s) => sf.i32ToF32(16777217, s))).toEqual([0x4b800000, NX]);
    expect(run(RUP, (s) => sf.i32ToF32(16777217, s))).toEqual([0x4b800001, NX]);
    expect(run(RDN, (s) => sf.i32ToF32(-16777217, s))).toEqual([0xcb800001, NX]);
    expect(run(RNE, (s) => sf.i64ToF64((1n << 53n) + 1n, s))).toEqual([0x4340000000000000n, NX]);
    expect(run(RUP, (s) => sf.i64ToF64((1n << 53n) + 1n, s))).toEqual([0x4340000000000001n, NX]);
  });
  it('u64 max rounds to 2^64 or, towards zero, to the largest value below it', () => {
    const m = (1n << 64n) - 1n;
    expect(run(RNE, (s) => sf.u64ToF32(m, s))).toEqual([0x5f800000, NX]);
    expect(run(RTZ, (s) => sf.u64ToF32(m, s))).toEqual([0x5f7fffff, NX]);
    expect(run(RTZ, (s) => sf.u64ToF64(m, s))).toEqual([0x43efffffffffffffn, NX]);
    expect(run(RNE, (s) => sf.i64ToF32(-(1n << 63n), s))).toEqual([0xdf000000, 0]);
    expect(run(RNE, (s) => sf.u32ToF64(0xffffffff, s))).toEqual([0x41efffffffe00000n, 0]);
  });
});

describe('binary64 → binary32', () => {
  it('rounds a tie per mode', () => {
    const tie = 0x3ff0000010000000n; // 1 + 2^-24
    expect(run(RNE, (s) => sf.f64ToF32(tie, s))).toEqual([ONE, NX]);
    expect(run(RMM, (s) => sf.f64ToF32(tie, s))).toEqual([0x3f800001, NX]);
    expect(run(RUP, (s) => sf.f64ToF32(tie, s))).toEqual([0x3f800001, NX]);
    expect(run(RTZ, (s) => sf.f64ToF32(tie, s))).toEqual([ONE, NX]);
  });
});

describe('fast paths agree with the exact reference (round to nearest even)', () => {
  const b = (x: number): bigint => BigInt(x >>> 0);
  const n = (x: bigint): number => Number(x);
  const same = <T>(fast: (s: sf.FloatStatus) => T, ref: (s: sf.FloatStatus) => T): void => {
    expect(run(RNE, fast)).toEqual(run(RNE, ref));
  };
  it('binary32', () => {
    fc.assert(fc.property(f32Bits, f32Bits, f32Bits, (x, y, z) => {
      const a = Number(x), c = Number(y), d = Number(z);
      same((s) => sf.f32Add(a, c, s), (s) => n(core.add(F32, b(a), b(c), s)));
      same((s) => sf.f32Sub(a, c, s), (s) => n(core.sub(F32, b(a), b(c), s)));
      same((s) => sf.f32Mul(a, c, s), (s) => n(core.mul(F32, b(a), b(c), s)));
      same((s) => sf.f32Div(a, c, s), (s) => n(core.div(F32, b(a), b(c), s)));
      same((s) => sf.f32Sqrt(a, s), (s) => n(core.sqrt(F32, b(a), s)));
      same((s) => sf.f32MulAdd(a, c, d, false, true, s), (s) => n(core.mulAdd(F32, b(a), b(c), b(d), false, true, s)));
      same((s) => sf.f32ToF64(a, s), (s) => core.convert(F32, F64, b(a), s));
      same((s) => sf.f32Min(a, c, s), (s) => n(core.minMax(F32, b(a), b(c), false, s)));
      same((s) => sf.f32Max(a, c, s), (s) => n(core.minMax(F32, b(a), b(c), true, s)));
      same((s) => sf.f32Le(a, c, s), (s) => core.lessThan(F32, b(a), b(c), true, s));
      same((s) => sf.f32Eq(a, c, s), (s) => core.eq(F32, b(a), b(c), s));
      expect(sf.f32Classify(a)).toBe(core.classify(F32, b(a)));
    }), { numRuns: 2000 });
  });
  it('binary64', () => {
    fc.assert(fc.property(f64Bits, f64Bits, f64Bits, i64Bits, (x, y, z, i) => {
      same((s) => sf.f64Add(x, y, s), (s) => core.add(F64, x, y, s));
      same((s) => sf.f64Mul(x, y, s), (s) => core.mul(F64, x, y, s));
      same((s) => sf.f64Div(x, y, s), (s) => core.div(F64, x, y, s));
      same((s) => sf.f64Sqrt(x, s), (s) => core.sqrt(F64, x, s));
      same((s) => sf.f64MulAdd(x, y, z, true, false, s), (s) => core.mulAdd(F64, x, y, z, true, false, s));
      same((s) => sf.f64ToF32(x, s), (s) => n(core.convert(F64, F32, x, s)));
      same((s) => sf.f64Min(x, y, s), (s) => core.minMax(F64, x, y, false, s));
      same((s) => sf.f64Max(x, y, s), (s) => core.minMax(F64, x, y, true, s));
      same((s) => sf.f64Lt(x, y, s), (s) => core.lessThan(F64, x, y, false, s));
      same((s) => sf.f64Eq(x, y, s), (s) => core.eq(F64, x, y, s));
      same((s) => sf.i64ToF64(i, s), (s) => core.fromInt(F64, BigInt.asIntN(64, i), s));
      for (const rm of ALL_RM) {
        expect(run(rm, (s) => sf.f64ToI64(x, s))).toEqual(run(rm, (s) => core.toInt(F64, x, 64, true, s)));
        expect(run(rm, (s) => sf.f64ToU32(x, s))).toEqual(run(rm, (s) => n(core.toInt(F64, x, 32, false, s))));
      }
    }), { numRuns: 2000 });
  });
});
