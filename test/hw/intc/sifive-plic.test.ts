import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SifivePlic, TYPE_SIFIVE_PLIC, parsePlicHartConfig } from '../../../src/hw/intc/sifive-plic.js';
import { createObject } from '../../../src/qom/index.js';
import { AddressSpace, MemoryAccessError, MemoryRegion } from '../../../src/memory/index.js';
import { PropertyError } from '../../../src/util/errors.js';

const BASE = 0x0c00_0000n;

function rig(hartConfig = 'MS') {
  const plic = createObject(SifivePlic, { hartConfig, apertureSize: 0x60_0000 });
  plic.realize();
  const n = plic.numHarts;
  const out = Array.from({ length: 2 * n }, () => false);
  for (let i = 0; i < 2 * n; i++) plic.connectGpioOut(i, (l) => (out[i] = l));
  plic.coldReset();
  const root = MemoryRegion.container(null, 'root', 0x1000_0000n);
  root.addSubregion(BASE, plic.region);
  const as = new AddressSpace(root, 'test');
  const rd = (off: number): number => as.readNumber(BASE + BigInt(off), 4);
  const wr = (off: number, v: number): void => as.writeNumber(BASE + BigInt(off), v >>> 0, 4);
  /** Output level of context `c`. */
  const ctxLevel = (c: number): boolean => plic.contextOutput(c)?.level ?? false;
  return { plic, as, rd, wr, out, ctxLevel };
}

/**
 * Recorded from QEMU 7.2 (qemu-system-riscv64 -M virt -qtest stdio; PLIC at 0x0c000000, inputs driven
 * with `set_irq_in /machine/unattached/device[2] unnamed-gpio-in N L`). `i N L` sets input N to L,
 * `w OFF V` writes a word, `r OFF =V` reads one and gives QEMU's value. Covers WARL priorities and
 * thresholds, source 0, enable words, pending bits, claim order (priority, then lowest id), the
 * threshold, complete, and claims from the S context of hart 0.
 */
const QEMU_SCRIPT =
  'r 0x0 =0x0 | w 0x0 0x7 | r 0x0 =0x0 | w 0x4 0x9 | r 0x4 =0x1 | w 0x4 0x8 | r 0x4 =0x0 | w 0x8 0x6 | r 0x8 =0x6 | w 0x50 0x3 | w 0x84 0x5 | w 0xa0 0x5 | w 0x17c 0x1 | r 0x50 =0x3 | r 0x17c =0x1 | w 0x2000 0x100000 | w 0x2004 0x102 | w 0x2008 0x80000000 | r 0x2004 =0x102 | r 0x200c =0x0 | r 0x2100 =0x0 | i 20 1 | i 33 1 | i 40 1 | i 95 1 | r 0x1000 =0x100000 | r 0x1004 =0x102 | r 0x1008 =0x80000000 | r 0x200004 =0x21 | r 0x1004 =0x100 | r 0x200004 =0x28 | r 0x200004 =0x14 | r 0x200004 =0x5f | r 0x200004 =0x0 | r 0x1000 =0x0 | r 0x1004 =0x0 | r 0x1008 =0x0 | i 33 1 | r 0x1004 =0x2 | r 0x200004 =0x0 | i 33 0 | w 0x200004 0x21 | i 33 1 | r 0x200004 =0x21 | i 33 0 | i 40 0 | w 0x200004 0x21 | w 0x200004 0x28 | w 0x200004 0x14 | w 0x200004 0x5f | i 20 1 | i 95 1 | w 0x200000 0x3 | r 0x200004 =0x0 | w 0x200000 0x0 | r 0x200004 =0x14 | r 0x200004 =0x5f | r 0x201004 =0x0 | w 0x2080 0x100000 | i 20 0 | w 0x200004 0x14 | i 20 1 | r 0x201004 =0x14 | r 0x200004 =0x0 | i 95 0 | r 0x1008 =0x0 | w 0x201000 0x9 | r 0x201000 =0x1 | r 0x202000 =0x0 | r 0x200008 =0x0';

