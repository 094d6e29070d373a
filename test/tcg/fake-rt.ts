/**
 * A fake TbRuntime for TCG tests: a small env, a few pages of guest memory, helpers that log.
 */
import type { TbRuntime } from '../../src/tcg/backend/backend.js';
import { MO_ALIGN, MO_BE, MO_SIGN, MO_SIZE } from '../../src/tcg/ir.js';

export const ENV_SIZE = 128;
export const MEM_BASE = 0x10000;
export const MEM_SIZE = 0x2000;

/** A guest fault raised by the fake memory or a helper. */
export class FakeFault extends Error {
  constructor(readonly what: string) {
    super(what);
  }
}

export interface FakeCpu {
  log: string[];
  view: DataView;
}

export class FakeRuntime implements TbRuntime {
  readonly env: ArrayBuffer;
  readonly envI32: Int32Array;
  readonly envView: DataView;
  readonly mem: Uint8Array;
  readonly cpu: FakeCpu;
  loadHi = 0;
  curInsn = -1;

  constructor(envInit: Uint8Array, memInit: Uint8Array) {
    this.env = new ArrayBuffer(ENV_SIZE);
    new Uint8Array(this.env).set(envInit.subarray(0, ENV_SIZE));
    this.envI32 = new Int32Array(this.env);
    this.envView = new DataView(this.env);
    this.mem = new Uint8Array(MEM_SIZE);
    this.mem.set(memInit.subarray(0, MEM_SIZE));
    this.cpu = { log: [], view: this.envView };
  }

  private addr(lo: number, hi: number, size: number, memop: number): number {
    if (hi !== 0) throw new FakeFault(`unmapped ${hi >>> 0}:${lo >>> 0}`);
    const a = lo >>> 0;
    if ((memop & MO_ALIGN) && a % size !== 0) throw new FakeFault(`misaligned ${a}`);
    if (a < MEM_BASE || a + size > MEM_BASE + MEM_SIZE) throw new FakeFault(`unmapped ${a}`);
    return a - MEM_BASE;
  }

  load(addrLo: number, addrHi: number, memop: number, _mmuIdx: number): number {
    const size = 1 << (memop & MO_SIZE);
    const p = this.addr(addrLo, addrHi, size, memop);
    let v = 0n;
    for (let k = 0; k < size; k++) {
      const byte = BigInt(this.mem[p + k]!);
      v |= (memop & MO_BE) ? byte << BigInt(8 * (size - 1 - k)) : byte << BigInt(8 * k);
    }
    if (memop & MO_SIGN) v = BigInt.asUintN(64, BigInt.asIntN(8 * size, v));
    this.loadHi = Number((v >> 32n) & 0xffffffffn) | 0;
    return Number(v & 0xffffffffn) | 0;
  }

  store(addrLo: number, addrHi: number, valLo: number, valHi: number, memop: number, _mmuIdx: number): void {
    const size = 1 << (memop & MO_SIZE);
    const p = this.addr(addrLo, addrHi, size, memop);
    const v = (BigInt(valHi >>> 0) << 32n) | BigInt(valLo >>> 0);
    for (let k = 0; k < size; k++) {
      const shift = (memop & MO_BE) ? 8 * (size - 1 - k) : 8 * k;
      this.mem[p + k] = Number((v >> BigInt(shift)) & 0xffn);
    }
  }
}

/** Everything observable after running a TB. */
export interface Outcome {
  exit: number | string;
  curInsnAtFault: number | null;
  env: number[];
  mem: string;
  log: string[];
}

function hex(u: Uint8Array): string {
  let s = '';
  for (const b of u) s += b.toString(16).padStart(2, '0');
  return s;
}

/** Runs `run` against a fresh fake runtime and captures the outcome (a FakeFault becomes the exit). */
export function runOn(run: (rt: TbRuntime) => number, envInit: Uint8Array, memInit: Uint8Array): Outcome {
  return outcomeOf(new FakeRuntime(envInit, memInit), run);
}

/** Runs `run` against `rt` (a fresh FakeRuntime or subclass) and captures the outcome. */
export function outcomeOf(rt: FakeRuntime, run: (rt: TbRuntime) => number): Outcome {
  let exit: number | string;
  let fault: number | null = null;
  try {
    exit = run(rt);
  } catch (e) {
    if (!(e instanceof FakeFault)) throw e;
    exit = `fault: ${e.what}`;
    fault = rt.curInsn;
  }
  return { exit, curInsnAtFault: fault, env: [...new Uint8Array(rt.env)], mem: hex(rt.mem), log: rt.cpu.log };
}

/** Describes the first difference between two outcomes, or returns null if they are equal. */
export function diffOutcome(a: Outcome, b: Outcome): string | null {
  if (a.exit !== b.exit) return `exit ${a.exit} vs ${b.exit}`;
  if (a.curInsnAtFault !== b.curInsnAtFault) return `curInsn at fault ${a.curInsnAtFault} vs ${b.curInsnAtFault}`;
  for (let k = 0; k < a.env.length; k++) {
    if (a.env[k] !== b.env[k]) return `env byte ${k}: ${a.env[k]} vs ${b.env[k]}`;
  }
  if (a.mem !== b.mem) {
    let k = 0;
    while (a.mem[k] === b.mem[k]) k++;
    return `mem byte ${k >> 1}`;
  }
  if (a.log.join('\n') !== b.log.join('\n')) return `helper log:\n${a.log.join('\n')}\nvs\n${b.log.join('\n')}`;
  return null;
}

/**
 * Deterministic pseudo-random bytes from a seed (xorshift32), biased towards small and boundary
 * values so that comparisons and sign bits hit interesting cases.
 */
export function randomBytes(n: number, seed: number): Uint8Array {
  let x = (seed | 0) || 0x9e3779b9;
  const out = new Uint8Array(n);
  for (let k = 0; k < n; k++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    const r = x >>> 0;
    switch (r % 8) {
      case 0: out[k] = 0; break;
      case 1: out[k] = 0xff; break;
      case 2: out[k] = 0x80; break;
      default: out[k] = (r >>> 8) & 0xff; break;
    }
  }
  return out;
}
