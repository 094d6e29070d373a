/**
 * The frontend half of a chardev: what a guest device holds (QEMU chardev/char-fe.c, CharBackend).
 */
import type { Chardev, ChardevEvent } from './char.js';

/** A device's receive side (QEMU IOCanReadHandler, IOReadHandler, IOEventHandler). */
export interface CharFrontendHandlers {
  /** How many bytes the device can take now (its free FIFO space); 0 or less: none. */
  canReceive(): number;
  /** Bytes for the device, never more than the last `canReceive()`. Only valid during the call. */
  receive(bytes: Uint8Array): void;
  /** Backend events: `opened`/`closed` (peer connected), `break`, `mux-in`/`mux-out` (focus). */
  event?(ev: ChardevEvent): void;
}

/**
 * A device's connection to a chardev (QEMU CharBackend). Obtained from {@link Chardev.attach}.
 * Writing to a detached backend is a no-op that returns 0, so a device without a chardev still works.
 */
export class CharBackend {
  private chr: Chardev | null;

  /** @internal Use {@link Chardev.attach}. */
  constructor(chr: Chardev, public handlers: CharFrontendHandlers) {
    this.chr = chr;
  }

  /** The chardev, or null once detached (QEMU qemu_chr_fe_get_driver). */
  get chardev(): Chardev | null {
    return this.chr;
  }

  /** True if the backend is connected (QEMU qemu_chr_fe_backend_open). */
  get isOpen(): boolean {
    return this.chr?.isOpen ?? false;
  }

  /** Writes guest output (QEMU qemu_chr_fe_write_all). Returns the number of bytes taken. */
  write(bytes: Uint8Array): number {
    return this.chr === null ? 0 : this.chr.frontendWrite(this, bytes);
  }

  /** Writes one byte (the UART THR case). */
  writeByte(b: number): number {
    return this.write(Uint8Array.of(b & 0xff));
  }

  /**
   * Tells the backend the device can receive again (QEMU qemu_chr_fe_accept_input): waiting input is
   * delivered now, possibly re-entering `receive()` before this returns, so call it after updating state
   * (e.g. after the RBR read has emptied the FIFO).
   */
  acceptInput(): void {
    this.chr?.frontendAcceptInput(this);
  }

  /** Replaces the handlers (QEMU qemu_chr_fe_set_handlers on an attached backend). */
  setHandlers(handlers: CharFrontendHandlers): void {
    this.handlers = handlers;
    this.chr?.frontendHandlersChanged(this);
  }

  /** On a mux, gives this frontend the input focus (QEMU qemu_chr_fe_take_focus). */
  takeFocus(): void {
    this.chr?.frontendTakeFocus(this);
  }

  /** Detaches from the chardev, which can then take another frontend (QEMU qemu_chr_fe_deinit). */
  detach(): void {
    const chr = this.chr;
    this.chr = null;
    chr?.frontendDetach(this);
  }

  /** @internal The chardev went away. */
  unbind(): void {
    this.chr = null;
  }
}
