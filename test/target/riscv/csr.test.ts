import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { RiscvHartState, PRV_M, PRV_S, PRV_U, type Priv } from '../../../src/target/riscv/hart-state.js';
import {
  CSR_NAMES, RiscvIllegalCsr, csrAccessAllowed, csrName, csrNumber, csrRead, csrReadModifyWrite, csrWrite,
} from '../../../src/target/riscv/csr.js';
import { hasWork, setIrqLine, stimerExpired } from '../../../src/target/riscv/priv.js';

const M64 = (1n << 64n) - 1n;

function hart(xlen: 32 | 64 = 64): RiscvHartState & { time: bigint; instret: bigint; fcsr: number; flushes: number; deadlines: bigint[] } {
  const h = new RiscvHartState(xlen) as RiscvHartState & {
    time: bigint; instret: bigint; fcsr: number; flushes: number; deadlines: bigint[];
  };
  h.time = 0n; h.instret = 0n; h.fcsr = 0; h.flushes = 0; h.deadlines = [];
  h.getTime = () => h.time;
  h.getInstret = () => h.instret;
  h.readFcsr = () => h.fcsr;
  h.writeFcsr = (v) => { h.fcsr = v; };
  h.onTlbFlush = () => { h.flushes++; };
  h.scheduleStimer = (d) => { h.deadlines.push(d); };
  return h;
}

const u64 = fc.bigInt({ min: 0n, max: M64 });
const u32 = fc.bigInt({ min: 0n, max: 0xffff_ffffn });

// Spec masks written out as literals (privileged spec 1.12, figures 3.6/3.7 and 4.2), independent of src.
const MSTATUS_W = 0x7e79aan; // SIE SPIE MIE MPIE SPP MPP FS MPRV SUM MXR TVM TW TSR
const SSTATUS_R64 = 0x8000_0003_000d_e762n;
const SSTATUS_W = 0xc6122n; // SIE SPIE SPP FS SUM MXR
const MPP_MASK = 0x1800n;
const FS_MASK = 0x6000n;

describe('mstatus / sstatus', () => {
  it('RV64 mstatus: WARL masks, MPP legalization, fixed UXL/SXL and SD', () => {
    fc.assert(fc.property(fc.array(u64, { minLength: 1, maxLength: 6 }), (writes) => {
      const h = hart(64);
      let model = 0n; // low bits only, as the model of the stored state
      for (const v of writes) {
        let next = (model & ~MSTATUS_W) | (v & MSTATUS_W);
        if (((next & MPP_MASK) >> 11n) === 2n) next = (next & ~MPP_MASK) | (model & MPP_MASK);
        model = next;
        csrWrite(h, 0x300, v);
        const sd = (model & FS_MASK) === FS_MASK ? 1n << 63n : 0n;
        expect(csrRead(h, 0x300)).toBe(model | 0xa_0000_0000n | sd);
        // sstatus is a view of mstatus
        expect(csrRead(h, 0x100)).toBe((model | 0xa_0000_0000n | sd) & SSTATUS_R64);
      }
    }));
  });

  it('RV32 mstatus: SD at bit 31, mstatush reads zero', () => {
    fc.assert(fc.property(u32, (v) => {
      const h = hart(32);
      csrWrite(h, 0x300, v);
      let model = v & MSTATUS_W;
      if (((model & MPP_MASK) >> 11n) === 2n) model &= ~MPP_MASK;
      const sd = (model & FS_MASK) === FS_MASK ? 1n << 31n : 0n;
      expect(csrRead(h, 0x300)).toBe(model | sd);
      expect(csrRead(h, 0x310)).toBe(0n);
    }));
  });

  it('sstatus writes change only the S-visible writable bits of mstatus', () => {
    fc.assert(fc.property(u64, u64, (m, s) => {
      const h = hart(64);
      csrWrite(h, 0x300, m);
      const before = csrRead(h, 0x300);
      csrWrite(h, 0x100, s);
      const after = csrRead(h, 0x300);
      const noSd = (1n << 63n) - 1n;
      expect(after & ~SSTATUS_W & noSd).toBe(before & ~SSTATUS_W & noSd);
      expect(after & SSTATUS_W).toBe(s & SSTATUS_W);
    }));
  });

  it('MXR change flushes the TLB; SUM/MPRV change TB flags without a flush', () => {
    const h = hart(64);
    let flagChanges = 0;
    h.onTbFlagsChange = () => { flagChanges++; };
    csrWrite(h, 0x300, 1n << 19n);
    expect(h.flushes).toBe(1);
    csrWrite(h, 0x300, (1n << 19n) | (1n << 18n) | (1n << 17n));
    expect(h.flushes).toBe(1);
    expect(flagChanges).toBe(1);
  });
});

