/**
 * Custom `expect` matchers for firmware tests, written against the matcher protocol that Jest and
 * Vitest share (`expect.extend({ name(received, ...args) { return { pass, message } } })`, with
 * `this.isNot` and `this.utils`). Nothing here imports a test runner: the runner-specific entries
 * (`./vitest.ts`, `./jest.ts`) register these and declare their types.
 * @module
 */
import { SoftboardError } from '../util/errors.js';

/**
 * What the matchers read from the value under test. Every softboard `Machine` has it (`serial` is the
 * first serial port's chardev, a `BufferChardev` by default); the matchers use only these members, so
 * they do not tie this entry to the machine classes.
 */
export interface MatchableMachine {
  /** The first serial port; `output` exists when it is a `BufferChardev`. */
  readonly serial: { readonly output?: string };
  /** How the machine was shut down, or null while it runs. */
  readonly shutdownInfo: { readonly kind: 'pass' | 'fail' | 'host'; readonly status: number } | null;
  getRegister(name: string, cpu?: number): bigint;
  readMemory(addr: bigint, len: number): Uint8Array;
  /** Register width of the board (`RiscvVirtMachine.xlen`); 64 is assumed when absent. */
  readonly xlen?: number;
}

/** What {@link SoftboardMatchers.toHaveShutdownWith} accepts: a status, a kind, or both. */
export type ShutdownExpectation =
  | number
  | 'pass' | 'fail' | 'host'
  | { readonly kind?: 'pass' | 'fail' | 'host'; readonly status?: number };

/** Bytes for {@link SoftboardMatchers.toHaveMemory}: a string means its UTF-8 encoding. */
export type ExpectedBytes = Uint8Array | readonly number[] | string;

/**
 * The matchers, as seen on `expect(machine)`. `R` is the runner's return type (`void` for Vitest, `R`
 * of `jest.Matchers<R>` for Jest).
 */
export interface SoftboardMatchers<R = unknown> {
  /**
   * The serial output contains `expected` (a string), or matches it (a RegExp). The received value is a
   * machine whose serial port is a `BufferChardev`, or such a chardev itself.
   */
  toHaveSerialOutput(expected: string | RegExp): R;
  /**
   * Register `name` (`a0`, `pc`, `mstatus`, … as `machine.getRegister` takes them) of CPU `cpu`
   * (default 0) equals `value`. Negative values are taken in two's complement at the board's XLEN,
   * so `-1` matches an all-ones register.
   */
  toHaveRegister(name: string, value: bigint | number, cpu?: number): R;
  /**
   * The machine has shut down: with exit status `n` (a number: 0 for a pass), of a kind
   * (`'pass'`, `'fail'`, `'host'`), or both (`{ kind: 'fail', status: 3 }`).
   */
  toHaveShutdownWith(expected: ShutdownExpectation): R;
  /** Guest physical memory at `addr` holds `bytes` (a string: its UTF-8 bytes, no terminating NUL). */
  toHaveMemory(addr: bigint | number, bytes: ExpectedBytes): R;
}

/** A matcher was given something it cannot check (not a machine, a bad address…): a test bug, not a failure. */
export class MatcherUsageError extends SoftboardError {
  override name = 'MatcherUsageError';
}

/**
 * The part of the runner's matcher context (`this` inside a matcher) that these matchers use. Jest's
 * `MatcherContext` and Vitest's `MatcherState` both have it.
 */
export interface MatcherContextLike {
  readonly isNot: boolean;
  readonly utils?: {
    matcherHint(matcherName: string, received?: string, expected?: string, options?: { isNot?: boolean; secondArgument?: string }): string;
    printReceived(value: unknown): string;
    printExpected(value: unknown): string;
    /** Colours text as an expected value (Jest and Vitest both have it). */
    EXPECTED_COLOR?: (text: string) => string;
    RECEIVED_COLOR?: (text: string) => string;
  };
}

/** The result a matcher returns to the runner. */
export interface MatcherResult {
  readonly pass: boolean;
  readonly message: () => string;
}

/** A matcher as `expect.extend` takes it. */
export type SoftboardMatcherFn<A extends unknown[]> = (this: MatcherContextLike, received: unknown, ...args: A) => MatcherResult;

/** Serial output shown in failure messages: the last this many characters. */
const OUTPUT_TAIL = 2000;

function isMachine(v: unknown): v is MatchableMachine {
  return typeof v === 'object' && v !== null
    && typeof (v as MatchableMachine).getRegister === 'function'
    && typeof (v as MatchableMachine).readMemory === 'function'
    && 'shutdownInfo' in v;
}

