/**
 * The gdb remote stub: the protocol state machine of one debugger connection (QEMU gdbstub/gdbstub.c:
 * gdb_handle_packet and its command tables, gdb_vm_state_change for stop replies), browser-safe. It
 * talks through an abstract {@link GdbTransport} and drives a {@link GdbTarget}; `src/node/gdbserver.ts`
 * puts it on a TCP socket.
 *
 * Single thread (thread id 1), all-stop mode. `continue` runs the target in slices of
 * {@link GdbStubOptions.sliceInstructions} instructions and yields to the host between slices through the
 * {@link GdbStubOptions.schedule} function, so that a Ctrl-C (0x03) arriving on the transport stops the
 * guest at the next slice boundary with SIGINT.
 *
 * Supported: `qSupported`, `QStartNoAckMode`, `?`, `g`/`G`, `p`/`P`, `m`/`M`/`X`, `c`/`C`/`s`/`S`,
 * `vCont` (c, C, s, S, t), `Z0`..`Z4`/`z0`..`z4` (as the target supports them),
 * `qXfer:features:read`, `qAttached`, `qC`, `qfThreadInfo`/`qsThreadInfo`, `H`, `T`, `k`/`vKill`, `D`,
 * `qRcmd` (monitor commands, if the target or options answer them). Anything else gets the empty reply
 * ("unsupported"), as the protocol asks.
 * @module
 */
import {
  bytesToBinary, bytesToHex, binaryToBytes, hex2, hexToBytes, hexToText, parseHex, rspFrame, RspReader,
  textToHex, type RspEvent,
} from './packet.js';
import {
  GDB_SIGNAL_ABRT, GDB_SIGNAL_INT, GDB_SIGNAL_TRAP, type GdbBreakpointResult, type GdbBreakpointType, type GdbStopEvent,
  type GdbTarget,
} from './target.js';

/** A byte stream to the debugger (a TCP socket, a WebSocket, a test double). */
export interface GdbTransport {
  /** Sends bytes to gdb. */
  write(bytes: Uint8Array): void;
  /** Registers the receiver of bytes from gdb (called once, by the stub's constructor). */
  onData(cb: (bytes: Uint8Array) => void): void;
  /** Registers a callback for the end of the connection (optional: then call {@link GdbStub.dispose}). */
  onClose?(cb: () => void): void;
}

/** Runs `fn` later, after pending I/O (Node: `setImmediate`; default `setTimeout(fn, 0)`). */
export type GdbScheduler = (fn: () => void) => void;

/** Options of {@link GdbStub}. */
export interface GdbStubOptions {
  /** Instructions per run slice of `continue` (default 100,000). */
  readonly sliceInstructions?: number;
  /** How the stub yields between slices (default `setTimeout(fn, 0)`). */
  readonly schedule?: GdbScheduler;
  /** Delay before the next slice when the guest is idle (WFI, nothing pending), in ms (default 10). */
  readonly idleDelayMs?: number;
  /** Largest packet gdb may send, announced in `qSupported` (default 0x4000). */
  readonly packetSize?: number;
  /** `monitor` commands not handled by the target: return the text to print, or undefined if unknown. */
  readonly monitor?: (command: string) => string | undefined;
  /** gdb sent `k` (kill): the embedder decides what that means (QEMU exits). Default: nothing. */
  readonly onKill?: () => void;
  /** gdb detached (`D`): breakpoints are removed; the embedder may resume the guest. Default: nothing. */
  readonly onDetach?: () => void;
  /** Each stop reported to gdb (for embedders and logs). */
  readonly onStop?: (event: GdbStopEvent) => void;
  /**
   * An exception thrown by the target while running a `continue` slice (an emulator bug: guest faults
   * never throw). gdb sees a SIGABRT stop. Without this option the error is rethrown from the slice.
   */
  readonly onError?: (error: unknown) => void;
  /** Protocol trace (packets in and out), for debugging the stub. */
  readonly trace?: (line: string) => void;
}

/** The thread id the stub reports for its single CPU. */
const THREAD_ID = 1;

const Z_TYPES: readonly GdbBreakpointType[] = ['sw', 'hw', 'write', 'read', 'access'];

/** One gdb connection. Create it when gdb connects; the target must be stopped and stay under the stub's control. */
export class GdbStub {
  readonly #transport: GdbTransport;
  readonly #target: GdbTarget;
  readonly #opts: GdbStubOptions;
  readonly #reader: RspReader;
  readonly #slice: number;
  readonly #schedule: GdbScheduler;
  #noAck = false;
  /** Last packet sent, kept for retransmission on `-` until gdb acknowledges it (ack mode only). */
  #unacked: Uint8Array | null = null;
  #running = false;
  #interruptRequested = false;
  #disposed = false;
  /** gdb announced these `qSupported` features. */
  #gdbSwbreak = false;
  #gdbHwbreak = false;
  #lastStop: GdbStopEvent = { kind: 'signal', signal: GDB_SIGNAL_TRAP };

