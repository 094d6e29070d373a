import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FH, type RiscvFpuCpu } from '../../../src/target/riscv/fpu-helper.js';
import { ENV_FFLAGS, fOffset, RISCV_ENV_SIZE } from '../../../src/target/riscv/cpu-state.js';
import { f64Bits } from '../../fpu/gen.js';

// The D helpers on register numbers (host-double fast path, BigInt only when it declines) against the
// helpers on register values, whose softfloat is checked bit for bit against qemu-riscv64
// (test/fpu/differential.test.ts): same result bits and fflags, in every rounding mode, on operands
// biased towards the special values and edges.

function cpu(): RiscvFpuCpu & { read(r: number): bigint; write(r: number, v: bigint): void; fflags(): number } {
  const env = new ArrayBuffer(RISCV_ENV_SIZE);
  const envI32 = new Int32Array(env), view = new DataView(env);
  return {
    envI32, envF64: new Float64Array(env),
    read: (r) => view.getBigUint64(fOffset(r), true),
    write: (r, v) => view.setBigUint64(fOffset(r), v, true),
    fflags: () => envI32[ENV_FFLAGS >> 2]!,
  };
}

const rm = fc.constantFrom(0, 0, 0, 1, 2, 3, 4);
const reg = fc.integer({ min: 0, max: 31 });

type ValueFn = (c: RiscvFpuCpu, ...a: (bigint | number)[]) => bigint;

describe('RISC-V D helpers on register numbers', () => {
  const binary = [
    ['fadd_d_r', 'fadd_d'], ['fsub_d_r', 'fsub_d'], ['fmul_d_r', 'fmul_d'], ['fdiv_d_r', 'fdiv_d'],
  ] as const;
  for (const [byReg, byValue] of binary) {
    it(`${byReg} = ${byValue}`, () => {
      fc.assert(fc.property(f64Bits, f64Bits, rm, reg, reg, reg, (a, b, mode, rd, rs1, rs2) => {
        const r = cpu(), v = cpu();
        r.write(rs1, a); r.write(rs2, b); // rs1 === rs2: both read b, as the instruction would
        const x = r.read(rs1), y = r.read(rs2);
        FH[byReg].fn(r, rd, rs1, rs2, mode);
        const want = (FH[byValue].fn as ValueFn)(v, x, y, mode);
        expect([r.read(rd).toString(16), r.fflags()]).toEqual([want.toString(16), v.fflags()]);
      }), { numRuns: 1500 });
    });
  }

  it('fsqrt_d_r = fsqrt_d', () => {
    fc.assert(fc.property(f64Bits, rm, reg, reg, (a, mode, rd, rs1) => {
      const r = cpu(), v = cpu();
      r.write(rs1, a);
      FH.fsqrt_d_r.fn(r, rd, rs1, mode);
      const want = (FH.fsqrt_d.fn as ValueFn)(v, a, mode);
      expect([r.read(rd).toString(16), r.fflags()]).toEqual([want.toString(16), v.fflags()]);
    }), { numRuns: 1500 });
  });

  it('fmadd_d_r = fmadd_d for the four fused forms', () => {
    fc.assert(fc.property(f64Bits, f64Bits, f64Bits, rm, fc.integer({ min: 0, max: 3 }), reg,
      (a, b, c, mode, op, rd) => {
        const r = cpu(), v = cpu();
        r.write(1, a); r.write(2, b); r.write(3, c);
        FH.fmadd_d_r.fn(r, rd, 1, 2, 3, mode, op);
        const want = (FH.fmadd_d.fn as ValueFn)(v, a, b, c, mode, op);
        expect([r.read(rd).toString(16), r.fflags()]).toEqual([want.toString(16), v.fflags()]);
      }), { numRuns: 2000 });
  });

  it('flags accumulate into fflags and other registers are untouched', () => {
    const r = cpu();
    for (let k = 0; k < 32; k++) r.write(k, BigInt(k) * 0x0101010101010101n);
    r.write(1, 0x3ff0000000000000n); // 1.0
    r.write(2, 0x4008000000000000n); // 3.0
    FH.fdiv_d_r.fn(r, 5, 1, 2, 0); // 1/3: inexact
    expect(r.fflags()).toBe(1);
    FH.fadd_d_r.fn(r, 6, 1, 1, 0); // exact: flags stay
    expect(r.fflags()).toBe(1);
    expect(r.read(6)).toBe(0x4000000000000000n);
    for (let k = 7; k < 32; k++) expect(r.read(k)).toBe(BigInt(k) * 0x0101010101010101n);
  });
});
