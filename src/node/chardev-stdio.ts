/**
 * The stdio chardev (QEMU chardev/char-stdio.c): guest output to stdout, keyboard input from stdin, the
 * terminal in raw mode while open and restored on close.
 */
import type { Readable, Writable } from 'node:stream';
import { Chardev } from '../chardev/char.js';

/** A readable that may be a TTY (process.stdin, or a test double). */
export type StdinLike = Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?(mode: boolean): unknown };

/** Options of {@link StdioChardev}. */
export interface StdioChardevOptions {
  /** Default `process.stdin`. */
  readonly input?: StdinLike;
  /** Default `process.stdout`. */
  readonly output?: Writable;
  /** Put a TTY input in raw mode (keys go to the guest unprocessed). Default true; ignored if not a TTY. */
  readonly raw?: boolean;
  /**
   * QEMU's `signal=on`: Ctrl-C (0x03) emits `quit` instead of reaching the guest. Default false, as with
   * `-nographic`, where Ctrl-C belongs to the guest and C-a x quits.
   */
  readonly signal?: boolean;
}

/** Stop reading stdin above this many bytes waiting for the guest; resume below the low mark. */
const HIGH_WATER = 64 * 1024;
const LOW_WATER = 16 * 1024;

/** Guest console on the process's stdin/stdout. */
export class StdioChardev extends Chardev {
  private readonly input: StdinLike;
  private readonly output: Writable;
  private readonly signal: boolean;
  private readonly restoreRaw: boolean | null;
  private paused = false;
  private readonly onData = (chunk: Buffer | string): void => this.handleInput(chunk);
  private readonly onExit = (): void => this.restoreTerminal();

  constructor(options: StdioChardevOptions = {}, label = '') {
    super(label);
    this.input = options.input ?? process.stdin;
    this.output = options.output ?? process.stdout;
    this.signal = options.signal ?? false;
    const raw = options.raw ?? true;
    if (raw && this.input.isTTY && typeof this.input.setRawMode === 'function') {
      this.restoreRaw = this.input.isRaw ?? false;
      this.input.setRawMode(true);
      // Leave the user's terminal usable even if the program exits without closing us.
      process.once('exit', this.onExit);
    } else {
      this.restoreRaw = null;
    }
    this.input.on('data', this.onData);
    this.input.resume();
  }

  protected override chrWrite(bytes: Uint8Array): number {
    this.output.write(Buffer.from(bytes));
    return bytes.length;
  }

  protected override chrAcceptInput(): void {
    if (this.paused && this.pendingInput <= LOW_WATER) {
      this.paused = false;
      this.input.resume();
    }
  }

  protected override chrClose(): void {
    this.input.off('data', this.onData);
    this.input.pause();
    this.restoreTerminal();
    process.off('exit', this.onExit);
  }

  private restoreTerminal(): void {
    if (this.restoreRaw !== null && this.input.isTTY) this.input.setRawMode?.(this.restoreRaw);
  }

  private handleInput(chunk: Buffer | string): void {
    let bytes: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (this.signal && bytes.includes(0x03)) {
      const i = bytes.indexOf(0x03);
      this.beWrite(bytes.subarray(0, i));
      this.emit('quit');
      bytes = bytes.subarray(i + 1).filter((b) => b !== 0x03);
    }
    this.beWrite(bytes);
    if (!this.paused && this.pendingInput > HIGH_WATER) {
      this.paused = true;
      this.input.pause();
    }
  }
}
