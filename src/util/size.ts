/**
 * Parsing of sizes (`-m 128M`, a `size` property) and durations (`10ms`).
 *
 * {@link parseSize} is the one size parser of softboard (QOM `size` properties, board descriptions, the
 * virt machine's memory size and the CLI's `-m` all use it) and accepts what QEMU's `qemu_strtosz`
 * accepts (util/cutils.c do_strtosz, QEMU 8.1+):
 * - decimal `4096`, hex `0x1000` (unit: the default suffix, normally bytes);
 * - a suffix `B`, `K`, `M`, `G`, `T`, `P` or `E` (case-insensitive, powers of 1024): `128M`, `1g`;
 * - a decimal fraction with a suffix other than `B`: `1.5G`, `.5K`, `1.K`, rounded to the nearest byte
 *   (half up), so `0.1K` is 102;
 * - leading white space and `+`.
 *
 * Rejected: `KiB`/`MB` spellings, hex with a suffix or fraction (`0x10M`; `0x1E` is 30), exponents
 * (`1e3`), negative values, a fraction without suffix (`1.5`), anything after the number and suffix
 * (trailing space included), and values above 2^64-1.
 *
 * Results are exact `bigint`s: a size may exceed 2^53 (a 64-bit address space) and a duration is
 * integer nanoseconds.
 */
import { SoftboardError } from './errors.js';

/** A size or duration that cannot be parsed. The message names the input and what was wrong. */
export class SizeParseError extends SoftboardError {
  override readonly name = 'SizeParseError';
  /** What was wrong, without the input (e.g. `larger than 2^64-1 bytes`), for callers that name it. */
  readonly detail: string;
  constructor(
    /** The rejected input, as given. */
    readonly input: string,
    message: string,
    detail?: string,
  ) {
    super(message);
    this.detail = detail ?? message;
  }
}

const U64_MAX = (1n << 64n) - 1n;
const TWO_64 = 1n << 64n;

/** Size suffixes, powers of 1024 (QEMU suffix_mul; `B` = bytes). */
const SIZE_SUFFIX: Readonly<Record<string, bigint>> = {
  b: 1n, k: 1n << 10n, m: 1n << 20n, g: 1n << 30n, t: 1n << 40n, p: 1n << 50n, e: 1n << 60n,
};

/** A size suffix letter accepted by {@link parseSize}'s `defaultSuffix`. */
export type SizeSuffix = 'B' | 'K' | 'M' | 'G' | 'T' | 'P' | 'E';

/** Options of {@link parseSize}. */
export interface ParseSizeOptions {
  /**
   * Unit of a number without suffix, hex included (QEMU `-m 512` means MiB: qemu_strtosz_MiB).
   * Default `B`.
   */
  readonly defaultSuffix?: SizeSuffix;
}

const SUFFIXES_TEXT = 'K, M, G, T, P or E';
const NOT_A_NUMBER = 'expected a number';

/** C isspace() in the C locale: what strtoull skips before a number. */
const C_SPACE = /^[ \t\n\v\f\r]*/;

/**
 * QEMU do_strtosz on the whole of `text` (end == NULL): the byte count, or what is wrong with it.
 * Same steps as QEMU: integral part (decimal, or hex after `0x`), fraction as a double turned into a
 * 64-bit binary fixed-point fraction, then 64.64 × multiplier with round-half-up.
 */
