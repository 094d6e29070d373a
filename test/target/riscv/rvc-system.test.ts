/** Compressed instructions, Zicsr, privileged instructions and TB boundaries. */
import { describe, expect, it } from 'vitest';
import { TestMachine } from './harness.js';
import { program, R } from './asm.js';

describe('compressed instructions', () => {
  it('a C-only program computes what its expansion would', () => {
    const m = new TestMachine();
    m.cpu.setX(R.sp, m.base + 0x8000n);
    m.exec(program([
      ['c.li', { rd: R.a0, rs1: 0, imm: 5 }], // a0 = 5
      ['c.addi', { rd: R.a0, rs1: R.a0, imm: 3 }], // 8
      ['c.slli', { rd: R.a0, rs1: R.a0, shamt: 2 }], // 32
      ['c.mv', { rd: R.a1, rs1: R.a0, imm: 0 }], // a1 = 32
      ['c.add', { rd: R.a1, rs1: R.a1, rs2: R.a0 }], // 64
      ['c.sdsp', { rs1: R.sp, rs2: R.a1, imm: 8 }],
      ['c.ldsp', { rd: R.a2, rs1: R.sp, imm: 8 }], // a2 = 64
      ['c.addi16sp', { rd: R.sp, rs1: R.sp, imm: -32 }],
      ['c.beqz', { rs1: R.a3, rs2: 0, imm: 4 }], // a3 == 0: skip the next
      ['c.li', { rd: R.a4, rs1: 0, imm: 1 }],
      ['c.lui', { rd: R.a5, imm: -4096 }], // a5 = 0xfffff...f000
      ['c.srai', { rd: R.a5, rs1: R.a5, shamt: 4 }],
      ['c.addiw', { rd: R.a1, rs1: R.a1, imm: -1 }], // 63
    ]));
    expect(m.cpu.getX(R.a0)).toBe(32n);
    expect(m.cpu.getX(R.a1)).toBe(63n);
    expect(m.cpu.getX(R.a2)).toBe(64n);
    expect(m.cpu.getX(R.sp)).toBe(m.base + 0x8000n - 32n);
    expect(m.cpu.getX(R.a4)).toBe(0n);
    expect(m.cpu.getX(R.a5)).toBe(0xffffffffffffff00n);
  });
  it('RV32 c.jal links ra; values stay 32-bit', () => {
    const m = new TestMachine(0x80000000n, 0x10000, { isa: 'rv32imac_zicsr_zifencei' });
    m.exec(program([
      ['c.jal', { rd: 1, imm: 4 }],
      ['c.li', { rd: R.a0, rs1: 0, imm: 1 }], // skipped
      ['c.li', { rd: R.a1, rs1: 0, imm: -1 }],
    ], 32));
    expect(m.cpu.getX(R.ra)).toBe(0x80000002n);
    expect(m.cpu.getX(R.a0)).toBe(0n);
    expect(m.cpu.getX(R.a1)).toBe(0xffffffffn);
    expect(m.cpu.pc).toBe(0x80000006n);
  });
  it('without C, a jump to a 2-byte aligned target raises instruction-address-misaligned', () => {
    const m = new TestMachine(0x80000000n, 0x10000, { isa: 'rv64ima_zicsr_zifencei' });
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    m.cpu.setX(R.a1, m.base + 0x102n);
    m.load(program([['jalr', { rd: R.ra, rs1: R.a1, imm: 0 }]]));
    m.stepTb(1);
    expect(m.cpu.readReg('mcause')).toBe(0n);
    expect(m.cpu.readReg('mtval')).toBe(m.base + 0x102n);
    expect(m.cpu.readReg('mepc')).toBe(m.base);
    expect(m.cpu.getX(R.ra)).toBe(0n); // rd not written
    m.cpu.reset();
    m.cpu.writeReg('mtvec', m.base + 0x4000n);
    m.load(program([['jal', { rd: 0, imm: 6 }]]));
    m.stepTb(1);
    expect(m.cpu.readReg('mcause')).toBe(0n);
    expect(m.cpu.readReg('mtval')).toBe(m.base + 6n);
  });
});