describe('interrupt and delegation registers', () => {
  it('mie/mideleg/medeleg/mip keep only their writable bits', () => {
    fc.assert(fc.property(u64, u64, u64, u64, (ie, ideleg, edeleg, ip) => {
      const h = hart(64);
      csrWrite(h, 0x304, ie);
      csrWrite(h, 0x303, ideleg);
      csrWrite(h, 0x302, edeleg);
      csrWrite(h, 0x344, ip);
      expect(csrRead(h, 0x304)).toBe(ie & 0xaaan);
      expect(csrRead(h, 0x303)).toBe(ideleg & 0x222n);
      expect(csrRead(h, 0x302)).toBe(edeleg & 0xb3ffn);
      expect(csrRead(h, 0x344)).toBe(ip & 0x222n);
      // sie/sip are the delegated view
      expect(csrRead(h, 0x104)).toBe(ie & 0xaaan & ideleg & 0x222n);
      expect(csrRead(h, 0x144)).toBe(ip & 0x222n & ideleg & 0x222n);
    }));
  });

  it('sip: only SSIP is writable, and only when delegated', () => {
    const h = hart(64);
    h.priv = PRV_S;
    csrWrite(h, 0x144, 0x222n);
    expect(h.mip).toBe(0);
    h.mideleg = 0x222;
    csrWrite(h, 0x144, 0x222n);
    expect(h.mip).toBe(0x2);
  });

  it('SEIP reads as external line OR software bit; csrrs of another bit leaves the software bit alone', () => {
    const h = hart(64);
    setIrqLine(h, 9, true);
    expect(csrRead(h, 0x344) & 0x200n).toBe(0x200n);
    csrReadModifyWrite(h, 0x344, 0x2n, 0x2n); // csrrs mip, SSIP
    setIrqLine(h, 9, false);
    expect(csrRead(h, 0x344)).toBe(0x2n);
    csrWrite(h, 0x344, 0x200n); // software SEIP
    expect(csrRead(h, 0x344) & 0x200n).toBe(0x200n);
    setIrqLine(h, 9, true);
    setIrqLine(h, 9, false);
    expect(csrRead(h, 0x344) & 0x200n).toBe(0x200n); // still held by software
    csrWrite(h, 0x344, 0n);
    expect(csrRead(h, 0x344)).toBe(0n);
  });

  it('mtvec/stvec ignore writes with mode >= 2', () => {
    fc.assert(fc.property(u64, u64, (a, b) => {
      const h = hart(64);
      csrWrite(h, 0x305, a);
      const afterA = (a & 3n) < 2n ? a : 0n;
      expect(csrRead(h, 0x305)).toBe(afterA);
      csrWrite(h, 0x305, b);
      expect(csrRead(h, 0x305)).toBe((b & 3n) < 2n ? b : afterA);
    }));
  });

  it('mepc/sepc bit 0 reads as zero', () => {
    const h = hart(64);
    csrWrite(h, 0x341, 0x8000_0003n);
    csrWrite(h, 0x141, 0xffn);
    expect(csrRead(h, 0x341)).toBe(0x8000_0002n);
    expect(csrRead(h, 0x141)).toBe(0xfen);
  });
});