  constructor(transport: GdbTransport, target: GdbTarget, options: GdbStubOptions = {}) {
    this.#transport = transport;
    this.#target = target;
    this.#opts = options;
    this.#slice = Math.max(1, Math.floor(options.sliceInstructions ?? 100_000));
    this.#schedule = options.schedule ?? ((fn) => { setTimeout(fn, 0); });
    this.#reader = new RspReader((e) => this.#onEvent(e));
    transport.onData((bytes) => { if (!this.#disposed) this.#reader.feed(bytes); });
    transport.onClose?.(() => this.dispose());
  }

  /** True while a `continue` is in progress. */
  get running(): boolean {
    return this.#running;
  }

  /** True once gdb asked for no-ack mode (`QStartNoAckMode`). */
  get noAckMode(): boolean {
    return this.#noAck;
  }

  /** Stops a running `continue` at the next slice boundary with SIGINT, as a Ctrl-C from gdb does. */
  interrupt(): void {
    if (this.#running) this.#interruptRequested = true;
  }

  /** Ends the session: stops the run loop and removes gdb's breakpoints. Further input is ignored. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#running = false;
    this.#target.removeAllBreakpoints();
  }

  // ---- input -------------------------------------------------------------------------------------

  #onEvent(e: RspEvent): void {
    switch (e.type) {
      case 'ack':
        this.#unacked = null;
        return;
      case 'nack':
        if (this.#unacked !== null) this.#transport.write(this.#unacked);
        return;
      case 'interrupt':
        this.#opts.trace?.('<- ^C');
        this.interrupt();
        return;
      case 'bad-checksum':
        this.#opts.trace?.(`<- bad checksum (expected ${hex2(e.expected)})`);
        if (!this.#noAck) this.#transport.write(new Uint8Array([0x2d]));
        return;
      case 'packet':
        this.#opts.trace?.(`<- ${e.payload}`);
        if (!this.#noAck) this.#transport.write(new Uint8Array([0x2b]));
        this.#handle(e.payload);
    }
  }

  #send(payload: string): void {
    if (this.#disposed) return;
    this.#opts.trace?.(`-> ${payload}`);
    const bytes = rspFrame(payload);
    if (!this.#noAck) this.#unacked = bytes;
    this.#transport.write(bytes);
  }

  /** Handles one packet; replies unless the command replies later (continue) or never (kill). */
  #handle(p: string): void {
    const reply = this.#dispatch(p);
    if (reply !== null) this.#send(reply);
  }

  // ---- commands (QEMU gdb_handle_packet) ---------------------------------------------------------

  #dispatch(p: string): string | null {
    const t = this.#target;
    const cmd = p[0] ?? '';
    const rest = p.slice(1);
    switch (cmd) {
      case '?': return this.#stopReply(this.#lastStop);
      case 'g': return this.#readAllRegisters();
      case 'G': return this.#writeAllRegisters(rest);
      case 'p': {
        const n = parseHex(rest);
        const v = n === null ? undefined : t.readRegister(Number(n));
        if (v === undefined) return 'E14';
        return v instanceof Uint8Array ? bytesToHex(v) : 'xx'.repeat(v.unavailable);
      }
      case 'P': {
        const m = /^([0-9a-fA-F]+)=([0-9a-fA-F]*)$/.exec(rest);
        const bytes = m ? hexToBytes(m[2]!) : null;
        if (!m || !bytes) return 'E22';
        return t.writeRegister(parseInt(m[1]!, 16), bytes) ? 'OK' : 'E14';
      }
      case 'm': {
        const a = parseAddrLen(rest);
        if (!a) return 'E22';
        const data = t.readMemory(a.addr, a.len);
        return data === null ? 'E14' : bytesToHex(data);
      }
      case 'M': {
        const i = rest.indexOf(':');
        const a = parseAddrLen(rest.slice(0, Math.max(0, i)));
        const data = hexToBytes(rest.slice(i + 1));
        if (i < 0 || !a || !data || data.length !== a.len) return 'E22';
        return t.writeMemory(a.addr, data) ? 'OK' : 'E14';
      }
      case 'X': {
        const i = rest.indexOf(':');
        const a = parseAddrLen(rest.slice(0, Math.max(0, i)));
        const data = binaryToBytes(rest.slice(i + 1));
        if (i < 0 || !a || data.length !== a.len) return 'E22';
        if (a.len === 0) return 'OK'; // gdb probes X support with a zero-length write
        return t.writeMemory(a.addr, data) ? 'OK' : 'E14';
      }
      case 'c': case 's': case 'C': case 'S': {
        // c [addr] / s [addr] / C sig[;addr] / S sig[;addr]: the signal is ignored (no guest signals).
        const addrText = cmd === 'c' || cmd === 's' ? rest : rest.split(';')[1] ?? '';
        if (addrText !== '') {
          const addr = parseHex(addrText);
          if (addr === null) return 'E22';
          t.setPc(addr);
        }
        return cmd === 'c' || cmd === 'C' ? this.#continue() : this.#step();
      }
      case 'Z': case 'z': return this.#breakpoint(cmd === 'Z', rest);
      case 'H': return 'OK'; // one thread: every selection is thread 1
      case 'T': {
        const id = parseInt(rest, 16);
        return id === THREAD_ID || id === -1 || id === 0 ? 'OK' : 'E22';
      }
      case 'k':
        this.#kill();
        return null;
      case 'D':
        this.#target.removeAllBreakpoints();
        this.#send('OK');
        this.#opts.onDetach?.();
        return null;
      case 'q': return this.#query(p);
      case 'Q':
        if (p === 'QStartNoAckMode') {
          this.#send('OK'); // still acknowledged by gdb, so sent in ack mode
          this.#noAck = true;
          this.#unacked = null;
          return null;
        }
        return '';
      case 'v': return this.#vPacket(p);
      default: return '';
    }
  }

  #query(p: string): string {
    if (p.startsWith('qSupported')) {
      const feats = p.startsWith('qSupported:') ? p.slice('qSupported:'.length).split(';') : [];
      this.#gdbSwbreak = feats.includes('swbreak+');
      this.#gdbHwbreak = feats.includes('hwbreak+');
      const size = this.#opts.packetSize ?? 0x4000;
      return `PacketSize=${size.toString(16)};qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+`;
    }
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]*):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m) return 'E22';
      const doc = this.#target.features.get(m[1]!);
      if (doc === undefined) return 'E00';
      const bytes = bytesToBinary(new TextEncoder().encode(doc));
      const off = parseInt(m[2]!, 16), len = parseInt(m[3]!, 16);
      if (off > bytes.length) return 'E16';
      const chunk = bytes.slice(off, off + len);
      return (off + len >= bytes.length ? 'l' : 'm') + chunk;
    }
    if (p === 'qAttached' || p.startsWith('qAttached:')) return '1';
    if (p === 'qC') return `QC${THREAD_ID.toString(16)}`;
    if (p === 'qfThreadInfo') return `m${THREAD_ID.toString(16)}`;
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qThreadExtraInfo,')) return textToHex(this.#running ? 'CPU#0 [running]' : 'CPU#0 [halted]');
    if (p.startsWith('qRcmd,')) {
      const cmd = hexToText(p.slice('qRcmd,'.length));
      if (cmd === null) return 'E22';
      const out = this.#target.monitor?.(cmd) ?? this.#opts.monitor?.(cmd);
      if (out === undefined) return textToHex(`unknown monitor command '${cmd}'\n`);
      return out === '' ? 'OK' : textToHex(out);
    }
    return '';
  }

  #vPacket(p: string): string | null {
    if (p === 'vCont?') return 'vCont;c;C;s;S;t';
    if (p.startsWith('vCont;')) {
      // Actions apply to the first matching thread; with one thread the first action wins unless it
      // names another thread (QEMU gdb_handle_vcont).
      for (const action of p.slice('vCont;'.length).split(';')) {
        const [what, thread] = action.split(':') as [string, string | undefined];
        if (thread !== undefined) {
          const id = parseInt(thread.replace(/^p[0-9a-fA-F]+\./, ''), 16);
          if (id !== THREAD_ID && id !== -1 && id !== 0) continue;
        }
        const op = what[0];
        if (op === 'c' || op === 'C') return this.#continue();
        if (op === 's' || op === 'S') return this.#step();
        if (op === 't') return this.#stopNow(GDB_SIGNAL_INT);
        return 'E22';
      }
      return 'OK';
    }
    if (p === 'vKill' || p.startsWith('vKill;')) {
      this.#send('OK');
      this.#kill();
      return null;
    }
    if (p === 'vMustReplyEmpty') return '';
    return '';
  }

  // ---- registers ---------------------------------------------------------------------------------

  #readAllRegisters(): string {
    let s = '';
    for (let n = 0; n < this.#target.gRegisterCount; n++) {
      const v = this.#target.readRegister(n);
      if (v === undefined) break;
      s += v instanceof Uint8Array ? bytesToHex(v) : 'xx'.repeat(v.unavailable);
    }
    return s;
  }

  #writeAllRegisters(hex: string): string {
    const all = hexToBytes(hex);
    if (!all) return 'E22';
    let off = 0;
    for (let n = 0; n < this.#target.gRegisterCount && off < all.length; n++) {
      const cur = this.#target.readRegister(n);
      if (cur === undefined) break;
      const size = cur instanceof Uint8Array ? cur.length : cur.unavailable;
      if (off + size > all.length) return 'E22';
      this.#target.writeRegister(n, all.subarray(off, off + size));
      off += size;
    }
    return 'OK';
  }

  // ---- breakpoints -------------------------------------------------------------------------------

  #breakpoint(insert: boolean, rest: string): string {
    const m = /^([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)(?:;.*)?$/.exec(rest);
    if (!m) return 'E22';
    const type = Z_TYPES[Number(m[1])]!;
    const addr = BigInt('0x' + m[2]!);
    const kind = parseInt(m[3]!, 16);
    const r: GdbBreakpointResult = insert
      ? this.#target.insertBreakpoint(type, addr, kind)
      : this.#target.removeBreakpoint(type, addr, kind);
    return r === 'ok' ? 'OK' : r === 'unsupported' ? '' : 'E22';
  }

  // ---- execution ---------------------------------------------------------------------------------

  #step(): string {
    const ev = this.#target.step();
    this.#lastStop = ev;
    this.#opts.onStop?.(ev);
    return this.#stopReply(ev);
  }

  #stopNow(signal: number): string {
    const ev: GdbStopEvent = { kind: 'signal', signal };
    this.#lastStop = ev;
    this.#opts.onStop?.(ev);
    return this.#stopReply(ev);
  }

  /** Starts a continue: the reply (a stop reply) is sent when the target stops. */
  #continue(): null {
    if (this.#running) return null;
    this.#running = true;
    this.#interruptRequested = false;
    this.#schedule(() => this.#runSlice());
    return null;
  }

  #runSlice(): void {
    if (!this.#running || this.#disposed) return;
    if (this.#interruptRequested) {
      this.#finishRun({ kind: 'signal', signal: GDB_SIGNAL_INT });
      return;
    }
    let r;
    try {
      r = this.#target.resume(this.#slice, () => this.#interruptRequested);
    } catch (e) {
      // A failure of the emulator itself (guest faults never throw here) must not leave gdb waiting
      // forever: report a SIGABRT stop, then hand the error to the embedder (or rethrow it).
      this.#finishRun({ kind: 'signal', signal: GDB_SIGNAL_ABRT });
      if (this.#opts.onError) { this.#opts.onError(e); return; }
      throw e;
    }
    if (r.kind !== 'running') {
      this.#finishRun(r);
      return;
    }
    if (r.idle === true && !this.#interruptRequested) {
      setTimeout(() => this.#runSlice(), this.#opts.idleDelayMs ?? 10);
    } else {
      this.#schedule(() => this.#runSlice());
    }
  }

  #finishRun(ev: GdbStopEvent): void {
    this.#running = false;
    this.#interruptRequested = false;
    this.#lastStop = ev;
    this.#opts.onStop?.(ev);
    this.#send(this.#stopReply(ev));
  }

  #kill(): void {
    this.#running = false;
    this.#target.removeAllBreakpoints();
    this.#opts.onKill?.();
  }

  /** `T` stop reply with the thread and the cause (QEMU gdb_vm_state_change), or `W` for an exit. */
  #stopReply(ev: GdbStopEvent): string {
    if (ev.kind === 'exited') return `W${hex2(ev.status)}`;
    let s = `T${hex2(ev.signal)}thread:${hex2(THREAD_ID)};`;
    const c = ev.cause;
    if (c === undefined) return s;
    if (c.type === 'swbreak') { if (this.#gdbSwbreak) s += 'swbreak:;'; }
    else if (c.type === 'hwbreak') { if (this.#gdbHwbreak) s += 'hwbreak:;'; }
    else s += `${c.type}:${c.addr.toString(16)};`;
    return s;
  }
}

/** Parses `addr,len` (hex) as in `m`, `M` and `X` packets. */
function parseAddrLen(s: string): { addr: bigint; len: number } | null {
  const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(s);
  if (!m) return null;
  const len = parseInt(m[2]!, 16);
  if (len > 0x100000) return null;
  return { addr: BigInt('0x' + m[1]!), len };
}
