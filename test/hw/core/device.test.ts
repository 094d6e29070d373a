import { describe, expect, it } from 'vitest';
import { Device, TYPE_DEVICE, deviceAdd, realizeTree, resetTree } from '../../../src/hw/core/device.js';
import { IrqLine } from '../../../src/hw/core/irq.js';
import { createMachineRoot, createObject, defineType, prop, registerType } from '../../../src/qom/index.js';
import { LifecycleError, OptionParseError, PropertyError, QomTypeError, WiringError } from '../../../src/util/errors.js';

const log: string[] = [];

class Dev extends Device {
  count!: number;
  fail!: boolean;
  state = 0;
  protected override onRealize(): void {
    if (this.fail) throw new Error('realize failed on purpose');
    log.push(`realize ${this.name ?? '-'}`);
  }
  protected override onUnrealize(): void {
    log.push(`unrealize ${this.name ?? '-'}`);
  }
  protected override reset(): void {
    this.state = this.count;
    log.push(`reset ${this.name ?? '-'}`);
  }
}
defineType({
  name: 'd-dev', parent: TYPE_DEVICE, instance: Dev,
  properties: { count: prop.u32(3), fail: prop.bool(false) },
  realize: () => log.push('d-dev realize hook'),
  unrealize: () => log.push('d-dev unrealize hook'),
});
// functional-style subtype: hooks without a class of its own
registerType<Dev>({
  name: 'd-sub', parent: 'd-dev',
  realize: (d) => log.push(`d-sub realize hook count=${d.count}`),
  unrealize: () => log.push('d-sub unrealize hook'),
  reset: (d) => { d.state += 100; },
});

const take = (): string[] => log.splice(0, log.length);

describe('device lifecycle', () => {
  it('realize runs onRealize then type hooks parent first; unrealize in reverse', () => {
    take();
    const d = createObject<Dev>('d-sub', { count: 7 });
    expect(d.realized).toBe(false);
    d.realize();
    expect(d.realized).toBe(true);
    expect(take()).toEqual(['realize -', 'd-dev realize hook', 'd-sub realize hook count=7']);
    d.unrealize();
    expect(d.realized).toBe(false);
    expect(take()).toEqual(['d-sub unrealize hook', 'd-dev unrealize hook', 'unrealize -']);
  });

  it('wrong order is a LifecycleError', () => {
    const m = createMachineRoot();
    const d = createObject(Dev);
    m.addPeripheral(d, 'dev0');
    expect(() => d.unrealize()).toThrow(LifecycleError);
    expect(() => d.unrealize()).toThrow('d-dev at /machine/peripheral/dev0 cannot be unrealized: it is not realized');
    expect(() => d.coldReset()).toThrow('d-dev at /machine/peripheral/dev0 cannot be reset: it is not realized');
    d.realize();
    expect(() => d.realize()).toThrow('d-dev at /machine/peripheral/dev0 is already realized');
    expect(() => d.setProperty('count', 1)).toThrow(LifecycleError);
    d.finalize();
    expect(() => d.realize()).toThrow('d-dev at /machine/peripheral/dev0: realize after finalize');
    expect(() => d.coldReset()).toThrow(LifecycleError);
    expect(() => d.unrealize()).toThrow(LifecycleError);
  });

  it('a failing realize leaves the device unrealized and configurable', () => {
    const d = createObject(Dev, { fail: true });
    expect(() => d.realize()).toThrow('realize failed on purpose');
    expect(d.realized).toBe(false);
    d.setProperty('fail', false);
    d.realize();
    expect(d.realized).toBe(true);
  });

  it('finalize unrealizes a realized device first', () => {
    take();
    const d = createObject(Dev);
    d.realize();
    d.finalize();
    expect(take()).toEqual(['realize -', 'd-dev realize hook', 'd-dev unrealize hook', 'unrealize -']);
  });

  it('coldReset runs reset() then the type reset hooks', () => {
    const d = createObject<Dev>('d-sub', { count: 5 });
    d.realize();
    d.state = -1;
    d.coldReset();
    expect(d.state).toBe(105);
  });

  it('realizeTree realizes parents first; resetTree resets children first', () => {
    const m = createMachineRoot();
    const a = createObject(Dev);
    const b = createObject(Dev);
    const c = createObject(Dev);
    m.addPeripheral(a, 'a');
    a.addChild('b', b);
    m.addPeripheral(c, 'c');
    b.realize();
    take();
    realizeTree(m.root);
    expect(take()).toEqual(['realize a', 'd-dev realize hook', 'realize c', 'd-dev realize hook']);
    resetTree(m.root);
    expect(take()).toEqual(['reset c', 'reset b', 'reset a']);
  });
});