function requireMachine(matcher: string, received: unknown): MatchableMachine {
  if (isMachine(received)) return received;
  throw new MatcherUsageError(`${matcher}: expected a softboard Machine (e.g. from createVirtMachine), received ${describe(received)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`;
  return `${typeof v} ${String(v)}`;
}

interface Printer {
  hint(name: string, expected?: string, second?: string): string;
  /** A JS value, as the runner prints expected/received values. */
  exp(v: unknown): string;
  rec(v: unknown): string;
  /** Preformatted text (hex values, byte dumps) in the expected/received colour. */
  expText(s: string): string;
  recText(s: string): string;
}

function printer(ctx: MatcherContextLike): Printer {
  const u = ctx.utils;
  const plain = (s: string): string => s;
  return {
    hint: (name, expected = 'expected', second) => u
      ? u.matcherHint(name, 'machine', expected, { isNot: ctx.isNot, ...(second !== undefined ? { secondArgument: second } : {}) })
      : `expect(machine)${ctx.isNot ? '.not' : ''}.${name}(${expected}${second !== undefined ? `, ${second}` : ''})`,
    rec: (v) => (u ? u.printReceived(v) : JSON.stringify(v)),
    exp: (v) => (u ? u.printExpected(v) : v instanceof RegExp ? String(v) : JSON.stringify(v)),
    expText: u?.EXPECTED_COLOR ?? plain,
    recText: u?.RECEIVED_COLOR ?? plain,
  };
}

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function tail(s: string): string {
  return s.length <= OUTPUT_TAIL ? s : '…' + s.slice(-OUTPUT_TAIL);
}

/** The serial text of a machine or a chardev, or a usage error. */
function serialOutput(received: unknown): string {
  const chr = isMachine(received) ? received.serial : received;
  const out = typeof chr === 'object' && chr !== null ? (chr as { output?: unknown }).output : undefined;
  if (typeof out !== 'string') {
    throw new MatcherUsageError(isMachine(received)
      ? 'toHaveSerialOutput: the machine\'s serial chardev keeps no output (use a BufferChardev, the default of createVirtMachine)'
      : `toHaveSerialOutput: expected a softboard Machine or a BufferChardev, received ${describe(received)}`);
  }
  return out;
}

const toHaveSerialOutput: SoftboardMatcherFn<[expected: string | RegExp]> = function (received, expected) {
  if (typeof expected !== 'string' && !(expected instanceof RegExp)) {
    throw new MatcherUsageError(`toHaveSerialOutput: expected a string or a RegExp, got ${describe(expected)}`);
  }
  const out = serialOutput(received);
  // A global/sticky RegExp keeps lastIndex between calls: test a copy without those flags.
  const pass = typeof expected === 'string' ? out.includes(expected) : new RegExp(expected.source, expected.flags.replace(/[gy]/g, '')).test(out);
  const p = printer(this);
  const verb = typeof expected === 'string' ? 'contain' : 'match';
  return {
    pass,
    message: () => `${p.hint('toHaveSerialOutput')}\n\n`
      + `Expected serial output ${this.isNot ? 'not ' : ''}to ${verb}: ${p.exp(expected)}\n`
      + `Received serial output${out.length > OUTPUT_TAIL ? ` (last ${OUTPUT_TAIL} characters)` : ''}: ${p.rec(tail(out))}`,
  };
};

const toHaveRegister: SoftboardMatcherFn<[name: string, value: bigint | number, cpu?: number]> = function (received, name, value, cpu = 0) {
  const m = requireMachine('toHaveRegister', received);
  if (typeof name !== 'string') throw new MatcherUsageError(`toHaveRegister: the register name must be a string, got ${describe(name)}`);
  if (typeof value !== 'bigint' && !(typeof value === 'number' && Number.isSafeInteger(value))) {
    throw new MatcherUsageError(`toHaveRegister(${JSON.stringify(name)}, …): the value must be a bigint or a safe integer, got ${describe(value)}`);
  }
  const xlen = m.xlen ?? 64;
  const want = BigInt.asUintN(xlen, BigInt(value));
  const got = BigInt.asUintN(xlen, m.getRegister(name, cpu));
  const p = printer(this);
  const where = cpu === 0 ? name : `${name} of CPU ${cpu}`;
  return {
    pass: got === want,
    message: () => `${p.hint('toHaveRegister', 'name', 'value')}\n\n`
      + `Expected ${where} ${this.isNot ? 'not ' : ''}to be: ${p.expText(`${hex(want)} (${want})`)}\n`
      + `Received ${where}: ${p.recText(`${hex(got)} (${got})`)}`,
  };
};

const toHaveShutdownWith: SoftboardMatcherFn<[expected: ShutdownExpectation]> = function (received, expected) {
  const m = requireMachine('toHaveShutdownWith', received);
  let want: { kind?: string; status?: number };
  if (typeof expected === 'number') want = { status: expected };
  else if (expected === 'pass' || expected === 'fail' || expected === 'host') want = { kind: expected };
  else if (typeof expected === 'object' && expected !== null && (expected.kind !== undefined || expected.status !== undefined)) want = expected;
  else throw new MatcherUsageError(`toHaveShutdownWith: expected a status number, 'pass' | 'fail' | 'host', or { kind, status }, got ${describe(expected)}`);
  const info = m.shutdownInfo;
  const pass = info !== null && (want.kind === undefined || info.kind === want.kind) && (want.status === undefined || info.status === want.status);
  const p = printer(this);
  const running = (): string => {
    let pc = '';
    try { pc = ` at pc ${hex(m.getRegister('pc'))}`; } catch { /* a machine without a pc register */ }
    const out = typeof m.serial.output === 'string' ? `\nSerial output: ${p.rec(tail(m.serial.output))}` : '';
    return `the machine has not shut down (still running${pc})${out}`;
  };
  return {
    pass,
    message: () => `${p.hint('toHaveShutdownWith')}\n\n`
      + `Expected shutdown ${this.isNot ? 'not ' : ''}with: ${p.expText(shutdownText(want))}\n`
      + `Received: ${info === null ? running() : `shutdown with ${p.recText(shutdownText(info))}`}`,
  };
};

/** `kind pass, status 0` (the fields given). */
function shutdownText(s: { kind?: string; status?: number }): string {
  return [s.kind !== undefined ? `kind ${s.kind}` : '', s.status !== undefined ? `status ${s.status}` : ''].filter(Boolean).join(', ');
}

const encoder = new TextEncoder();

const toHaveMemory: SoftboardMatcherFn<[addr: bigint | number, bytes: ExpectedBytes]> = function (received, addr, bytes) {
  const m = requireMachine('toHaveMemory', received);
  if (typeof addr !== 'bigint' && !(typeof addr === 'number' && Number.isSafeInteger(addr) && addr >= 0)) {
    throw new MatcherUsageError(`toHaveMemory: the address must be a bigint or a non-negative safe integer, got ${describe(addr)}`);
  }
  let want: Uint8Array;
  if (typeof bytes === 'string') want = encoder.encode(bytes);
  else if (bytes instanceof Uint8Array) want = bytes;
  else if (Array.isArray(bytes) && bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) want = Uint8Array.from(bytes);
  else throw new MatcherUsageError(`toHaveMemory: expected bytes as a Uint8Array, an array of 0..255 or a string, got ${describe(bytes)}`);
  const base = BigInt(addr);
  const got = m.readMemory(base, want.length);
  let diff = -1;
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) { diff = i; break; }
  }
  const p = printer(this);
  return {
    pass: diff < 0,
    message: () => {
      const head = `${p.hint('toHaveMemory', 'addr', 'bytes')}\n\n`;
      if (diff < 0) return `${head}Expected memory at ${hex(base)} not to be: ${p.expText(hexBytes(want, 0))}\nReceived the same ${want.length} bytes`;
      return `${head}Expected memory at ${hex(base)} (${want.length} bytes) to be: ${p.expText(hexBytes(want, diff))}\n`
        + `Received: ${p.recText(hexBytes(got, diff))}\n`
        + `First difference at ${hex(base + BigInt(diff))} (offset ${diff}): expected 0x${byte(want[diff])}, got 0x${byte(got[diff])}`;
    },
  };
};

