/**
 * Integer ALU semantics (I, M, Zba, Zbb, Zbc, Zbs) on RV64 and RV32: each instruction runs through the
 * RISC-V translator and the reference IR interpreter, and is compared with an independent BigInt
 * model (models.ts) on random, edge-biased operands.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestMachine } from './harness.js';
import { program, R } from './asm.js';
import { models } from './models.js';

for (const xlen of [64, 32] as const) {
  const ALL = (1n << BigInt(xlen)) - 1n;
  const val = fc.oneof(
    fc.bigInt({ min: 0n, max: ALL }),
    fc.constantFrom(0n, 1n, 2n, ALL, ALL - 1n, 1n << BigInt(xlen - 1), (1n << BigInt(xlen - 1)) - 1n,
      0xffffffffn, 0x80000000n, 0x7fffffffn, 0xffn, 0x80n),
  );
  const isa = xlen === 64 ? 'rv64imac_zicsr_zifencei_zba_zbb_zbc_zbs' : 'rv32imac_zicsr_zifencei_zba_zbb_zbc_zbs';
  const m = new TestMachine(0x80000000n, 0x10000, { isa });
  const { rr, ri, sh, un } = models(xlen);
  const run = (line: [string, Record<string, number>], a: bigint, b = 0n): bigint => {
    m.cpu.reset();
    m.cpu.setX(R.a1, a);
    m.cpu.setX(R.a2, b);
    m.exec(program([line], xlen));
    return m.cpu.getX(R.a0);
  };
  const runs = { numRuns: 40 };

  describe(`RV${xlen} register-register`, () => {
    for (const [name, model] of Object.entries(rr)) {
      it(name, () => {
        fc.assert(fc.property(val, val, fc.boolean(), (a, b, same) => {
          const y = same ? a : b;
          expect(run([name, { rd: R.a0, rs1: R.a1, rs2: R.a2 }], a, y)).toBe(model(a, y));
        }), runs);
      });
    }
  });
  describe(`RV${xlen} register-immediate`, () => {
    for (const [name, model] of Object.entries(ri)) {
      it(name, () => {
        fc.assert(fc.property(val, fc.integer({ min: -2048, max: 2047 }), (a, imm) => {
          expect(run([name, { rd: R.a0, rs1: R.a1, imm }], a)).toBe(model(a, BigInt(imm)));
        }), runs);
      });
    }
    for (const [name, [model, width]] of Object.entries(sh)) {
      it(name, () => {
        fc.assert(fc.property(val, fc.integer({ min: 0, max: width - 1 }), (a, n) => {
          expect(run([name, { rd: R.a0, rs1: R.a1, shamt: n }], a)).toBe(model(a, BigInt(n)));
        }), runs);
      });
    }
  });
  describe(`RV${xlen} unary`, () => {
    for (const [name, model] of Object.entries(un)) {
      it(name, () => {
        fc.assert(fc.property(val, (a) => {
          expect(run([name, { rd: R.a0, rs1: R.a1 }], a)).toBe(model(a));
        }), runs);
      });
    }
  });
}