/** A naive PLIC (spec level, sets and maps), to check the device against. */
class Model {
  level = new Set<number>();
  pending = new Set<number>();
  claimed = new Set<number>();
  prio = new Map<number, number>();
  enable: Set<number>[];
  thr: number[];
  constructor(contexts: number) {
    this.enable = Array.from({ length: contexts }, () => new Set<number>());
    this.thr = Array.from({ length: contexts }, () => 0);
  }
  set(irq: number, l: boolean): void {
    if (l) {
      this.level.add(irq);
      this.pending.add(irq);
    } else {
      this.level.delete(irq);
      this.pending.delete(irq);
    }
  }
  best(ctx: number): number {
    let best = 0;
    let bestPrio = this.thr[ctx]!;
    for (const irq of [...this.pending].sort((a, b) => a - b)) {
      const p = this.prio.get(irq) ?? 0;
      if (!this.claimed.has(irq) && this.enable[ctx]!.has(irq) && p > bestPrio) {
        best = irq;
        bestPrio = p;
      }
    }
    return best;
  }
  claim(ctx: number): number {
    const b = this.best(ctx);
    if (b !== 0) {
      this.pending.delete(b);
      this.claimed.add(b);
    }
    return b;
  }
  complete(irq: number): void {
    this.claimed.delete(irq);
    if (this.level.has(irq)) this.pending.add(irq);
  }
}

type Op =
  | { kind: 'level'; irq: number; on: boolean }
  | { kind: 'prio'; irq: number; prio: number }
  | { kind: 'enable'; ctx: number; irq: number; on: boolean }
  | { kind: 'threshold'; ctx: number; prio: number }
  | { kind: 'claim'; ctx: number }
  | { kind: 'complete'; ctx: number; irq: number };

// Few sources (in two words) so random traffic often makes them compete.
const irqArb = fc.constantFrom(1, 2, 3, 31, 32, 33);
const ctxArb = fc.integer({ min: 0, max: 3 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('level' as const), irq: irqArb, on: fc.boolean() }),
  fc.record({ kind: fc.constant('prio' as const), irq: irqArb, prio: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('enable' as const), ctx: ctxArb, irq: irqArb, on: fc.boolean() }),
  fc.record({ kind: fc.constant('threshold' as const), ctx: ctxArb, prio: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('claim' as const), ctx: ctxArb }),
  fc.record({ kind: fc.constant('complete' as const), ctx: ctxArb, irq: irqArb }),
);