function byte(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, '0');
}

/** Up to 32 bytes as hex, starting a little before `focus`. */
function hexBytes(b: Uint8Array, focus: number): string {
  const start = Math.max(0, Math.min(focus - 8, b.length - 32));
  const end = Math.min(b.length, start + 32);
  const parts: string[] = [];
  for (let i = start; i < end; i++) parts.push(byte(b[i]));
  return `${start > 0 ? '… ' : ''}${parts.join(' ')}${end < b.length ? ' …' : ''}`;
}

/**
 * The matchers, to pass to `expect.extend` (the `softboard/testing/vitest` and `softboard/testing/jest`
 * setup entries do it for you):
 * ```ts
 * import { expect } from 'vitest';
 * import { softboardMatchers } from 'softboard/testing';
 * expect.extend(softboardMatchers);
 * ```
 */
export const softboardMatchers = {
  toHaveSerialOutput,
  toHaveRegister,
  toHaveShutdownWith,
  toHaveMemory,
} as const;

/**
 * `value` as `size` little-endian bytes (two's complement for negative values), for
 * {@link SoftboardMatchers.toHaveMemory}: `expect(m).toHaveMemory(addr, littleEndian(5, 4))`.
 */
export function littleEndian(value: bigint | number, size: 1 | 2 | 4 | 8): Uint8Array {
  let v = BigInt.asUintN(size * 8, BigInt(value));
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}
