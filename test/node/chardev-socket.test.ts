import { describe, it, expect, afterEach } from 'vitest';
import * as net from 'node:net';
import { SocketChardev } from '../../src/node/chardev-socket.js';
import { ChardevError, type ChardevEvent } from '../../src/chardev/index.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function portOf(chr: SocketChardev): number {
  const a = chr.address;
  if (a === null || typeof a === 'string') throw new Error('no TCP address');
  return a.port;
}

function connectClient(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
    cleanups.push(() => { s.destroy(); });
  });
}

function readUntil(s: net.Socket, want: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let n = 0;
    const on = (b: Buffer): void => {
      parts.push(b); n += b.length;
      if (n >= want) { s.off('data', on); resolve(Buffer.concat(parts)); }
    };
    s.on('data', on);
  });
}

/** A device with a small FIFO, recording what it got. */
function device(depth: number) {
  const dev = {
    fifo: [] as number[], got: [] as number[], events: [] as ChardevEvent[],
    canReceive: () => depth - dev.fifo.length,
    receive: (b: Uint8Array) => { dev.fifo.push(...b); },
    event: (e: ChardevEvent) => { dev.events.push(e); },
  };
  return dev;
}

function until(cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() - t0 > ms) reject(new Error('timeout'));
      else setTimeout(tick, 2);
    };
    tick();
  });
}

describe('SocketChardev over loopback', () => {
  it('server wait=off: round trip with flow control and connect/disconnect events', async () => {
    const chr = await SocketChardev.create({ server: true, wait: false, port: 0 }, 'serial0');
    cleanups.push(() => chr.closeAndWait());
    expect(chr.connected).toBe(false);
    const dev = device(3);
    const be = chr.attach(dev);
    expect(be.write(Uint8Array.of(1))).toBe(1); // no peer: dropped, not an error

    const client = await connectClient(portOf(chr));
    await chr.whenConnected();
    expect(dev.events).toEqual(['opened']);

    client.write('hello, guest');
    await until(() => dev.fifo.length === 3 && chr.pendingInput === 9);
    // The guest drains its FIFO bit by bit; the rest arrives in order.
    while (dev.fifo.length > 0) {
      dev.got.push(...dev.fifo.splice(0));
      be.acceptInput();
    }
    expect(Buffer.from(dev.got).toString()).toBe('hello, guest');

    const reply = readUntil(client, 5);
    be.write(new TextEncoder().encode('hi!\r\n'));
    expect((await reply).toString()).toBe('hi!\r\n');

    client.destroy();
    await until(() => dev.events.includes('closed'));
    expect(chr.connected).toBe(false);
    expect(be.isOpen).toBe(false);
  });

  it('server wait=on resolves when the client connects; a second client is refused', async () => {
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));

    const pending = SocketChardev.create({ server: true, port });
    let ready = false;
    void pending.then(() => { ready = true; });
    // Connect as soon as the port accepts.
    let first: net.Socket | null = null;
    await until(() => {
      if (first === null) {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => { if (first === s) first = null; });
        first = s;
        cleanups.push(() => { s.destroy(); });
      }
      return ready;
    });
    const chr = await pending;
    cleanups.push(() => chr.closeAndWait());
    expect(chr.connected).toBe(true);

    const second = await connectClient(port);
    await new Promise<void>((r) => second.once('close', () => r()));
    expect(chr.connected).toBe(true);
  });

  it('client mode connects to a server, and fails clearly without one', async () => {
    const accepted: net.Socket[] = [];
    const srv = net.createServer((s) => accepted.push(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => { for (const s of accepted) s.destroy(); srv.close(() => r()); }));
    const port = (srv.address() as net.AddressInfo).port;

    const chr = await SocketChardev.create({ port }, 'con');
    cleanups.push(() => chr.closeAndWait());
    const dev = device(100);
    const be = chr.attach(dev);
    expect(dev.events).toEqual(['opened']);
    await until(() => accepted.length === 1);
    const peer = accepted[0]!;
    const got = readUntil(peer, 4);
    be.write(new TextEncoder().encode('ping'));
    expect((await got).toString()).toBe('ping');
    peer.write('pong');
    await until(() => dev.fifo.length === 4);
    expect(Buffer.from(dev.fifo).toString()).toBe('pong');

    await chr.closeAndWait();
    await expect(SocketChardev.create({ port: 1, host: '127.0.0.1' }, 'nope')).rejects.toThrow(ChardevError);
    await expect(SocketChardev.create({}, 'x')).rejects.toThrow(/needs a port or a path/);
  });

  it('pauses a flooding peer and loses nothing', async () => {
    const chr = await SocketChardev.create({ server: true, wait: false, port: 0 });
    cleanups.push(() => chr.closeAndWait());
    const dev = device(16);
    const be = chr.attach(dev);
    const client = await connectClient(portOf(chr));
    const data = Buffer.alloc(300 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
    client.write(data);
    // Let the queue pass the high-water mark while the device reads nothing.
    await until(() => chr.pendingInput > 64 * 1024);
    await new Promise((r) => setTimeout(r, 20));
    expect(chr.pendingInput).toBeLessThan(data.length); // paused before taking everything
    const got: number[] = [];
    await until(() => {
      do {
        for (const b of dev.fifo.splice(0)) got.push(b);
        be.acceptInput();
      } while (dev.fifo.length > 0);
      return got.length === data.length;
    }, 10000);
    expect(Buffer.from(got).equals(data)).toBe(true);
  });
});
