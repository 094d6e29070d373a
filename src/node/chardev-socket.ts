/**
 * The socket chardev (QEMU chardev/char-socket.c): a TCP (or Unix-domain) stream, as server or client.
 *
 * - Server (`server: true`): listens; one client at a time (a second connection is closed at once, where
 *   QEMU leaves it in the backlog); when it leaves, the next may connect. `wait: true` (QEMU's default)
 *   makes {@link SocketChardev.create} resolve only once a client is connected; `wait: false` resolves as
 *   soon as it listens (QEMU `server=on,wait=off`).
 * - Client: connects to `host:port`; with `reconnectMs` it retries after a failure or a disconnect (QEMU
 *   `reconnect=`), otherwise a failed first connection rejects `create`.
 *
 * While no peer is connected, guest output is dropped (QEMU tcp_chr_write returns the length anyway).
 * Input the guest cannot take yet stays queued; above 64 KiB the socket is paused (TCP backpressure).
 */
import * as net from 'node:net';
import { Chardev, ChardevError } from '../chardev/char.js';

/** Options of {@link SocketChardev.create}. */
export interface SocketChardevOptions {
  /** Host to listen on or connect to. Default `127.0.0.1`. */
  readonly host?: string;
  /** TCP port; 0 with `server` picks a free port (see {@link SocketChardev.address}). */
  readonly port?: number;
  /** Unix-domain socket path, instead of host/port. */
  readonly path?: string;
  /** Listen instead of connecting. Default false. */
  readonly server?: boolean;
  /** Server only: resolve `create` when a client connects (true, QEMU's default) or when listening (false). */
  readonly wait?: boolean;
  /** Client only: reconnect this many ms after a failure or disconnect. Default: no reconnection. */
  readonly reconnectMs?: number;
  /** Disable Nagle's algorithm (QEMU `nodelay`). Default true: a console wants each key at once. */
  readonly nodelay?: boolean;
}

const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;

/** Guest character stream over a socket. Create with {@link SocketChardev.create}. */
export class SocketChardev extends Chardev {
  private sock: net.Socket | null = null;
  private server: net.Server | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private paused = false;
  private readonly connectWaiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  private constructor(private readonly opts: SocketChardevOptions, label: string) {
    super(label);
    this.beOpen = false;
  }

  /**
   * Opens the socket. Resolves as described in the module comment; rejects with a {@link ChardevError}
   * naming the address if listening fails, or if a client's first connection fails without `reconnectMs`.
   */
  static async create(options: SocketChardevOptions, label = ''): Promise<SocketChardev> {
    if (options.path === undefined && options.port === undefined) {
      throw new ChardevError(`socket chardev '${label}': needs a port or a path`);
    }
    const chr = new SocketChardev(options, label);
    if (options.server) {
      await chr.listen();
      if (options.wait ?? true) await chr.whenConnected();
    } else {
      await chr.connect(true);
    }
    return chr;
  }

  /** True while a peer is connected. */
  get connected(): boolean {
    return this.sock !== null;
  }

  /** The listening address of a server (port chosen when `port: 0`), or null for a client. */
  get address(): net.AddressInfo | string | null {
    return this.server?.address() ?? null;
  }

  /** Resolves when a peer is connected (at once if one is); rejects if the chardev is closed first. */
  whenConnected(): Promise<void> {
    if (this.sock !== null) return Promise.resolve();
    if (this.isClosed) return Promise.reject(new ChardevError(`socket chardev '${this.label}' is closed`));
    return new Promise((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
  }

  /** Closes the chardev and resolves when the socket and server are fully closed. */
  async closeAndWait(): Promise<void> {
    const server = this.server;
    const sock = this.sock;
    const done: Array<Promise<void>> = [];
    if (sock) done.push(new Promise((r) => { if (sock.destroyed) r(); else sock.once('close', () => r()); }));
    if (server) done.push(new Promise((r) => { if (!server.listening) r(); else server.once('close', () => r()); }));
    this.close();
    await Promise.all(done);
  }

  private describe(): string {
    return this.opts.path ?? `${this.opts.host ?? '127.0.0.1'}:${this.opts.port}`;
  }

  private listen(): Promise<void> {
    const server = net.createServer((s) => this.attachSocket(s));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err) => reject(new ChardevError(
        `socket chardev '${this.label}': cannot listen on ${this.describe()}: ${err.message}`)));
      const done = (): void => resolve();
      if (this.opts.path !== undefined) server.listen(this.opts.path, done);
      else server.listen(this.opts.port, this.opts.host ?? '127.0.0.1', done);
    });
  }

  private connect(first: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = this.opts.path !== undefined
        ? net.connect(this.opts.path)
        : net.connect(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1');
      const onError = (err: Error): void => {
        s.destroy();
        if (this.isClosed) return resolve();
        if (this.opts.reconnectMs !== undefined) {
          this.scheduleReconnect();
          resolve();
        } else if (first) {
          reject(new ChardevError(`socket chardev '${this.label}': cannot connect to ${this.describe()}: ${err.message}`));
        } else {
          resolve();
        }
      };
      s.once('error', onError);
      s.once('connect', () => {
        s.off('error', onError);
        this.attachSocket(s);
        resolve();
      });
    });
  }

  private scheduleReconnect(): void {
    if (this.isClosed || this.reconnectTimer !== null) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.isClosed) void this.connect(false);
    }, this.opts.reconnectMs);
  }

  private attachSocket(s: net.Socket): void {
    if (this.sock !== null || this.isClosed) {
      s.destroy();
      return;
    }
    this.sock = s;
    s.setNoDelay(this.opts.nodelay ?? true);
    s.on('data', (chunk: Buffer) => {
      this.beWrite(chunk);
      if (!this.paused && this.pendingInput > HIGH_WATER) {
        this.paused = true;
        s.pause();
      }
    });
    s.on('error', () => { /* followed by 'close' */ });
    s.on('close', () => {
      if (this.sock !== s) return;
      this.sock = null;
      this.paused = false;
      if (this.isClosed) return;
      this.beEvent('closed');
      if (!this.opts.server && this.opts.reconnectMs !== undefined) this.scheduleReconnect();
    });
    this.beEvent('opened');
    for (const w of this.connectWaiters.splice(0)) w.resolve();
  }

  protected override chrWrite(bytes: Uint8Array): number {
    if (this.sock !== null && !this.sock.destroyed) this.sock.write(Buffer.from(bytes));
    return bytes.length;
  }

  protected override chrAcceptInput(): void {
    if (this.paused && this.sock !== null && this.pendingInput <= LOW_WATER) {
      this.paused = false;
      this.sock.resume();
    }
  }

  protected override chrClose(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.sock?.destroy();
    this.sock = null;
    this.server?.close();
    this.server = null;
    for (const w of this.connectWaiters.splice(0)) {
      w.reject(new ChardevError(`socket chardev '${this.label}' closed before a peer connected`));
    }
  }
}
