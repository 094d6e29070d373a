/**
 * Typed errors shared by the whole project. Every error a user (or a board author) can act on is a
 * subclass of {@link SoftboardError}, and its message names what went wrong and where, e.g.
 * `PropertyError: ns16550a.regShift must be 0..255, got 300`.
 *
 * Guest misbehaviour is never reported with these: it is logged or turned into a guest exception.
 * `MemoryAccessError` lives with the memory API (src/memory), not here.
 * @module
 */

/** Options accepted by every {@link SoftboardError} (the standard ES2022 `cause`). */
export interface SoftboardErrorOptions {
  /** The lower-level error that caused this one. */
  readonly cause?: unknown;
}

/** Base class of every error softboard throws on purpose. `name` is the subclass name. */
export class SoftboardError extends Error {
  override name = 'SoftboardError';
  constructor(message: string, options?: SoftboardErrorOptions) {
    super(message, options);
  }
}

/**
 * A property name or value was rejected, e.g. `ns16550a.regShift must be 0..255, got 300` or
 * `pl011 has no property 'chardv' (did you mean 'chardev'?)`.
 */
export class PropertyError extends SoftboardError {
  override name = 'PropertyError';
  constructor(
    message: string,
    /** QOM type name of the object whose property was set (empty if unknown). */
    readonly typeName = '',
    /** Property name as given by the caller (empty if unknown). */
    readonly property = '',
    options?: SoftboardErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * A QOM type problem: unknown type name, abstract type instantiated, failed cast
 * (`objectCheck`), or an invalid type registration.
 */
export class QomTypeError extends SoftboardError {
  override name = 'QomTypeError';
}

/**
 * An operation was done in the wrong lifecycle state: realize twice, set a property after realize,
 * unrealize before realize, use after finalize, reset before realize.
 */
export class LifecycleError extends SoftboardError {
  override name = 'LifecycleError';
}

/**
 * A problem in the QOM composition tree: duplicate child name, a child that already has a parent,
 * a cycle, a malformed or ambiguous path.
 */
export class ObjectTreeError extends SoftboardError {
  override name = 'ObjectTreeError';
}

/** A malformed option string, e.g. a QEMU `-device` argument (`pl011,chardev=serial0,id=uart0`). */
export class OptionParseError extends SoftboardError {
  override name = 'OptionParseError';
}

/**
 * A board wiring mistake: IRQ/GPIO line or MMIO region index out of range, an output connected
 * twice, a loop of IRQ lines.
 */
export class WiringError extends SoftboardError {
  override name = 'WiringError';
}

/**
 * A bad ELF image or a load that cannot be done, e.g.
 * `ElfError: segment 2 at 0x80200000 (0x1000 bytes) overlaps the flash ROM at 0x80000000`.
 */
export class ElfError extends SoftboardError {
  override name = 'ElfError';
}
