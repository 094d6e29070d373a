import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IrqLine, allocateIrqs, irqInvert, irqOr, irqSplit } from '../../../src/hw/core/irq.js';
import { WiringError } from '../../../src/util/errors.js';

describe('IrqLine', () => {
  it('forwards every set to its handler, normalizing levels', () => {
    const seen: boolean[] = [];
    const line = new IrqLine((l) => seen.push(l));
    line.set(1);
    line.set(true);
    line.set(0);
    line.set(5);
    line.set(false);
    expect(seen).toEqual([true, true, false, true, false]);
    expect(line.level).toBe(false);
  });

  it('raise, lower, pulse', () => {
    const seen: boolean[] = [];
    const line = new IrqLine();
    line.connect((l) => seen.push(l));
    line.raise();
    expect(line.level).toBe(true);
    line.lower();
    line.pulse();
    expect(seen).toEqual([true, false, true, false]);
    expect(line.level).toBe(false);
  });

  it('an output connected to an input line drives it', () => {
    const seen: Array<[number, boolean]> = [];
    const inputs = allocateIrqs(4, (n, l) => seen.push([n, l]), 'plic');
    const out = new IrqLine(undefined, 'uart.irq');
    out.connect(inputs[2] as IrqLine);
    out.raise();
    expect(inputs[2]?.level).toBe(true);
    out.lower();
    expect(seen).toEqual([[2, true], [2, false]]);
  });

  it('records the level while unconnected and does not replay it on connect (QEMU)', () => {
    const out = new IrqLine();
    out.raise();
    expect(out.level).toBe(true);
    const seen: boolean[] = [];
    out.connect((l) => seen.push(l));
    expect(seen).toEqual([]);
  });

  it('refuses a second receiver and loops; disconnect allows re-wiring', () => {
    const a = new IrqLine(undefined, 'a');
    const b = new IrqLine(undefined, 'b');
    const c = new IrqLine(undefined, 'c');
    a.connect(b);
    expect(() => a.connect(c)).toThrow(WiringError);
    expect(() => a.connect(c)).toThrow("IRQ line 'a' is already connected; use irqSplit() to drive several receivers");
    b.connect(c);
    expect(() => c.connect(a)).toThrow("connecting IRQ line 'c' to 'a' would make a loop");
    expect(() => c.connect(c)).toThrow(/loop/);
    a.disconnect();
    expect(a.connected).toBe(false);
    a.connect(c);
    a.raise();
    expect(c.level).toBe(true);
    expect(b.level).toBe(false);
  });

  it('irqSplit drives all outputs', () => {
    const outs = [new IrqLine(), new IrqLine(), new IrqLine()];
    const split = irqSplit(...outs);
    split.raise();
    expect(outs.map((l) => l.level)).toEqual([true, true, true]);
    split.lower();
    expect(outs.map((l) => l.level)).toEqual([false, false, false]);
  });

  it('irqInvert inverts', () => {
    const out = new IrqLine();
    const inv = irqInvert(out);
    inv.raise();
    expect(out.level).toBe(false);
    inv.lower();
    expect(out.level).toBe(true);
  });

  it('irqOr: output is high iff any input is high, for random sequences', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }).chain((n) => fc.tuple(
        fc.constant(n),
        fc.array(fc.tuple(fc.nat({ max: n - 1 }), fc.boolean()), { maxLength: 60 }),
      )),
      ([n, steps]) => {
        const gate = irqOr(n);
        const model = new Array<boolean>(n).fill(false);
        const received: boolean[] = [];
        gate.output.connect((l) => received.push(l));
        for (const [i, level] of steps) {
          gate.inputs[i]?.set(level);
          model[i] = level;
          const any = model.includes(true);
          if (gate.output.level !== any || received[received.length - 1] !== any) return false;
        }
        return received.length === steps.length; // one output update per input set
      },
    ));
  });

  it('rejects bad sizes', () => {
    expect(() => irqOr(0)).toThrow(WiringError);
    expect(() => allocateIrqs(-1, () => {})).toThrow(WiringError);
  });
});
