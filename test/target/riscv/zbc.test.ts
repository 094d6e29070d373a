/**
 * Zbc carry-less multiplication: the helpers against the spec's pseudocode (models.ts, BigInt) on many
 * operands, hand-worked polynomial products, the translated instructions on RV64 and RV32 (RV32 keeps
 * the 32-bit result sign-extended in its 64-bit register slot), and that without Zbc in the ISA string
 * the encodings are illegal instructions. alu.test.ts also runs clmul* through the translator.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { clmul, clmulh, clmulr } from '../../../src/target/riscv/bitmanip-helper.js';
import { xOffset } from '../../../src/target/riscv/cpu-state.js';
import { TestMachine } from './harness.js';
import { asm, program, R } from './asm.js';
import { models } from './models.js';

const HELPERS = { clmul, clmulh, clmulr } as const;

describe('Zbc helpers against the spec pseudocode', () => {
  for (const xlen of [64, 32] as const) {
    const all = (1n << BigInt(xlen)) - 1n;
    const val = fc.oneof(
      fc.bigInt({ min: 0n, max: all }),
      fc.constantFrom(0n, 1n, all, 1n << BigInt(xlen - 1), 0x8000_0000n, 0xffff_ffffn, 0x1_0000_0000n & all),
    );
    const { rr } = models(xlen);
    for (const name of ['clmul', 'clmulh', 'clmulr'] as const) {
      it(`RV${xlen} ${name}`, () => {
        fc.assert(fc.property(val, val, (a, b) => {
          expect(HELPERS[name](a, b, xlen)).toBe(rr[name]!(a, b));
        }), { numRuns: 2000 });
      });
    }
  }

  it('gives the polynomial products worked by hand', () => {
    // (x + 1)^2 = x^2 + 1 over GF(2)
    expect(clmul(3n, 3n, 64)).toBe(5n);
    // (x^2 + x + 1)(x + 1) = x^3 + 1
    expect(clmul(7n, 3n, 32)).toBe(9n);
    // x^63 · x = x^64: bit 0 of the high half; clmulr sees bit 63 → bit 0 of x^63 · 1
    expect(clmul(1n << 63n, 2n, 64)).toBe(0n);
    expect(clmulh(1n << 63n, 2n, 64)).toBe(1n);
    expect(clmulr(1n << 63n, 1n, 64)).toBe(1n);
    expect(clmulh(0x8000_0000n, 0x8000_0000n, 32)).toBe(0x4000_0000n); // x^31 · x^31 = x^62
    // all ones: (sum x^i)^2 = sum x^(2i) (the cross terms cancel in pairs)
    expect(clmul(0xffff_ffffn, 0xffff_ffffn, 32)).toBe(0x5555_5555n);
    expect(clmulh(0xffff_ffffn, 0xffff_ffffn, 32)).toBe(0x5555_5555n);
    // operand bits above XLEN are ignored
    expect(clmul(0x1_0000_0003n, 3n, 32)).toBe(5n);
  });
});

describe('Zbc instructions', () => {
  for (const xlen of [64, 32] as const) {
    it(`RV${xlen}: clmul/clmulh/clmulr through the translator; rd may be a source`, () => {
      const m = new TestMachine(0x80000000n, 0x10000, { isa: `rv${xlen}imac_zicsr_zbc` });
      const a = xlen === 64 ? 0xf0e1_d2c3_b4a5_9687n : 0xb4a5_9687n;
      const b = xlen === 64 ? 0x8000_0000_0000_0001n : 0x8000_0001n;
      const { rr } = models(xlen);
      m.cpu.setX(R.a1, a);
      m.cpu.setX(R.a2, b);
      m.exec(program([
        ['clmul', { rd: R.a3, rs1: R.a1, rs2: R.a2 }],
        ['clmulh', { rd: R.a4, rs1: R.a1, rs2: R.a2 }],
        ['clmulr', { rd: R.a5, rs1: R.a1, rs2: R.a2 }],
        ['clmul', { rd: R.a1, rs1: R.a1, rs2: R.a1 }],
      ], xlen));
      expect(m.cpu.getX(R.a3)).toBe(rr.clmul!(a, b));
      expect(m.cpu.getX(R.a4)).toBe(rr.clmulh!(a, b));
      expect(m.cpu.getX(R.a5)).toBe(rr.clmulr!(a, b));
      expect(m.cpu.getX(R.a1)).toBe(rr.clmul!(a, a));
      if (xlen === 32) {
        // RV32 registers are stored sign-extended to 64 bits (cpu-state.ts)
        const raw = m.cpu.envView.getBigUint64(xOffset(R.a4), true);
        expect(raw).toBe(BigInt.asUintN(64, BigInt.asIntN(32, rr.clmulh!(a, b))));
      }
    });
  }

  it('is an illegal instruction when the ISA string lacks Zbc', () => {
    const m = new TestMachine(0x80000000n, 0x10000, { isa: 'rv64imac_zicsr_zba_zbb_zbs' });
    const bits = asm('clmul', { rd: R.a0, rs1: R.a1, rs2: R.a2 });
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    m.load([{ bits, size: 4 }]);
    for (let k = 0; k < 5 && m.traps === 0; k++) m.stepTb(1);
    expect(m.cpu.readReg('mcause')).toBe(2n);
    expect(m.cpu.readReg('mtval')).toBe(BigInt(bits >>> 0));
    expect(m.cpu.readReg('mepc')).toBe(m.base);
  });
});