describe('Zicsr', () => {
  const m = new TestMachine();
  it('csrrw swaps, csrrs sets, csrrc clears, the *i forms use the immediate', () => {
    m.cpu.reset();
    m.cpu.writeReg('mscratch', 0xf0n);
    m.cpu.setX(R.a1, 0x0fn);
    m.exec(program([
      ['csrrw', { rd: R.a0, rs1: R.a1, csr: 0x340 }], // a0 = f0, mscratch = 0f
      ['csrrsi', { rd: R.a2, rs1: 0x10, csr: 0x340 }], // a2 = 0f, mscratch = 1f
      ['csrrc', { rd: R.a3, rs1: R.a1, csr: 0x340 }], // a3 = 1f, mscratch = 10
      ['csrrs', { rd: R.a4, rs1: 0, csr: 0x340 }], // read: 10
    ]));
    expect([m.cpu.getX(R.a0), m.cpu.getX(R.a2), m.cpu.getX(R.a3), m.cpu.getX(R.a4)]).toEqual([0xf0n, 0x0fn, 0x1fn, 0x10n]);
    expect(m.cpu.readReg('mscratch')).toBe(0x10n);
  });
  it('an unimplemented CSR or a write to a read-only CSR is illegal with mtval = the instruction', () => {
    for (const line of [['csrrs', { rd: R.a0, rs1: 0, csr: 0x7c0 }], ['csrrw', { rd: 0, rs1: R.a1, csr: 0xf14 }]] as const) {
      m.cpu.reset();
      m.cpu.writeReg('mtvec', m.base + 0x4000n);
      const code = program([line]);
      m.load(code);
      m.stepTb(1);
      expect(m.cpu.readReg('mcause')).toBe(2n);
      expect(m.cpu.readReg('mtval')).toBe(BigInt(code[0]!.bits));
      expect(m.cpu.readReg('mepc')).toBe(m.base);
    }
  });
  it('a CSR write ends the TB; a CSR read does not', () => {
    m.cpu.reset();
    m.load(program([
      ['csrrs', { rd: R.a0, rs1: 0, csr: 0x340 }],
      ['addi', { rd: R.a1, rs1: 0, imm: 1 }],
      ['csrrw', { rd: 0, rs1: R.a1, csr: 0x340 }],
      ['addi', { rd: R.a2, rs1: 0, imm: 1 }],
    ]));
    expect(m.translate(16).nbInsns).toBe(3);
  });
});

describe('privileged instructions and TB boundaries', () => {
  it('mret returns to mepc in MPP', () => {
    const m = new TestMachine();
    m.cpu.writeReg('mepc', m.base + 0x200n);
    m.cpu.writeReg('mstatus', 3n << 11n); // MPP = M
    m.load(program([['mret']]));
    m.stepTb(1);
    expect(m.cpu.pc).toBe(m.base + 0x200n);
    expect(m.cpu.hart.priv).toBe(3);
  });
  it('wfi halts with the pc after it', () => {
    const m = new TestMachine();
    m.load(program([['wfi'], ['addi', { rd: R.a0, rs1: 0, imm: 1 }]]));
    m.stepTb(4);
    expect(m.cpu.halted).toBe(true);
    expect(m.cpu.pc).toBe(m.base + 4n);
    expect(m.cpu.getX(R.a0)).toBe(0n);
  });
  it('a TB never runs onto the next page; a 32-bit instruction in the last halfword starts a new TB', () => {
    const m = new TestMachine();
    const nops = (n: number): ReturnType<typeof program> => program(Array.from({ length: n }, () => ['c.addi', { rd: R.a0, rs1: R.a0, imm: 1 }] as const));
    m.load([...nops(2047), ...program([['addi', { rd: R.a1, rs1: 0, imm: 1 }]])]);
    const t = m.translate(4096);
    expect(t.nbInsns).toBe(2047);
    expect(t.size).toBe(4094);
    m.exec([...nops(2047), ...program([['addi', { rd: R.a1, rs1: 0, imm: 1 }]])]);
    expect(m.cpu.getX(R.a0)).toBe(2047n);
    expect(m.cpu.getX(R.a1)).toBe(1n);
  });
  it('fence.i ends the TB', () => {
    const m = new TestMachine();
    m.load(program([['fence.i', { rd: 0, rs1: 0, imm: 0 }], ['addi', { rd: R.a0, rs1: 0, imm: 1 }]]));
    expect(m.translate(8).nbInsns).toBe(1);
  });
});
