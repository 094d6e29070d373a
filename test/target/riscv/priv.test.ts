import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CpuLoopExit } from '../../../src/accel/tcg/tcg-cpu-ops.js';
import { RiscvHartState, PRV_M, PRV_S, PRV_U, type Priv } from '../../../src/target/riscv/hart-state.js';
import {
  MMU_IDX_M, MMU_IDX_S, MMU_IDX_S_SUM, MMU_IDX_U, hasWork, helperMret, helperSfenceVma, helperSret, helperWfi,
  mmuIndex, pendingInterrupt, raiseException, riscvDoInterrupt, riscvExecInterrupt, setIrqLine, tbFlags,
  tbFlagsFs, tbFlagsMemIdx, tbFlagsPriv,
} from '../../../src/target/riscv/priv.js';
import { csrWrite } from '../../../src/target/riscv/csr.js';

type TestHart = RiscvHartState & { pc: bigint; halted: boolean; flushes: number; resClears: number };

function hart(xlen: 32 | 64 = 64): TestHart {
  const h = new RiscvHartState(xlen) as TestHart;
  h.pc = 0x8000_0000n; h.halted = false; h.flushes = 0; h.resClears = 0;
  h.getPc = () => h.pc;
  h.setPc = (pc) => { h.pc = pc; };
  h.setHalted = (v) => { h.halted = v; };
  h.onTlbFlush = () => { h.flushes++; };
  h.clearReservation = () => { h.resClears++; };
  return h;
}

/** Enables one NAPOT PMP region over all memory (needed to return to S/U, as OpenSBI does). */
function pmpAll(h: RiscvHartState): void {
  csrWrite(h, 0x3b0, (1n << 64n) - 1n);
  csrWrite(h, 0x3a0, 0x1fn);
}

function trap(h: RiscvHartState, cause: number, tval: bigint): void {
  expect(() => raiseException(h, cause, tval)).toThrow(CpuLoopExit);
  riscvDoInterrupt(h);
}

const bit = (v: number, n: number): number => (v >>> n) & 1;
const privArb = fc.constantFrom<Priv>(PRV_U, PRV_S, PRV_M);

describe('exception delivery', () => {
  it('delegation matrix: cause × priv × medeleg (spec 3.1.8) and the trap CSRs', () => {
    const causes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 15];
    fc.assert(fc.property(fc.constantFrom(...causes), privArb, fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0x7fffff }),
      fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }),
      (cause, priv, medeleg, status, tval) => {
        const h = hart(64);
        csrWrite(h, 0x302, BigInt(medeleg));
        csrWrite(h, 0x300, BigInt(status));
        csrWrite(h, 0x305, 0x8000_1000n);
        csrWrite(h, 0x105, 0x8000_2000n);
        h.priv = priv;
        const st0 = h.mstatusLo;
        trap(h, cause, tval);
        const realCause = cause === 8 ? 8 + priv : cause;
        const delegable = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15].includes(realCause);
        const toS = priv !== PRV_M && delegable && bit(medeleg, realCause) === 1;
        if (toS) {
          expect(h.priv).toBe(PRV_S);
          expect(h.pc).toBe(0x8000_2000n);
          expect(h.sepc).toBe(0x8000_0000n);
          expect(h.scause).toBe(BigInt(realCause));
          expect(h.stval).toBe(tval);
          expect(bit(h.mstatusLo, 5)).toBe(bit(st0, 1)); // SPIE = old SIE
          expect(bit(h.mstatusLo, 8)).toBe(priv === PRV_S ? 1 : 0); // SPP
          expect(bit(h.mstatusLo, 1)).toBe(0); // SIE
          expect(h.mstatusLo & 0x1888).toBe(st0 & 0x1888); // M-side untouched
        } else {
          expect(h.priv).toBe(PRV_M);
          expect(h.pc).toBe(0x8000_1000n);
          expect(h.mepc).toBe(0x8000_0000n);
          expect(h.mcause).toBe(BigInt(realCause));
          expect(h.mtval).toBe(tval);
          expect(bit(h.mstatusLo, 7)).toBe(bit(st0, 3)); // MPIE = old MIE
          expect((h.mstatusLo >>> 11) & 3).toBe(priv); // MPP
          expect(bit(h.mstatusLo, 3)).toBe(0); // MIE
        }
        expect(h.pendingException).toBeNull();
      }));
  });

  it('interrupts: cause has the XLEN-1 bit; vectored xtvec adds 4 × cause, exceptions go to the base', () => {
    const h = hart(64);
    csrWrite(h, 0x305, 0x8000_0101n); // vectored, base 0x80000100
    csrWrite(h, 0x304, 0x80n);
    h.mstatusLo |= 0x8;
    setIrqLine(h, 7, true);
    expect(riscvExecInterrupt(h)).toBe(true);
    expect(h.pc).toBe(0x8000_0100n + 7n * 4n);
    expect(h.mcause).toBe((1n << 63n) | 7n);
    trap(h, 2, 0x13n);
    expect(h.pc).toBe(0x8000_0100n);
    const h32 = hart(32);
    csrWrite(h32, 0x304, 0x800n);
    h32.mstatusLo |= 0x8;
    setIrqLine(h32, 11, true);
    expect(riscvExecInterrupt(h32)).toBe(true);
    expect(h32.mcause).toBe(0x8000_000bn);
  });

  it('raiseException records the trap and throws a non-restored CpuLoopExit', () => {
    const h = hart(64);
    let err: unknown;
    try { raiseException(h, 13, 0xdeadn); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(CpuLoopExit);
    expect((err as CpuLoopExit).restored).toBe(false);
    expect(h.pendingException).toEqual({ cause: 13, tval: 0xdeadn, interrupt: false });
  });

  it('trap entry drops the LR reservation', () => {
    const h = hart(64);
    trap(h, 3, 0n);
    expect(h.resClears).toBeGreaterThan(0);
  });
});

