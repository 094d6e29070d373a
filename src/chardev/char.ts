/**
 * Character devices: the backend half (QEMU chardev/char.c, include/chardev/char.h).
 *
 * A {@link Chardev} connects a guest device (the *frontend*: a UART, a virtio console) to something
 * outside (the *backend*: a buffer, a callback, stdio, a socket). The device talks to it through a
 * {@link CharBackend} obtained from {@link Chardev.attach}; the backend feeds input with
 * {@link Chardev.beWrite}, which is delivered to the device only as far as its `canReceive()` allows.
 * The rest waits, in order, until the device calls {@link CharBackend.acceptInput} (QEMU
 * qemu_chr_fe_accept_input) or the machine calls {@link Chardev.pollInput} between run slices (QEMU
 * polls `can_read` on every main-loop iteration).
 *
 * Every chardev is an EventEmitter (eventemitter3): `data` carries the bytes the guest wrote.
 */
import { EventEmitter } from 'eventemitter3';
import { CharBackend, type CharFrontendHandlers } from './char-fe.js';

/** Events a backend sends to its frontend (QEMU QEMUChrEvent). */
export type ChardevEvent = 'opened' | 'closed' | 'break' | 'mux-in' | 'mux-out';

/** Events a chardev emits to the embedding program. */
export interface ChardevEmitterEvents {
  /** Bytes the frontend (guest) wrote. A copy: listeners may keep it. */
  data: [bytes: Uint8Array];
  /** The user asked to quit (mux Ctrl-A x, or Ctrl-C on a stdio chardev with `signal`). The library never exits. */
  quit: [];
  /** The chardev was closed. */
  close: [];
}

/** Misuse of a chardev: unknown id, busy chardev, closed chardev, …; the message names the chardev. */
export class ChardevError extends Error {
  override readonly name = 'ChardevError';
}

/**
 * @internal Bytes waiting for a frontend, in order, with the delivery loop (QEMU keeps them in the kernel
 * socket buffer or the mux ring; here in a chunk list).
 */
export class InputQueue {
  private chunks: Uint8Array[] = [];
  private off = 0;
  private draining = false;
  /** Number of bytes waiting. */
  length = 0;

  /** Appends a copy of `bytes`. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  clear(): void {
    this.chunks = [];
    this.off = 0;
    this.length = 0;
  }

  /**
   * Delivers bytes to `h` as long as `h.canReceive()` is positive, never more than it says. Re-entrant
   * calls (a `receive` that calls `acceptInput`) return at once; the outer loop goes on.
   */
  drain(h: CharFrontendHandlers): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.length > 0) {
        const n = Math.floor(h.canReceive());
        if (!(n >= 1)) break;
        const head = this.chunks[0]!;
        const k = Math.min(n, head.length - this.off);
        const piece = head.subarray(this.off, this.off + k);
        this.off += k;
        this.length -= k;
        if (this.off === head.length) {
          this.chunks.shift();
          this.off = 0;
        }
        h.receive(piece);
      }
    } finally {
      this.draining = false;
    }
  }
}

/**
 * Base class of character backends (QEMU Chardev). Subclasses override {@link chrWrite} (where guest
 * output goes) and feed input with {@link beWrite}. One frontend at a time, except {@link MuxChardev}.
 */
export class Chardev extends EventEmitter<ChardevEmitterEvents> {
  /** The chardev id (`chardev=serial0`); set by {@link ChardevRegistry.add} if empty. */
  label: string;
  /** True while the backend is connected (QEMU be_open): a socket with a peer, a buffer always. */
  protected beOpen = true;
  private fe: CharBackend | null = null;
  private readonly inbox = new InputQueue();
  private closed = false;

  constructor(label = '') {
    super();
    this.label = label;
  }

  /** Same as {@link label}: the id devices name in `chardev=` (QOM's chardev property formats objects by `id`). */
  get id(): string {
    return this.label;
  }

  /** The attached frontend, if any. */
  get frontend(): CharBackend | null {
    return this.fe;
  }

  /** True if the backend is connected (QEMU qemu_chr_be_is_open / be_open). */
  get isOpen(): boolean {
    return this.beOpen && !this.closed;
  }

