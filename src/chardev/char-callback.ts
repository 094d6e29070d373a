/**
 * A chardev for embedding programs: guest output as `data` events, input by a method call. softboard's
 * own; the closest QEMU backends are char-pipe.c / char-fd.c, with the fd replaced by JS calls.
 */
import { Chardev } from './char.js';

const encoder = new TextEncoder();

/**
 * Emits `data` (a `Uint8Array` copy) for every guest write and takes input with {@link input}:
 * ```ts
 * const con = new CallbackChardev();
 * con.on('data', (bytes) => term.write(bytes));
 * term.onKey((k) => con.input(k));
 * ```
 */
export class CallbackChardev extends Chardev {
  /** Sends input to the guest (a string is UTF-8 encoded). Kept in order while the device cannot receive. */
  input(data: Uint8Array | string): void {
    this.checkOpen();
    this.beWrite(typeof data === 'string' ? encoder.encode(data) : data);
  }
}
