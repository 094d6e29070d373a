/**
 * The node gdb server over a real socket: a continue does not block the event loop (Ctrl-C arrives
 * and stops the guest), one debugger at a time, listen errors name the address.
 */
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { GdbServerError, startGdbServer } from '../../src/node/gdbserver.js';
import { rspChecksum, RspReader } from '../../src/gdbstub/packet.js';
import { makeRig } from './rig.js';

/** A raw RSP client on a socket. */
class RawClient {
  readonly packets: string[] = [];
  #waiters: Array<() => void> = [];
  closed = false;
  constructor(readonly sock: net.Socket) {
    const r = new RspReader((e) => {
      if (e.type !== 'packet') return;
      this.packets.push(e.payload);
      for (const w of this.#waiters.splice(0)) w();
    });
    sock.on('data', (b: Buffer) => r.feed(new Uint8Array(b)));
    sock.on('close', () => { this.closed = true; for (const w of this.#waiters.splice(0)) w(); });
  }
  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }
  send(p: string): void {
    this.sock.write(`$${p}#${rspChecksum(p).toString(16).padStart(2, '0')}`);
  }
  /** Waits for the `n`-th packet (1-based) or the socket's end. */
  async packet(n: number): Promise<string | undefined> {
    while (this.packets.length < n && !this.closed) await new Promise<void>((r) => this.#waiters.push(r));
    return this.packets[n - 1];
  }
}

describe('gdb server (node:net)', () => {
  it('keeps the event loop running during continue: Ctrl-C stops the guest with SIGINT', async () => {
    const rig = makeRig();
    rig.cpu.pc = 0x8000016cn; // `j .` forever
    const server = await startGdbServer({ target: rig.target, port: 0, sliceInstructions: 10_000 });
    try {
      const c = await RawClient.connect(server.port);
      c.send('QStartNoAckMode');
      expect(await c.packet(1)).toBe('OK');
      c.send('c');
      // Timers still fire while it runs (the loop yields between slices): wait for a few slices.
      const deadline = Date.now() + 10_000;
      while (rig.cpu.icount <= 30_000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(server.stub?.running).toBe(true);
      expect(rig.cpu.icount).toBeGreaterThan(30_000);
      c.sock.write(Buffer.from([3]));
      expect(await c.packet(2)).toBe('T02thread:01;');
      expect(rig.cpu.pc).toBe(0x8000016cn);
      c.sock.destroy();
    } finally {
      await server.close();
    }
  });

  it('accepts one debugger at a time, and the next once the first has gone', async () => {
    const rig = makeRig();
    let connects = 0, disconnects = 0;
    const server = await startGdbServer({
      target: rig.target, port: 0, onConnect: () => connects++, onDisconnect: () => disconnects++,
    });
    try {
      const a = await RawClient.connect(server.port);
      await server.whenConnected();
      const b = await RawClient.connect(server.port);
      expect(await b.packet(1)).toBeUndefined(); // closed by the server
      expect(b.closed).toBe(true);
      a.send('Z0,80000010,4');
      expect(await a.packet(1)).toBe('OK');
      expect(rig.cpu.breakpoints.size).toBe(1);
      a.sock.destroy();
      while (server.stub !== null) await new Promise((r) => setTimeout(r, 5));
      expect(rig.cpu.breakpoints.size).toBe(0); // a dropped debugger leaves no breakpoint behind
      const c = await RawClient.connect(server.port);
      c.send('qC');
      expect(await c.packet(1)).toBe('QC1');
      c.sock.destroy();
      expect([connects, disconnects >= 1]).toEqual([2, true]);
    } finally {
      await server.close();
    }
  });

  it('reports a port already in use with a GdbServerError naming it', async () => {
    const rig = makeRig();
    const first = await startGdbServer({ target: rig.target, port: 0 });
    try {
      const err = await startGdbServer({ target: rig.target, port: first.port }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GdbServerError);
      expect(String((err as Error).message)).toContain(`127.0.0.1:${first.port}`);
    } finally {
      await first.close();
    }
  });
});
