/**
 * The multiplexer chardev behind `-nographic` / `mon:stdio` (QEMU chardev/char-mux.c): several frontends
 * share one backend; the escape character (Ctrl-A) introduces commands typed by the user:
 *
 * | keys           | effect                                                                 |
 * |----------------|------------------------------------------------------------------------|
 * | C-a h, C-a ?   | print the help on the backend                                          |
 * | C-a x          | print "softboard: Terminated" and emit `quit` (the CLI exits; the library never does) |
 * | C-a b          | send a `break` event to the focused frontend (magic SysRq on a Linux console) |
 * | C-a c          | move the input focus to the next frontend (console ↔ monitor)          |
 * | C-a C-a        | send one C-a to the guest                                              |
 *
 * Letters are accepted in either case (QEMU takes lower case only). Other characters after the escape
 * are dropped, as QEMU. QEMU's `C-a s` (commit disks) and `C-a t` (timestamps) are not implemented and
 * are dropped too.
 */
import { Chardev, ChardevError, InputQueue, type ChardevEvent } from './char.js';
import { CharBackend, type CharFrontendHandlers } from './char-fe.js';

/** Options of {@link MuxChardev}. */
export interface MuxChardevOptions {
  /** The escape character. Default 0x01 (Ctrl-A), QEMU's `-echr`. */
  readonly escapeChar?: number;
  /** Most frontends at once. Default 4 (QEMU MAX_MUX). */
  readonly maxFrontends?: number;
}

interface Slot {
  readonly be: CharBackend;
  readonly queue: InputQueue;
}

/**
 * Bytes the mux accepts from its backend at once. The mux always takes input so that escapes work even
 * while the guest does not read (QEMU stops at a 32-byte ring); input for a frontend waits in its queue.
 */
const MUX_ACCEPT = 4096;

const encoder = new TextEncoder();

/** Shares one chardev among several frontends, with Ctrl-A commands. */
export class MuxChardev extends Chardev {
  private readonly drvBe: CharBackend;
  private readonly slots: Array<Slot | null> = [];
  private focusIdx = -1;
  private gotEscape = false;
  private readonly escapeChar: number;
  private readonly maxFrontends: number;

  /** Multiplexes `drv` (which must have no frontend yet). */
  constructor(readonly drv: Chardev, options: MuxChardevOptions = {}, label = '') {
    super(label);
    this.escapeChar = options.escapeChar ?? 0x01;
    this.maxFrontends = options.maxFrontends ?? 4;
    this.drvBe = drv.attach({
      canReceive: () => MUX_ACCEPT,
      receive: (bytes) => this.muxRead(bytes),
      event: (ev) => this.sendAll(ev),
    });
  }

  /** Index of the frontend with the input focus, or -1 if none. */
  get focus(): number {
    return this.focusIdx;
  }

  /** Number of attached frontends. */
  get frontendCount(): number {
    return this.slots.filter((s) => s !== null).length;
  }

  /**
   * Attaches a frontend; it takes the focus, as in QEMU (qemu_chr_fe_set_handlers → take_focus), then gets
   * `opened` if the backend is open.
   * @throws {@link ChardevError} when `maxFrontends` are attached already.
   */
  override attach(handlers: CharFrontendHandlers): CharBackend {
    this.checkOpen();
    let idx = this.slots.indexOf(null);
    if (idx < 0) idx = this.slots.length;
    if (idx >= this.maxFrontends) {
      throw new ChardevError(`too many uses of multiplexed chardev '${this.label}' (maximum is ${this.maxFrontends})`);
    }
    const be = new CharBackend(this, handlers);
    this.slots[idx] = { be, queue: new InputQueue() };
    this.setFocus(idx);
    if (this.isOpen) handlers.event?.('opened');
    return be;
  }

  /** Gives the input focus to frontend `idx`: `mux-out` to the old one, `mux-in` to the new (QEMU mux_set_focus). */
  setFocus(idx: number): void {
    const slot = this.slots[idx];
    if (!slot) throw new ChardevError(`mux chardev '${this.label}' has no frontend ${idx}`);
    const old = this.focusIdx >= 0 ? this.slots[this.focusIdx] : null;
    old?.be.handlers.event?.('mux-out');
    this.focusIdx = idx;
    slot.be.handlers.event?.('mux-in');
    slot.queue.drain(slot.be.handlers);
  }

  override pollInput(): void {
    for (const s of this.slots) if (s !== null && s.queue.length > 0) s.queue.drain(s.be.handlers);
  }

  override get pendingInput(): number {
    let n = 0;
    for (const s of this.slots) if (s !== null) n += s.queue.length;
    return n;
  }