describe('mret / sret', () => {
  it('mret restores MIE from MPIE and the privilege from MPP, sets MPP = U, clears MPRV below M', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffff }), fc.constantFrom(0, 1, 3), (status, mpp) => {
      const h = hart(64);
      pmpAll(h);
      csrWrite(h, 0x300, BigInt((status & ~0x1800) | (mpp << 11)));
      csrWrite(h, 0x341, 0x8020_0000n);
      const st0 = h.mstatusLo;
      expect(helperMret(h)).toBe(0x8020_0000n);
      expect(h.priv).toBe(mpp);
      expect(bit(h.mstatusLo, 3)).toBe(bit(st0, 7));
      expect(bit(h.mstatusLo, 7)).toBe(1);
      expect((h.mstatusLo >>> 11) & 3).toBe(0);
      expect(bit(h.mstatusLo, 17)).toBe(mpp === PRV_M ? bit(st0, 17) : 0);
    }));
  });

  it('sret restores SIE from SPIE and the privilege from SPP, sets SPP = U', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffff }), fc.constantFrom<Priv>(PRV_S, PRV_M), (status, priv) => {
      const h = hart(64);
      csrWrite(h, 0x300, BigInt(status & ~(1 << 22)));
      csrWrite(h, 0x141, 0x8040_0000n);
      h.priv = priv;
      const st0 = h.mstatusLo;
      expect(helperSret(h)).toBe(0x8040_0000n);
      expect(h.priv).toBe(bit(st0, 8) ? PRV_S : PRV_U);
      expect(bit(h.mstatusLo, 1)).toBe(bit(st0, 5));
      expect(bit(h.mstatusLo, 5)).toBe(1);
      expect(bit(h.mstatusLo, 8)).toBe(0);
      expect(bit(h.mstatusLo, 17)).toBe(0);
    }));
  });

  it('mret below M and sret in U are illegal with tval = the instruction; TSR traps sret in S', () => {
    const h = hart(64);
    h.priv = PRV_S;
    expect(() => helperMret(h, 0x30200073)).toThrow(CpuLoopExit);
    expect(h.pendingException).toEqual({ cause: 2, tval: 0x30200073n, interrupt: false });
    h.priv = PRV_U;
    expect(() => helperSret(h, 0x10200073)).toThrow(CpuLoopExit);
    h.priv = PRV_S;
    h.mstatusLo |= 1 << 22;
    h.pendingException = null;
    expect(() => helperSret(h, 0x10200073)).toThrow(CpuLoopExit);
    expect(h.pendingException).toEqual({ cause: 2, tval: 0x10200073n, interrupt: false });
    h.priv = PRV_M;
    expect(() => helperSret(h)).not.toThrow();
  });

  it('mret to S/U with no active PMP entry is an instruction access fault (QEMU 7.2)', () => {
    const h = hart(64);
    csrWrite(h, 0x300, 1n << 11n); // MPP = S
    expect(() => helperMret(h)).toThrow(CpuLoopExit);
    expect(h.pendingException?.cause).toBe(1);
    pmpAll(h);
    expect(() => helperMret(h)).not.toThrow();
    expect(h.priv).toBe(PRV_S);
  });
});

