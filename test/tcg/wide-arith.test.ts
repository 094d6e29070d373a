import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DIV_OUT, divu64, mulhu32 } from '../../src/tcg/backend/wide-arith.js';

// The BigInt-free 64-bit division against BigInt, on operands spread over every path of divu64
// (both below 2^52, 32-bit divisors, divisors of 2^32 and more with quotients near the double estimate's
// rounding edges).
const M64 = (1n << 64n) - 1n;
const words = (v: bigint): [number, number] => [Number(v & 0xffffffffn) | 0, Number(v >> 32n) | 0];
const u64 = fc.bigInt({ min: 0n, max: M64 });
const edge = fc.constantFrom(0n, 1n, 2n, M64, M64 - 1n, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 1n << 32n,
  (1n << 32n) + 1n, (1n << 52n) - 1n, 1n << 52n, (1n << 53n) + 1n);
const bits = fc.integer({ min: 1, max: 64 }).chain((n) => fc.bigInt({ min: 0n, max: (1n << BigInt(n)) - 1n }));
const operand = fc.oneof(u64, edge, bits);

describe('wide-arith', () => {
  it('divu64 gives the quotient and remainder BigInt gives', () => {
    fc.assert(fc.property(operand, operand, (a, b0) => {
      const b = b0 === 0n ? 1n : b0;
      const [al, ah] = words(a), [bl, bh] = words(b);
      divu64(al, ah, bl, bh);
      const [ql, qh] = words(a / b), [rl, rh] = words(a % b);
      expect([...DIV_OUT]).toEqual([ql, qh, rl, rh]);
    }), { numRuns: 3000 });
  });

  it('divu64 is exact where the double estimate of a quotient is off by one', () => {
    // a = q*b + r with r close to 0 or to b: the rounding of a/b in doubles can land on either side.
    fc.assert(fc.property(fc.bigInt({ min: 1n << 32n, max: M64 }), fc.bigInt({ min: 0n, max: 0xffffffffn }),
      fc.boolean(), (b, q0, low) => {
        const q = b === 0n ? 0n : q0 > M64 / b ? M64 / b : q0;
        const r = low ? 0n : b - 1n;
        const a = q * b + r > M64 ? q * b : q * b + r;
        const [al, ah] = words(a), [bl, bh] = words(b);
        divu64(al, ah, bl, bh);
        expect([...DIV_OUT]).toEqual([...words(a / b), ...words(a % b)]);
      }), { numRuns: 2000 });
  });

  it('mulhu32 is the high word of the unsigned product', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (a, b) => {
      expect(mulhu32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n) | 0);
    }), { numRuns: 2000 });
  });
});