describe('satp', () => {
  it('RV64: unsupported modes leave satp unchanged', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 15 }), fc.bigInt({ min: 0n, max: (1n << 60n) - 1n }), (mode, rest) => {
      const h = hart(64);
      csrWrite(h, 0x180, (8n << 60n) | 0x1234n);
      const v = (BigInt(mode) << 60n) | rest;
      csrWrite(h, 0x180, v);
      const legal = [0, 8, 9, 10].includes(mode);
      expect(csrRead(h, 0x180)).toBe(legal ? v : (8n << 60n) | 0x1234n);
    }));
  });

  it('RV32: Bare and Sv32 only', () => {
    const h = hart(32);
    csrWrite(h, 0x180, 0x8000_0123n);
    expect(csrRead(h, 0x180)).toBe(0x8000_0123n);
    expect(h.flushes).toBe(1);
  });

  it('S-mode access traps when mstatus.TVM', () => {
    const h = hart(64);
    h.priv = PRV_S;
    expect(csrAccessAllowed(h, 0x180, false)).toBe(true);
    h.mstatusLo |= 1 << 20;
    expect(() => csrRead(h, 0x180)).toThrow(RiscvIllegalCsr);
    expect(() => csrWrite(h, 0x180, 0n)).toThrow(RiscvIllegalCsr);
  });
});

describe('access rules', () => {
  const implemented = [...CSR_NAMES.keys()];
  it('privilege in bits 9:8 and read-only bits 11:10', () => {
    fc.assert(fc.property(fc.constantFrom(...implemented), fc.constantFrom<Priv>(PRV_U, PRV_S, PRV_M), fc.boolean(), (no, priv, write) => {
      const h = hart(64);
      h.priv = priv;
      // open every predicate so that only the number's encoding decides
      h.mcounteren = 0xffff_ffff; h.scounteren = 0xffff_ffff;
      h.mstatusLo |= 1 << 13; // FS initial
      h.menvcfg = 1n << 63n;
      const rv32only = ['cycleh', 'timeh', 'instreth', 'mstatush', 'menvcfgh', 'stimecmph', 'mcycleh', 'minstreth', 'pmpcfg1', 'pmpcfg3']
        .includes(CSR_NAMES.get(no) ?? '') || /^(mhpmcounter|hpmcounter)\d+h$/.test(CSR_NAMES.get(no) ?? '');
      const expected = !rv32only && priv >= ((no >> 8) & 3) && !(write && (no >> 10) === 3);
      expect(csrAccessAllowed(h, no, write)).toBe(expected);
    }));
  });

  it('illegal accesses throw RiscvIllegalCsr naming the CSR; a zero-mask csrrs on a read-only CSR is legal', () => {
    const h = hart(64);
    h.mhartid = 5n;
    expect(() => csrWrite(h, 0xf14, 1n)).toThrow(/mhartid/);
    expect(csrReadModifyWrite(h, 0xf14, 0n, 0n)).toBe(5n);
    expect(() => csrRead(h, 0x7c0)).toThrow(RiscvIllegalCsr);
    h.priv = PRV_S;
    expect(() => csrRead(h, 0x300)).toThrow(/mstatus.*S-mode/);
    h.priv = PRV_U;
    expect(() => csrRead(h, 0x100)).toThrow(RiscvIllegalCsr);
    let err: unknown;
    try { csrWrite(h, 0x100, 0n); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(RiscvIllegalCsr);
    expect((err as RiscvIllegalCsr).csrno).toBe(0x100);
    expect((err as RiscvIllegalCsr).write).toBe(true);
  });

  it('counters: S needs mcounteren, U needs mcounteren and scounteren', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 7 }), fc.constantFrom<Priv>(PRV_U, PRV_S, PRV_M), fc.integer({ min: 0, max: 2 }),
      (men, sen, priv, idx) => {
        const h = hart(64);
        h.mcounteren = men; h.scounteren = sen; h.priv = priv;
        const bit = (x: number): boolean => ((x >> idx) & 1) === 1;
        const ok = priv === PRV_M || (priv === PRV_S && bit(men)) || (priv === PRV_U && bit(men) && bit(sen));
        expect(csrAccessAllowed(h, 0xc00 + idx, false)).toBe(ok);
      }));
  });

  it('cycle/instret follow the instruction count, time follows mtime, mcycle writes take effect', () => {
    const h = hart(64);
    h.instret = 100n; h.time = 12345n;
    expect(csrRead(h, 0xc00)).toBe(100n);
    expect(csrRead(h, 0xc02)).toBe(100n);
    expect(csrRead(h, 0xc01)).toBe(12345n);
    csrWrite(h, 0xb00, 1000n);
    h.instret = 150n;
    expect(csrRead(h, 0xb00)).toBe(1050n);
    expect(csrRead(h, 0xb02)).toBe(150n);
    const h32 = hart(32);
    h32.instret = 0x1_2345_6789n;
    expect(csrRead(h32, 0xc00)).toBe(0x2345_6789n);
    expect(csrRead(h32, 0xc80)).toBe(1n);
    expect(csrAccessAllowed(h, 0xc80, false)).toBe(false);
  });
});

