/**
 * Properties of the execution loop on random toy programs (with self-modifying stores, traps, misaligned
 * and cross-page accesses, page-table permissions): the final state and instruction count equal those of
 * the model interpreter, and do not depend on how the run is split into budgets and single steps.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '../../src/accel/tcg/tcg-cpu-ops.js';
import { enc, Op, toBytes } from './toy/isa.js';
import { toyInsnArb } from './toy/random-insn.js';
import { toyMachine, type ToyMachine } from './toy/machine.js';
import { ToyModel } from './toy/model.js';
import type { ToyPte } from './toy/toy-cpu.js';

const BASE = 0x80000000n;
const RAM_SIZE = 0x8000;
const CODE = BASE + 0x0fc0n; // programs straddle the first page boundary
const HANDLER = BASE + 0x3000n;
const DATA = BASE + 0x4000n;

/** One random instruction word (r5 = CODE, r6 = DATA, never written; r7 = the handler's). */
const insnArb = (progLen: number): fc.Arbitrary<number> =>
  toyInsnArb(progLen, { rewriteProgram: true, indirectJumps: true, zeroWord: true });

interface Case {
  program: number[];
  init: bigint[];
  /** Budgets of the split run; 0 = a single step(). */
  splits: number[];
  total: number;
  /** Page permissions (null: identity map, all RWX). */
  prots: number[] | null;
}

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 4, max: 60 }).chain((len) => fc.record({
  program: fc.array(insnArb(len), { minLength: len, maxLength: len }),
  init: fc.array(fc.bigInt({ min: -300n, max: 300n }), { minLength: 5, maxLength: 5 }),
  splits: fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }),
  total: fc.integer({ min: 50, max: 400 }),
  prots: fc.option(fc.array(fc.constantFrom(7, 7, 5, 3, 1, 0), { minLength: 8, maxLength: 8 }), { nil: null }),
}));

function pageTable(prots: number[] | null): Map<bigint, ToyPte> | null {
  if (!prots) return null;
  const pt = new Map<bigint, ToyPte>();
  prots.forEach((p, i) => {
    const page = BASE + BigInt(i) * 0x1000n;
    // the handler's page stays executable
    const prot = page === HANDLER ? PROT_READ | PROT_EXEC : p;
    if (prot !== 0) pt.set(page, { ppage: page, prot });
  });
  return pt;
}

function setup(c: Case, m: ToyMachine): void {
  m.load(CODE, c.program);
  m.load(HANDLER, [enc(Op.MFEPC, 7), enc(Op.ADDI, 7, 7, 4), enc(Op.JR, 0, 7)]);
  const cpu = m.cpu;
  c.init.forEach((v, i) => cpu.setReg(i, v));
  cpu.setReg(5, CODE);
  cpu.setReg(6, DATA);
  cpu.setRegister('tvec', HANDLER);
  cpu.pc = CODE;
  cpu.pageTable = pageTable(c.prots);
}

function modelFor(c: Case): ToyModel {
  const ram = new Uint8Array(RAM_SIZE);
  ram.set(toBytes(c.program), Number(CODE - BASE));
  ram.set(toBytes([enc(Op.MFEPC, 7), enc(Op.ADDI, 7, 7, 4), enc(Op.JR, 0, 7)]), Number(HANDLER - BASE));
  const model = new ToyModel(ram, BASE);
  const s = model.state;
  c.init.forEach((v, i) => { s.regs[i] = BigInt.asUintN(64, v); });
  s.regs[5] = CODE;
  s.regs[6] = DATA;
  s.tvec = HANDLER;
  s.pc = CODE;
  model.pageTable = pageTable(c.prots);
  return model;
}

function snapshot(m: ToyMachine): unknown {
  const cpu = m.cpu;
  return {
    regs: Array.from({ length: 8 }, (_, i) => cpu.reg(i)),
    pc: cpu.pc, epc: cpu.getRegister('epc'), cause: cpu.getRegister('cause'), tval: cpu.getRegister('tval'),
    icount: cpu.icount, halted: cpu.halted, ram: Buffer.from(m.ramBytes).toString('hex'),
  };
}

