import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ns16550a, TYPE_NS16550A } from '../../../src/hw/char/serial.js';
import { createObject } from '../../../src/qom/index.js';
import { AddressSpace, MemoryRegion } from '../../../src/memory/index.js';
import { MainLoop } from '../../../src/util/main-loop.js';
import { BufferChardev, ChardevRegistry } from '../../../src/chardev/index.js';
import { LifecycleError } from '../../../src/util/errors.js';

const RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7;

interface Rig {
  uart: Ns16550a;
  as: AddressSpace;
  chr: BufferChardev;
  loop: MainLoop;
  /** Last level the IRQ listener saw. */
  irq: () => boolean;
  /** Number of times the listener was called. */
  irqCalls: () => number;
  rd: (reg: number) => number;
  wr: (reg: number, v: number) => void;
}

function rig(props: Record<string, unknown> = {}): Rig {
  const loop = new MainLoop();
  const chr = new BufferChardev();
  const uart = createObject(Ns16550a, { chardev: chr, ...props });
  uart.setMachineContext({ mainLoop: loop });
  let level = false;
  let calls = 0;
  uart.connectIrq(0, (l) => {
    level = l;
    calls++;
  });
  uart.realize();
  const root = MemoryRegion.container(null, 'root', 0x10000);
  root.addSubregion(0x1000, uart.region);
  const as = new AddressSpace(root, 'test');
  const shift = uart.regShift;
  return {
    uart, as, chr, loop,
    irq: () => level,
    irqCalls: () => calls,
    rd: (reg) => as.readNumber(0x1000n + BigInt(reg << shift), 1),
    wr: (reg, v) => as.writeNumber(0x1000n + BigInt(reg << shift), v, 1),
  };
}

/**
 * A register script recorded from QEMU 7.2 (qemu-system-riscv64 -M virt -qtest stdio, UART at
 * 0x10000000): `w REG VALUE` writes a byte, `r REG =VALUE` reads one and gives what QEMU returned.
 * Covers reset values, DLAB, FIFO enable, THRE interrupt and its IIR-read clear, IER re-sampling,
 * loopback receive, FIFO overrun (OE) and its LSR-read clear, loopback MSR, trigger levels, SCR.
 */
const QEMU_SCRIPT =
  'r 0 =0x00 | r 1 =0x00 | r 2 =0x01 | r 3 =0x00 | r 4 =0x08 | r 5 =0x60 | r 6 =0xb0 | r 7 =0x00 | w 3 0x80 | w 0 0x34 | w 1 0x12 | r 0 =0x34 | r 1 =0x12 | r 3 =0x80 | w 3 0x03 | r 0 =0x00 | r 1 =0x00 | r 3 =0x03 | w 2 0xc7 | r 2 =0xc1 | r 5 =0x60 | w 1 0x02 | r 2 =0xc2 | r 2 =0xc1 | r 1 =0x02 | w 1 0x00 | w 1 0x02 | r 2 =0xc2 | w 4 0x10 | w 0 0x41 | r 5 =0x61 | r 2 =0xc2 | r 0 =0x41 | r 5 =0x60 | r 2 =0xc1 | w 0 0x61 | w 0 0x62 | w 0 0x63 | w 0 0x64 | w 0 0x65 | w 0 0x66 | w 0 0x67 | w 0 0x68 | w 0 0x69 | w 0 0x6a | w 0 0x6b | w 0 0x6c | w 0 0x6d | w 0 0x6e | w 0 0x6f | w 0 0x70 | w 0 0x71 | r 5 =0x63 | r 5 =0x61 | r 0 =0x61 | r 0 =0x62 | r 5 =0x61 | w 4 0x1f | r 6 =0xf0 | r 4 =0x1f | w 4 0x10 | r 6 =0x00 | w 2 0x01 | w 1 0x01 | w 0 0x55 | r 2 =0xc4 | r 5 =0x61 | w 1 0x05 | r 2 =0xc4 | w 7 0xa5 | r 7 =0xa5 | w 2 0x00 | w 1 0x01 | w 0 0x11 | w 0 0x22 | r 5 =0x63 | r 2 =0x04 | r 0 =0x22 | r 5 =0x60 | r 2 =0x01 | w 1 0x0f | w 2 0x06 | r 5 =0x60 | r 2 =0x02 | w 4 0x00 | r 6 =0xb0 | r 2 =0x01 | r 5 =0x60';

