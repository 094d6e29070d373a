/**
 * An in-memory chardev for tests and scripted runs (QEMU chardev/char-ringbuf.c, plus a way to wait for
 * output).
 */
import { Chardev, ChardevError } from './char.js';

const encoder = new TextEncoder();

/** Options of {@link BufferChardev}. */
export interface BufferChardevOptions {
  /** Keep at most this many output bytes, dropping the oldest (a ring, as char-ringbuf). Default: unlimited. */
  readonly capacity?: number;
}

/** Options of {@link BufferChardev.waitFor}. */
export interface WaitForOptions {
  /** Rejects the promise with the signal's reason when aborted (e.g. `AbortSignal.timeout(5000)` in Node). */
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly needle: string;
  /** Text offset from which the needle may still start. */
  from: number;
  readonly resolve: (output: string) => void;
  readonly reject: (err: unknown) => void;
  readonly cleanup: () => void;
}

/**
 * Collects guest output in memory and feeds scripted input:
 * ```ts
 * const serial = new BufferChardev();
 * serial.feed('root\n');
 * await serial.waitFor('login:');   // while something runs the machine
 * expect(serial.output).toContain('Welcome');
 * ```
 * Output is decoded as UTF-8 (invalid bytes become U+FFFD); {@link outputBytes} has the raw bytes.
 */
export class BufferChardev extends Chardev {
  private buf = new Uint8Array(256);
  private len = 0;
  private text = '';
  private decoder = new TextDecoder();
  private readonly capacity: number;
  private waiters: Waiter[] = [];

  constructor(options: BufferChardevOptions = {}, label = '') {
    super(label);
    this.capacity = options.capacity ?? Infinity;
    if (!(this.capacity > 0)) throw new ChardevError(`buffer chardev '${label}': capacity must be positive, got ${options.capacity}`);
  }

  /** Guest output since creation or the last {@link clearOutput}, as text. */
  get output(): string {
    return this.text;
  }

  /** Guest output as bytes (a copy). */
  get outputBytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /** Forgets the output collected so far. Pending {@link waitFor}s then match only later output. */
  clearOutput(): void {
    this.len = 0;
    this.text = '';
    this.decoder = new TextDecoder();
    for (const w of this.waiters) w.from = 0;
  }

  /** Queues input for the guest (a string is UTF-8 encoded), delivered as the device can take it. */
  feed(data: string | Uint8Array): void {
    this.checkOpen();
    this.beWrite(typeof data === 'string' ? encoder.encode(data) : data);
  }

  /**
   * Resolves with the whole output once it contains `text` (at once if it already does). Rejects with a
   * {@link ChardevError} if the chardev is closed first, or with the signal's reason if aborted.
   * Something else must run the machine meanwhile.
   */
  waitFor(text: string, options: WaitForOptions = {}): Promise<string> {
    if (this.text.includes(text)) return Promise.resolve(this.text);
    if (this.isClosed) return Promise.reject(new ChardevError(`chardev '${this.label}' is closed`));
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<string>((resolve, reject) => {
      const onAbort = (): void => {
        this.removeWaiter(w);
        reject(signal!.reason);
      };
      const w: Waiter = {
        needle: text, from: Math.max(0, this.text.length - text.length + 1), resolve, reject,
        cleanup: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  protected override chrWrite(bytes: Uint8Array): number {
    this.append(bytes);
    this.text += this.decoder.decode(bytes, { stream: true });
    if (this.len > this.capacity) this.trim();
    if (this.waiters.length > 0) this.checkWaiters();
    return bytes.length;
  }

  protected override chrClose(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) {
      w.cleanup();
      w.reject(new ChardevError(`chardev '${this.label}' closed while waiting for ${JSON.stringify(w.needle)}`));
    }
  }

  private append(bytes: Uint8Array): void {
    const need = this.len + bytes.length;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2));
      grown.set(this.buf.subarray(0, this.len));
      this.buf = grown;
    }
    this.buf.set(bytes, this.len);
    this.len = need;
  }

  /** Drops the oldest bytes beyond the capacity and re-decodes the text from what is left. */
  private trim(): void {
    const drop = this.len - this.capacity;
    this.buf.copyWithin(0, drop, this.len);
    this.len -= drop;
    this.decoder = new TextDecoder();
    this.text = this.decoder.decode(this.buf.subarray(0, this.len), { stream: true });
    for (const w of this.waiters) w.from = 0;
  }

  private checkWaiters(): void {
    const text = this.text;
    const keep: Waiter[] = [];
    const done: Waiter[] = [];
    for (const w of this.waiters) {
      if (text.indexOf(w.needle, w.from) >= 0) done.push(w);
      else {
        w.from = Math.max(0, text.length - w.needle.length + 1);
        keep.push(w);
      }
    }
    this.waiters = keep;
    for (const w of done) {
      w.cleanup();
      w.resolve(text);
    }
  }

  private removeWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
  }
}