function modelSnapshot(model: ToyModel): unknown {
  const s = model.state;
  return {
    regs: [...s.regs], pc: s.pc, epc: s.epc, cause: s.cause, tval: s.tval,
    icount: model.icount, halted: s.halted, ram: Buffer.from(model.ram).toString('hex'),
  };
}

/** Runs the machine for `total` instructions split as `splits` says (repeating), returns the count run. */
function splitRun(m: ToyMachine, splits: number[], total: number): void {
  let k = 0;
  let guard = 0;
  while (m.cpu.icount < total && guard++ < 10 * total + 100) {
    const b = splits[k++ % splits.length]!;
    const r = b === 0 ? m.cpu.step() : m.cpu.run({ instructions: Math.min(b, total - m.cpu.icount) });
    expect(r.instructions).toBeLessThanOrEqual(b === 0 ? 1 : b);
    if (r.reason === 'halt' || r.reason === 'stalled') break;
  }
}

describe('random toy programs', () => {
  for (const variant of [
    { name: 'closure', backend: 'closure' as const },
    { name: 'interp', backend: 'interp' as const, runs: 25 },
    { name: 'closure, TBs crossing pages, unsafe goto_tb, 4-entry TLB', backend: 'closure' as const, crossPages: true, chainAnyPage: true, tlbBits: 2 },
    { name: 'closure, generic TB state, 1-entry TLB, tiny code cache', backend: 'closure' as const, slowState: true, tlbBits: 0, maxTbs: 3 },
    { name: 'wasm tier (TBs promoted after 1 run)', backend: 'closure' as const, tierThreshold: 1 },
    { name: 'wasm tier, TBs crossing pages, unsafe goto_tb', backend: 'closure' as const, tierThreshold: 1, crossPages: true, chainAnyPage: true },
  ]) {
    it(`match the model and do not depend on budgets (${variant.name})`, () => {
      let tierTbs = 0, tierRuns = 0;
      fc.assert(fc.property(caseArb, (c) => {
        const opts = {
          backend: variant.backend, ramSize: RAM_SIZE,
          translate: { crossPages: variant.crossPages ?? false, chainAnyPage: variant.chainAnyPage ?? false },
          ...(variant.tlbBits !== undefined ? { tlbBits: variant.tlbBits } : {}),
          ...(variant.maxTbs !== undefined ? { maxTbs: variant.maxTbs } : {}),
          slowState: variant.slowState ?? false,
          ...(variant.tierThreshold !== undefined ? { tierThreshold: variant.tierThreshold } : {}),
        };
        // one uninterrupted run
        const whole = toyMachine(opts);
        setup(c, whole);
        const r = whole.cpu.run({ instructions: c.total });
        // 'stalled': the program pointed tvec at unmapped memory (a store can rewrite a later instruction
        // into MTTVEC), so every trap faults again; the state must still be the model's.
        expect(['budget', 'halt', 'stalled']).toContain(r.reason);
        // the model
        const model = modelFor(c);
        model.run(c.total);
        expect(snapshot(whole)).toEqual(modelSnapshot(model));
        // split into random budgets and single steps
        const split = toyMachine(opts);
        setup(c, split);
        splitRun(split, c.splits, c.total);
        expect(snapshot(split)).toEqual(snapshot(whole));
        for (const mm of [whole, split]) {
          const t = mm.cpu.tcg;
          if (t.tier === null) continue;
          tierRuns++;
          tierTbs += t.tier.stats.compiles;
        }
      }), { numRuns: variant.runs ?? 60 });
      // The tier variants really ran in wasm: env and TLB in the tier memory, TBs compiled there.
      if (variant.tierThreshold !== undefined) {
        expect(tierRuns).toBeGreaterThan(0);
        expect(tierTbs).toBeGreaterThan(0);
      }
    });
  }
});
