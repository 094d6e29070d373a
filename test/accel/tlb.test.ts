import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CpuLoopExit, MmuAccess, PROT_EXEC, PROT_READ, PROT_WRITE, type TcgCpuOps } from '../../src/accel/tcg/tcg-cpu-ops.js';
import { RamTable, SoftTlb, TLB_ENTRY_WORDS, TLB_MMIO, TLB_NOTDIRTY, type TcgAddressSpace } from '../../src/accel/tcg/tlb.js';
import { GlobalSet } from '../../src/tcg/context.js';
import { MO_64, MO_SIZE } from '../../src/tcg/ir.js';
import { CAUSE_LOAD_BUS, CAUSE_LOAD_PF, CAUSE_STORE_PF, enc, Op } from './toy/isa.js';
import { toyMachine } from './toy/machine.js';
import type { ToyPte } from './toy/toy-cpu.js';

const BASE = 0x80000000n;
const M64 = (1n << 64n) - 1n;

function split(a: bigint): [number, number] {
  return [Number(a & 0xffffffffn) | 0, Number((a >> 32n) & 0xffffffffn) | 0];
}

describe('soft TLB coherence', () => {
  const NV = 6; // virtual pages 0..5 at VBASE
  const NP = 4; // physical RAM pages
  const VBASE = 0x40000000n;

  const opArb = fc.oneof(
    // change a mapping of one MMU index, then flush what the architecture requires
    { weight: 1, arbitrary: fc.record({
      kind: fc.constant('map' as const), mmu: fc.integer({ min: 0, max: 1 }), v: fc.integer({ min: 0, max: NV - 1 }),
      p: fc.option(fc.integer({ min: 0, max: NP - 1 }), { nil: null }),
      prot: fc.constantFrom(PROT_READ, PROT_READ | PROT_WRITE, 7, PROT_WRITE),
      flush: fc.constantFrom('page' as const, 'page-mmu' as const, 'mmu' as const, 'all' as const),
    }) },
    { weight: 3, arbitrary: fc.record({
      kind: fc.constant('access' as const), mmu: fc.integer({ min: 0, max: 1 }), store: fc.boolean(),
      v: fc.integer({ min: 0, max: NV - 1 }), off: fc.integer({ min: 0, max: 4095 }),
      sizeLog: fc.integer({ min: 0, max: 3 }), value: fc.bigInt({ min: 0n, max: M64 }),
    }) },
  );

  it('accesses always agree with the current page tables when changes are followed by flushes', () => {
    const initArb = fc.array(fc.integer({ min: 0, max: NP - 1 }), { minLength: 2 * NV, maxLength: 2 * NV });
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 80 }), fc.integer({ min: 0, max: 3 }), initArb, (ops, tlbBits, init) => {
      const m = toyMachine({ tlbBits });
      const cpu = m.cpu;
      // every virtual page starts mapped RWX (to a random physical page) in both MMU indexes
      const tables = [0, 1].map((mmu) => new Map<bigint, ToyPte>(Array.from({ length: NV }, (_, v) =>
        [VBASE + BigInt(v) * 0x1000n, { ppage: BASE + BigInt(init[mmu * NV + v]!) * 0x1000n, prot: 7 }])));
      cpu.pageTables = tables;
      const t = cpu.tcg;
      const ram = new Uint8Array(m.ramBytes.length); // the model's RAM
      for (const op of ops) {
        if (op.kind === 'map') {
          const page = VBASE + BigInt(op.v) * 0x1000n;
          const tbl = tables[op.mmu]!;
          if (op.p === null) tbl.delete(page);
          else tbl.set(page, { ppage: BASE + BigInt(op.p) * 0x1000n, prot: op.prot });
          if (op.flush === 'page') t.flushPage(page);
          else if (op.flush === 'page-mmu') t.flushPage(page, 1 << op.mmu);
          else if (op.flush === 'mmu') t.flushByMmuIdx(1 << op.mmu);
          else t.flushAll();
          continue;
        }
        const size = 1 << op.sizeLog;
        const vaddr = VBASE + BigInt(op.v) * 0x1000n + BigInt(op.off);
        // model: translate every byte (both pages first), fault on the first failing page
        const access = op.store ? MmuAccess.STORE : MmuAccess.LOAD;
        const bytes: number[] = [];
        let fault: bigint | null = null;
        for (const a of [vaddr, ((vaddr + BigInt(size - 1)) & ~0xfffn)]) {
          if (fault !== null || (a & ~0xfffn) !== (a === vaddr ? vaddr & ~0xfffn : a)) continue;
          const pte = tables[op.mmu]!.get(a & ~0xfffn);
          if (!pte || (pte.prot & (1 << access)) === 0) fault = a;
        }
        if (fault === null) {
          for (let k = 0; k < size; k++) {
            const a = vaddr + BigInt(k);
            const pte = tables[op.mmu]!.get(a & ~0xfffn)!;
            bytes.push(Number(pte.ppage - BASE + (a & 0xfffn)));
          }
        }
        const [lo, hi] = split(vaddr);
        try {
          if (op.store) {
            const [vlo, vhi] = split(op.value);
            t.store(lo, hi, vlo, vhi, op.sizeLog, op.mmu);
          } else {
            const r = t.load(lo, hi, op.sizeLog, op.mmu);
            const got = op.sizeLog === 3 ? (BigInt(t.loadHi >>> 0) << 32n) | BigInt(r >>> 0) : BigInt(r >>> 0);
            let want = 0n;
            bytes.forEach((i, k) => { want |= BigInt(ram[i]!) << BigInt(8 * k); });
            expect(fault).toBeNull();
            expect(got).toBe(want);
          }
          expect(fault).toBeNull();
          if (op.store) bytes.forEach((i, k) => { ram[i] = Number((op.value >> BigInt(8 * k)) & 0xffn); });
        } catch (e) {
          if (!(e instanceof CpuLoopExit)) throw e;
          expect(fault).not.toBeNull();
          expect(cpu.getRegister('cause')).toBe(BigInt(op.store ? CAUSE_STORE_PF : CAUSE_LOAD_PF));
          expect(cpu.getRegister('tval')).toBe(fault);
        }
        expect(Buffer.compare(Buffer.from(m.ramBytes), Buffer.from(ram))).toBe(0);
      }
    }), { numRuns: 150 });
  });

  it('executes the new code after a virtual page is remapped and flushed (jump cache)', () => {
    const m = toyMachine();
    const V = 0x10000n;
    m.load(BASE, [enc(Op.LI, 1, 0, 1), enc(Op.HALT)]);
    m.load(BASE + 0x1000n, [enc(Op.LI, 1, 0, 2), enc(Op.HALT)]);
    m.cpu.pageTable = new Map([[V, { ppage: BASE, prot: 7 }]]);
    m.cpu.pc = V;
    m.cpu.run({ instructions: 10 });
    expect(m.cpu.reg(1)).toBe(1n);
    m.cpu.pageTable.set(V, { ppage: BASE + 0x1000n, prot: 7 });
    m.cpu.tlbFlushPage(V);
    m.cpu.halted = false;
    m.cpu.pc = V;
    m.cpu.run({ instructions: 10 });
    expect(m.cpu.reg(1)).toBe(2n);
    // Both mappings' code stay cached (TBs are keyed by RAM page), and remapping back finds the first.
    m.cpu.pageTable.set(V, { ppage: BASE, prot: 7 });
    m.cpu.tlbFlush();
    m.cpu.halted = false;
    m.cpu.pc = V;
    const before = m.cpu.stats.tbsTranslated;
    m.cpu.run({ instructions: 10 });
    expect(m.cpu.reg(1)).toBe(1n);
    expect(m.cpu.stats.tbsTranslated).toBe(before);
  });
});