function strtosz(text: string, defaultMul: bigint): bigint | string {
  let i = C_SPACE.exec(text)?.[0].length ?? 0;
  const sign = text[i];
  if (sign === '-') {
    // parse_uint: negative values (-0 included) are out of range, as is a negative fraction (signbit).
    return /^-\.?[0-9]/.test(text.slice(i)) ? 'negative sizes are not allowed' : NOT_A_NUMBER;
  }
  if (sign === '+') i++;
  const intDigits = /^[0-9]*/.exec(text.slice(i))?.[0] ?? '';
  i += intDigits.length;
  let val = intDigits === '' ? 0n : BigInt(intDigits);
  let valf = 0n; // fraction × 2^64, truncated (QEMU's valf)
  if (val > U64_MAX) return 'larger than 2^64-1 bytes';
  const next = text[i];
  if (intDigits === '0' && (next === 'x' || next === 'X')) {
    // Hex: strtoull base 16 after "0x"; no fraction, no suffix (B and E are hex digits anyway).
    const hexDigits = /^[0-9a-f]*/i.exec(text.slice(i + 1))?.[0] ?? '';
    if (hexDigits === '') return junk(text, i);
    val = BigInt(`0x${hexDigits}`);
    if (val > U64_MAX) return 'larger than 2^64-1 bytes';
    i += 1 + hexDigits.length;
    const c = text[i];
    if (c === '.' || (c !== undefined && SIZE_SUFFIX[c.toLowerCase()] !== undefined)) {
      return 'a hex size takes no suffix or fraction';
    }
  } else if (next === '.') {
    const fracDigits = /^[0-9]*/.exec(text.slice(i + 1))?.[0] ?? '';
    if (intDigits === '' && fracDigits === '') return NOT_A_NUMBER;
    i += 1 + fracDigits.length;
    // strtod of ".digits", correctly rounded in C and in JS alike; 'e' is a suffix, not an exponent.
    const fraction = fracDigits === '' ? 0 : Number(`0.${fracDigits}`);
    if (fraction === 1) {
      // Rounded up to 1.0 (more digits than a double holds).
      if (val === U64_MAX) return 'larger than 2^64-1 bytes';
      val++;
    } else {
      valf = BigInt(Math.trunc(fraction * 2 ** 64));
      // Any non-zero fraction gives a non-zero valf, even when it underflows a double.
      if (valf === 0n && /[1-9]/.test(fracDigits)) valf = 1n;
    }
  } else if (intDigits === '') {
    return NOT_A_NUMBER;
  }
  let mul = defaultMul;
  const c = text[i];
  const suffixMul = c === undefined ? undefined : SIZE_SUFFIX[c.toLowerCase()];
  if (suffixMul !== undefined) {
    mul = suffixMul;
    i++;
  }
  if (i < text.length) return junk(text, i);
  if (mul === 1n) {
    if (valf !== 0n) return `a fraction needs a ${SUFFIXES_TEXT} suffix`;
    return val;
  }
  // 64.64 fixed point × 64.0 → 128.64, rounding 0.5 upward.
  const f = valf * mul;
  const v = val * mul + (f >> 64n) + ((f % TWO_64) >> 63n);
  return v > U64_MAX ? 'larger than 2^64-1 bytes' : v;
}

function junk(text: string, at: number): string {
  const rest = text.slice(at), before = text.slice(0, at);
  // "64KiB", "8MB": QEMU's suffixes are already binary, and take no "B"/"iB".
  const hint = /^i?b$/i.test(rest) && /[kmgtpe]$/i.test(before)
    ? `; '${before}' alone means ${before.slice(0, -1)} ${before.slice(-1).toUpperCase()}iB`
    : '';
  return `unexpected '${rest}' after '${before}'${hint}`;
}

/**
 * Parses a size as QEMU's `qemu_strtosz` (see the module comment): `128M`, `1G`, `4096`, `0x1000`,
 * `1.5K`. Suffixes B/K/M/G/T/P/E are powers of 1024, case-insensitive. A `number` must be a
 * non-negative safe integer, a `bigint` at most 2^64-1; both are bytes whatever `defaultSuffix` says.
 * @throws {@link SizeParseError} naming the input and what is wrong: not a number, trailing characters
 *   (`12Q`, `64KiB`, `0x10M`), a fraction without suffix, a negative value, or a value above 2^64-1.
 */
export function parseSize(input: string | number | bigint, options: ParseSizeOptions = {}): bigint {
  if (typeof input === 'bigint' || typeof input === 'number') return checkInteger(input, 'size', U64_MAX);
  const r = strtosz(input, SIZE_SUFFIX[(options.defaultSuffix ?? 'B').toLowerCase()] ?? 1n);
  if (typeof r === 'bigint') return r;
  const hint = r === NOT_A_NUMBER || r.startsWith('unexpected') // a syntax error: show the syntax
    ? `; a size is a number with an optional B, ${SUFFIXES_TEXT} suffix (powers of 1024), e.g. 128M, 1.5G, 4096, 0x1000`
    : '';
  throw new SizeParseError(input, `invalid size '${input}': ${r}${hint}`, r);
}

/** value = int.frac × mul, if that is an integer; null otherwise (durations are exact, unlike sizes). */
function scaleDecimal(int: string, frac: string, mul: bigint): bigint | null {
  const den = 10n ** BigInt(frac.length);
  const num = (BigInt(int) * den + (frac === '' ? 0n : BigInt(frac))) * mul;
  return num % den === 0n ? num / den : null;
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
