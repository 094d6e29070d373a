/**
 * The wasm backend op by op: every pure IR op, on operands drawn from the edge values (0, ±1, MIN,
 * MAX, shift widths …) and random ones, must give what the reference interpreter gives. Outputs may
 * alias inputs (as `mulu2 a,b,a,b`), and operands may be constants.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { createWasmBackend } from '../../src/tcg/backend/wasm/backend.js';
import { TcgContext } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { Cond, type Opcode, type TcgType, type Temp } from '../../src/tcg/ir.js';
import type { CompiledTb, TbRuntime } from '../../src/tcg/backend/backend.js';
import { ENV_SIZE } from './fake-rt.js';
import { makeGlobals } from './gen-ir.js';

const wasm = createWasmBackend();
const EDGE: bigint[] = [0n, 1n, 2n, 3n, 7n, 8n, 15n, 16n, 31n, 32n, 33n, 63n, 64n, 65n, 0x7fn, 0x80n, 0xffn, 0x8000n, 0xffffn,
  0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n,
  0xffffffff80000000n, 0xfffffffffffffffen, 0xffffffffffffffffn, 0x123456789abcdef0n];
const value = fc.oneof(fc.constantFrom(...EDGE), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }));
const CONDS = [Cond.NEVER, Cond.ALWAYS, Cond.EQ, Cond.NE, Cond.LT, Cond.GE, Cond.LE, Cond.GT, Cond.LTU, Cond.GEU, Cond.LEU, Cond.GTU];

/** Env bytes: x1..x4 (i64 at 0..31), w1, w2 (i32 at 32, 36) from `vals`, the rest zero. */
function envOf(vals: readonly bigint[]): Uint8Array {
  const b = new Uint8Array(ENV_SIZE);
  const v = new DataView(b.buffer);
  for (let k = 0; k < 4; k++) v.setBigUint64(8 * k, vals[k] ?? 0n, true);
  v.setUint32(32, Number((vals[4] ?? 0n) & 0xffffffffn), true);
  v.setUint32(36, Number((vals[5] ?? 0n) & 0xffffffffn), true);
  return b;
}

interface Shape {
  opc: Opcode;
  ins: TcgType[];
  outs: TcgType[];
  /** Constant-argument choices (one list per position). */
  cs?: number[][];
}

function shapes(): Shape[] {
  const r: Shape[] = [];
  for (const t of ['i32', 'i64'] as const) {
    const w = t === 'i32' ? 32 : 64;
    for (const n of ['add', 'sub', 'mul', 'div', 'divu', 'rem', 'remu', 'and', 'or', 'xor', 'andc', 'orc', 'eqv',
      'shl', 'shr', 'sar', 'rotl', 'rotr', 'clz', 'ctz']) r.push({ opc: `${n}_${t}` as Opcode, ins: [t, t], outs: [t] });
    for (const n of ['mov', 'neg', 'not', 'ext8s', 'ext8u', 'ext16s', 'ext16u', 'ctpop']) r.push({ opc: `${n}_${t}` as Opcode, ins: [t], outs: [t] });
    const ofsLen: number[][] = [];
    for (const ofs of [0, 1, 7, w / 2 - 1, w / 2, w - 2, w - 1]) for (const len of [1, 2, 8, 16, w / 2, w - 1, w]) if (ofs + len <= w) ofsLen.push([ofs, len]);
    for (const n of ['extract', 'sextract']) for (const c of ofsLen) r.push({ opc: `${n}_${t}` as Opcode, ins: [t], outs: [t], cs: [[c[0]!], [c[1]!]] });
    for (const c of ofsLen) r.push({ opc: `deposit_${t}` as Opcode, ins: [t, t], outs: [t], cs: [[c[0]!], [c[1]!]] });
    r.push({ opc: `bswap16_${t}` as Opcode, ins: [t], outs: [t], cs: [[0, 1, 2, 3, 4, 5]] });
    r.push({ opc: `bswap32_${t}` as Opcode, ins: [t], outs: [t], cs: [[0, 1, 2, 3, 4, 5]] });
    r.push({ opc: `setcond_${t}` as Opcode, ins: [t, t], outs: [t], cs: [CONDS] });
    r.push({ opc: `movcond_${t}` as Opcode, ins: [t, t, t, t], outs: [t], cs: [CONDS] });
    r.push({ opc: `mulu2_${t}` as Opcode, ins: [t, t], outs: [t, t] });
    r.push({ opc: `muls2_${t}` as Opcode, ins: [t, t], outs: [t, t] });
  }
  for (const n of ['ext32s', 'ext32u', 'bswap64']) r.push({ opc: `${n}_i64` as Opcode, ins: ['i64'], outs: ['i64'] });
  r.push({ opc: 'mulsu2_i64', ins: ['i64', 'i64'], outs: ['i64', 'i64'] });
  r.push({ opc: 'ext_i32_i64', ins: ['i32'], outs: ['i64'] });
  r.push({ opc: 'extu_i32_i64', ins: ['i32'], outs: ['i64'] });
  r.push({ opc: 'extrl_i64_i32', ins: ['i64'], outs: ['i32'] });
  r.push({ opc: 'extrh_i64_i32', ins: ['i64'], outs: ['i32'] });
  return r;
}

