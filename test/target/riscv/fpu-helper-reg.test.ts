import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as sf from '../../../src/fpu/index.js';
import { boxS, FH, unboxS, type RiscvFpuCpu } from '../../../src/target/riscv/fpu-helper.js';
import { ENV_FFLAGS, fOffset, RISCV_ENV_SIZE } from '../../../src/target/riscv/cpu-state.js';
import { f32Bits, f64Bits } from '../../fpu/gen.js';
import type { HelperInfo } from '../../../src/tcg/ir.js';

// The F/D arithmetic helpers on register numbers (doubles: a host-double fast path, BigInt only when it
// declines) against src/fpu's operations on bit patterns, which test/fpu/differential.test.ts checks bit
// for bit against qemu-riscv64: same result bits and fflags in every rounding mode, on operands biased
// towards the special values and edges, with RISC-V's NaN boxing of singles.

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

/** The reference: `f` on a fresh status, flags as fflags keeps them. */
function ref<T>(rm: number, f: (s: sf.FloatStatus) => T): [T, number] {
  const s: sf.FloatStatus = { rm: rm as sf.RoundingMode, flags: 0 };
  const v = f(s);
  return [v, s.flags & 0x1f];
}

const rm = fc.constantFrom(0, 0, 0, 1, 2, 3, 4);
const reg = fc.integer({ min: 0, max: 31 });
// Singles as f register contents: mostly properly boxed, sometimes not (they read as the canonical NaN).
const boxed = fc.oneof({ weight: 5, arbitrary: f32Bits.map((b) => boxS(Number(b))) },
  { weight: 1, arbitrary: fc.tuple(f32Bits, fc.bigInt({ min: 0n, max: 0xfffffffen })).map(([b, h]) => (h << 32n) | b) });

type Bin = (a: bigint, b: bigint, s: sf.FloatStatus) => bigint;
type BinS = (a: number, b: number, s: sf.FloatStatus) => number;

describe('RISC-V F/D helpers on register numbers', () => {
  const doubles: [keyof typeof FH, Bin][] = [
    ['fadd_d_r', sf.f64Add], ['fsub_d_r', sf.f64Sub], ['fmul_d_r', sf.f64Mul], ['fdiv_d_r', sf.f64Div],
  ];
  for (const [name, f] of doubles) {
    it(`${name} = the bit-pattern operation`, () => {
      fc.assert(fc.property(f64Bits, f64Bits, rm, reg, reg, reg, (a, b, mode, rd, rs1, rs2) => {
        const c = cpu();
        c.write(rs1, a); c.write(rs2, b); // rs1 === rs2: both read b, as the instruction would
        const x = c.read(rs1), y = c.read(rs2);
        (FH[name] as HelperInfo).fn(c, rd, rs1, rs2, mode);
        const [want, flags] = ref(mode, (s) => f(x, y, s));
        expect([c.read(rd).toString(16), c.fflags()]).toEqual([want.toString(16), flags]);
      }), { numRuns: 1500 });
    });
  }

  it('fsqrt_d_r = f64Sqrt', () => {
    fc.assert(fc.property(f64Bits, rm, reg, reg, (a, mode, rd, rs1) => {
      const c = cpu();
      c.write(rs1, a);
      FH.fsqrt_d_r.fn(c, rd, rs1, mode);
      const [want, flags] = ref(mode, (s) => sf.f64Sqrt(a, s));
      expect([c.read(rd).toString(16), c.fflags()]).toEqual([want.toString(16), flags]);
    }), { numRuns: 1500 });
  });

  it('fmadd_d_r = f64MulAdd for the four fused forms', () => {
    fc.assert(fc.property(f64Bits, f64Bits, f64Bits, rm, fc.integer({ min: 0, max: 3 }), reg,
      (a, b, d, mode, op, rd) => {
        const c = cpu();
        c.write(1, a); c.write(2, b); c.write(3, d);
        FH.fmadd_d_r.fn(c, rd, 1, 2, 3, mode, op);
        const [want, flags] = ref(mode, (s) => sf.f64MulAdd(a, b, d, (op & 1) !== 0, (op & 2) !== 0, s));
        expect([c.read(rd).toString(16), c.fflags()]).toEqual([want.toString(16), flags]);
      }), { numRuns: 2000 });
  });

  const singles: [keyof typeof FH, BinS][] = [
    ['fadd_s_r', sf.f32Add], ['fsub_s_r', sf.f32Sub], ['fmul_s_r', sf.f32Mul], ['fdiv_s_r', sf.f32Div],
  ];
  for (const [name, f] of singles) {
    it(`${name} = the binary32 operation on unboxed operands, result boxed`, () => {
      fc.assert(fc.property(boxed, boxed, rm, reg, (a, b, mode, rd) => {
        const c = cpu();
        c.write(1, a); c.write(2, b);
        (FH[name] as HelperInfo).fn(c, rd, 1, 2, mode);
        const [want, flags] = ref(mode, (s) => boxS(f(unboxS(a), unboxS(b), s)));
        expect([c.read(rd).toString(16), c.fflags()]).toEqual([want.toString(16), flags]);
      }), { numRuns: 1500 });
    });
  }

  it('fsqrt_s_r and fmadd_s_r = the binary32 operations', () => {
    fc.assert(fc.property(boxed, boxed, boxed, rm, fc.integer({ min: 0, max: 3 }), (a, b, d, mode, op) => {
      const c = cpu();
      c.write(1, a); c.write(2, b); c.write(3, d);
      FH.fsqrt_s_r.fn(c, 4, 1, mode);
      FH.fmadd_s_r.fn(c, 5, 1, 2, 3, mode, op);
      const [sq, f1] = ref(mode, (s) => boxS(sf.f32Sqrt(unboxS(a), s)));
      const [ma, f2] = ref(mode, (s) => boxS(sf.f32MulAdd(unboxS(a), unboxS(b), unboxS(d), (op & 1) !== 0, (op & 2) !== 0, s)));
      expect([c.read(4).toString(16), c.read(5).toString(16), c.fflags()]).toEqual([sq.toString(16), ma.toString(16), f1 | f2]);
    }), { numRuns: 1500 });
  });

  it('flags accumulate into fflags and other registers are untouched', () => {
    const c = cpu();
    for (let k = 0; k < 32; k++) c.write(k, BigInt(k) * 0x0101010101010101n);
    c.write(1, 0x3ff0000000000000n); // 1.0
    c.write(2, 0x4008000000000000n); // 3.0
    FH.fdiv_d_r.fn(c, 5, 1, 2, 0); // 1/3: inexact
    expect(c.fflags()).toBe(1);
    FH.fadd_d_r.fn(c, 6, 1, 1, 0); // exact: flags stay
    expect(c.fflags()).toBe(1);
    expect(c.read(6)).toBe(0x4000000000000000n);
    for (let k = 7; k < 32; k++) expect(c.read(k)).toBe(BigInt(k) * 0x0101010101010101n);
  });
});
