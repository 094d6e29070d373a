import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  BufferChardev, CallbackChardev, Chardev, ChardevError, ChardevRegistry, NullChardev,
} from '../../src/chardev/index.js';
import { FakeUart } from './helpers.js';

function attach<T extends Chardev>(chr: T, depth: number): FakeUart {
  const uart = new FakeUart(depth);
  uart.be = chr.attach(uart);
  return uart;
}

describe('flow control (char-fe.c can_read / accept_input)', () => {
  it('delivers only what canReceive allows and the rest on acceptInput', () => {
    const chr = new BufferChardev();
    const uart = attach(chr, 4);
    chr.feed('hello world');
    expect(uart.fifo.length).toBe(4);
    expect(chr.pendingInput).toBe(7);
    uart.read(2);
    expect(uart.fifo.length).toBe(4);
    expect(chr.pendingInput).toBe(5);
    uart.readAll();
    expect(uart.text()).toBe('hello world');
    expect(chr.pendingInput).toBe(0);
  });

  it('keeps input that arrives before a frontend attaches', () => {
    const chr = new CallbackChardev();
    chr.input('early');
    const uart = attach(chr, 16);
    uart.readAll();
    expect(uart.text()).toBe('early');
  });

  it('pollInput delivers to a device that freed room without calling acceptInput', () => {
    const chr = new BufferChardev();
    const uart = attach(chr, 2);
    chr.feed('abcd');
    uart.received.push(...uart.fifo.splice(0)); // guest read, no acceptInput
    chr.pollInput();
    expect(uart.fifo).toEqual([0x63, 0x64]);
  });

  it('survives a receive() that re-enters acceptInput', () => {
    const chr = new BufferChardev();
    const got: number[] = [];
    const be = chr.attach({
      canReceive: () => 1,
      receive: (b) => { got.push(...b); be.acceptInput(); },
    });
    chr.feed('xyz');
    expect(String.fromCharCode(...got)).toBe('xyz');
  });

  it('loses and reorders nothing under random chunking and reads', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 20 }), { maxLength: 20 }),
      fc.array(fc.nat(8), { maxLength: 60 }),
      fc.integer({ min: 1, max: 8 }),
      (chunks, reads, depth) => {
        const chr = new BufferChardev();
        const uart = attach(chr, depth);
        const all = chunks.flatMap((c) => [...c]);
        let r = 0;
        for (const c of chunks) {
          chr.feed(c);
          uart.read(reads[r++ % Math.max(1, reads.length)] ?? 1);
          expect(uart.fifo.length).toBeLessThanOrEqual(depth);
        }
        uart.readAll();
        expect(uart.received).toEqual(all);
        expect(uart.maxSeen).toBeLessThanOrEqual(depth);
        expect(chr.pendingInput).toBe(0);
      },
    ));
  });
});

describe('BufferChardev', () => {
  it('collects output as text and bytes and clears it', () => {
    const chr = new BufferChardev();
    const be = chr.attach({ canReceive: () => 0, receive: () => {} });
    be.write(new TextEncoder().encode('héllo '));
    be.writeByte(0x21);
    expect(chr.output).toBe('héllo !');
    expect([...chr.outputBytes]).toEqual([...new TextEncoder().encode('héllo !')]);
    chr.clearOutput();
    expect(chr.output).toBe('');
    expect(chr.outputBytes.length).toBe(0);
    be.writeByte(0x41);
    expect(chr.output).toBe('A');
  });

  it('decodes UTF-8 split across writes', () => {
    const chr = new BufferChardev();
    const be = chr.attach({ canReceive: () => 0, receive: () => {} });
    for (const b of new TextEncoder().encode('€uro')) be.writeByte(b);
    expect(chr.output).toBe('€uro');
  });

  it('keeps only the last `capacity` bytes when bounded', () => {
    const chr = new BufferChardev({ capacity: 5 });
    const be = chr.attach({ canReceive: () => 0, receive: () => {} });
    be.write(new TextEncoder().encode('0123456789'));
    expect(chr.output).toBe('56789');
    be.writeByte(0x41);
    expect(chr.output).toBe('6789A');
    expect(() => new BufferChardev({ capacity: 0 })).toThrow(ChardevError);
  });

  it('waitFor resolves when the text appears, even split over writes', async () => {
    const chr = new BufferChardev();
    const be = chr.attach({ canReceive: () => 0, receive: () => {} });
    let resolved = false;
    const p = chr.waitFor('login:').then((out) => { resolved = true; return out; });
    for (const ch of 'Debian\nlog') be.writeByte(ch.charCodeAt(0));
    await Promise.resolve();
    expect(resolved).toBe(false);
    for (const ch of 'in: ') be.writeByte(ch.charCodeAt(0));
    expect(await p).toBe('Debian\nlogin:'); // resolved at the write that completed the text
    await expect(chr.waitFor('Debian')).resolves.toContain('login');
  });

  it('waitFor rejects on close and on abort', async () => {
    const chr = new BufferChardev({}, 'serial0');
    const p = chr.waitFor('never');
    const ac = new AbortController();
    const q = chr.waitFor('never either', { signal: ac.signal });
    ac.abort(new Error('timed out'));
    await expect(q).rejects.toThrow('timed out');
    chr.close();
    await expect(p).rejects.toThrow(ChardevError);
    await expect(p).rejects.toThrow(/serial0/);
    await expect(chr.waitFor('x')).rejects.toThrow(ChardevError);
  });
});