  protected override chrClose(): void {
    for (const s of this.slots) s?.be.unbind();
    this.slots.length = 0;
    this.focusIdx = -1;
    this.drvBe.detach();
  }

  /** Input from the backend goes to the focused frontend (base `beWrite` feeds the mux's own input path). */
  protected override beWrite(bytes: Uint8Array): void {
    this.muxRead(bytes);
  }

  /** Backend events go to every frontend, as QEMU mux_chr_event. */
  protected override beEvent(ev: ChardevEvent): void {
    this.sendAll(ev);
  }

  override frontendWrite(_be: CharBackend, bytes: Uint8Array): number {
    if (this.isClosed) return 0;
    const n = this.drvBe.write(bytes);
    if (n > 0 && this.listenerCount('data') > 0) this.emit('data', bytes.slice(0, n));
    return n;
  }

  override frontendAcceptInput(be: CharBackend): void {
    const s = this.slotOf(be);
    if (s) s.queue.drain(be.handlers);
    this.drvBe.acceptInput();
  }

  override frontendHandlersChanged(be: CharBackend): void {
    const s = this.slotOf(be);
    if (s) s.queue.drain(be.handlers);
  }

  override frontendDetach(be: CharBackend): void {
    const idx = this.slots.findIndex((s) => s?.be === be);
    if (idx < 0) return;
    this.slots[idx] = null;
    if (this.focusIdx === idx) {
      this.focusIdx = -1;
      const next = this.slots.findIndex((s) => s !== null);
      if (next >= 0) this.setFocus(next);
    }
  }

  override frontendTakeFocus(be: CharBackend): void {
    const idx = this.slots.findIndex((s) => s?.be === be);
    if (idx >= 0) this.setFocus(idx);
  }

  private slotOf(be: CharBackend): Slot | null {
    for (const s of this.slots) if (s?.be === be) return s;
    return null;
  }

  private sendAll(ev: ChardevEvent): void {
    if (ev === 'opened') this.beOpen = true;
    else if (ev === 'closed') this.beOpen = false;
    for (const s of this.slots) s?.be.handlers.event?.(ev);
  }

  /** QEMU mux_chr_read: escape processing, then delivery to the focused frontend in order. */
  private muxRead(bytes: Uint8Array): void {
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const ch = bytes[i]!;
      if (!this.gotEscape && ch !== this.escapeChar) continue;
      // Flush the plain run before the escape sequence so ordering is kept.
      this.deliver(bytes.subarray(start, i));
      start = i + 1;
      if (!this.gotEscape) {
        this.gotEscape = true;
      } else {
        this.gotEscape = false;
        if (ch === this.escapeChar) this.deliver(bytes.subarray(i, i + 1));
        else this.command(ch);
      }
    }
    this.deliver(bytes.subarray(start));
  }

  private deliver(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const s = this.focusIdx >= 0 ? this.slots[this.focusIdx] : null;
    if (!s) return; // no frontend: dropped, as QEMU with no focus
    s.queue.push(bytes);
    s.queue.drain(s.be.handlers);
  }

  private command(ch: number): void {
    switch (String.fromCharCode(ch).toLowerCase()) {
      case 'h': case '?':
        this.printHelp();
        break;
      case 'x':
        this.drvBe.write(encoder.encode('softboard: Terminated\n\r'));
        this.emit('quit');
        break;
      case 'b': {
        const s = this.focusIdx >= 0 ? this.slots[this.focusIdx] : null;
        s?.be.handlers.event?.('break');
        break;
      }
      case 'c': {
        if (this.focusIdx < 0) break;
        const n = this.slots.length;
        for (let k = 1; k <= n; k++) {
          const idx = (this.focusIdx + k) % n;
          if (this.slots[idx]) {
            this.setFocus(idx);
            break;
          }
        }
        break;
      }
      default:
        break; // dropped, as QEMU mux_proc_byte
    }
  }

  /** The help text, naming the escape key as QEMU does ("C-a"). */
  helpText(): string {
    const e = this.escapeChar;
    const name = e > 0 && e < 27 ? `C-${String.fromCharCode(e - 1 + 97)}` : `0x${e.toString(16).padStart(2, '0')}`;
    const lines = [
      ['h', 'print this help'],
      ['x', 'exit emulator'],
      ['b', 'send break (magic sysrq)'],
      ['c', 'switch between console and monitor'],
    ];
    let s = '\n\r';
    for (const [k, help] of lines) s += `${name} ${k}    ${help}\n\r`;
    s += `${name} ${name}  sends ${name}\n\r`;
    return s;
  }

  private printHelp(): void {
    this.drvBe.write(encoder.encode(this.helpText()));
  }
}
