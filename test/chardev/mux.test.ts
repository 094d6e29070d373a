import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { BufferChardev, ChardevError, MuxChardev } from '../../src/chardev/index.js';
import { FakeUart } from './helpers.js';

const CA = '\x01';

function setup(n = 1): { drv: BufferChardev; mux: MuxChardev; fes: FakeUart[] } {
  const drv = new BufferChardev({}, 'stdio');
  const mux = new MuxChardev(drv, {}, 'mux0');
  const fes: FakeUart[] = [];
  for (let i = 0; i < n; i++) {
    const fe = new FakeUart(64);
    fe.be = mux.attach(fe);
    fes.push(fe);
  }
  return { drv, mux, fes };
}

describe('MuxChardev', () => {
  it('passes plain input and output through', () => {
    const { drv, fes } = setup();
    drv.feed('ls\r');
    fes[0]!.readAll();
    expect(fes[0]!.text()).toBe('ls\r');
    fes[0]!.be!.write(new TextEncoder().encode('ok'));
    expect(drv.output).toBe('ok');
  });

  it('C-a x prints Terminated and emits quit without forwarding', () => {
    const { drv, mux, fes } = setup();
    let quits = 0;
    mux.on('quit', () => quits++);
    drv.feed(`a${CA}xb`);
    expect(quits).toBe(1);
    expect(drv.output).toContain('Terminated');
    fes[0]!.readAll();
    expect(fes[0]!.text()).toBe('ab');
    drv.feed(`${CA}X`);
    expect(quits).toBe(2);
  });

  it('C-a C-a sends one C-a; unknown commands are dropped', () => {
    const { drv, fes } = setup();
    drv.feed(`1${CA}${CA}2${CA}z3`);
    fes[0]!.readAll();
    expect(fes[0]!.text()).toBe(`1${CA}23`);
  });

  it('handles an escape split across reads', () => {
    const { drv, mux, fes } = setup();
    let quits = 0;
    mux.on('quit', () => quits++);
    drv.feed(`q${CA}`);
    drv.feed('x');
    expect(quits).toBe(1);
    fes[0]!.readAll();
    expect(fes[0]!.text()).toBe('q');
  });

  it('C-a h prints help naming the escape', () => {
    const { drv } = setup();
    drv.feed(`${CA}h`);
    expect(drv.output).toContain('C-a x    exit emulator');
    expect(drv.output).toContain('C-a C-a  sends C-a');
    drv.clearOutput();
    drv.feed(`${CA}?`);
    expect(drv.output).toContain('print this help');
  });

  it('C-a c moves focus between frontends with mux-in/mux-out events', () => {
    const { drv, mux, fes } = setup(2);
    const [serial, monitor] = fes as [FakeUart, FakeUart];
    expect(mux.focus).toBe(1); // the last attached took the focus, as QEMU
    expect(serial.events).toEqual(['mux-in', 'opened', 'mux-out']);
    expect(monitor.events).toEqual(['mux-in', 'opened']);
    drv.feed(`m${CA}cs${CA}cm`);
    serial.readAll(); monitor.readAll();
    expect(monitor.text()).toBe('mm');
    expect(serial.text()).toBe('s');
    expect(mux.focus).toBe(1);
    expect(serial.events.slice(3)).toEqual(['mux-in', 'mux-out']);
  });

  it('C-a b sends break to the focused frontend only', () => {
    const { drv, fes } = setup(2);
    drv.feed(`${CA}b`);
    expect(fes[1]!.events.at(-1)).toBe('break');
    expect(fes[0]!.events).not.toContain('break');
  });

  it('processes escapes while the guest does not read', () => {
    const { drv, mux, fes } = setup();
    fes[0]!.depth = 0;
    let quits = 0;
    mux.on('quit', () => quits++);
    drv.feed(`hello${CA}x`);
    expect(quits).toBe(1);
    expect(mux.pendingInput).toBe(5);
    fes[0]!.depth = 64;
    fes[0]!.be!.acceptInput();
    fes[0]!.readAll();
    expect(fes[0]!.text()).toBe('hello');
  });

  it('limits frontends and moves focus when one detaches', () => {
    const { mux, fes } = setup(4);
    expect(() => mux.attach(new FakeUart(1))).toThrow(ChardevError);
    expect(() => mux.attach(new FakeUart(1))).toThrow(/maximum is 4/);
    fes[3]!.be!.detach();
    expect(mux.focus).toBe(0);
    expect(mux.frontendCount).toBe(3);
    mux.attach(new FakeUart(1));
    expect(mux.focus).toBe(3);
  });

  it('forwards backend events to every frontend', () => {
    const drv = new BufferChardev();
    const mux = new MuxChardev(drv);
    const a = new FakeUart(1), b = new FakeUart(1);
    mux.attach(a); mux.attach(b);
    (mux as unknown as { beEvent(ev: string): void }).beEvent('closed');
    expect(a.events.at(-1)).toBe('closed');
    expect(b.events.at(-1)).toBe('closed');
    expect(mux.isOpen).toBe(false);
  });

  it('matches a reference escape filter on random input', () => {
    const alphabet = fc.constantFrom(0x01, 0x78, 0x58, 0x68, 0x63, 0x62, 0x61, 0x0a, 0x00, 0xff);
    fc.assert(fc.property(fc.array(fc.array(alphabet, { maxLength: 10 }), { maxLength: 10 }), (chunks) => {
      const drv = new BufferChardev();
      const mux = new MuxChardev(drv);
      const fe = new FakeUart(1 << 20);
      fe.be = mux.attach(fe);
      let quits = 0;
      mux.on('quit', () => quits++);
      for (const c of chunks) drv.feed(Uint8Array.from(c));
      fe.readAll();
      // Reference: a two-state machine over the concatenated input.
      const want: number[] = [];
      let esc = false, wantQuits = 0;
      for (const ch of chunks.flat()) {
        if (esc) {
          esc = false;
          if (ch === 0x01) want.push(ch);
          else if (ch === 0x78 || ch === 0x58) wantQuits++;
        } else if (ch === 0x01) esc = true;
        else want.push(ch);
      }
      expect(fe.received).toEqual(want);
      expect(quits).toBe(wantQuits);
    }));
  });
});