describe('floating-point CSRs', () => {
  it('illegal with FS off; writes mark FS dirty (SD set) and go to the fcsr hook', () => {
    const h = hart(64);
    expect(() => csrRead(h, 0x003)).toThrow(RiscvIllegalCsr);
    csrWrite(h, 0x300, 1n << 13n); // FS = initial
    csrWrite(h, 0x002, 3n); // frm = RUP
    expect(h.fcsr).toBe(3 << 5);
    expect((csrRead(h, 0x300) >> 13n) & 3n).toBe(3n);
    expect(csrRead(h, 0x300) >> 63n).toBe(1n);
    csrWrite(h, 0x001, 0xffn);
    expect(h.fcsr).toBe((3 << 5) | 0x1f);
    expect(csrRead(h, 0x003)).toBe(BigInt((3 << 5) | 0x1f));
    csrWrite(h, 0x003, 0x1ffn);
    expect(csrRead(h, 0x002)).toBe(7n);
  });
});

describe('Sstc', () => {
  it('stimecmp is reachable from S only with mcounteren.TM and menvcfg.STCE', () => {
    const h = hart(64);
    h.priv = PRV_S;
    expect(csrAccessAllowed(h, 0x14d, false)).toBe(false);
    h.mcounteren = 2;
    expect(csrAccessAllowed(h, 0x14d, false)).toBe(false);
    h.priv = PRV_M;
    csrWrite(h, 0x30a, M64);
    expect(csrRead(h, 0x30a)).toBe((1n << 63n) | 1n);
    h.priv = PRV_S;
    expect(csrAccessAllowed(h, 0x14d, true)).toBe(true);
  });

  it('STIP follows stimecmp against mtime and is then not writable through mip', () => {
    const h = hart(64);
    csrWrite(h, 0x30a, 1n << 63n);
    h.time = 1000n;
    csrWrite(h, 0x14d, 2000n);
    expect(h.mip & 0x20).toBe(0);
    expect(h.deadlines).toEqual([2000n]);
    csrWrite(h, 0x344, 0x20n);
    expect(h.mip & 0x20).toBe(0);
    csrWrite(h, 0x14d, 1000n);
    expect(h.mip & 0x20).toBe(0x20);
  });

  it('the machine timer callback (or a WFI poll) raises STIP once mtime reaches stimecmp', () => {
    const h = hart(64);
    csrWrite(h, 0x304, 0x20n);
    h.time = 10n;
    csrWrite(h, 0x14d, 50n);
    h.time = 49n;
    stimerExpired(h);
    expect(h.mip & 0x20).toBe(0);
    expect(hasWork(h)).toBe(false);
    h.time = 50n;
    expect(hasWork(h)).toBe(true);
    csrWrite(h, 0x14d, 80n);
    expect(h.mip & 0x20).toBe(0);
    h.time = 90n;
    stimerExpired(h);
    expect(h.mip & 0x20).toBe(0x20);
  });
});

describe('names', () => {
  it('number ↔ name round-trips', () => {
    for (const [no, name] of CSR_NAMES) expect(csrNumber(name)).toBe(no);
    expect(csrName(0x300)).toBe('mstatus');
    expect(csrNumber('satp')).toBe(0x180);
    expect(csrNumber('pmpaddr15')).toBe(0x3bf);
    expect(csrNumber('mhpmcounter31')).toBe(0xb1f);
  });
});