  /** True after {@link close}. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Input bytes waiting for the frontend to be able to receive them. */
  get pendingInput(): number {
    return this.inbox.length;
  }

  /**
   * Attaches a frontend (QEMU qemu_chr_fe_init + qemu_chr_fe_set_handlers). If the backend is open the
   * frontend gets an `opened` event at once, then any input that arrived before it.
   * @throws {@link ChardevError} if another frontend is attached or the chardev is closed.
   */
  attach(handlers: CharFrontendHandlers): CharBackend {
    this.checkOpen();
    if (this.fe !== null) {
      throw new ChardevError(`chardev '${this.label}' is already in use by another device; use a mux chardev to share it`);
    }
    const be = new CharBackend(this, handlers);
    this.fe = be;
    if (this.beOpen) handlers.event?.('opened');
    this.inbox.drain(be.handlers);
    return be;
  }

  /** Tries again to deliver waiting input (QEMU's per-iteration `can_read` poll). Cheap when none waits. */
  pollInput(): void {
    if (this.inbox.length > 0 && this.fe !== null) {
      this.inbox.drain(this.fe.handlers);
      this.chrAcceptInput();
    }
  }

  /** Closes the chardev: detaches the frontend, drops waiting input, emits `close`. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const fe = this.fe;
    this.fe = null;
    fe?.unbind();
    this.inbox.clear();
    this.chrClose();
    this.emit('close');
  }

  // ---- backend side (for subclasses) -------------------------------------------------------------

  /**
   * Where guest output goes (QEMU chr_write). Returns the number of bytes taken. Default: discard all.
   * `bytes` is only valid during the call.
   */
  protected chrWrite(bytes: Uint8Array): number {
    return bytes.length;
  }

  /** Called after the frontend asked for more input (QEMU chr_accept_input): resume a paused source. */
  protected chrAcceptInput(): void {}

  /** Releases backend resources on {@link close}. */
  protected chrClose(): void {}

  /**
   * Feeds input toward the frontend (QEMU qemu_chr_be_write). Delivered now as far as the frontend can
   * receive, the rest kept in order. Input before any frontend attaches is kept too.
   */
  protected beWrite(bytes: Uint8Array): void {
    if (this.closed) return;
    this.inbox.push(bytes);
    if (this.fe !== null) this.inbox.drain(this.fe.handlers);
  }

  /** Sends an event to the frontend (QEMU qemu_chr_be_event); `opened`/`closed` also set {@link isOpen}. */
  protected beEvent(ev: ChardevEvent): void {
    if (ev === 'opened') this.beOpen = true;
    else if (ev === 'closed') this.beOpen = false;
    this.fe?.handlers.event?.(ev);
  }

  /** @throws {@link ChardevError} if closed. */
  protected checkOpen(): void {
    if (this.closed) throw new ChardevError(`chardev '${this.label}' is closed`);
  }

  // ---- frontend side (called by CharBackend) -----------------------------------------------------

  /** @internal QEMU qemu_chr_write: `be` writes `bytes`. */
  frontendWrite(_be: CharBackend, bytes: Uint8Array): number {
    if (this.closed) return 0;
    const n = this.chrWrite(bytes);
    if (n > 0 && this.listenerCount('data') > 0) this.emit('data', bytes.slice(0, n));
    return n;
  }

  /** @internal QEMU qemu_chr_fe_accept_input. */
  frontendAcceptInput(be: CharBackend): void {
    if (this.fe !== be) return;
    this.inbox.drain(be.handlers);
    this.chrAcceptInput();
  }

  /** @internal The frontend replaced its handlers. */
  frontendHandlersChanged(be: CharBackend): void {
    if (this.fe === be) this.inbox.drain(be.handlers);
  }

  /** @internal QEMU qemu_chr_fe_deinit. */
  frontendDetach(be: CharBackend): void {
    if (this.fe === be) this.fe = null;
  }

  /** @internal QEMU qemu_chr_fe_take_focus (meaningful for a mux only). */
  frontendTakeFocus(_be: CharBackend): void {}
}
