import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TestMachine } from './harness.js';
import { asm, program, R } from './asm.js';

const M64 = (1n << 64n) - 1n;
const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);
/** A 32-bit result as RV64 holds it: sign-extended, read back unsigned. */
const w = (v: bigint): bigint => u64(s32(v));

// Values biased towards edge cases.
const edge64 = fc.oneof(
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  fc.constantFrom(0n, 1n, M64, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x80000000n, 0x7fffffffn, 0xffffffff80000000n),
);

function rrOp(m: TestMachine, mnemonic: string, a: bigint, b: bigint): bigint {
  m.cpu.reset();
  m.cpu.setX(R.a1, a);
  m.cpu.setX(R.a2, b);
  m.exec(program([[mnemonic, { rd: R.a0, rs1: R.a1, rs2: R.a2 }]]));
  return m.cpu.getX(R.a0);
}

function riOp(m: TestMachine, mnemonic: string, a: bigint, imm: number, field = 'imm'): bigint {
  m.cpu.reset();
  m.cpu.setX(R.a1, a);
  m.exec(program([[mnemonic, { rd: R.a0, rs1: R.a1, [field]: imm }]]));
  return m.cpu.getX(R.a0);
}

// Independent models of the RV64I register-register ops.
const RR64: Record<string, (a: bigint, b: bigint) => bigint> = {
  add: (a, b) => u64(a + b),
  sub: (a, b) => u64(a - b),
  sll: (a, b) => u64(a << (b & 63n)),
  slt: (a, b) => (s64(a) < s64(b) ? 1n : 0n),
  sltu: (a, b) => (a < b ? 1n : 0n),
  xor: (a, b) => a ^ b,
  srl: (a, b) => a >> (b & 63n),
  sra: (a, b) => u64(s64(a) >> (b & 63n)),
  or: (a, b) => a | b,
  and: (a, b) => a & b,
  addw: (a, b) => w(a + b),
  subw: (a, b) => w(a - b),
  sllw: (a, b) => w(a << (b & 31n)),
  srlw: (a, b) => w(u32(a) >> (b & 31n)),
  sraw: (a, b) => w(s32(a) >> (b & 31n)),
};

const RI64: Record<string, (a: bigint, imm: bigint) => bigint> = {
  addi: (a, i) => u64(a + i),
  slti: (a, i) => (s64(a) < i ? 1n : 0n),
  sltiu: (a, i) => (a < u64(i) ? 1n : 0n),
  xori: (a, i) => a ^ u64(i),
  ori: (a, i) => a | u64(i),
  andi: (a, i) => a & u64(i),
  addiw: (a, i) => w(a + i),
};

const SH64: Record<string, [(a: bigint, s: bigint) => bigint, number]> = {
  slli: [(a, s) => u64(a << s), 64],
  srli: [(a, s) => a >> s, 64],
  srai: [(a, s) => u64(s64(a) >> s), 64],
  slliw: [(a, s) => w(a << s), 32],
  srliw: [(a, s) => w(u32(a) >> s), 32],
  sraiw: [(a, s) => w(s32(a) >> s), 32],
};

describe('RV64I semantics (IR interpreter vs BigInt models)', () => {
  const m = new TestMachine();
  for (const [name, model] of Object.entries(RR64)) {
    it(name, () => {
      fc.assert(fc.property(edge64, edge64, (a, b) => {
        expect(rrOp(m, name, a, b)).toBe(model(a, b));
      }), { numRuns: 60 });
    });
  }
  for (const [name, model] of Object.entries(RI64)) {
    it(name, () => {
      fc.assert(fc.property(edge64, fc.integer({ min: -2048, max: 2047 }), (a, imm) => {
        expect(riOp(m, name, a, imm)).toBe(model(a, BigInt(imm)));
      }), { numRuns: 60 });
    });
  }
  for (const [name, [model, width]] of Object.entries(SH64)) {
    it(name, () => {
      fc.assert(fc.property(edge64, fc.integer({ min: 0, max: width - 1 }), (a, sh) => {
        expect(riOp(m, name, a, sh, 'shamt')).toBe(model(a, BigInt(sh)));
      }), { numRuns: 60 });
    });
  }

  it('lui/auipc', () => {
    fc.assert(fc.property(fc.integer({ min: -(1 << 19), max: (1 << 19) - 1 }), (hi) => {
      m.cpu.reset();
      m.exec(program([['auipc', { rd: R.a1, imm: hi * 4096 }], ['lui', { rd: R.a0, imm: hi * 4096 }]]));
      expect(m.cpu.getX(R.a0)).toBe(u64(BigInt(hi) * 4096n));
      expect(m.cpu.getX(R.a1)).toBe(u64(m.base + BigInt(hi) * 4096n));
    }), { numRuns: 40 });
  });

  it('x0 reads zero and ignores writes', () => {
    m.cpu.reset();
    m.exec(program([['addi', { rd: 0, rs1: 0, imm: 5 }], ['addi', { rd: R.a0, rs1: 0, imm: 7 }]]));
    expect(m.cpu.getX(0)).toBe(0n);
    expect(m.cpu.getX(R.a0)).toBe(7n);
  });
});

