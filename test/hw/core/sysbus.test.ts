import { describe, expect, it } from 'vitest';
import { IrqLine } from '../../../src/hw/core/irq.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE, sysbusConnectIrq, sysbusMmioMap } from '../../../src/hw/core/sysbus.js';
import { createObject, defineType, prop } from '../../../src/qom/index.js';
import { WiringError } from '../../../src/util/errors.js';

/** A toy timer: two regions, two IRQs recomputed in one update(). */
class Toy extends SysBusDevice {
  regShift!: number;
  readonly regs = { size: 0x100n, kind: 'regs' };
  readonly buf = { size: 0x1000n, kind: 'buf' };
  readonly irqA = new IrqLine();
  readonly irqB = new IrqLine();
  status = 0;
  protected override onInit(): void {
    this.initMmio(this.regs);
    this.initMmio(this.buf);
    this.initIrq(this.irqA);
    this.initIrq(this.irqB);
  }
  protected override reset(): void {
    this.status = 0;
    this.update();
  }
  write(status: number): void {
    this.status = status;
    this.update();
  }
  private update(): void {
    this.irqA.set(this.status & 1);
    this.irqB.set(this.status & 2);
  }
}
defineType({ name: 'toy-timer', parent: TYPE_SYS_BUS_DEVICE, instance: Toy, properties: { regShift: prop.u8(0) } });

describe('SysBusDevice', () => {
  it('declares MMIO regions and IRQs', () => {
    const t = createObject(Toy);
    expect(t.mmioCount).toBe(2);
    expect(t.mmio(0)).toBe(t.regs);
    expect(t.mmio<{ size: bigint; kind: string }>(1).kind).toBe('buf');
    expect(t.irqCount).toBe(2);
    expect(t.irq(1)).toBe(t.irqB);
  });

  it('mmioMap records the address and calls the onMap listeners', () => {
    const t = createObject(Toy);
    const mapped: Array<[number, bigint, bigint]> = [];
    const off = t.onMap((n, addr, region) => mapped.push([n, addr, region.size]));
    expect(t.mmioAddress(0)).toBeNull();
    sysbusMmioMap(t, 0, 0x10000000n);
    t.mmioMap(1, 0x10001000n);
    expect(t.mmioAddress(0)).toBe(0x10000000n);
    expect(t.mmioAddress(1)).toBe(0x10001000n);
    t.mmioMap(0, 0x20000000n); // remap moves it
    expect(t.mmioAddress(0)).toBe(0x20000000n);
    off();
    t.mmioMap(1, 0x30000000n);
    expect(mapped).toEqual([[0, 0x10000000n, 0x100n], [1, 0x10001000n, 0x1000n], [0, 0x20000000n, 0x100n]]);
  });

  it('IRQs connect to the board receivers and follow device state', () => {
    const t = createObject(Toy);
    const intc = [new IrqLine(), new IrqLine()];
    t.connectIrq(0, intc[0] as IrqLine);
    const seenB: boolean[] = [];
    sysbusConnectIrq(t, 1, (l) => seenB.push(l));
    t.realize();
    t.write(3);
    expect(intc[0]?.level).toBe(true);
    t.write(1);
    expect(seenB).toEqual([true, false]);
    t.coldReset();
    expect(intc[0]?.level).toBe(false);
  });

  it('bad indexes are WiringErrors naming the device', () => {
    const t = createObject(Toy);
    expect(() => t.mmio(2)).toThrow(WiringError);
    expect(() => t.mmio(2)).toThrow('toy-timer (not in a tree) has no MMIO region 2 (it has 2)');
    expect(() => t.mmioMap(5, 0n)).toThrow(WiringError);
    expect(() => t.mmioMap(0, -1n)).toThrow(/negative address/);
    expect(() => t.irq(2)).toThrow("toy-timer (not in a tree) has no GPIO output 'sysbus-irq' 2 (it has 2)");
    expect(() => t.connectIrq(0, new IrqLine())).not.toThrow();
    expect(() => t.connectIrq(0, new IrqLine())).toThrow(/already connected/);
  });
});