describe('sifive_plic', () => {
  it('parses hart configurations as QEMU', () => {
    expect(parsePlicHartConfig('M,MS,MS').contexts.map((c) => `${c.hartid}${c.mode}`)).toEqual(['0M', '1M', '1S', '2M', '2S']);
    expect(parsePlicHartConfig('MS', 4)).toEqual({ contexts: [{ hartid: 4, mode: 'M' }, { hartid: 4, mode: 'S' }], numHarts: 1 });
    expect(() => parsePlicHartConfig('MM')).toThrow(PropertyError);
    expect(() => parsePlicHartConfig('MX')).toThrow(/invalid mode 'X'/);
  });

  it('has the QEMU type name and virt defaults (96 sources, 7 priorities, MS)', () => {
    const p = createObject(TYPE_SIFIVE_PLIC) as SifivePlic;
    p.realize();
    expect(p.gpioInCount()).toBe(96);
    expect(p.contexts).toEqual([{ hartid: 0, mode: 'M' }, { hartid: 0, mode: 'S' }]);
    expect(p.region.size).toBe(0x20_0000n + 2n * 0x1000n);
  });

  it('replays a register and input script exactly as QEMU 7.2 does', () => {
    const { plic, rd, wr } = rig();
    for (const [i, step] of QEMU_SCRIPT.split(' | ').entries()) {
      const [op, a, b] = step.split(' ') as [string, string, string];
      if (op === 'i') plic.irqIn(Number(a)).set(b === '1');
      else if (op === 'w') wr(Number(a), Number(b));
      else expect({ i, step, got: `=0x${rd(Number(a)).toString(16)}` }).toEqual({ i, step, got: b });
    }
  });

  it('drives M context 0 to MEIP (output numHarts+i) and S context 1 to SEIP (output i)', () => {
    const { plic, wr, out, rd } = rig('MS,MS');
    wr(10 * 4, 1);
    wr(0x2000 + 3 * 0x80, 1 << 10); // context 3 = hart 1 S
    plic.irqIn(10).raise();
    expect(out).toEqual([false, true, false, false]); // [S0, S1, M0, M1]
    wr(0x2000, 1 << 10); // context 0 = hart 0 M: enabling raises the line at once
    expect(out).toEqual([false, true, true, false]);
    expect(rd(0x200004)).toBe(10); // hart 0 M claims: both lines drop
    expect(out).toEqual([false, false, false, false]);
    wr(0x200004, 10); // complete while the device still holds its line high: pends again
    expect(out).toEqual([false, true, true, false]);
    plic.irqIn(10).lower();
    expect(out).toEqual([false, false, false, false]);
  });

  it('claim/complete follow a naive model for random traffic (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 40, maxLength: 120 }), (ops) => {
        const { plic, rd, wr, ctxLevel } = rig('MS,MS');
        const m = new Model(4);
        for (const op of ops) {
          switch (op.kind) {
            case 'level':
              plic.irqIn(op.irq).set(op.on);
              m.set(op.irq, op.on);
              break;
            case 'prio':
              wr(op.irq * 4, op.prio);
              m.prio.set(op.irq, op.prio);
              break;
            case 'enable': {
              const off = 0x2000 + op.ctx * 0x80 + (op.irq >> 5) * 4;
              const bit = 1 << (op.irq & 31);
              wr(off, op.on ? rd(off) | bit : rd(off) & ~bit);
              if (op.on) m.enable[op.ctx]!.add(op.irq);
              else m.enable[op.ctx]!.delete(op.irq);
              break;
            }
            case 'threshold':
              wr(0x20_0000 + op.ctx * 0x1000, op.prio);
              m.thr[op.ctx] = op.prio;
              break;
            case 'claim':
              expect(rd(0x20_0004 + op.ctx * 0x1000)).toBe(m.claim(op.ctx));
              break;
            case 'complete':
              wr(0x20_0004 + op.ctx * 0x1000, op.irq);
              m.complete(op.irq);
              break;
          }
          for (let c = 0; c < 4; c++) expect(ctxLevel(c)).toBe(m.best(c) !== 0);
          const pend = [0, 1].map((w) => rd(0x1000 + 4 * w));
          const want = [0, 0];
          for (const irq of m.pending) want[irq >> 5] = (want[irq >> 5]! | (1 << (irq & 31))) >>> 0;
          expect(pend).toEqual(want);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('priority WARL for a non power-of-two count ignores out-of-range values', () => {
    const plic = createObject(SifivePlic, { numPriorities: 5 });
    plic.realize();
    const root = MemoryRegion.container(null, 'root', 0x60_0000);
    root.addSubregion(0, plic.region);
    const as = new AddressSpace(root, 'a');
    as.writeNumber(4n, 5, 4);
    as.writeNumber(4n, 6, 4);
    expect(as.readNumber(4n, 4)).toBe(5);
  });

  it('refuses non-word accesses and reads holes as 0', () => {
    const { as, rd } = rig();
    expect(() => as.readNumber(BASE + 4n, 1)).toThrow(MemoryAccessError);
    expect(() => as.read(BASE, 8)).toThrow(MemoryAccessError);
    expect(rd(0x180)).toBe(0); // past the last source's priority
    expect(rd(0x100c)).toBe(0); // past the last pending word
    expect(rd(0x30_0000)).toBe(0);
  });

  it('reset clears priorities, enables, pending and claims and lowers the outputs', () => {
    const { plic, rd, wr, out } = rig();
    wr(8, 3);
    wr(0x2000, 4);
    plic.irqIn(2).raise();
    expect(out[1]).toBe(true);
    plic.coldReset();
    expect(out).toEqual([false, false]);
    expect([rd(8), rd(0x2000), rd(0x1000), rd(0x200004)]).toEqual([0, 0, 0, 0]);
  });
});
