/**
 * The RISC-V CPU's vmstate: every piece of hart state is declared (a guard against a new CSR field
 * that snapshots would silently drop), and random register/CSR contents round-trip into a new CPU.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RiscvCpu } from '../../src/target/riscv/cpu.js';
import { PMP_ENTRIES, RISCV_HART_VMSTATE, RiscvHartState } from '../../src/target/riscv/hart-state.js';
import { loadVmState, saveVmState } from '../../src/migration/vmstate.js';

/** Configuration, fixed at construction: it comes with the machine a state is loaded into. */
const CONSTANT = ['xlen', 'xlenMask', 'misa', 'mhartid', 'mvendorid', 'marchid', 'mimpid'];

describe('RISC-V CPU vmstate', () => {
  it('declares every data field of the hart state', () => {
    const h = new RiscvHartState(64);
    const data = Object.keys(h).filter((k) => typeof (h as unknown as Record<string, unknown>)[k] !== 'function' && !CONSTANT.includes(k));
    expect(RISCV_HART_VMSTATE.fields.map((f) => f.name).sort()).toEqual(data.sort());
  });

  it('round-trips registers and CSRs into a new CPU', () => {
    const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    const u32 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
    fc.assert(fc.property(
      fc.array(u64, { minLength: 64, maxLength: 64 }), u64, fc.record({
        priv: fc.constantFrom(0, 1, 3) as fc.Arbitrary<0 | 1 | 3>, mstatusLo: u32, mip: u32, mepc: u64, satp: u64,
        mcycleOffset: fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), stimecmp: u64, stimerArmed: fc.boolean(),
        pmpaddr: fc.array(u64, { minLength: PMP_ENTRIES, maxLength: PMP_ENTRIES }),
        pending: fc.option(fc.record({ cause: fc.integer({ min: 0, max: 15 }), tval: u64, interrupt: fc.boolean() })),
      }),
      (regs, pc, c) => {
        const a = new RiscvCpu();
        regs.forEach((v, i) => (i < 32 ? a.setX(i, v) : a.setF(i - 32, v)));
        a.pc = pc;
        a.frm = 3;
        a.fflags = 0x11;
        const h = a.hart;
        h.priv = c.priv;
        h.mstatusLo = c.mstatusLo;
        h.mip = c.mip;
        h.mepc = c.mepc;
        h.satp = c.satp;
        h.mcycleOffset = c.mcycleOffset;
        h.stimecmp = c.stimecmp;
        h.stimerArmed = c.stimerArmed;
        h.pmpaddr.splice(0, PMP_ENTRIES, ...c.pmpaddr);
        h.pmpcfg[3] = 0x1f;
        h.pendingException = c.pending;
        const saved = JSON.parse(JSON.stringify(saveVmState(a, RiscvCpu.vmstate))) as unknown;
        const b = new RiscvCpu();
        loadVmState(b, RiscvCpu.vmstate, saved);
        expect(new Uint8Array(b.env)).toEqual(new Uint8Array(a.env));
        for (const k of RISCV_HART_VMSTATE.fields.map((f) => f.name)) {
          expect((b.hart as unknown as Record<string, unknown>)[k]).toEqual((h as unknown as Record<string, unknown>)[k]);
        }
        expect(b.getX(5)).toBe(a.getX(5));
        expect(b.pc).toBe(a.pc);
        expect(b.readReg('fcsr')).toBe(a.readReg('fcsr'));
      }), { numRuns: 40 });
  });

  it('refuses an impossible privilege level', () => {
    const a = new RiscvCpu();
    const s = saveVmState(a, RiscvCpu.vmstate);
    const hart = s.fields['hart'] as { fields: Record<string, unknown> };
    const bad = { ...s, fields: { ...s.fields, hart: { ...hart, fields: { ...hart.fields, priv: 2 } } } };
    expect(() => loadVmState(new RiscvCpu(), RiscvCpu.vmstate, bad)).toThrow(/priv: expected 0, 1 or 3, got 2/);
  });
});
