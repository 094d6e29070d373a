/**
 * The gdb server on a TCP port (QEMU `-gdb tcp::1234`, `-s`): listens, and for each debugger
 * connection runs a {@link GdbStub} over the socket, one debugger at a time (a second connection is
 * closed at once, as QEMU refuses it). Between `continue` slices the stub yields with `setImmediate`,
 * so socket input (Ctrl-C) is read while the guest runs.
 * @module
 */
import * as net from 'node:net';
import { GdbStub, type GdbStubOptions } from '../gdbstub/stub.js';
import type { GdbTarget } from '../gdbstub/target.js';
import { SoftboardError } from '../util/errors.js';

/** The gdb server could not listen (port in use, bad host…). */
export class GdbServerError extends SoftboardError {
  override name = 'GdbServerError';
}

/** Options of {@link startGdbServer}. */
export interface GdbServerOptions extends Omit<GdbStubOptions, 'schedule'> {
  /** The CPU to debug, or a function giving it at each connection. */
  readonly target: GdbTarget | (() => GdbTarget);
  /** TCP port (default 1234, as QEMU `-s`; 0 picks a free port, see {@link GdbServer.port}). */
  readonly port?: number;
  /** Address to listen on (default `127.0.0.1`). */
  readonly host?: string;
  /**
   * A debugger connected: the embedder must stop running the guest itself from now on (the stub drives
   * it) until {@link onDisconnect}.
   */
  readonly onConnect?: (stub: GdbStub) => void;
  /** The debugger's connection ended (after `D`, `k`, or a dropped socket). */
  readonly onDisconnect?: () => void;
}

/** A listening gdb server. Create with {@link startGdbServer}. */
export class GdbServer {
  readonly #server: net.Server;
  readonly #opts: GdbServerOptions;
  #socket: net.Socket | null = null;
  #stub: GdbStub | null = null;
  readonly #waiters: Array<(stub: GdbStub) => void> = [];

  private constructor(server: net.Server, options: GdbServerOptions) {
    this.#server = server;
    this.#opts = options;
    server.on('connection', (s) => this.#attach(s));
  }

  /** Listens; rejects with a {@link GdbServerError} naming the address if that fails. */
  static listen(options: GdbServerOptions): Promise<GdbServer> {
    const server = net.createServer();
    const gs = new GdbServer(server, options);
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 1234;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new GdbServerError(`gdb server: cannot listen on ${host}:${port}: ${err.message}`, { cause: err })));
      server.listen(port, host, () => resolve(gs));
    });
  }

  /** The port listened on. */
  get port(): number {
    const a = this.#server.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  /** The stub of the connected debugger, or null. */
  get stub(): GdbStub | null {
    return this.#stub;
  }

  /** Resolves with the stub when a debugger is connected (at once if one is). */
  whenConnected(): Promise<GdbStub> {
    if (this.#stub) return Promise.resolve(this.#stub);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Closes the connection and the listening socket. */
  close(): Promise<void> {
    this.#socket?.destroy();
    return new Promise((resolve) => {
      if (!this.#server.listening) { resolve(); return; }
      this.#server.close(() => resolve());
    });
  }

  #attach(s: net.Socket): void {
    if (this.#socket !== null) {
      s.destroy();
      return;
    }
    this.#socket = s;
    s.setNoDelay(true);
    const target = typeof this.#opts.target === 'function' ? this.#opts.target() : this.#opts.target;
    let closeCb: (() => void) | null = null;
    const stub = new GdbStub({
      write: (bytes) => { if (!s.destroyed) s.write(bytes); },
      onData: (cb) => { s.on('data', (chunk: Buffer) => cb(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length))); },
      onClose: (cb) => { closeCb = cb; },
    }, target, { ...this.#opts, schedule: (fn) => { setImmediate(fn); } });
    this.#stub = stub;
    s.on('error', () => { /* followed by 'close' */ });
    s.on('close', () => {
      if (this.#socket !== s) return;
      this.#socket = null;
      this.#stub = null;
      closeCb?.();
      this.#opts.onDisconnect?.();
    });
    this.#opts.onConnect?.(stub);
    for (const w of this.#waiters.splice(0)) w(stub);
  }
}

/** Starts a gdb server (see {@link GdbServer}). */
export function startGdbServer(options: GdbServerOptions): Promise<GdbServer> {
  return GdbServer.listen(options);
}
