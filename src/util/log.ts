/**
 * Per-machine debug log with QEMU's `-d` categories (QEMU util/log.c, include/qemu/log.h).
 *
 * A {@link Logger} belongs to one machine: it holds an enabled-category mask and a sink. The library
 * never prints: the default sink discards, and the embedding program (the CLI) supplies a sink that
 * writes to stderr or a file. Messages can be given lazily (a function) so that disabled categories
 * cost one mask test.
 */

/** The `-d` log items, in QEMU's order, with their help text (QEMU util/log.c qemu_log_items). */
export const LOG_ITEMS = [
  { name: 'out_asm', help: 'show generated host code for each compiled TB' },
  { name: 'in_asm', help: 'show target assembly code for each compiled TB' },
  { name: 'op', help: 'show IR ops for each compiled TB' },
  { name: 'op_opt', help: 'show IR ops after optimization' },
  { name: 'int', help: 'show interrupts/exceptions in short format' },
  { name: 'exec', help: 'show trace before each executed TB (lots of logs)' },
  { name: 'cpu', help: 'show CPU registers before entering a TB (lots of logs)' },
  { name: 'fpu', help: "include FPU registers in the 'cpu' logging" },
  { name: 'mmu', help: 'log MMU-related activities' },
  { name: 'cpu_reset', help: 'show CPU state before CPU resets' },
  { name: 'unimp', help: 'log unimplemented functionality' },
  { name: 'guest_errors', help: 'log when the guest does something invalid (eg accessing a non-existent register)' },
  { name: 'nochain', help: 'do not chain compiled TBs so that "exec" and "cpu" show complete traces' },
  { name: 'invalid_mem', help: 'log invalid memory accesses' },
  { name: 'page', help: 'log page table and soft-TLB activity' },
] as const;

/** A log category name (`-d` item). */
export type LogCategory = (typeof LOG_ITEMS)[number]['name'];

/** Bit of each category in a log mask. */
export const LOG_BIT: Readonly<Record<LogCategory, number>> = Object.freeze(
  Object.fromEntries(LOG_ITEMS.map((item, i) => [item.name, 1 << i])) as Record<LogCategory, number>,
);

/** Mask with every category enabled (`-d all`). */
export const LOG_ALL: number = (1 << LOG_ITEMS.length) - 1;

/** Receives each enabled message: its category and the text (no trailing newline). */
export type LogSink = (category: LogCategory, message: string) => void;

/** A message, or a function producing it (called only if the category is enabled). */
export type LogMessage = string | (() => string);

/** An unknown `-d` item. */
export class LogMaskError extends Error {
  override readonly name = 'LogMaskError';
}

/**
 * Parses a comma-separated `-d` list (`"int,guest_errors"`, `"all"`) into a mask (QEMU qemu_str_to_log_mask).
 * @throws {@link LogMaskError} naming the unknown item and listing the valid ones.
 */
export function parseLogMask(spec: string): number {
  let mask = 0;
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (item === 'all') { mask |= LOG_ALL; continue; }
    const bit = (LOG_BIT as Record<string, number>)[item];
    if (bit === undefined) {
      throw new LogMaskError(
        `unknown log item '${item}' in '${spec}'; valid items: all, ${LOG_ITEMS.map((i) => i.name).join(', ')}`);
    }
    mask |= bit;
  }
  return mask;
}

/** Options of {@link Logger}. */
export interface LoggerOptions {
  /** Enabled categories, as a mask or a `-d` string. Default: none. */
  readonly mask?: number | string;
  /** Where messages go. Default: discard. */
  readonly sink?: LogSink;
}

const discard: LogSink = () => {};

/** A machine's debug log (QEMU qemu_log_mask / qemu_log_mask_and_addr). */
export class Logger {
  /** Enabled categories (bits of {@link LOG_BIT}). */
  mask: number;
  /** The message sink. */
  sink: LogSink;

  constructor(options: LoggerOptions = {}) {
    const m = options.mask ?? 0;
    this.mask = typeof m === 'string' ? parseLogMask(m) : m;
    this.sink = options.sink ?? discard;
  }

  /** True if `category` is enabled (QEMU qemu_loglevel_mask). Test this before building costly dumps. */
  enabled(category: LogCategory): boolean {
    return (this.mask & LOG_BIT[category]) !== 0;
  }

  /** Enables the categories of a `-d` string or mask, in addition to those already enabled. */
  enable(spec: string | number): void {
    this.mask |= typeof spec === 'string' ? parseLogMask(spec) : spec;
  }

  /** Disables the categories of a `-d` string or mask. */
  disable(spec: string | number): void {
    this.mask &= ~(typeof spec === 'string' ? parseLogMask(spec) : spec);
  }

  /** Logs `message` under `category` if it is enabled (QEMU qemu_log_mask). */
  log(category: LogCategory, message: LogMessage): void {
    if ((this.mask & LOG_BIT[category]) === 0) return;
    let text = typeof message === 'function' ? message() : message;
    // QEMU messages end in "\n"; the sink gets one line without it.
    if (text.endsWith('\n')) text = text.slice(0, -1);
    this.sink(category, text);
  }

  /** The guest did something invalid (bad register, bad access size): `-d guest_errors`. */
  guestError(message: LogMessage): void {
    this.log('guest_errors', message);
  }

  /** The guest used something softboard does not implement: `-d unimp`. */
  unimp(message: LogMessage): void {
    this.log('unimp', message);
  }
}