/**
 * One TB per (shape, operand choice): `pick[k]` chooses input k (0..1: a global, 2: a constant, 3: a
 * temp loaded from a global) and the outputs (globals, possibly the inputs' globals).
 */
function buildOne(s: Shape, cs: number[], pick: number[], consts: bigint[]) {
  const { set, i64, i32 } = makeGlobals();
  const ctx = new TcgContext(set, 'i64');
  ctx.insnStart(0x1000);
  const g = (t: TcgType, k: number): Temp => (t === 'i64' ? i64[k % 4]! : i32[k % 2]!);
  const ins = s.ins.map((t, k) => {
    const p = pick[k] ?? 0;
    if (p % 4 === 2) return ctx.const(t, consts[k] ?? 0n);
    if (p % 4 === 3) { const x = ctx.temp(t); ctx.mov(x, g(t, p >> 2)); return x; }
    return g(t, p >> 2);
  });
  const outs = s.outs.map((t, k) => g(t, (pick[4 + k] ?? k) + k));
  if (outs.length === 2 && outs[0] === outs[1]) outs[1] = s.outs[1] === 'i64' ? i64.find((x) => x !== outs[0])! : i32.find((x) => x !== outs[0])!;
  ctx.emit(s.opc, outs, ins, cs);
  ctx.exitTb(0);
  return ctx.finish();
}

/** A runtime with only an env (pure ops touch nothing else). */
function runEnv(tb: CompiledTb, env: Uint8Array): number[] {
  const buf = new ArrayBuffer(ENV_SIZE);
  new Uint8Array(buf).set(env);
  const rt: TbRuntime = {
    cpu: null, env: buf, envI32: new Int32Array(buf), envView: new DataView(buf), loadHi: 0, curInsn: -1,
    load: () => { throw new Error('no memory'); },
    store: () => { throw new Error('no memory'); },
  };
  return [tb(rt), ...new Uint8Array(buf)];
}

describe('wasm backend, op by op', () => {
  const all = shapes();
  it('covers every pure opcode', () => {
    expect(new Set(all.map((s) => s.opc)).size).toBe(82);
  });
  it('gives the interpreter\'s result for every op on edge and random operands', () => {
    fc.assert(
      fc.property(
        fc.nat(all.length * 64 - 1), fc.array(fc.nat(15), { minLength: 6, maxLength: 6 }),
        fc.array(value, { minLength: 4, maxLength: 4 }), fc.array(fc.array(value, { minLength: 6, maxLength: 6 }), { minLength: 4, maxLength: 4 }),
        fc.nat(),
        (sel, pick, consts, envs, cpick) => {
          const s = all[sel % all.length]!;
          const cs = (s.cs ?? []).map((choices, k) => choices[(cpick >> (4 * k)) % choices.length]!);
          const fn = buildOne(s, cs, pick, consts);
          const ref = interpreterBackend.compile(fn);
          const tb = wasm.compile(fn);
          for (const vals of envs) {
            const env = envOf(vals);
            const a = runEnv(ref, env), b = runEnv(tb, env);
            if (a.join() !== b.join()) expect.fail(`interp ${a.join()}\nwasm   ${b.join()}\n${dumpIr(fn)}`);
          }
        },
      ),
      { numRuns: 3000, endOnFailure: true },
    );
  });
});
