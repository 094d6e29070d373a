import { describe, expect, it } from 'vitest';
import { CAUSE_ILLEGAL, CAUSE_LOAD_BUS, CAUSE_MISALIGNED_LOAD, CAUSE_RAISE, enc, loadImm, Op } from './toy/isa.js';
import { toyMachine } from './toy/machine.js';
import { ToyModel } from './toy/model.js';

const BASE = 0x80000000n;

/** A program at BASE whose trap handler at BASE+0x800 skips the faulting instruction. */
function withHandler(words: number[]): { code: number[]; handler: number[] } {
  return {
    code: [...loadImm(6, BASE + 0x800n), enc(Op.MTTVEC, 0, 6), ...words],
    handler: [enc(Op.MFEPC, 7), enc(Op.ADDI, 7, 7, 4), enc(Op.JR, 0, 7)],
  };
}

describe.each(['closure', 'interp'] as const)('execution loop (%s backend)', (backend) => {
  it('runs straight-line code, loops and halts, counting instructions exactly', () => {
    const m = toyMachine({ backend });
    // r1 = 10; loop: r2 += 3; r1 -= 1; bnz r1 loop; halt
    m.load(BASE, [enc(Op.LI, 1, 0, 10), enc(Op.ADD, 2, 0, 3), enc(Op.ADDI, 1, 1, -1), enc(Op.BNZ, 1, 0, -2), enc(Op.HALT)]);
    m.cpu.pc = BASE;
    const r = m.cpu.run({ instructions: 1000 });
    expect(r.reason).toBe('halt');
    expect(m.cpu.reg(2)).toBe(30n);
    expect(r.instructions).toBe(1 + 3 * 10 + 1);
    expect(m.cpu.icount).toBe(32);
    expect(m.cpu.pc).toBe(BASE + 20n);
    expect(m.cpu.stats.chainedExits).toBeGreaterThan(0);
  });

  it('stops chained execution exactly at every instruction budget', () => {
    for (let k = 1; k <= 7; k++) {
      const m = toyMachine({ backend });
      m.load(BASE, [enc(Op.LI, 1, 0, 20), enc(Op.ADD, 2, 0, 3), enc(Op.ADDI, 1, 1, -1), enc(Op.BNZ, 1, 0, -2), enc(Op.HALT)]);
      m.cpu.pc = BASE;
      const total = 1 + 3 * 20 + 1;
      let done = 0;
      for (;;) {
        const r = m.cpu.run({ instructions: k });
        done += r.instructions;
        expect(m.cpu.icount).toBe(done);
        if (r.reason === 'halt') break;
        expect(r).toEqual({ reason: 'budget', instructions: k });
      }
      expect(done).toBe(total);
      expect(m.cpu.reg(2)).toBe(60n);
    }
  });

  it('restores the exact pc and earlier register writes when an instruction faults mid-TB', () => {
    const m = toyMachine({ backend });
    const { code, handler } = withHandler([
      enc(Op.LI, 1, 0, 7), enc(Op.LI, 2, 0, 9),
      enc(Op.LI, 3, 0, 0x100), enc(Op.LW, 4, 3, 0), // load from 0x100: unassigned → bus error
      enc(Op.LI, 5, 0, 1), enc(Op.HALT),
    ]);
    m.load(BASE, code);
    m.load(BASE + 0x800n, [enc(Op.HALT), ...handler.slice(3)]);
    m.cpu.pc = BASE;
    const r = m.cpu.run({ instructions: 100 });
    expect(r.reason).toBe('halt');
    const faultPc = BASE + BigInt(4 * (code.length - 3));
    expect(m.cpu.getRegister('epc')).toBe(faultPc);
    expect(m.cpu.getRegister('cause')).toBe(BigInt(CAUSE_LOAD_BUS));
    expect(m.cpu.getRegister('tval')).toBe(0x100n);
    expect([m.cpu.reg(1), m.cpu.reg(2), m.cpu.reg(3), m.cpu.reg(5)]).toEqual([7n, 9n, 0x100n, 0n]);
    // Everything before the faulting load retired, the load did not, then the handler's HALT.
    expect(r.instructions).toBe(code.length - 3 + 1);
  });

  it('delivers RAISE, illegal and misaligned traps and resumes after them', () => {
    const m = toyMachine({ backend });
    const { code, handler } = withHandler([
      enc(Op.RAISE, 0, 0, 5), enc(Op.MFCAUSE, 1),
      0xff, enc(Op.MFCAUSE, 2), enc(Op.MFTVAL, 3),
      ...loadImm(4, BASE + 0x402n), enc(Op.LWA, 5, 4, 0), enc(Op.MFCAUSE, 6),
      enc(Op.HALT),
    ]);
    m.load(BASE, code);
    m.load(BASE + 0x800n, handler);
    m.cpu.pc = BASE;
    expect(m.cpu.run({ instructions: 1000 }).reason).toBe('halt');
    expect(m.cpu.reg(1)).toBe(BigInt(CAUSE_RAISE + 5));
    expect(m.cpu.reg(2)).toBe(BigInt(CAUSE_ILLEGAL));
    expect(m.cpu.reg(3)).toBe(0xffn);
    expect(m.cpu.reg(6)).toBe(BigInt(CAUSE_MISALIGNED_LOAD));
    expect(m.cpu.stats.exceptions).toBe(3);
  });

  it('agrees with the model on a program with misaligned and cross-page accesses', () => {
    const m = toyMachine({ backend });
    const prog = [
      ...loadImm(1, BASE + 0x1ffdn), // 3 bytes before a page end
      ...loadImm(2, 0x1122334455667788n),
      enc(Op.SQ, 2, 1, 0), enc(Op.LQ, 3, 1, 0), enc(Op.LW, 4, 1, 1), enc(Op.LHU, 5, 1, 2),
      enc(Op.LWBE, 6, 1, 0), enc(Op.SH, 2, 1, 3), enc(Op.LQ, 7, 1, -1), enc(Op.HALT),
    ];
    m.load(BASE, prog);
    m.cpu.pc = BASE;
    m.cpu.run({ instructions: 1000 });
    // The model, on a fresh copy of the program.
    const fresh = toyMachine({ backend });
    fresh.load(BASE, prog);
    const mm = new ToyModel(fresh.ramBytes, BASE);
    mm.state.pc = BASE;
    mm.run(1000);
    for (let i = 0; i < 8; i++) expect(m.cpu.reg(i)).toBe(mm.state.regs[i]);
    expect(Buffer.compare(Buffer.from(m.ramBytes), Buffer.from(fresh.ramBytes))).toBe(0);
    expect(m.cpu.reg(3)).toBe(0x1122334455667788n);
  });
});
