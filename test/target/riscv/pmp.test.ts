import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { RiscvHartState, PRV_M, PRV_S, PRV_U, type Priv } from '../../../src/target/riscv/hart-state.js';
import { csrAccessAllowed, csrRead, csrWrite } from '../../../src/target/riscv/csr.js';
import { pmpCheck } from '../../../src/target/riscv/pmp.js';

const OFF = 0, TOR = 1, NA4 = 2, NAPOT = 3;
const cfgByte = (a: number, rwx: number, lock = false): number => (lock ? 0x80 : 0) | (a << 3) | rwx;

/** Writes entry i through the CSRs, as software does (RV64: pmpcfg0 holds entries 0..7). */
function setEntry(h: RiscvHartState, i: number, addr: bigint, cfg: number): void {
  csrWrite(h, 0x3b0 + i, addr);
  const reg = i < 8 ? 0x3a0 : 0x3a2;
  const shift = BigInt(8 * (i % 8));
  const old = csrRead(h, reg);
  csrWrite(h, reg, (old & ~(0xffn << shift)) | (BigInt(cfg) << shift));
}

/** Independent model of one entry's byte range [lo, hi) (spec 3.7.1, G = 0). */
function modelRange(a: number, addr: bigint, prevAddr: bigint): [bigint, bigint] | null {
  if (a === TOR) return prevAddr < addr ? [prevAddr * 4n, addr * 4n] : null;
  if (a === NA4) return [addr * 4n, addr * 4n + 4n];
  if (a === NAPOT) {
    const bits = addr.toString(2);
    const ones = bits.length - bits.replace(/1+$/, '').length;
    const size = 2n ** BigInt(ones + 3);
    const base = (addr >> BigInt(ones)) << BigInt(ones + 2);
    return [base, base + size];
  }
  return null;
}

describe('PMP address matching', () => {
  it('NAPOT: a naturally aligned power-of-two region', () => {
    fc.assert(fc.property(fc.integer({ min: 3, max: 40 }), fc.bigInt({ min: 0n, max: (1n << 16n) - 1n }), fc.integer({ min: 1, max: 7 }),
      fc.bigInt({ min: 0n, max: (1n << 56n) - 1n }),
      (k, baseIdx, rwx, probe) => {
        if (rwx === 2 || rwx === 6) rwx |= 1; // W without R is reserved
        const size = 1n << BigInt(k);
        const base = baseIdx * size;
        const h = new RiscvHartState(64);
        setEntry(h, 0, (base >> 2n) | ((size >> 3n) - 1n), cfgByte(NAPOT, rwx));
        const inside = base + (probe % size);
        expect(pmpCheck(h, inside, 1, PRV_S)).toBe(rwx);
        expect(pmpCheck(h, base + size, 1, PRV_S)).toBe(0);
        if (base > 0n) expect(pmpCheck(h, base - 1n, 1, PRV_U)).toBe(0);
        expect(pmpCheck(h, base + size - 1n, 1, PRV_M)).toBe(7); // unlocked: M bypasses
      }));
  });

  it('TOR uses the previous pmpaddr as base; NA4 covers 4 bytes', () => {
    const h = new RiscvHartState(64);
    setEntry(h, 0, 0x8000_0000n >> 2n, cfgByte(OFF, 0));
    setEntry(h, 1, 0x8010_0000n >> 2n, cfgByte(TOR, 5));
    setEntry(h, 2, 0x9000_0000n >> 2n, cfgByte(NA4, 3));
    expect(pmpCheck(h, 0x8000_0000n, 4, PRV_S)).toBe(5);
    expect(pmpCheck(h, 0x800f_fffcn, 4, PRV_S)).toBe(5);
    expect(pmpCheck(h, 0x8010_0000n, 1, PRV_S)).toBe(0);
    expect(pmpCheck(h, 0x7fff_ffffn, 1, PRV_S)).toBe(0);
    expect(pmpCheck(h, 0x9000_0003n, 1, PRV_S)).toBe(3);
    expect(pmpCheck(h, 0x9000_0004n, 1, PRV_S)).toBe(0);
  });

  it('an access straddling a region boundary matches partially and fails, even in M', () => {
    const h = new RiscvHartState(64);
    setEntry(h, 0, 0x1000n >> 2n, cfgByte(NA4, 7));
    expect(pmpCheck(h, 0xffen, 4, PRV_S)).toBe(0);
    expect(pmpCheck(h, 0xffen, 4, PRV_M)).toBe(0);
  });

  it('random entries agree with a naive model (lowest match wins, S/U default deny)', () => {
    const entry = fc.record({
      a: fc.integer({ min: 0, max: 3 }),
      rwx: fc.constantFrom(0, 1, 3, 4, 5, 7),
      addr: fc.bigInt({ min: 0n, max: 0xffffn }),
    });
    fc.assert(fc.property(fc.array(entry, { minLength: 1, maxLength: 6 }), fc.array(fc.bigInt({ min: 0n, max: 0x4_0000n }), { minLength: 1, maxLength: 20 }),
      fc.constantFrom<Priv>(PRV_U, PRV_S, PRV_M),
      (entries, addrs, mode) => {
        const h = new RiscvHartState(64);
        entries.forEach((e, i) => setEntry(h, i, e.addr, cfgByte(e.a, e.rwx)));
        const active = entries.some((e) => e.a !== OFF);
        for (const addr of addrs) {
          let expected: number | undefined;
          for (let i = 0; i < entries.length && expected === undefined; i++) {
            const e = entries[i]!;
            if (e.a === OFF) continue;
            const r = modelRange(e.a, e.addr, i === 0 ? 0n : entries[i - 1]!.addr);
            if (r && addr >= r[0] && addr < r[1]) expected = mode === PRV_M ? 7 : e.rwx;
          }
          // unmatched: M allowed; S/U denied (there is always an implemented entry)
          expected ??= mode === PRV_M ? 7 : 0;
          if (!active) expect(h.pmpNumRules).toBe(0);
          expect(pmpCheck(h, addr, 1, mode)).toBe(expected);
        }
      }));
  });

  it('no active entry: M allowed, S and U denied', () => {
    const h = new RiscvHartState(64);
    expect(pmpCheck(h, 0x8000_0000n, 8, PRV_M)).toBe(7);
    expect(pmpCheck(h, 0x8000_0000n, 8, PRV_S)).toBe(0);
    expect(pmpCheck(h, 0x8000_0000n, 8, PRV_U)).toBe(0);
  });
});

