/**
 * The chardevs of one machine, by id, so devices connect by name as `-chardev …,id=serial0` /
 * `-device …,chardev=serial0` in QEMU (chardev/char.c qemu_chr_find, chardev_new).
 */
import { Chardev, ChardevError } from './char.js';

/** QEMU's id rule (util/id.c id_wellformed): a letter, then letters, digits, '-', '.', '_'. */
const ID_RE = /^[A-Za-z][A-Za-z0-9._-]*$/;

/** A machine's chardevs by id. */
export class ChardevRegistry {
  private readonly byId = new Map<string, Chardev>();

  /**
   * Registers `chr` under `id` and returns it. Sets the chardev's label if it had none.
   * @throws {@link ChardevError} for a malformed or duplicate id.
   */
  add<T extends Chardev>(id: string, chr: T): T {
    if (!ID_RE.test(id)) {
      throw new ChardevError(`invalid chardev id '${id}': must start with a letter and contain only letters, digits, '-', '.', '_'`);
    }
    if (this.byId.has(id)) throw new ChardevError(`duplicate chardev id '${id}'`);
    if (chr.label === '') chr.label = id;
    this.byId.set(id, chr);
    return chr;
  }

  /**
   * The chardev registered as `id`.
   * @throws {@link ChardevError} naming the id and listing the known ones.
   */
  get(id: string): Chardev {
    const chr = this.byId.get(id);
    if (chr === undefined) {
      const known = [...this.byId.keys()];
      throw new ChardevError(`chardev '${id}' not found; known chardevs: ${known.length > 0 ? known.join(', ') : '(none)'}`);
    }
    return chr;
  }

  /** True if `id` is registered. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Registered ids, in registration order. */
  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Unregisters `id` and closes its chardev. Returns false if there was none. */
  remove(id: string): boolean {
    const chr = this.byId.get(id);
    if (chr === undefined) return false;
    this.byId.delete(id);
    chr.close();
    return true;
  }

  /**
   * Retries input delivery on every chardev (QEMU's main loop polls each frontend's `can_read`). The
   * machine calls this between run slices, so a device that frees FIFO space without calling
   * `acceptInput()` still gets its input.
   */
  pollInput(): void {
    for (const chr of this.byId.values()) chr.pollInput();
  }

  /** Closes and unregisters every chardev (machine teardown). */
  closeAll(): void {
    const all = [...this.byId.values()];
    this.byId.clear();
    for (const chr of all) chr.close();
  }

  [Symbol.iterator](): IterableIterator<[string, Chardev]> {
    return this.byId.entries();
  }
}
