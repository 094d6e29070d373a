/**
 * Parsing of sizes (`-m 128M`) and durations (`10ms`), after QEMU util/cutils.c qemu_strtosz.
 *
 * Results are exact `bigint`s: a size may exceed 2^53 (a 64-bit address space) and a duration is
 * integer nanoseconds. Fractions are accepted only when they give a whole number of bytes/ns
 * (`1.5K` = 1536; `0.1K` is an error, where QEMU would round).
 */

/** A size or duration string that cannot be parsed. The message names the input and what was expected. */
export class SizeParseError extends Error {
  override readonly name = 'SizeParseError';
  constructor(
    /** The rejected input, as given. */
    readonly input: string,
    message: string,
  ) {
    super(message);
  }
}

const U64_MAX = (1n << 64n) - 1n;

/** Size suffixes, powers of 1024 (QEMU's K/M/G/T/P/E; `B` = bytes). */
const SIZE_SUFFIX: Record<string, bigint> = {
  b: 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n, e: 1n << 60n,
};

/** A size suffix letter accepted by {@link parseSize}'s `defaultSuffix`. */
export type SizeSuffix = 'B' | 'K' | 'M' | 'G' | 'T' | 'P' | 'E';

/** Options of {@link parseSize}. */
export interface ParseSizeOptions {
  /** Unit of a number without suffix (QEMU `-m 512` means MiB). Default `B`. */
  readonly defaultSuffix?: SizeSuffix;
}

/** value = int.frac × mul, if that is an integer; null otherwise. */
function scaleDecimal(int: string, frac: string, mul: bigint): bigint | null {
  const den = 10n ** BigInt(frac.length);
  const num = (BigInt(int) * den + (frac === '' ? 0n : BigInt(frac))) * mul;
  return num % den === 0n ? num / den : null;
}

const SIZE_RE = /^(?:0x([0-9a-f]+)|(\d+)(?:\.(\d+))?)\s*(?:([bkmgtpe])(?:i?b)?)?$/i;

/**
 * Parses a size: `128M`, `1G`, `4096`, `0x1000`, `1.5K`, `64KiB`. Suffixes K/M/G/T/P/E are powers of 1024
 * (case-insensitive, optionally followed by `B` or `iB`). A `number` must be a non-negative safe integer.
 * @throws {@link SizeParseError} for anything else, or a value above 2^64-1.
 */
export function parseSize(input: string | number | bigint, options: ParseSizeOptions = {}): bigint {
  if (typeof input === 'bigint' || typeof input === 'number') return checkInteger(input, 'size', U64_MAX);
  const s = input.trim();
  const m = SIZE_RE.exec(s);
  if (!m) {
    throw new SizeParseError(input,
      `invalid size '${input}': expected a number with an optional K/M/G/T/P/E suffix (powers of 1024), e.g. 128M, 0x1000`);
  }
  const [, hex, int, frac, suffix] = m;
  const mul = SIZE_SUFFIX[(suffix ?? options.defaultSuffix ?? 'B').toLowerCase()] ?? 1n;
  let v: bigint | null;
  if (hex !== undefined) v = BigInt('0x' + hex) * mul;
  else v = scaleDecimal(int ?? '0', frac ?? '', mul);
  if (v === null) throw new SizeParseError(input, `invalid size '${input}': not a whole number of bytes`);
  if (v > U64_MAX) throw new SizeParseError(input, `invalid size '${input}': larger than 2^64-1 bytes`);
  return v;
}

/** Nanoseconds per duration unit. */
const DURATION_UNIT: Record<string, bigint> = {
  ns: 1n, us: 1_000n, 'µs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n,
  min: 60_000_000_000n, h: 3_600_000_000_000n,
};

const DURATION_RE = /^(\d+)(?:\.(\d+))?\s*(ns|us|µs|ms|s|min|h)?$/;

/**
 * Parses a duration into integer nanoseconds: `10ms`, `1s`, `250us`, `100ns`, `1.5ms`, `2min`, `1h`;
 * a plain number (string, `number` or `bigint`) is nanoseconds.
 * @throws {@link SizeParseError} for a negative, fractional-nanosecond or malformed duration.
 */
export function parseDuration(input: string | number | bigint): bigint {
  if (typeof input === 'bigint' || typeof input === 'number') return checkInteger(input, 'duration', null);
  const s = input.trim();
  const m = DURATION_RE.exec(s);
  if (!m) {
    throw new SizeParseError(input,
      `invalid duration '${input}': expected a number with an optional unit ns/us/ms/s/min/h, e.g. 10ms`);
  }
  const [, int, frac, unit] = m;
  const v = scaleDecimal(int ?? '0', frac ?? '', DURATION_UNIT[unit ?? 'ns'] ?? 1n);
  if (v === null) throw new SizeParseError(input, `invalid duration '${input}': not a whole number of nanoseconds`);
  return v;
}

function checkInteger(v: number | bigint, what: string, max: bigint | null): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    throw new SizeParseError(String(v), `invalid ${what} ${v}: expected a non-negative safe integer`);
  }
  const b = BigInt(v);
  if (b < 0n) throw new SizeParseError(String(v), `invalid ${what} ${v}: must not be negative`);
  if (max !== null && b > max) throw new SizeParseError(String(v), `invalid ${what} ${v}: larger than 2^64-1`);
  return b;
}
