/** The null chardev: output discarded, no input (QEMU chardev/char-null.c). */
import { Chardev } from './char.js';

/** Discards what the guest writes and never produces input. */
export class NullChardev extends Chardev {}
