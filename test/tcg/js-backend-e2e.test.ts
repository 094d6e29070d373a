/**
 * The JS backend under the real execution loop (toy CPU of test/accel/toy): soft TLB, chaining, precise
 * faults, self-modifying code. Each program runs on the closure backend and on the JS backend, with and
 * without the inline TLB path (`fastMem`, attached here as the executor would expose it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TbCache } from '../../src/accel/tcg/tb-cache.js';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { createJsBackend, type TbFastMem } from '../../src/tcg/backend/js.js';
import type { Backend } from '../../src/tcg/backend/backend.js';
import { CAUSE_LOAD_BUS, enc, loadImm, Op, toBytes } from '../accel/toy/isa.js';
import { toyMachine, type ToyMachine } from '../accel/toy/machine.js';
import { toyInsnArb } from '../accel/toy/random-insn.js';

const BASE = 0x80000000n;
const RAM_SIZE = 0x8000;
const CODE = BASE + 0x0fc0n; // programs straddle a page boundary
const HANDLER = BASE + 0x3000n;
const DATA = BASE + 0x4000n;

/** A toy machine on `backend`; with `fast`, its executor exposes its TLB as `fastMem`. */
function machine(backend: Backend, fast: boolean, tlbBits?: number): ToyMachine {
  const m = toyMachine({ ramSize: RAM_SIZE, cache: new TbCache({ backend }), ...(tlbBits !== undefined ? { tlbBits } : {}) });
  if (fast) {
    const t = m.cpu.tcg;
    const fastMem: TbFastMem = { tlbEntries: t.entries, tlbBits: t.tlbBits, ramBytes: t.ram.bytes };
    Object.assign(t, { fastMem });
  }
  return m;
}

function snapshot(m: ToyMachine): unknown {
  const cpu = m.cpu;
  return {
    regs: Array.from({ length: 8 }, (_, i) => cpu.reg(i)),
    pc: cpu.pc, epc: cpu.getRegister('epc'), cause: cpu.getRegister('cause'), tval: cpu.getRegister('tval'),
    icount: cpu.icount, halted: cpu.halted, ram: Buffer.from(m.ramBytes).toString('hex'),
  };
}

const insnArb = (n: number): fc.Arbitrary<number> =>
  toyInsnArb(n, { rewriteProgram: false, indirectJumps: false, zeroWord: false });
const caseArb = fc.integer({ min: 4, max: 40 }).chain((n) => fc.record({
  program: fc.array(insnArb(n), { minLength: n, maxLength: n }),
  init: fc.array(fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }), { minLength: 5, maxLength: 5 }),
  total: fc.integer({ min: 1, max: 400 }),
}));

function setup(m: ToyMachine, program: number[], init: bigint[]): void {
  m.ramBytes.fill(0);
  m.ramBytes.set(toBytes(program), Number(CODE - BASE));
  m.ramBytes.set(toBytes([enc(Op.MFEPC, 7), enc(Op.ADDI, 7, 7, 4), enc(Op.JR, 0, 7)]), Number(HANDLER - BASE));
  init.forEach((v, i) => m.cpu.setReg(i, BigInt.asUintN(64, v)));
  m.cpu.setReg(5, CODE);
  m.cpu.setReg(6, DATA);
  m.cpu.setRegister('tvec', HANDLER);
  m.cpu.pc = CODE;
}

describe('js backend under the execution loop', () => {
  it('runs random toy programs exactly as the closure backend', () => {
    const js = createJsBackend();
    fc.assert(fc.property(caseArb, fc.constantFrom(undefined, 0, 2), ({ program, init, total }, tlbBits) => {
      const want = machine(closureBackend, false, tlbBits);
      setup(want, program, init);
      want.cpu.run({ instructions: total });
      for (const fast of [true, false]) {
        const m = machine(js, fast, tlbBits);
        setup(m, program, init);
        m.cpu.run({ instructions: total });
        expect(snapshot(m)).toEqual(snapshot(want));
      }
    }), { numRuns: 60 });
  });

  it('runs a loop with loads and stores, chaining TBs and hitting the inline TLB', () => {
    const m = machine(createJsBackend(), true);
    // r1 = 100 (count); r2 = DATA; loop: r3 = mem64[r2]; r3 += r1; mem64[r2 + 8] = r3; r2 += 8; r1 -= 1
    m.load(BASE, [
      enc(Op.LI, 1, 0, 100), ...loadImm(2, DATA), enc(Op.LI, 4, 0, 0),
      enc(Op.LQ, 3, 2, 0), enc(Op.ADD, 3, 1, 0), enc(Op.SQ, 3, 2, 8), enc(Op.ADDI, 2, 2, 8), enc(Op.ADDI, 1, 1, -1),
      enc(Op.BNZ, 1, 0, -5), enc(Op.HALT),
    ]);
    m.cpu.pc = BASE;
    const t = m.cpu.tcg;
    let slowLoads = 0;
    const load = t.load.bind(t);
    t.load = (...a) => { slowLoads++; return load(...a); };
    const r = m.cpu.run({ instructions: 10_000 });
    expect(r.reason).toBe('halt');
    // Only the first access to the data page misses the TLB; the other 99 loads are inline.
    expect(slowLoads).toBeLessThanOrEqual(2);
    // mem[k+1] = mem[k] + (100 - k): the last value is the sum 1..100.
    expect(m.cpu.reg(3)).toBe(5050n);
    expect(m.cpu.stats.chainedExits).toBeGreaterThan(0);
  });

  it('restores the exact pc and earlier register writes when a load faults mid-TB', () => {
    const m = machine(createJsBackend(), true);
    const code = [
      ...loadImm(6, BASE + 0x800n), enc(Op.MTTVEC, 0, 6),
      enc(Op.LI, 1, 0, 7), enc(Op.LI, 2, 0, 9), enc(Op.LI, 3, 0, 0x100), enc(Op.LW, 4, 3, 0),
      enc(Op.LI, 5, 0, 1), enc(Op.HALT),
    ];
    m.load(BASE, code);
    m.load(BASE + 0x800n, [enc(Op.HALT)]);
    m.cpu.pc = BASE;
    const r = m.cpu.run({ instructions: 100 });
    expect(r.reason).toBe('halt');
    expect(m.cpu.getRegister('epc')).toBe(BASE + BigInt(4 * (code.length - 3)));
    expect(m.cpu.getRegister('cause')).toBe(BigInt(CAUSE_LOAD_BUS));
    expect([m.cpu.reg(1), m.cpu.reg(2), m.cpu.reg(3), m.cpu.reg(5)]).toEqual([7n, 9n, 0x100n, 0n]);
    expect(r.instructions).toBe(code.length - 3 + 1);
  });
});