describe('PMP registers', () => {
  it('OpenSBI probe: all ones reads back the implemented width; all-ones NAPOT covers everything', () => {
    const h = new RiscvHartState(64);
    csrWrite(h, 0x3b0, (1n << 64n) - 1n);
    expect(csrRead(h, 0x3b0)).toBe((1n << 54n) - 1n);
    csrWrite(h, 0x3a0, 0x1fn);
    expect(pmpCheck(h, 0n, 8, PRV_S)).toBe(7);
    expect(pmpCheck(h, (1n << 56n) - 8n, 8, PRV_U)).toBe(7);
    const h32 = new RiscvHartState(32);
    csrWrite(h32, 0x3b0, 0xffff_ffffn);
    expect(csrRead(h32, 0x3b0)).toBe(0xffff_ffffn);
  });

  it('pmpcfg packing: RV64 pmpcfg0/2 hold 8 entries, odd ones are illegal; RV32 has 4 registers of 4', () => {
    const h = new RiscvHartState(64);
    csrWrite(h, 0x3a2, 0x0102_0304_0501_0007n);
    expect([...h.pmpcfg.slice(8, 16)]).toEqual([0x07, 0x00, 0x01, 0x05, 0x04, 0x03, 0x00, 0x01]);
    expect(csrAccessAllowed(h, 0x3a1, false)).toBe(false);
    const h32 = new RiscvHartState(32);
    csrWrite(h32, 0x3a3, 0x0103_0507n);
    expect([...h32.pmpcfg.slice(12, 16)]).toEqual([0x07, 0x05, 0x03, 0x01]);
  });

  it('reserved bits read as zero and R=0 W=1 writes are ignored', () => {
    const h = new RiscvHartState(64);
    csrWrite(h, 0x3a0, 0x61n | (0x1bn << 8n));
    expect(h.pmpcfg[0]).toBe(0x01);
    csrWrite(h, 0x3a0, 0x02n);
    expect(h.pmpcfg[0]).toBe(0x01);
  });

  it('a locked entry ignores writes and binds M-mode; a locked TOR entry locks the previous pmpaddr', () => {
    const h = new RiscvHartState(64);
    let flushes = 0;
    h.onTlbFlush = () => { flushes++; };
    setEntry(h, 0, 0x1000n >> 2n, cfgByte(OFF, 0));
    setEntry(h, 1, 0x2000n >> 2n, cfgByte(TOR, 1, true));
    expect(flushes).toBeGreaterThan(0);
    expect(pmpCheck(h, 0x1800n, 4, PRV_M)).toBe(1);
    expect(pmpCheck(h, 0x2000n, 4, PRV_M)).toBe(7);
    csrWrite(h, 0x3b1, 0x4000n >> 2n);
    csrWrite(h, 0x3b0, 0n);
    expect(csrRead(h, 0x3b1)).toBe(0x2000n >> 2n);
    expect(csrRead(h, 0x3b0)).toBe(0x1000n >> 2n);
    csrWrite(h, 0x3a0, 0n); // entry 1's byte stays locked, entry 0 may change
    expect(h.pmpcfg[1]).toBe(cfgByte(TOR, 1, true));
  });
});