describe('Chardev basics', () => {
  it('CallbackChardev emits copies of guest output', () => {
    const chr = new CallbackChardev();
    const seen: Uint8Array[] = [];
    chr.on('data', (b) => seen.push(b));
    const be = chr.attach({ canReceive: () => 0, receive: () => {} });
    const buf = Uint8Array.of(1, 2, 3);
    be.write(buf);
    buf[0] = 99;
    expect(seen.map((b) => [...b])).toEqual([[1, 2, 3]]);
  });

  it('NullChardev swallows output and sends opened on attach', () => {
    const chr = new NullChardev();
    const uart = attach(chr, 4);
    expect(uart.events).toEqual(['opened']);
    expect(uart.be!.write(Uint8Array.of(1, 2))).toBe(2);
  });

  it('allows one frontend at a time', () => {
    const chr = new NullChardev('serial0');
    const a = attach(chr, 1);
    expect(() => attach(chr, 1)).toThrow(/'serial0' is already in use/);
    a.be!.detach();
    expect(a.be!.write(Uint8Array.of(1))).toBe(0);
    attach(chr, 1);
  });

  it('close detaches the frontend and refuses new use', () => {
    const chr = new BufferChardev({}, 'c');
    const uart = attach(chr, 1);
    let closed = 0;
    chr.on('close', () => closed++);
    chr.close();
    chr.close();
    expect(closed).toBe(1);
    expect(uart.be!.chardev).toBe(null);
    expect(uart.be!.write(Uint8Array.of(1))).toBe(0);
    expect(() => chr.feed('x')).toThrow(ChardevError);
    expect(() => attach(chr, 1)).toThrow(/'c' is closed/);
  });
});

describe('ChardevRegistry', () => {
  it('finds chardevs by id and labels them', () => {
    const reg = new ChardevRegistry();
    const s = reg.add('serial0', new BufferChardev());
    expect(reg.get('serial0')).toBe(s);
    expect(s.label).toBe('serial0');
    expect(s.id).toBe('serial0');
    expect(reg.ids()).toEqual(['serial0']);
  });

  it('names the unknown id and lists the known ones', () => {
    const reg = new ChardevRegistry();
    expect(() => reg.get('serial0')).toThrow(/'serial0' not found; known chardevs: \(none\)/);
    reg.add('con', new NullChardev());
    reg.add('mon', new NullChardev());
    expect(() => reg.get('serial0')).toThrow(ChardevError);
    expect(() => reg.get('serial0')).toThrow(/known chardevs: con, mon/);
  });

  it('rejects duplicate and malformed ids', () => {
    const reg = new ChardevRegistry();
    reg.add('a', new NullChardev());
    expect(() => reg.add('a', new NullChardev())).toThrow(/duplicate chardev id 'a'/);
    expect(() => reg.add('0bad', new NullChardev())).toThrow(/invalid chardev id '0bad'/);
    expect(() => reg.add('has space', new NullChardev())).toThrow(ChardevError);
  });

  it('removes, polls and closes all', () => {
    const reg = new ChardevRegistry();
    const a = reg.add('a', new BufferChardev());
    const b = reg.add('b', new BufferChardev());
    const uart = attach(b, 1);
    b.feed('xy');
    uart.received.push(...uart.fifo.splice(0));
    reg.pollInput();
    expect(uart.fifo).toEqual([0x79]);
    expect(reg.remove('a')).toBe(true);
    expect(a.isClosed).toBe(true);
    expect(reg.remove('a')).toBe(false);
    reg.closeAll();
    expect(b.isClosed).toBe(true);
    expect(reg.ids()).toEqual([]);
  });

  it('keeps machines apart', () => {
    const r1 = new ChardevRegistry(), r2 = new ChardevRegistry();
    r1.add('serial0', new NullChardev());
    expect(r2.has('serial0')).toBe(false);
  });
});
