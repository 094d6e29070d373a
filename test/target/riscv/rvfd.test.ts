/**
 * F/D wiring: FS gating and dirty tracking, NaN boxing, rounding-mode resolution (static, dynamic,
 * reserved), fflags accumulation, moves and sign injection. Arithmetic correctness itself is the
 * softfloat's (test/fpu); expected values here come from JS doubles where those are exact.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestMachine } from './harness.js';
import { program, R } from './asm.js';

const f64bits = (x: number): bigint => { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x, true); return v.getBigUint64(0, true); };
const f32bits = (x: number): number => { const v = new DataView(new ArrayBuffer(4)); v.setFloat32(0, x, true); return v.getUint32(0, true); };
const BOX = 0xffffffff00000000n;
const FS_SHIFT = 13n;

function machine(): TestMachine {
  const m = new TestMachine();
  return m;
}

function withFpu(m: TestMachine, fs = 1n): void {
  m.cpu.reset();
  m.cpu.writeReg('mtvec', m.base + 0x4000n);
  m.cpu.writeReg('mstatus', fs << FS_SHIFT);
}

function runUntilTrapOrEnd(m: TestMachine, code: ReturnType<typeof program>): boolean {
  const end = m.load(code);
  m.traps = 0;
  for (let k = 0; k < 50 && m.traps === 0 && m.cpu.pc !== end; k++) m.stepTb(code.length);
  return m.traps > 0;
}

const fs = (m: TestMachine): bigint => (m.cpu.readReg('mstatus') >> FS_SHIFT) & 3n;

describe('F/D gating and state', () => {
  const m = machine();
  it('FP instructions are illegal while mstatus.FS = Off', () => {
    m.cpu.reset();
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    const code = program([['fadd.d', { rd: 1, rs1: 2, rs2: 3, rm: 7 }]]);
    expect(runUntilTrapOrEnd(m, code)).toBe(true);
    expect(m.cpu.readReg('mcause')).toBe(2n);
    expect(m.cpu.readReg('mtval')).toBe(BigInt(code[0]!.bits));
  });
  it('an FP write makes FS Dirty; a store does not', () => {
    withFpu(m, 2n);
    m.cpu.setX(R.a1, m.base + 0x8000n);
    runUntilTrapOrEnd(m, program([['fsd', { rs1: R.a1, rs2: 1, imm: 0 }]]));
    expect(fs(m)).toBe(2n);
    withFpu(m, 2n);
    runUntilTrapOrEnd(m, program([['fmv.d.x', { rd: 1, rs1: R.a1 }]]));
    expect(fs(m)).toBe(3n);
  });
  it('fadd.d / fmul.d / fdiv.d on exactly representable values', () => {
    fc.assert(fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 6 }), (a, k) => {
      const b = 2 ** k; // a power of two: the quotient is exact
      withFpu(m);
      m.cpu.setF(1, f64bits(a / 4));
      m.cpu.setF(2, f64bits(b / 8));
      expect(runUntilTrapOrEnd(m, program([
        ['fadd.d', { rd: 3, rs1: 1, rs2: 2, rm: 7 }],
        ['fmul.d', { rd: 4, rs1: 1, rs2: 2, rm: 0 }],
        ['fdiv.d', { rd: 5, rs1: 1, rs2: 2, rm: 1 }],
      ]))).toBe(false);
      expect(m.cpu.getF(3)).toBe(f64bits(a / 4 + b / 8));
      expect(m.cpu.getF(4)).toBe(f64bits((a / 4) * (b / 8)));
      expect(m.cpu.getF(5)).toBe(f64bits((a / 4) / (b / 8)));
    }), { numRuns: 25 });
  });
  it('fflags accumulate (1/0 → DZ) and are readable with frflags', () => {
    withFpu(m);
    m.cpu.setF(1, f64bits(1));
    m.cpu.setF(2, f64bits(0));
    runUntilTrapOrEnd(m, program([
      ['fdiv.d', { rd: 3, rs1: 1, rs2: 2, rm: 7 }],
      ['csrrs', { rd: R.a0, csr: 0x001, rs1: 0 }],
    ]));
    expect(m.cpu.getF(3)).toBe(f64bits(Infinity));
    expect(m.cpu.getX(R.a0)).toBe(8n);
    expect(m.cpu.fflags).toBe(8);
  });
});

describe('rounding modes', () => {
  const m = machine();
  it('static rm 5/6 is illegal; dynamic rm uses frm and is illegal when frm is invalid', () => {
    for (const rm of [5, 6]) {
      withFpu(m);
      const code = program([['fadd.s', { rd: 1, rs1: 2, rs2: 3, rm }]]);
      expect(runUntilTrapOrEnd(m, code)).toBe(true);
      expect(m.cpu.readReg('mcause')).toBe(2n);
      expect(m.cpu.readReg('mtval')).toBe(BigInt(code[0]!.bits));
    }
    withFpu(m);
    m.cpu.frm = 5;
    const code = program([['fcvt.w.d', { rd: R.a0, rs1: 1, rm: 7 }]]);
    expect(runUntilTrapOrEnd(m, code)).toBe(true);
    expect(m.cpu.readReg('mcause')).toBe(2n);
    expect(m.cpu.readReg('mtval')).toBe(BigInt(code[0]!.bits));
  });
  it('fcvt.w.d rounds per rm (static and dynamic)', () => {
    const cases: [number, number, bigint][] = [
      [2.5, 0, 2n], [2.5, 1, 2n], [2.5, 2, 2n], [2.5, 3, 3n], [2.5, 4, 3n],
      [-2.5, 0, -2n], [-2.5, 1, -2n], [-2.5, 2, -3n], [-2.5, 3, -2n], [-2.5, 4, -3n],
    ];
    for (const [v, rm, want] of cases) {
      for (const dyn of [false, true]) {
        withFpu(m);
        m.cpu.setF(1, f64bits(v));
        if (dyn) m.cpu.frm = rm;
        runUntilTrapOrEnd(m, program([['fcvt.w.d', { rd: R.a0, rs1: 1, rm: dyn ? 7 : rm }]]));
        expect(m.cpu.getX(R.a0)).toBe(BigInt.asUintN(64, want));
        expect(m.cpu.fflags).toBe(1); // inexact
      }
    }
  });
});

describe('NaN boxing and moves', () => {
  const m = machine();
  it('single ops read an unboxed input as the canonical NaN and box their result', () => {
    withFpu(m);
    m.cpu.setF(1, BigInt(f32bits(1))); // not boxed
    m.cpu.setF(2, BOX | BigInt(f32bits(2)));
    runUntilTrapOrEnd(m, program([
      ['fadd.s', { rd: 3, rs1: 1, rs2: 2, rm: 7 }],
      ['fadd.s', { rd: 4, rs1: 2, rs2: 2, rm: 7 }],
    ]));
    expect(m.cpu.getF(3)).toBe(BOX | 0x7fc00000n);
    expect(m.cpu.getF(4)).toBe(BOX | BigInt(f32bits(4)));
  });
  it('flw boxes, fsw stores the low word, fmv.x.w sign-extends, fmv.w.x boxes', () => {
    withFpu(m);
    m.view.setUint32(0x8000, 0xbf800000, true); // -1.0f
    m.cpu.setX(R.a1, m.base + 0x8000n);
    m.cpu.setX(R.a2, 0x1234567840490fdbn);
    runUntilTrapOrEnd(m, program([
      ['flw', { rd: 1, rs1: R.a1, imm: 0 }],
      ['fsw', { rs1: R.a1, rs2: 1, imm: 4 }],
      ['fmv.x.w', { rd: R.a3, rs1: 1 }],
      ['fmv.w.x', { rd: 2, rs1: R.a2 }],
    ]));
    expect(m.cpu.getF(1)).toBe(BOX | 0xbf800000n);
    expect(m.view.getUint32(0x8004, true)).toBe(0xbf800000);
    expect(m.cpu.getX(R.a3)).toBe(0xffffffffbf800000n);
    expect(m.cpu.getF(2)).toBe(BOX | 0x40490fdbn);
  });
  it('sign injection (fsgnj/fsgnjn/fsgnjx) on doubles and singles', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (a, b) => {
      withFpu(m);
      m.cpu.setF(1, a);
      m.cpu.setF(2, b);
      runUntilTrapOrEnd(m, program([
        ['fsgnj.d', { rd: 3, rs1: 1, rs2: 2 }],
        ['fsgnjn.d', { rd: 4, rs1: 1, rs2: 2 }],
        ['fsgnjx.d', { rd: 5, rs1: 1, rs2: 2 }],
        ['fsgnjn.s', { rd: 6, rs1: 1, rs2: 2 }],
      ]));
      const S = 1n << 63n;
      expect(m.cpu.getF(3)).toBe((a & ~S) | (b & S));
      expect(m.cpu.getF(4)).toBe((a & ~S) | (~b & S));
      expect(m.cpu.getF(5)).toBe(a ^ (b & S));
      // Singles: unboxed inputs read as the canonical NaN 0x7fc00000.
      const ua = (a >> 32n) === 0xffffffffn ? a & 0xffffffffn : 0x7fc00000n;
      const ub = (b >> 32n) === 0xffffffffn ? b & 0xffffffffn : 0x7fc00000n;
      expect(m.cpu.getF(6)).toBe(BOX | (ua & 0x7fffffffn) | (~ub & 0x80000000n));
    }), { numRuns: 30 });
  });
  it('fclass.d and feq/flt', () => {
    withFpu(m);
    m.cpu.setF(1, f64bits(-0));
    m.cpu.setF(2, f64bits(0));
    runUntilTrapOrEnd(m, program([
      ['fclass.d', { rd: R.a0, rs1: 1 }],
      ['feq.d', { rd: R.a1, rs1: 1, rs2: 2 }],
      ['flt.d', { rd: R.a2, rs1: 1, rs2: 2 }],
    ]));
    expect(m.cpu.getX(R.a0)).toBe(1n << 3n); // negative zero
    expect(m.cpu.getX(R.a1)).toBe(1n);
    expect(m.cpu.getX(R.a2)).toBe(0n);
  });
});