describe('interrupts', () => {
  const PRIO = [11, 3, 7, 9, 1, 5];
  it('pending & enabled & globally enabled, highest priority first (spec 3.1.9)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 0xfff }), fc.integer({ min: 0, max: 0xfff }),
      privArb, fc.boolean(), fc.boolean(), (mip, mie, mideleg, priv, gMIE, gSIE) => {
        const h = hart(64);
        csrWrite(h, 0x344, BigInt(mip));
        for (const irq of [3, 7, 11]) setIrqLine(h, irq, bit(mip, irq) === 1);
        csrWrite(h, 0x304, BigInt(mie));
        csrWrite(h, 0x303, BigInt(mideleg));
        h.mstatusLo = (gMIE ? 0x8 : 0) | (gSIE ? 0x2 : 0);
        h.priv = priv;
        const pending = h.mip & h.mie;
        let expected = -1;
        for (const irq of PRIO) {
          if (!bit(pending, irq)) continue;
          const delegated = bit(h.mideleg, irq) === 1;
          const enabled = delegated ? priv === PRV_U || (priv === PRV_S && gSIE) : priv !== PRV_M || gMIE;
          if (enabled) { expected = irq; break; }
        }
        expect(pendingInterrupt(h)).toBe(expected);
        expect(hasWork(h)).toBe(pending !== 0);
        const taken = riscvExecInterrupt(h);
        expect(taken).toBe(expected >= 0);
        if (expected >= 0) {
          const inS = bit(mideleg & 0x222, expected) === 1;
          expect(h.priv).toBe(inS ? PRV_S : PRV_M);
          expect(inS ? h.scause : h.mcause).toBe((1n << 63n) | BigInt(expected));
        }
      }));
  });

  it('examples: M-level interrupts preempt S even with SIE=0; delegated ones never interrupt M', () => {
    const h = hart(64);
    csrWrite(h, 0x304, 0xaaan);
    csrWrite(h, 0x303, 0x222n);
    setIrqLine(h, 7, true);
    h.priv = PRV_S;
    expect(pendingInterrupt(h)).toBe(7);
    setIrqLine(h, 7, false);
    h.priv = PRV_M; h.mstatusLo = 0x8;
    csrWrite(h, 0x344, 0x20n); // STIP, delegated
    expect(pendingInterrupt(h)).toBe(-1);
    expect(hasWork(h)).toBe(true);
    h.priv = PRV_U;
    expect(pendingInterrupt(h)).toBe(5);
  });
});

describe('wfi and sfence.vma', () => {
  it('wfi halts in M and S, traps in U and in S with TW', () => {
    const h = hart(64);
    helperWfi(h);
    expect(h.halted).toBe(true);
    h.halted = false; h.priv = PRV_S;
    helperWfi(h);
    expect(h.halted).toBe(true);
    h.halted = false; h.mstatusLo |= 1 << 21;
    expect(() => helperWfi(h, 0x10500073)).toThrow(CpuLoopExit);
    expect(h.halted).toBe(false);
    h.mstatusLo = 0; h.priv = PRV_U;
    expect(() => helperWfi(h, 0x10500073)).toThrow(CpuLoopExit);
    expect(h.pendingException).toEqual({ cause: 2, tval: 0x10500073n, interrupt: false });
  });

  it('sfence.vma flushes in S/M, traps in U and in S with TVM', () => {
    const h = hart(64);
    h.priv = PRV_S;
    helperSfenceVma(h);
    expect(h.flushes).toBe(1);
    h.mstatusLo |= 1 << 20;
    expect(() => helperSfenceVma(h)).toThrow(CpuLoopExit);
    h.priv = PRV_M;
    helperSfenceVma(h);
    expect(h.flushes).toBe(2);
    h.priv = PRV_U; h.mstatusLo = 0;
    expect(() => helperSfenceVma(h)).toThrow(CpuLoopExit);
  });
});

describe('MMU index and TB flags', () => {
  it('MPRV uses MPP for loads/stores only; SUM selects the S+SUM index', () => {
    fc.assert(fc.property(privArb, fc.boolean(), fc.constantFrom(0, 1, 3), fc.boolean(), fc.constantFrom(0, 1, 2, 3),
      (priv, mprv, mpp, sum, fs) => {
        const h = hart(64);
        h.priv = priv;
        h.mstatusLo = (mprv ? 1 << 17 : 0) | (mpp << 11) | (sum ? 1 << 18 : 0) | (fs << 13);
        const eff = priv === PRV_M && mprv ? mpp : priv;
        const data = eff === PRV_M ? MMU_IDX_M : eff === PRV_U ? MMU_IDX_U : sum ? MMU_IDX_S_SUM : MMU_IDX_S;
        const fetch = priv === PRV_M ? MMU_IDX_M : priv === PRV_U ? MMU_IDX_U : MMU_IDX_S;
        expect(mmuIndex(h, false)).toBe(data);
        expect(mmuIndex(h, true)).toBe(fetch);
        const f = tbFlags(h);
        expect(tbFlagsPriv(f)).toBe(priv);
        expect(tbFlagsMemIdx(f)).toBe(data);
        expect(tbFlagsFs(f)).toBe(fs);
      }));
  });
});