describe('GPIO lines', () => {
  class Intc extends Device {
    levels: boolean[] = [];
    pending: Array<[string, number, boolean]> = [];
    protected override onInit(): void {
      this.gpioIn(2, (n, l) => this.pending.push(['', n, l]));
      this.gpioIn(1, (n, l) => this.pending.push(['', n, l])); // appended: index 2
      this.gpioIn(1, (n, l) => this.pending.push(['ctl', n, l]), 'ctl');
    }
  }
  defineType({ name: 'd-intc', parent: TYPE_DEVICE, instance: Intc });

  it('input groups are numbered from their first line and can be named', () => {
    const ic = createObject(Intc);
    expect(ic.gpioInCount()).toBe(3);
    expect(ic.gpioInCount('ctl')).toBe(1);
    ic.gpioInLine(2).raise();
    ic.gpioInLine(0, 'ctl').raise();
    ic.gpioInLine(1).lower();
    expect(ic.pending).toEqual([['', 2, true], ['ctl', 0, true], ['', 1, false]]);
  });

  it('outputs connect to another device input', () => {
    const ic = createObject(Intc);
    const src = createObject(Dev);
    const out = [new IrqLine(), new IrqLine()];
    src.gpioOut(out);
    src.connectGpioOut(1, ic.gpioInLine(0));
    out[1]?.raise();
    expect(ic.pending).toEqual([['', 0, true]]);
    expect(src.gpioOutLine(1)).toBe(out[1]);
  });

  it('out-of-range lines are a WiringError', () => {
    const ic = createObject(Intc);
    expect(() => ic.gpioInLine(3)).toThrow(WiringError);
    expect(() => ic.gpioInLine(3)).toThrow('d-intc (not in a tree) has no GPIO input 3 (it has 3)');
    expect(() => ic.gpioInLine(0, 'nope')).toThrow("has no GPIO input 'nope' 0 (it has 0)");
    expect(() => ic.gpioOutLine(0)).toThrow('has no GPIO output 0 (it has 0)');
  });
});

describe('deviceAdd (-device)', () => {
  it('creates, configures, places and realizes a device', () => {
    const m = createMachineRoot();
    const d = deviceAdd(m, 'd-dev,count=0x10,id=dev1') as Dev;
    expect(d).toBeInstanceOf(Dev);
    expect(d.count).toBe(16);
    expect(d.realized).toBe(true);
    expect(d.path).toBe('/machine/peripheral/dev1');
    const anon = deviceAdd(m, { driver: 'd-dev', props: {} }, { realize: false });
    expect(anon.path).toBe('/machine/peripheral-anon/device[0]');
    expect(anon.realized).toBe(false);
  });

  it('reports bad drivers, properties and duplicate ids', () => {
    const m = createMachineRoot();
    expect(() => deviceAdd(m, 'd-devv')).toThrow("unknown type 'd-devv' (did you mean 'd-dev'?)");
    expect(() => deviceAdd(m, 'container')).toThrow(QomTypeError);
    expect(() => deviceAdd(m, 'container')).toThrow("'container' is not a device type");
    expect(() => deviceAdd(m, 'device')).toThrow(/abstract/);
    expect(() => deviceAdd(m, 'd-dev,count=-1')).toThrow(PropertyError);
    expect(() => deviceAdd(m, 'd-dev,count=-1')).toThrow('d-dev.count must be 0..0xffffffff, got \'-1\'');
    deviceAdd(m, 'd-dev,id=x');
    expect(() => deviceAdd(m, 'd-dev,id=x')).toThrow(OptionParseError);
    // a failed realize leaves nothing behind
    expect(() => deviceAdd(m, 'd-dev,id=y,fail=on')).toThrow('realize failed on purpose');
    expect(m.peripheral.child('y')).toBeUndefined();
  });
});