describe('soft TLB details', () => {
  function bareTlb(fill: TcgCpuOps['tlbFill'], tlbBits = 4): { tlb: SoftTlb; ram: Uint8Array } {
    const bytes = new Uint8Array(0x400000);
    const block = { bytes, size: bytes.length };
    const as: TcgAddressSpace = {
      translate: (a) => (a < BigInt(bytes.length)
        ? { mr: { ram: block, kind: 'ram' }, offsetWithinRegion: 0n, offsetWithinAddressSpace: 0n, size: BigInt(bytes.length), readonly: false }
        : null),
      read: () => 0n,
      write: () => undefined,
    };
    const ops = {
      globals: new GlobalSet(), addrType: 'i64', nbMmuModes: 1, tlbFill: fill,
      raiseBusError: () => { throw new CpuLoopExit(); },
    } as unknown as TcgCpuOps;
    return { tlb: new SoftTlb(ops, as, new RamTable(), { tlbBits }), ram: bytes };
  }

  it('caches 4 KiB pieces of large pages and flushes the whole large page on a page flush', () => {
    let target = 0x200000n;
    let fills = 0;
    const { tlb, ram } = bareTlb((vaddr) => {
      fills++;
      return { physPage: target, prot: 7, pageBits: 21 }; // a 2 MiB page at vaddr 0x40000000
    });
    ram[0x200000 + 0x3008] = 0x5a;
    ram[0x000000 + 0x3008] = 0xa5;
    const v = 0x40003008;
    expect(tlb.load(v, 0, 0, 0)).toBe(0x5a);
    expect(tlb.load(v + 0x1000, 0, 0, 0)).toBe(0); // another piece of the same large page
    expect(fills).toBe(2);
    target = 0n;
    // Flushing any 4 KiB page inside the large page must drop every piece of it.
    tlb.flushPage(0x40100000n);
    expect(tlb.load(v, 0, 0, 0)).toBe(0xa5);
  });

  it('documents its layout: RAM entries hit the fast path, code pages are write-protected', () => {
    const { tlb } = bareTlb((vaddr) => ({ physPage: vaddr & ~0xfffn, prot: 7, pageBits: 12 }));
    tlb.load(0x5000, 0, MO_64 & MO_SIZE, 0);
    const e = ((0x5000 >>> 12) & 15) * TLB_ENTRY_WORDS;
    expect(tlb.entries.slice(e, e + 8)).toEqual(Int32Array.from([0x5000, 0, 0x5000, 0, 0x5000, 0, 0, 0x5000]));
    tlb.protectCodePage(5);
    expect(tlb.entries[e + 2]).toBe(0x5000 | TLB_NOTDIRTY);
    expect(TLB_MMIO & TLB_NOTDIRTY).toBe(0);
  });

  it('turns bus errors of the memory system into guest faults, and reaches MMIO through the address space', () => {
    const seen: string[] = [];
    const m = toyMachine({
      mmio: {
        base: 0x10000000n,
        ops: {
          read: (addr, size) => { seen.push(`r${addr}/${size}`); return 0x1234; },
          write: (addr, v, size) => { seen.push(`w${addr}/${size}=${v}`); },
          valid: { min: 4, max: 4 },
        },
      },
    });
    m.cpu.tlbFlush();
    const t = m.cpu.tcg;
    expect(t.load(0x10000008, 0, 2, 0)).toBe(0x1234);
    t.store(0x1000000c, 0, 77, 0, 2, 0);
    expect(seen).toEqual(['r8/4', 'w12/4=77']);
    expect(() => t.load(0x10000008, 0, 0, 0)).toThrow(CpuLoopExit); // size 1 rejected by the device
    expect(m.cpu.getRegister('cause')).toBe(BigInt(CAUSE_LOAD_BUS));
    expect(() => t.load(0x20000000, 0, 0, 0)).toThrow(CpuLoopExit); // unassigned
    expect(m.cpu.getRegister('tval')).toBe(0x20000000n);
  });
});
