import { describe, expect, it } from 'vitest';
import { TbCache } from '../../src/accel/tcg/tb-cache.js';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { createObject } from '../../src/qom/object.js';
import { ToyCpu } from './toy/toy-cpu.js';
import { CAUSE_FETCH_BUS, CAUSE_FETCH_PF, CAUSE_IRQ, enc, loadImm, Op, toBytes } from './toy/isa.js';
import { toyMachine as toyMachineOf, type ToyMachineOptions } from './toy/machine.js';

const BASE = 0x80000000n;

// Every behaviour holds on the closure backend and in the wasm tier (TBs promoted after one run, so the
// loops below run chained inside wasm).
for (const variant of [{ name: 'closure', tierThreshold: undefined }, { name: 'wasm tier', tierThreshold: 1 }]) {
  const tier = variant.tierThreshold !== undefined;
  const toyMachine = (o: ToyMachineOptions = {}): ReturnType<typeof toyMachineOf> =>
    toyMachineOf({ ...(tier ? { tierThreshold: variant.tierThreshold } : {}), ...o });
  describe(variant.name, () => {
  describe('self-modifying code', () => {
    it('a store rewriting a later instruction of the same TB runs the new instruction', () => {
      const m = toyMachine();
      // r5 = BASE; r3 = encoding of "LI r1, 42"; SW r3 -> [r5 + 4*k] where k is the LI r1,1 below
      const pre = [...loadImm(5, BASE), ...loadImm(3, BigInt(enc(Op.LI, 1, 0, 42)))];
      const k = pre.length + 2;
      m.load(BASE, [...pre, enc(Op.SW, 3, 5, 4 * k), enc(Op.LI, 2, 0, 5), enc(Op.LI, 1, 0, 1), enc(Op.HALT)]);
      m.cpu.pc = BASE;
      const r = m.cpu.run({ instructions: 100 });
      expect(r.reason).toBe('halt');
      expect(m.cpu.reg(1)).toBe(42n);
      expect(m.cpu.reg(2)).toBe(5n);
      expect(r.instructions).toBe(k + 2);
      expect(m.cpu.stats.smcExits).toBe(1);
    });

    it('a store rewriting code of another, already translated TB invalidates it', () => {
      const m = toyMachine();
      const SUB = BASE + 0x2000n;
      m.load(SUB, [enc(Op.LI, 1, 0, 1), enc(Op.JR, 0, 7)]); // subroutine: r1 = 1; return to r7
      const prog = [
        ...loadImm(6, SUB), ...loadImm(3, BigInt(enc(Op.LI, 1, 0, 9))),
        ...loadImm(7, 0n), // patched below with the return address
      ];
      const call1 = prog.length;
      // call SUB, then patch its first instruction, call it again
      const body = [enc(Op.JR, 0, 6), enc(Op.ADDI, 2, 1, 0), enc(Op.SW, 3, 6, 0), 0, enc(Op.JR, 0, 6), enc(Op.HALT)];
      const words = [...prog, ...body];
      // r7 = return address (set by hand: the toy has no link register)
      m.load(BASE, words);
      m.cpu.pc = BASE;
      m.cpu.run({ instructions: call1 });
      m.cpu.setReg(7, BASE + BigInt(4 * (call1 + 1)));
      m.cpu.run({ instructions: 4 }); // JR, LI, JR back, ADDI
      expect(m.cpu.reg(2)).toBe(1n);
      m.cpu.run({ instructions: 1 }); // the store
      expect(m.cpu.stats.invalidations).toBeGreaterThan(0);
      m.cpu.setReg(7, BASE + BigInt(4 * (call1 + 5)));
      // the word at call1+3 is 0 (illegal): skip it by moving pc
      m.cpu.pc = BASE + BigInt(4 * (call1 + 4));
      const r = m.cpu.run({ instructions: 10 });
      expect(r.reason).toBe('halt');
      expect(m.cpu.reg(1)).toBe(9n);
    });

    it('rewriting a hot subroutine (reached by indirect jumps) runs the new code from then on', () => {
      // loop: r7 = RET; JR r6 (SUB: LI r1, 1; JR r7); RET: ADD r2 += r1; ADDI r4 -= 1; BNZ r4 loop; HALT.
      // In the wasm tier the call and return go through the wasm jump cache and chain slots, inside one
      // region: the write must reach all of those.
      const m = toyMachine();
      const SUB = BASE + 0x2000n, N = 4000;
      m.load(SUB, [enc(Op.LI, 1, 0, 1), enc(Op.JR, 0, 7)]);
      let ret = BASE;
      for (let k = 0; k < 4; k++) ret = BASE + BigInt(4 * ([...loadImm(6, SUB), enc(Op.LI, 4, 0, N)].length + loadImm(7, ret).length + 1));
      const head = [...loadImm(6, SUB), enc(Op.LI, 4, 0, N)];
      const loop = [...loadImm(7, ret), enc(Op.JR, 0, 6)];
      const prog = [...head, ...loop, enc(Op.ADD, 2, 1, 0), enc(Op.ADDI, 4, 4, -1), enc(Op.BNZ, 4, 0, -(loop.length + 2)), enc(Op.HALT)];
      expect(BASE + BigInt(4 * (head.length + loop.length))).toBe(ret);
      m.load(BASE, prog);
      m.cpu.pc = BASE;
      m.cpu.tcg.interruptRequest = false; // kept exact by hand (no interrupts here), so TBs chain
      const perIter = loop.length + 2 + 3;
      m.cpu.run({ instructions: head.length + perIter * (N / 2) });
      expect(m.cpu.reg(4)).toBe(BigInt(N / 2));
      expect(m.cpu.reg(2)).toBe(BigInt(N / 2));
      if (tier) expect(m.cpu.stats.tbsExecuted).toBeLessThan(N / 8); // the loop ran inside wasm
      m.load(SUB, [enc(Op.LI, 1, 0, 9)]);
      expect(m.cpu.run({ instructions: 100_000 }).reason).toBe('halt');
      expect(m.cpu.reg(2)).toBe(BigInt(N / 2 + 9 * (N / 2)));
      expect(m.cpu.stats.invalidations).toBeGreaterThan(0);
      if (tier) expect(m.cpu.tcg.tier!.stats.compiles).toBeGreaterThan(0);
    });

    it('a DMA write through the address space invalidates translated code', () => {
      const m = toyMachine();
      m.load(BASE, [enc(Op.LI, 1, 0, 1), enc(Op.HALT)]);
      m.cpu.pc = BASE;
      m.cpu.run({ instructions: 10 });
      expect(m.cpu.reg(1)).toBe(1n);
      m.as.writeBytes(BASE, toBytes([enc(Op.LI, 1, 0, 2)]));
      m.cpu.halted = false;
      m.cpu.pc = BASE;
      m.cpu.run({ instructions: 10 });
      expect(m.cpu.reg(1)).toBe(2n);
      // writes behind the CPU's back need an explicit invalidation
      m.ramBytes.set(toBytes([enc(Op.LI, 1, 0, 3)]), 0);
      m.cpu.invalidateCode(BASE, 4);
      m.cpu.halted = false;
      m.cpu.pc = BASE;
      m.cpu.run({ instructions: 10 });
      expect(m.cpu.reg(1)).toBe(3n);
    });
  });

  describe('breakpoints, step, until', () => {
    const prog = [enc(Op.LI, 1, 0, 1), enc(Op.LI, 2, 0, 2), enc(Op.LI, 3, 0, 3), enc(Op.LI, 4, 0, 4), enc(Op.HALT)];

    it('stops before a breakpoint inside what would be one TB, and resumes over it', () => {
      const m = toyMachine();
      m.load(BASE, prog);
      m.cpu.pc = BASE;
      m.cpu.run({ instructions: 100 }); // translate the whole TB first
      m.cpu.halted = false;
      for (let i = 1; i <= 4; i++) m.cpu.setReg(i, 0n);
      m.cpu.pc = BASE;
      m.cpu.addBreakpoint(BASE + 8n);
      let r = m.cpu.run({ instructions: 100 });
      expect(r).toEqual({ reason: 'breakpoint', instructions: 2 });
      expect(m.cpu.pc).toBe(BASE + 8n);
      expect(m.cpu.reg(3)).toBe(0n);
      r = m.cpu.run({ instructions: 100 });
      expect(r).toEqual({ reason: 'halt', instructions: 3 });
      expect(m.cpu.reg(4)).toBe(4n);
    });

    it('stops at a breakpoint on an address whose fetch would fault, before the fault', () => {
      const m = toyMachine();
      m.load(BASE, [...loadImm(6, 0x30000000n), enc(Op.JR, 0, 6)]);
      m.cpu.pc = BASE;
      m.cpu.addBreakpoint(0x30000000n);
      expect(m.cpu.run({ instructions: 100 }).reason).toBe('breakpoint');
      expect(m.cpu.pc).toBe(0x30000000n);
      expect(m.cpu.stats.exceptions).toBe(0);
    });

    it('step executes exactly one instruction, even over a breakpoint', () => {
      const m = toyMachine();
      m.load(BASE, prog);
      m.cpu.pc = BASE;
      m.cpu.addBreakpoint(BASE);
      for (let i = 1; i <= 4; i++) {
        expect(m.cpu.step()).toEqual({ reason: 'budget', instructions: 1 });
        expect(m.cpu.pc).toBe(BASE + BigInt(4 * i));
        expect(m.cpu.reg(i)).toBe(BigInt(i));
        expect(m.cpu.reg(i + 1 > 4 ? 4 : i + 1)).toBe(i + 1 > 4 ? 4n : 0n);
      }
      expect(m.cpu.icount).toBe(4);
    });

    it('run({ until }) stops exactly before the address', () => {
      const m = toyMachine();
      m.load(BASE, prog);
      m.cpu.pc = BASE;
      expect(m.cpu.run({ until: BASE + 12n })).toEqual({ reason: 'until', instructions: 3 });
      expect(m.cpu.breakpoints.size).toBe(0);
      // a predicate is checked at TB boundaries
      expect(m.cpu.run({ until: () => true })).toEqual({ reason: 'until', instructions: 0 });
      expect(m.cpu.run({ until: () => false }).reason).toBe('halt');
    });
  });

  describe('hooks', () => {
    it('insn/tb/mem/exception events fire only while listened, and toggling them mid-run keeps counts exact', () => {
      const m = toyMachine();
      const loop = [
        ...loadImm(6, BASE + 0x4000n), ...loadImm(7, BASE + 0x800n), enc(Op.MTTVEC, 0, 7),
        enc(Op.LI, 1, 0, 20),
        enc(Op.SW, 1, 6, 0), enc(Op.LW, 2, 6, 0), enc(Op.ADDI, 1, 1, -1), enc(Op.BNZ, 1, 0, -3),
        enc(Op.RAISE, 0, 0, 1),
      ];
      m.load(BASE, loop);
      m.load(BASE + 0x800n, [enc(Op.HALT)]);
      m.cpu.pc = BASE;
      const pcs: bigint[] = [];
      const mem: string[] = [];
      let exc = 0;
      m.cpu.run({ instructions: 10 });
      const onInsn = (pc: bigint): void => { pcs.push(pc); };
      m.cpu.hooks.on('insn', onInsn);
      m.cpu.hooks.on('mem:write', (a, s, v) => mem.push(`w${a.toString(16)}/${s}=${v}`));
      m.cpu.hooks.on('mem:read', (a, s, v) => mem.push(`r${a.toString(16)}/${s}=${v}`));
      m.cpu.hooks.on('exception', () => { exc++; });
      const r1 = m.cpu.run({ instructions: 12 });
      expect(pcs.length).toBe(r1.instructions);
      expect(mem.length).toBeGreaterThan(0);
      expect(mem[0]).toMatch(/^[rw]80004000\/4=/);
      m.cpu.hooks.off('insn', onInsn);
      const r2 = m.cpu.run({ instructions: 1000 });
      expect(pcs.length).toBe(r1.instructions);
      expect(r2.reason).toBe('halt');
      expect(exc).toBe(1);
      expect(m.cpu.icount).toBe(10 + r1.instructions + r2.instructions);
      m.cpu.hooks.removeAllListeners();
      expect(m.cpu.tcg.memHooks).toBeNull();
    });
  });

  describe('interrupts, halt, exit requests', () => {
    it('takes an interrupt at a TB boundary and wakes a halted CPU', () => {
      const m = toyMachine();
      m.load(BASE, [...loadImm(7, BASE + 0x800n), enc(Op.MTTVEC, 0, 7), enc(Op.EI), enc(Op.HALT), enc(Op.LI, 1, 0, 1), enc(Op.HALT)]);
      m.load(BASE + 0x800n, [enc(Op.MFCAUSE, 2), enc(Op.MFEPC, 7), enc(Op.JR, 0, 7)]);
      m.cpu.pc = BASE;
      expect(m.cpu.run({ instructions: 100 }).reason).toBe('halt');
      expect(m.cpu.run({ instructions: 100 })).toEqual({ reason: 'halt', instructions: 0 });
      m.cpu.irqLevel = true;
      let irqs = 0;
      m.cpu.hooks.on('interrupt', () => { irqs++; m.cpu.irqLevel = false; });
      const r = m.cpu.run({ instructions: 100 });
      expect(r.reason).toBe('halt');
      expect(irqs).toBe(1);
      expect(m.cpu.reg(2)).toBe(BigInt(CAUSE_IRQ));
      expect(m.cpu.reg(1)).toBe(1n); // resumed after the first HALT
    });

    it('an MMIO write can request an exit, which happens right after the access (a device access ends its TB)', () => {
      let cpuRef: { exit(): void } | null = null;
      const m = toyMachine({
        mmio: { base: 0x10000000n, ops: { read: () => 0, write: () => cpuRef?.exit() } },
      });
      cpuRef = m.cpu;
      m.load(BASE, [...loadImm(6, 0x10000000n), enc(Op.SW, 0, 6, 0), enc(Op.LI, 1, 0, 1), enc(Op.JMP, 0, 0, 0)]);
      m.cpu.pc = BASE;
      const r = m.cpu.run({ instructions: 1000 });
      expect(r.reason).toBe('exit-request');
      expect(m.cpu.reg(1)).toBe(0n); // the LI after the store did not run
      expect(r.instructions).toBe(loadImm(6, 0x10000000n).length + 1);
      expect(m.cpu.stats.ioExits).toBe(1); // the store was in the middle of its TB: run again alone
    });
  });

  describe('the chained fast path stops right after the device access that asks', () => {
    // A loop (LW from the device, ADDI, BNZ back) run until its links are made; the device acts on its K-th
    // read. The LW ends its TB (a device access is the last instruction of a TB, split once). interruptRequest is kept exact by hand here (as the RISC-V target does), so the loop
    // really follows chain links without the boundary checks until something sets a stop flag.
    const MMIO = 0x10000000n, N = 1000, K = 500;
    const setup = (onRead: (m: ReturnType<typeof toyMachine>) => void) => {
      let reads = 0;
      let self: ReturnType<typeof toyMachine> | null = null;
      const m = toyMachine({ mmio: { base: MMIO, ops: { read: () => { if (++reads === K) onRead(self!); return 0; }, write: () => undefined } } });
      self = m;
      const pre = [...loadImm(7, BASE + 0x800n), enc(Op.MTTVEC, 0, 7), enc(Op.EI), ...loadImm(6, MMIO), enc(Op.LI, 1, 0, N)];
      m.load(BASE, [...pre, enc(Op.LW, 2, 6, 0), enc(Op.ADDI, 1, 1, -1), enc(Op.BNZ, 1, 0, -2), enc(Op.HALT)]);
      m.load(BASE + 0x800n, [enc(Op.MFEPC, 7), enc(Op.HALT)]);
      m.cpu.pc = BASE;
      m.cpu.tcg.interruptRequest = false;
      return { m, pre: pre.length, loopPc: BASE + BigInt(4 * pre.length) };
    };

    it('an exit request made by a device inside a chained loop', () => {
      const { m, pre } = setup((mm) => mm.cpu.exit());
      const r = m.cpu.run({ instructions: 1_000_000 });
      expect(r.reason).toBe('exit-request');
      expect(m.cpu.reg(1)).toBe(BigInt(N - K + 1)); // stopped right after the K-th LW
      expect(r.instructions).toBe(pre + 3 * (K - 1) + 1);
      // the links were followed (in JS, or inside wasm where only the entries from JS count)
      // inside wasm: the loop's ~2K TBs took few entries from JS
      if (tier) expect(m.cpu.stats.tbsExecuted).toBeLessThan(K / 4);
      else expect(m.cpu.stats.chainedExits).toBeGreaterThan(K / 2);
      // Split once per TB start, not at every access: the TB that falls into the loop, and the loop's own.
      expect(m.cpu.stats.ioExits).toBe(2);
    });

    it('an interrupt raised by a device inside a chained loop is taken before the next TB', () => {
      const { m, pre, loopPc } = setup((mm) => { mm.cpu.irqLevel = true; mm.cpu.tcg.interruptRequest = true; });
      let irqs = 0;
      m.cpu.hooks.on('interrupt', () => { irqs++; m.cpu.irqLevel = false; });
      const r = m.cpu.run({ instructions: 1_000_000 });
      expect(r.reason).toBe('halt');
      expect(irqs).toBe(1);
      expect(m.cpu.reg(1)).toBe(BigInt(N - K + 1));
      expect(m.cpu.reg(7)).toBe(loopPc + 4n); // epc: the ADDI after the K-th LW
      expect(r.instructions).toBe(pre + 3 * (K - 1) + 1 + 2);
        // inside wasm: the loop's ~2K TBs took few entries from JS
      if (tier) expect(m.cpu.stats.tbsExecuted).toBeLessThan(K / 4);
      else expect(m.cpu.stats.chainedExits).toBeGreaterThan(K / 2);
    });

    it('indirect jumps stay in the fast path through the jump cache, and still stop on a request', () => {
      let reads = 0;
      let self: ReturnType<typeof toyMachine> | null = null;
      const m = toyMachine({ mmio: { base: MMIO, ops: { read: () => { if (++reads === K) self!.cpu.exit(); return 0; }, write: () => undefined } } });
      self = m;
      const head = [...loadImm(6, MMIO), enc(Op.LI, 1, 0, N)];
      // r7 = the loop's address, right after the loadImm that sets it (its length may depend on the value).
      let loopPc = BASE;
      for (let k = 0; k < 4; k++) loopPc = BASE + BigInt(4 * (head.length + loadImm(7, loopPc).length));
      const pre = [...head, ...loadImm(7, loopPc)];
      expect(BASE + BigInt(4 * pre.length)).toBe(loopPc);
      m.load(BASE, [...pre, enc(Op.LW, 2, 6, 0), enc(Op.ADDI, 1, 1, -1), enc(Op.JR, 0, 7)]);
      m.cpu.pc = BASE;
      m.cpu.tcg.interruptRequest = false;
      const r = m.cpu.run({ instructions: 1_000_000 });
      expect(r.reason).toBe('exit-request');
      expect(m.cpu.reg(1)).toBe(BigInt(N - K + 1));
      expect(r.instructions).toBe(pre.length + 3 * (K - 1) + 1);
      // Each iteration ends in a lookup: the inner loop found the next TB itself (counted as chained), or
      // in the wasm tier the TB found it in the wasm jump cache (few entries from JS).
      if (tier) expect(m.cpu.stats.tbsExecuted).toBeLessThan(K / 4);
      else expect(m.cpu.stats.chainedExits).toBeGreaterThan(K / 2);
    });

    it('a budget ending inside the chain stops at exactly that instruction count', () => {
      const { m, pre } = setup(() => undefined);
      const budget = pre + 3 * 400 + 2;
      const r = m.cpu.run({ instructions: budget });
      expect(r).toEqual({ reason: 'budget', instructions: budget });
      expect(m.cpu.reg(1)).toBe(BigInt(N - 401)); // 400 iterations and the ADDI of the next
    });
  });

  describe('code fetch corner cases', () => {
    it('executes from a device one uncached instruction at a time, and faults on unassigned code', () => {
      const words = [enc(Op.LI, 1, 0, 5), enc(Op.ADDI, 1, 1, 1), ...loadImm(7, BASE), enc(Op.JR, 0, 7)];
      const bytes = toBytes(words);
      const m = toyMachine({
        mmio: { base: 0x20000000n, ops: { read: (a, s) => new DataView(bytes.buffer).getUint32(a, true) >>> 0 & (s === 4 ? 0xffffffff : (1 << (8 * s)) - 1), write: () => undefined } },
      });
      m.load(BASE, [...loadImm(6, 0x30000000n), enc(Op.JR, 0, 6)]);
      m.load(BASE + 0x800n, [enc(Op.MFTVAL, 3), enc(Op.HALT)]);
      m.cpu.setRegister('tvec', BASE + 0x800n);
      m.cpu.pc = 0x20000000n;
      m.cpu.run({ instructions: words.length });
      expect(m.cpu.reg(1)).toBe(6n);
      expect(m.cpu.pc).toBe(BASE);
      expect(m.cpu.stats.tbCacheSize).toBe(0);
      m.cpu.run({ instructions: 100 });
      expect(m.cpu.getRegister('cause')).toBe(BigInt(CAUSE_FETCH_BUS));
      expect(m.cpu.reg(3)).toBe(0x30000000n);
    });

    it('a TB stops before an instruction on a non-executable next page; that instruction faults alone', () => {
      const m = toyMachine({ translate: { crossPages: true } });
      const start = BASE + 0xff8n;
      m.load(start, [enc(Op.LI, 1, 0, 1), enc(Op.LI, 2, 0, 2), enc(Op.LI, 3, 0, 3)]);
      m.load(BASE + 0x3000n, [enc(Op.MFTVAL, 4), enc(Op.HALT)]);
      m.cpu.setRegister('tvec', BASE + 0x3000n);
      m.cpu.pageTable = new Map([
        [BASE, { ppage: BASE, prot: 7 }], [BASE + 0x3000n, { ppage: BASE + 0x3000n, prot: 7 }],
      ]);
      m.cpu.pc = start;
      m.cpu.run({ instructions: 100 });
      expect([m.cpu.reg(1), m.cpu.reg(2), m.cpu.reg(3)]).toEqual([1n, 2n, 0n]);
      expect(m.cpu.getRegister('cause')).toBe(BigInt(CAUSE_FETCH_PF));
      expect(m.cpu.getRegister('epc')).toBe(BASE + 0x1000n);
      expect(m.cpu.reg(4)).toBe(BASE + 0x1000n);
      expect(m.cpu.stats.retranslations).toBe(1);
    });

    it('an instruction straddling into a non-executable page reports the second page', () => {
      const m = toyMachine();
      const start = BASE + 0xffen;
      m.load(BASE + 0xffcn, [0, enc(Op.LI, 1, 0, 1)].slice(0, 1));
      m.ramBytes.set(toBytes([enc(Op.LI, 1, 0, 1)]), 0xffe);
      m.load(BASE + 0x3000n, [enc(Op.HALT)]);
      m.cpu.setRegister('tvec', BASE + 0x3000n);
      m.cpu.pageTable = new Map([[BASE, { ppage: BASE, prot: 7 }], [BASE + 0x3000n, { ppage: BASE + 0x3000n, prot: 7 }]]);
      m.cpu.pc = start;
      m.cpu.run({ instructions: 100 });
      expect(m.cpu.getRegister('epc')).toBe(start);
      expect(m.cpu.getRegister('tval')).toBe(BASE + 0x1000n);
      expect(m.cpu.reg(1)).toBe(0n);
    });
  });

  describe('code cache', () => {
    it('flushes everything when full, and tbFlush forgets all code', () => {
      const m = toyMachine({ maxTbs: 4 });
      // 8 blocks jumping to each other
      const words: number[] = [];
      for (let i = 0; i < 8; i++) words.push(enc(Op.ADDI, 1, 1, 1), enc(Op.JMP, 0, 0, 1));
      words.push(enc(Op.HALT));
      m.load(BASE, words);
      m.cpu.pc = BASE;
      m.cpu.run({ instructions: 100 });
      expect(m.cpu.reg(1)).toBe(8n);
      expect(m.cpu.stats.flushes).toBeGreaterThanOrEqual(1);
      expect(m.cpu.stats.tbCacheSize).toBeLessThanOrEqual(4);
      m.cpu.tbFlush();
      expect(m.cpu.stats.tbCacheSize).toBe(0);
    });

    it('two CPUs sharing a TB cache and RAM see each other\'s code writes', () => {
      const cache = new TbCache({ backend: closureBackend });
      const a = toyMachine({ cache });
      const b = createObject(ToyCpu);
      b.setAddressSpace(a.as);
      b.configureTcg({ cache });
      b.realize();
      b.coldReset();
      a.load(BASE, [enc(Op.LI, 1, 0, 1), enc(Op.HALT)]);
      b.pc = BASE;
      b.run({ instructions: 10 });
      expect(b.reg(1)).toBe(1n);
      // CPU a stores "LI r1, 2" over b's code with a translated store
      a.load(BASE + 0x100n, [...loadImm(6, BASE), ...loadImm(3, BigInt(enc(Op.LI, 1, 0, 2))), enc(Op.SW, 3, 6, 0), enc(Op.HALT)]);
      a.cpu.pc = BASE + 0x100n;
      expect(a.cpu.run({ instructions: 100 }).reason).toBe('halt');
      b.halted = false;
      b.pc = BASE;
      b.run({ instructions: 10 });
      expect(b.reg(1)).toBe(2n);
      expect(cache.stats.invalidations).toBeGreaterThan(0);
    });

    it('a TB shared by two CPUs runs on each CPU\'s own registers', () => {
      const cache = new TbCache({ backend: closureBackend });
      const a = toyMachine({ cache });
      // r2 = r1 * 2 + 5, then halt: each CPU must compute it from its own r1.
      a.load(BASE, [enc(Op.LI, 2, 0, 0), enc(Op.ADD, 2, 1, 0), enc(Op.ADD, 2, 1, 5), enc(Op.HALT)]);
      const runFrom = (cpu: ToyCpu, r1: bigint): bigint => {
        cpu.halted = false;
        cpu.setReg(1, r1);
        cpu.pc = BASE;
        expect(cpu.run({ instructions: 10 }).reason).toBe('halt');
        return cpu.reg(2);
      };
      expect(runFrom(a.cpu, 3n)).toBe(11n);
      const b = createObject(ToyCpu);
      b.setAddressSpace(a.as);
      b.configureTcg({ cache });
      b.realize();
      b.coldReset();
      const translated = cache.stats.tbsTranslated;
      expect(runFrom(b, 100n)).toBe(205n);
      expect(runFrom(a.cpu, 7n)).toBe(19n);
      expect(runFrom(b, 1n)).toBe(7n);
      expect(a.cpu.reg(2)).toBe(19n);
      // The same TBs served both CPUs (bound once per CPU, translated once).
      expect(cache.stats.tbsTranslated).toBe(translated);
    });
  });
  });
}