describe('ns16550a', () => {
  it('is registered under its QOM name', () => {
    expect(createObject(TYPE_NS16550A)).toBeInstanceOf(Ns16550a);
  });

  it('replays a register script exactly as QEMU 7.2 does', () => {
    const r = rig({ baudbase: 399193 });
    const steps = QEMU_SCRIPT.split(' | ');
    for (const [i, step] of steps.entries()) {
      const [op, reg, val] = step.split(' ') as [string, string, string];
      if (op === 'w') {
        r.wr(Number(reg), Number(val));
      } else {
        const got = r.rd(Number(reg));
        expect({ step: i, op: step, got: `0x${got.toString(16).padStart(2, '0')}` }).toEqual({ step: i, op: step, got: val.slice(1) });
      }
    }
    // The IRQ line agrees with IIR at the end.
    expect(r.irq()).toBe((r.rd(IIR) & 1) === 0);
  });

  it('IRQ line follows IIR after every step of random register traffic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 255 })), { maxLength: 60 }),
        (ops) => {
          const r = rig();
          for (const [isWrite, reg, v] of ops) {
            if (isWrite) r.wr(reg, v);
            else r.rd(reg);
          }
          r.wr(LCR, r.rd(LCR) & 0x7f);
          // IIR bit 0 says "no interrupt pending"; the line must agree before the read (which may clear THRI).
          const before = r.irq();
          const iir = r.rd(IIR);
          expect(before).toBe((iir & 1) === 0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('sends THR writes to the chardev and raises THRE interrupts', () => {
    const r = rig();
    expect(r.irq()).toBe(false);
    r.wr(IER, 0x02); // THRI: THR is empty, so the interrupt is pending at once
    expect(r.irq()).toBe(true);
    expect(r.rd(IIR) & 0x0f).toBe(0x02);
    expect(r.irq()).toBe(false); // reading IIR with THRI as the cause clears it
    for (const c of 'Hi!\n') r.wr(RBR, c.charCodeAt(0));
    expect(r.chr.output).toBe('Hi!\n');
    expect(r.rd(LSR) & 0x60).toBe(0x60); // THRE and TEMT: transmitted at once
    expect(r.irq()).toBe(true); // THR empty again after each byte
  });

  it('with the FIFO on, transmit still goes out immediately', () => {
    const r = rig();
    r.wr(FCR, 0x07);
    const text = 'a longer line than sixteen bytes';
    for (const c of text) r.wr(RBR, c.charCodeAt(0));
    expect(r.chr.output).toBe(text);
  });

  it('receives chardev input one byte at a time with the FIFO off, with DR and the RDI interrupt', () => {
    const r = rig();
    r.wr(IER, 0x01);
    r.chr.feed('hello');
    expect(r.chr.pendingInput).toBe(4); // flow control: one byte in RBR
    expect(r.irq()).toBe(true);
    expect(r.rd(IIR) & 0x0f).toBe(0x04);
    let got = '';
    while (r.rd(LSR) & 0x01) got += String.fromCharCode(r.rd(RBR));
    expect(got).toBe('hello');
    expect(r.irq()).toBe(false);
    expect(r.rd(LSR) & 0x02).toBe(0); // no overrun: flow control held the rest back
  });

  it('with the FIFO on, accepts up to the trigger level, interrupts at it, and keeps order', () => {
    const r = rig();
    r.wr(FCR, 0x41); // FIFO on, trigger level 4
    r.wr(IER, 0x01);
    r.chr.feed('abcdefghij');
    expect(r.chr.pendingInput).toBe(6);
    expect(r.irq()).toBe(true);
    expect(r.rd(IIR)).toBe(0xc4);
    let got = '';
    while (r.rd(LSR) & 0x01) got += String.fromCharCode(r.rd(RBR));
    expect(got).toBe('abcdefghij');
    expect(r.chr.pendingInput).toBe(0);
    expect(r.irq()).toBe(false);
  });

  it('raises the character timeout interrupt exactly 4 character times after the last byte', () => {
    const r = rig({ baudbase: 399193 });
    r.wr(LCR, 0x83);
    r.wr(RBR, 1); // divisor 1
    r.wr(IER, 0);
    r.wr(LCR, 0x03); // 8N1: 10 bits a character
    r.wr(FCR, 0xc1); // FIFO on, trigger level 14
    r.wr(IER, 0x01);
    const charNs = Math.floor(1e9 / 399193) * 10;
    const t0 = r.loop.virtual.now();
    r.chr.feed('xy');
    expect(r.irq()).toBe(false); // 2 bytes < trigger level
    r.loop.virtual.advanceTo(t0 + 4 * charNs - 1);
    expect(r.irq()).toBe(false);
    r.loop.virtual.advanceTo(t0 + 4 * charNs);
    expect(r.irq()).toBe(true);
    expect(r.rd(IIR)).toBe(0xcc);
    expect(String.fromCharCode(r.rd(RBR))).toBe('x');
    expect(r.irq()).toBe(false); // reading RBR clears the timeout and re-arms it
    const t1 = r.loop.virtual.now();
    r.loop.virtual.advanceTo(t1 + 4 * charNs);
    expect(r.rd(IIR)).toBe(0xcc);
    expect(String.fromCharCode(r.rd(RBR))).toBe('y');
    r.loop.virtual.advanceTo(t1 + 100 * charNs);
    expect(r.irq()).toBe(false); // FIFO empty: no timeout
  });

  it('loopback overrun sets OE and the line status interrupt; reading LSR clears both', () => {
    const r = rig();
    r.wr(FCR, 0x01);
    r.wr(MCR, 0x10);
    r.wr(IER, 0x04); // RLSI only
    for (let i = 0; i < 16; i++) r.wr(RBR, i);
    expect(r.irq()).toBe(false);
    r.wr(RBR, 0xee);
    expect(r.irq()).toBe(true);
    expect(r.rd(IIR) & 0x0f).toBe(0x06);
    expect(r.rd(LSR) & 0x03).toBe(0x03);
    expect(r.irq()).toBe(false);
    for (let i = 0; i < 16; i++) expect(r.rd(RBR)).toBe(i); // the overrunning byte was dropped
    expect(r.chr.output).toBe(''); // loopback sends nothing out
  });

  it('a break from the chardev queues a NUL with BI', () => {
    const r = rig();
    r.wr(IER, 0x04);
    (r.chr as unknown as { beEvent(ev: string): void }).beEvent('break');
    expect(r.irq()).toBe(true);
    expect(r.rd(LSR) & 0x11).toBe(0x11);
    expect(r.rd(RBR)).toBe(0);
  });

  it('reg-shift spaces the registers and a wide access is one register access', () => {
    const r = rig({ regShift: 2 });
    expect(r.uart.region.size).toBe(32n);
    r.as.writeNumber(0x1000n + 0x1cn, 0x1234_56a5, 4); // SCR at 7 << 2; only the low byte is kept
    expect(r.rd(SCR)).toBe(0xa5);
    r.wr(MCR, 0x10); // loopback
    r.as.writeNumber(0x1000n, 0x41, 4);
    r.as.writeNumber(0x1000n, 0x42, 4);
    // A 4-byte read of RBR pops one byte (QEMU serial-mm impl.max_access_size = 8).
    expect(r.as.readNumber(0x1000n, 4)).toBe(0x42);
    expect(r.as.read(0x1000n + 0x10n, 8)).toBe(0x10n); // MCR, one access for 8 bytes
    expect(r.as.readNumber(0x1000n + 0x14n, 4)).toBe(0x62); // THRE, TEMT, and OE: the 2nd byte overran RBR
  });

  it('resolves a chardev id through the machine context registry', () => {
    const loop = new MainLoop();
    const chardevs = new ChardevRegistry();
    const chr = chardevs.add('serial0', new BufferChardev());
    const uart = createObject(Ns16550a, { chardev: 'serial0' });
    uart.setMachineContext({ mainLoop: loop, chardevs });
    uart.realize();
    const root = MemoryRegion.container(null, 'root', 0x100);
    root.addSubregion(0, uart.region);
    new AddressSpace(root, 'a').writeNumber(0n, 0x58, 1);
    expect(chr.output).toBe('X');
  });

  it('works without a chardev, and refuses to realize without a machine context', () => {
    const loop = new MainLoop();
    const lone = createObject(Ns16550a);
    lone.setMachineContext({ mainLoop: loop });
    lone.realize();
    const root = MemoryRegion.container(null, 'root', 0x100);
    root.addSubregion(0, lone.region);
    new AddressSpace(root, 'a').writeNumber(0n, 0x58, 1);
    expect(() => createObject(Ns16550a).realize()).toThrow(LifecycleError);
  });

  it('reset restores the power-on registers and lowers the IRQ', () => {
    const r = rig();
    r.wr(IER, 0x0f);
    r.wr(FCR, 0x07);
    r.wr(SCR, 0x77);
    expect(r.irq()).toBe(true);
    r.uart.coldReset();
    expect(r.irq()).toBe(false);
    expect([IER, IIR, LCR, MCR, LSR, SCR].map((reg) => r.rd(reg))).toEqual([0, 0x01, 0, 0x08, 0x60, 0]);
  });

  it('two UARTs on two machines do not share state', () => {
    const a = rig();
    const b = rig();
    a.wr(SCR, 1);
    b.wr(SCR, 2);
    a.wr(RBR, 0x61);
    expect([a.rd(SCR), b.rd(SCR)]).toEqual([1, 2]);
    expect([a.chr.output, b.chr.output]).toEqual(['a', '']);
  });
});