describe('loads and stores', () => {
  const m = new TestMachine();
  const data = m.base + 0x8000n;
  it('store then load every width and sign', () => {
    fc.assert(fc.property(edge64, fc.integer({ min: -16, max: 16 }), (v, off) => {
      m.cpu.reset();
      m.cpu.setX(R.a1, data);
      m.cpu.setX(R.a2, v);
      m.exec(program([
        ['sd', { rs1: R.a1, rs2: R.a2, imm: off * 8 }],
        ['lb', { rd: R.a3, rs1: R.a1, imm: off * 8 }],
        ['lbu', { rd: R.a4, rs1: R.a1, imm: off * 8 + 1 }],
        ['lh', { rd: R.a5, rs1: R.a1, imm: off * 8 + 2 }],
        ['lhu', { rd: R.a6, rs1: R.a1, imm: off * 8 + 2 }],
        ['lw', { rd: R.a7, rs1: R.a1, imm: off * 8 + 4 }],
        ['lwu', { rd: R.t0, rs1: R.a1, imm: off * 8 + 4 }],
        ['ld', { rd: R.t1, rs1: R.a1, imm: off * 8 }],
      ]));
      const byteAt = (k: number): bigint => (v >> BigInt(8 * k)) & 0xffn;
      expect(m.cpu.getX(R.a3)).toBe(u64(BigInt.asIntN(8, byteAt(0))));
      expect(m.cpu.getX(R.a4)).toBe(byteAt(1));
      expect(m.cpu.getX(R.a5)).toBe(u64(BigInt.asIntN(16, (v >> 16n) & 0xffffn)));
      expect(m.cpu.getX(R.a6)).toBe((v >> 16n) & 0xffffn);
      expect(m.cpu.getX(R.a7)).toBe(w(v >> 32n));
      expect(m.cpu.getX(R.t0)).toBe(v >> 32n);
      expect(m.cpu.getX(R.t1)).toBe(v);
    }), { numRuns: 40 });
  });
  it('sb/sh/sw write only their bytes; misaligned plain accesses are allowed', () => {
    m.cpu.reset();
    m.view.setBigUint64(0x8000, 0x1111111111111111n, true);
    m.view.setBigUint64(0x8008, 0x2222222222222222n, true);
    m.cpu.setX(R.a1, data);
    m.cpu.setX(R.a2, 0xaabbccddeeff0011n);
    m.exec(program([
      ['sb', { rs1: R.a1, rs2: R.a2, imm: 0 }],
      ['sh', { rs1: R.a1, rs2: R.a2, imm: 3 }],
      ['sw', { rs1: R.a1, rs2: R.a2, imm: 7 }],
      ['ld', { rd: R.a0, rs1: R.a1, imm: 1 }],
    ]));
    // Byte model of the three stores, then the misaligned load of bytes 1..8.
    const bytes: number[] = [...Array(16)].map((_, k) => (k < 8 ? 0x11 : 0x22));
    const src = [0x11, 0x00, 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa];
    bytes[0] = src[0]!;
    bytes[3] = src[0]!; bytes[4] = src[1]!;
    for (let k = 0; k < 4; k++) bytes[7 + k] = src[k]!;
    for (let k = 0; k < 16; k++) expect(m.ram[0x8000 + k]).toBe(bytes[k]);
    let expected = 0n;
    for (let k = 8; k >= 1; k--) expected = (expected << 8n) | BigInt(bytes[k]!);
    expect(m.cpu.getX(R.a0)).toBe(expected);
  });
});

