import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestMachine } from './harness.js';
import { program, R } from './asm.js';

const M64 = (1n << 64n) - 1n;
const val = fc.oneof(fc.bigInt({ min: 0n, max: M64 }),
  fc.constantFrom(0n, 1n, M64, 1n << 63n, 0x80000000n, 0x7fffffffn, 0xffffffffn, 0xffffffff80000000n));

/** AMO models: new memory value from (old, src) at the access width, operands as unsigned width-bit values. */
function amoModel(op: string, width: 32 | 64): (old: bigint, src: bigint) => bigint {
  const s = (v: bigint): bigint => BigInt.asIntN(width, v);
  const mask = (1n << BigInt(width)) - 1n;
  switch (op) {
    case 'amoswap': return (_o, x) => x;
    case 'amoadd': return (o, x) => (o + x) & mask;
    case 'amoxor': return (o, x) => o ^ x;
    case 'amoand': return (o, x) => o & x;
    case 'amoor': return (o, x) => o | x;
    case 'amomin': return (o, x) => (s(o) < s(x) ? o : x);
    case 'amomax': return (o, x) => (s(o) > s(x) ? o : x);
    case 'amominu': return (o, x) => (o < x ? o : x);
    case 'amomaxu': return (o, x) => (o > x ? o : x);
    default: throw new Error(op);
  }
}

describe('AMOs (RV64)', () => {
  const m = new TestMachine();
  const addr = m.base + 0x8000n;
  for (const op of ['amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu']) {
    for (const width of [32, 64] as const) {
      const name = `${op}.${width === 32 ? 'w' : 'd'}`;
      it(name, () => {
        const model = amoModel(op, width);
        const mask = (1n << BigInt(width)) - 1n;
        fc.assert(fc.property(val, val, (mem, src) => {
          m.cpu.reset();
          m.view.setBigUint64(0x8000, mem, true);
          m.cpu.setX(R.a1, addr);
          m.cpu.setX(R.a2, src);
          m.exec(program([[name, { rd: R.a0, rs1: R.a1, rs2: R.a2, aq: 0, rl: 0 }]]));
          const old = mem & mask;
          const expectedRd = width === 32 ? BigInt.asUintN(64, BigInt.asIntN(32, old)) : old;
          expect(m.cpu.getX(R.a0)).toBe(expectedRd);
          const expectedMem = (mem & ~mask & M64) | model(old, src & mask);
          expect(m.view.getBigUint64(0x8000, true)).toBe(expectedMem);
        }), { numRuns: 30 });
      });
    }
  }

  it('misaligned AMO raises store/AMO address misaligned (6) with mtval = address', () => {
    m.cpu.reset();
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    m.cpu.setX(R.a1, addr + 4n);
    m.load(program([['amoadd.d', { rd: R.a0, rs1: R.a1, rs2: R.a2, aq: 0, rl: 0 }]]));
    m.stepTb(1);
    expect(m.cpu.readReg('mcause')).toBe(6n);
    expect(m.cpu.readReg('mtval')).toBe(addr + 4n);
  });
  it('misaligned LR raises load address misaligned (4)', () => {
    m.cpu.reset();
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    m.cpu.setX(R.a1, addr + 2n);
    m.load(program([['lr.w', { rd: R.a0, rs1: R.a1, aq: 0, rl: 0 }]]));
    m.stepTb(1);
    expect(m.cpu.readReg('mcause')).toBe(4n);
    expect(m.cpu.readReg('mtval')).toBe(addr + 2n);
  });
});

describe('LR/SC', () => {
  const m = new TestMachine();
  const addr = m.base + 0x8000n;
  const at = { aq: 0, rl: 0 };
  it('LR then SC to the same address succeeds and stores; a second SC fails', () => {
    m.cpu.reset();
    m.view.setBigUint64(0x8000, 0x1234n, true);
    m.cpu.setX(R.a1, addr);
    m.cpu.setX(R.a2, 0xfeedn);
    m.exec(program([
      ['lr.d', { rd: R.a0, rs1: R.a1, ...at }],
      ['sc.d', { rd: R.a3, rs1: R.a1, rs2: R.a2, ...at }],
      ['sc.d', { rd: R.a4, rs1: R.a1, rs2: R.a0, ...at }],
    ]));
    expect(m.cpu.getX(R.a0)).toBe(0x1234n);
    expect(m.cpu.getX(R.a3)).toBe(0n);
    expect(m.cpu.getX(R.a4)).toBe(1n);
    expect(m.view.getBigUint64(0x8000, true)).toBe(0xfeedn);
  });
  it('SC without a reservation, or to another address, fails and does not store', () => {
    m.cpu.reset();
    m.view.setBigUint64(0x8000, 5n, true);
    m.view.setBigUint64(0x8008, 6n, true);
    m.cpu.setX(R.a1, addr);
    m.cpu.setX(R.a5, addr + 8n);
    m.cpu.setX(R.a2, 99n);
    m.exec(program([
      ['sc.w', { rd: R.a3, rs1: R.a1, rs2: R.a2, ...at }],
      ['lr.w', { rd: R.a0, rs1: R.a1, ...at }],
      ['sc.w', { rd: R.a4, rs1: R.a5, rs2: R.a2, ...at }],
    ]));
    expect(m.cpu.getX(R.a3)).toBe(1n);
    expect(m.cpu.getX(R.a4)).toBe(1n);
    expect(m.view.getBigUint64(0x8000, true)).toBe(5n);
    expect(m.view.getBigUint64(0x8008, true)).toBe(6n);
  });
  it('SC fails if memory changed since LR (value-based reservation)', () => {
    m.cpu.reset();
    m.view.setUint32(0x8000, 7, true);
    m.cpu.setX(R.a1, addr);
    m.cpu.setX(R.a2, 8n);
    m.cpu.setX(R.a6, 42n);
    m.exec(program([
      ['lr.w', { rd: R.a0, rs1: R.a1, ...at }],
      ['sw', { rs1: R.a1, rs2: R.a6, imm: 0 }],
      ['sc.w', { rd: R.a3, rs1: R.a1, rs2: R.a2, ...at }],
    ]));
    expect(m.cpu.getX(R.a3)).toBe(1n);
    expect(m.view.getUint32(0x8000, true)).toBe(42);
  });
  it('a trap between LR and SC drops the reservation', () => {
    m.cpu.reset();
    m.cpu.writeReg('mtvec', m.base + 0x100n);
    m.view.setUint32(0x8000, 7, true);
    m.cpu.setX(R.a1, addr);
    m.load(program([['lr.w', { rd: R.a0, rs1: R.a1, ...at }], ['ecall']]));
    m.load(program([['sc.w', { rd: R.a3, rs1: R.a1, rs2: R.a2, ...at }]]), m.base + 0x100n);
    m.stepTb(2);
    m.stepTb(1);
    expect(m.cpu.pc).toBe(m.base + 0x104n);
    expect(m.cpu.getX(R.a3)).toBe(1n);
  });
});