describe('control flow', () => {
  const m = new TestMachine();
  const branches: Record<string, (a: bigint, b: bigint) => boolean> = {
    beq: (a, b) => a === b,
    bne: (a, b) => a !== b,
    blt: (a, b) => s64(a) < s64(b),
    bge: (a, b) => s64(a) >= s64(b),
    bltu: (a, b) => a < b,
    bgeu: (a, b) => a >= b,
  };
  for (const [name, model] of Object.entries(branches)) {
    it(name, () => {
      fc.assert(fc.property(edge64, edge64, fc.boolean(), (a, b, same) => {
        if (same) b = a;
        m.cpu.reset();
        m.cpu.setX(R.a1, a);
        m.cpu.setX(R.a2, b);
        // taken → skip the "li a0, 1"
        m.exec(program([
          [name, { rs1: R.a1, rs2: R.a2, imm: 8 }],
          ['addi', { rd: R.a0, rs1: 0, imm: 1 }],
          ['addi', { rd: R.a3, rs1: 0, imm: 2 }],
        ]));
        expect(m.cpu.getX(R.a0)).toBe(model(a, b) ? 0n : 1n);
        expect(m.cpu.getX(R.a3)).toBe(2n);
      }), { numRuns: 40 });
    });
  }
  it('jal links and jumps; jalr clears bit 0 and links before writing rd = rs1', () => {
    m.cpu.reset();
    m.cpu.setX(R.a1, m.base + 17n); // target 16 after clearing bit 0
    m.exec(program([
      ['jal', { rd: R.ra, imm: 8 }], // 0 → 8
      ['addi', { rd: R.a0, rs1: 0, imm: 1 }], // 4 (skipped)
      ['jalr', { rd: R.a1, rs1: R.a1, imm: 0 }], // 8 → 16, a1 = 12
      ['addi', { rd: R.a0, rs1: 0, imm: 2 }], // 12 (skipped)
      ['addi', { rd: R.a2, rs1: 0, imm: 3 }], // 16
    ]));
    expect(m.cpu.getX(R.ra)).toBe(m.base + 4n);
    expect(m.cpu.getX(R.a1)).toBe(m.base + 12n);
    expect(m.cpu.getX(R.a0)).toBe(0n);
    expect(m.cpu.getX(R.a2)).toBe(3n);
  });
  it('a loop runs across many TBs', () => {
    m.cpu.reset();
    m.exec(program([
      ['addi', { rd: R.a0, rs1: 0, imm: 100 }],
      ['addi', { rd: R.a1, rs1: R.a1, imm: 3 }],
      ['addi', { rd: R.a0, rs1: R.a0, imm: -1 }],
      ['bne', { rs1: R.a0, rs2: 0, imm: -8 }],
    ]));
    expect(m.cpu.getX(R.a1)).toBe(300n);
  });
});

describe('exceptions', () => {
  const m = new TestMachine();
  function trapAfter(code: ReturnType<typeof program>): void {
    m.cpu.reset();
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    m.load(code);
    m.traps = 0;
    for (let k = 0; k < 20 && m.traps === 0; k++) m.stepTb(code.length);
  }
  it('illegal instruction: mcause 2, mepc, mtval = instruction bits', () => {
    const bad = 0xffffffff;
    trapAfter([{ bits: asm('addi', { rd: 1, rs1: 0, imm: 1 }), size: 4 }, { bits: bad, size: 4 }]);
    expect(m.cpu.readReg('mcause')).toBe(2n);
    expect(m.cpu.readReg('mepc')).toBe(m.base + 4n);
    expect(m.cpu.readReg('mtval')).toBe(0xffffffffn);
    expect(m.cpu.pc).toBe(m.base + 0x4000n);
    expect(m.cpu.getX(1)).toBe(1n);
  });
  it('all-zero halfword is illegal with mtval 0', () => {
    trapAfter([{ bits: 0, size: 2 }]);
    expect(m.cpu.readReg('mcause')).toBe(2n);
    expect(m.cpu.readReg('mtval')).toBe(0n);
  });
  it('ecall from M is cause 11, ebreak is cause 3', () => {
    trapAfter(program([['ecall']]));
    expect(m.cpu.readReg('mcause')).toBe(11n);
    expect(m.cpu.readReg('mepc')).toBe(m.base);
    trapAfter(program([['addi', { rd: 0, rs1: 0, imm: 0 }], ['ebreak']]));
    expect(m.cpu.readReg('mcause')).toBe(3n);
    expect(m.cpu.readReg('mepc')).toBe(m.base + 4n);
  });
  it('load outside RAM: access fault with mtval = address, rd unchanged', () => {
    m.cpu.reset();
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    m.cpu.setX(R.a1, 0x1000n);
    m.cpu.setX(R.a0, 77n);
    m.load(program([['ld', { rd: R.a0, rs1: R.a1, imm: 8 }]]));
    m.run(1);
    expect(m.cpu.readReg('mcause')).toBe(5n);
    expect(m.cpu.readReg('mtval')).toBe(0x1008n);
    expect(m.cpu.getX(R.a0)).toBe(77n);
  });
  it('RV64: shamt ≥ 64 does not exist; slliw with bit 25 set is illegal', () => {
    const bits = (asm('slliw', { rd: 1, rs1: 1, shamt: 1 }) | (1 << 25)) >>> 0;
    trapAfter([{ bits, size: 4 }]);
    expect(m.cpu.readReg('mcause')).toBe(2n);
    expect(m.cpu.readReg('mtval')).toBe(BigInt(bits));
  });
});
