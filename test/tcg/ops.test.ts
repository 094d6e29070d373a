/**
 * Op semantics: every op, run by the reference interpreter and the closure backend, against a formula
 * written independently here (string and arithmetic forms rather than masks and shifts where possible).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TcgContext } from '../../src/tcg/context.js';
import { Cond, type Opcode, type TcgType } from '../../src/tcg/ir.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { ENV_SIZE, MEM_SIZE, runOn } from './fake-rt.js';
import { makeGlobals } from './gen-ir.js';

const P = (w: number) => 2n ** BigInt(w);
const mod = (v: bigint, w: number) => ((v % P(w)) + P(w)) % P(w);
const signed = (v: bigint, w: number) => (v >= P(w - 1) ? v - P(w) : v);
const bin = (v: bigint, w: number) => v.toString(2).padStart(w, '0');
const fromBin = (s: string) => (s.length === 0 ? 0n : BigInt(`0b${s}`));
const floorDiv = (a: bigint, b: bigint) => (a >= 0n ? a / b : -((-a + b - 1n) / b));

/** Runs one op on constant inputs; outputs land in x1,x2 (i64) or w1,w2 (i32). Returns [interp, closure]. */
function run(opc: Opcode, outType: TcgType, nOut: number, ins: Array<[TcgType, bigint]>, c: number[] = []): bigint[][] {
  const { set, i64, i32 } = makeGlobals();
  const ctx = new TcgContext(set, 'i64');
  const outs = (outType === 'i64' ? i64 : i32).slice(0, nOut);
  ctx.insnStart(0);
  ctx.emit(opc, outs, ins.map(([t, v]) => ctx.const(t, v)), c);
  ctx.exitTb(0);
  const fn = ctx.finish();
  return [interpreterBackend.compile(fn), closureBackend.compile(fn)].map((tb) => {
    const env = runOn(tb, new Uint8Array(ENV_SIZE), new Uint8Array(MEM_SIZE)).env;
    const view = new DataView(Uint8Array.from(env).buffer);
    return outs.map((o) => (o.type === 'i64' ? view.getBigUint64(o.offset, true) : BigInt(view.getUint32(o.offset, true))));
  });
}

const val = (w: number) => fc.oneof(
  fc.bigInt({ min: 0n, max: P(w) - 1n }),
  fc.constantFrom(0n, 1n, 2n, P(w) - 1n, P(w - 1), P(w - 1) - 1n, 31n, 32n, 63n, 64n, P(w) - 2n),
  fc.bigInt({ min: 0n, max: 300n }),
);

type F = (x: bigint[], w: number, c: number[]) => bigint[];
const bins: Record<string, F> = {
  add: ([a, b], w) => [mod(a! + b!, w)],
  sub: ([a, b], w) => [mod(a! - b!, w)],
  mul: ([a, b], w) => [mod(a! * b!, w)],
  and: ([a, b], w) => [fromBin([...bin(a!, w)].map((ch, k) => (ch === '1' && bin(b!, w)[k] === '1' ? '1' : '0')).join(''))],
  or: ([a, b], w) => [fromBin([...bin(a!, w)].map((ch, k) => (ch === '1' || bin(b!, w)[k] === '1' ? '1' : '0')).join(''))],
  xor: ([a, b], w) => [fromBin([...bin(a!, w)].map((ch, k) => (ch !== bin(b!, w)[k] ? '1' : '0')).join(''))],
  andc: ([a, b], w) => [fromBin([...bin(a!, w)].map((ch, k) => (ch === '1' && bin(b!, w)[k] === '0' ? '1' : '0')).join(''))],
  orc: ([a, b], w) => [fromBin([...bin(a!, w)].map((ch, k) => (ch === '1' || bin(b!, w)[k] === '0' ? '1' : '0')).join(''))],
  eqv: ([a, b], w) => [fromBin([...bin(a!, w)].map((ch, k) => (ch === bin(b!, w)[k] ? '1' : '0')).join(''))],
  shl: ([a, b], w) => [mod(a! * 2n ** (b! % BigInt(w)), w)],
  shr: ([a, b], w) => [a! / 2n ** (b! % BigInt(w))],
  sar: ([a, b], w) => [mod(floorDiv(signed(a!, w), 2n ** (b! % BigInt(w))), w)],
  rotl: ([a, b], w) => { const s = bin(a!, w), n = Number(b! % BigInt(w)); return [fromBin(s.slice(n) + s.slice(0, n))]; },
  rotr: ([a, b], w) => { const s = bin(a!, w), n = Number(b! % BigInt(w)); return [fromBin(s.slice(w - n) + s.slice(0, w - n))]; },
  divu: ([a, b], w) => [b === 0n ? P(w) - 1n : a! / b!],
  remu: ([a, b]) => [b === 0n ? a! : a! % b!],
  div: ([a, b], w) => {
    const sa = signed(a!, w), sb = signed(b!, w);
    if (sb === 0n) return [P(w) - 1n];
    if (sa === -P(w - 1) && sb === -1n) return [a!];
    const q = (sa < 0n ? -sa : sa) / (sb < 0n ? -sb : sb);
    return [mod((sa < 0n) !== (sb < 0n) ? -q : q, w)];
  },
  rem: ([a, b], w) => {
    const sa = signed(a!, w), sb = signed(b!, w);
    if (sb === 0n) return [a!];
    if (sa === -P(w - 1) && sb === -1n) return [0n];
    const r = (sa < 0n ? -sa : sa) % (sb < 0n ? -sb : sb);
    return [mod(sa < 0n ? -r : r, w)];
  },
  clz: ([a, b], w) => [a === 0n ? b! : BigInt(bin(a!, w).indexOf('1'))],
  ctz: ([a, b], w) => [a === 0n ? b! : BigInt(w - 1 - bin(a!, w).lastIndexOf('1'))],
  mulu2: ([a, b], w) => [mod(a! * b!, w), (a! * b!) / P(w)],
  muls2: ([a, b], w) => { const p = mod(signed(a!, w) * signed(b!, w), 2 * w); return [p % P(w), p / P(w)]; },
  mulsu2: ([a, b], w) => { const p = mod(signed(a!, w) * b!, 2 * w); return [p % P(w), p / P(w)]; },
};
const sext = (a: bigint, n: number, w: number) => mod(signed(a % P(n), n), w);
const uns: Record<string, F> = {
  neg: ([a], w) => [mod(-a!, w)],
  not: ([a], w) => [P(w) - 1n - a!],
  mov: ([a]) => [a!],
  ext8s: ([a], w) => [sext(a!, 8, w)],
  ext16s: ([a], w) => [sext(a!, 16, w)],
  ext32s: ([a], w) => [sext(a!, 32, w)],
  ext8u: ([a]) => [a! % 256n],
  ext16u: ([a]) => [a! % 65536n],
  ext32u: ([a]) => [a! % P(32)],
  ctpop: ([a], w) => [BigInt([...bin(a!, w)].filter((ch) => ch === '1').length)],
  bswap64: ([a]) => [fromBin((bin(a!, 64).match(/.{8}/g) ?? []).reverse().join(''))],
};

describe('op semantics (interpreter and closure backend against independent formulas)', () => {
  for (const w of [32, 64] as const) {
    const type: TcgType = w === 32 ? 'i32' : 'i64';
    for (const [name, f] of Object.entries(bins)) {
      if (name === 'mulsu2' && w === 32) continue;
      it(`${name}_${type}`, () => {
        fc.assert(fc.property(val(w), val(w), (a, b) => {
          const n = name.endsWith('2') ? 2 : 1;
          const want = f([a, b], w, []);
          for (const got of run(`${name}_${type}` as Opcode, type, n, [[type, a], [type, b]])) expect(got).toEqual(want);
        }), { numRuns: 40 });
      });
    }
    for (const [name, f] of Object.entries(uns)) {
      if ((name === 'ext32s' || name === 'ext32u' || name === 'bswap64') && w === 32) continue;
      it(`${name}_${type}`, () => {
        fc.assert(fc.property(val(w), (a) => {
          for (const got of run(`${name}_${type}` as Opcode, type, 1, [[type, a]])) expect(got).toEqual(f([a], w, []));
        }), { numRuns: 40 });
      });
    }
    it(`extract/sextract/deposit_${type}`, () => {
      fc.assert(fc.property(val(w), val(w), fc.nat(w - 1), fc.nat(w), (a, b, ofs, l) => {
        const len = 1 + (l % (w - ofs));
        const s = bin(a, w);
        const field = s.slice(w - ofs - len, w - ofs);
        for (const got of run(`extract_${type}` as Opcode, type, 1, [[type, a]], [ofs, len])) expect(got).toEqual([fromBin(field)]);
        const sfield = fromBin(field.padStart(w, field[0]!));
        for (const got of run(`sextract_${type}` as Opcode, type, 1, [[type, a]], [ofs, len])) expect(got).toEqual([sfield]);
        const dep = fromBin(s.slice(0, w - ofs - len) + bin(b, w).slice(w - len) + s.slice(w - ofs));
        for (const got of run(`deposit_${type}` as Opcode, type, 1, [[type, a], [type, b]], [ofs, len])) expect(got).toEqual([dep]);
      }), { numRuns: 60 });
    });
    it(`bswap16/32_${type} (zero- or sign-extended output)`, () => {
      fc.assert(fc.property(val(w), fc.constantFrom(0, 1, 2, 4), (a, flags) => {
        const bytes = (v: bigint, n: number) => (bin(v % P(8 * n), 8 * n).match(/.{8}/g) ?? []).reverse().join('');
        const r16 = bytes(a, 2);
        const want16 = flags & 4 ? fromBin(r16.padStart(w, r16[0]!)) : fromBin(r16);
        for (const got of run(`bswap16_${type}` as Opcode, type, 1, [[type, a]], [flags])) expect(got).toEqual([want16]);
        const r32 = bytes(a, 4);
        const want32 = flags & 4 ? fromBin(r32.padStart(w, r32[0]!)) : fromBin(r32);
        for (const got of run(`bswap32_${type}` as Opcode, type, 1, [[type, a]], [flags])) expect(got).toEqual([want32]);
      }), { numRuns: 40 });
    });
    it(`setcond/movcond_${type} with every condition`, () => {
      const conds: Array<[Cond, (a: bigint, b: bigint) => boolean]> = [
        [Cond.NEVER, () => false], [Cond.ALWAYS, () => true], [Cond.EQ, (a, b) => a === b], [Cond.NE, (a, b) => a !== b],
        [Cond.LT, (a, b) => signed(a, w) < signed(b, w)], [Cond.GE, (a, b) => signed(a, w) >= signed(b, w)],
        [Cond.LE, (a, b) => signed(a, w) <= signed(b, w)], [Cond.GT, (a, b) => signed(a, w) > signed(b, w)],
        [Cond.LTU, (a, b) => a < b], [Cond.GEU, (a, b) => a >= b], [Cond.LEU, (a, b) => a <= b], [Cond.GTU, (a, b) => a > b],
      ];
      fc.assert(fc.property(val(w), val(w), fc.boolean(), (a, b0, same) => {
        const b = same ? a : b0;
        for (const [cond, f] of conds) {
          for (const got of run(`setcond_${type}` as Opcode, type, 1, [[type, a], [type, b]], [cond])) expect(got).toEqual([f(a, b) ? 1n : 0n]);
          for (const got of run(`movcond_${type}` as Opcode, type, 1, [[type, a], [type, b], [type, 111n], [type, 222n]], [cond])) {
            expect(got).toEqual([f(a, b) ? 111n : 222n]);
          }
        }
      }), { numRuns: 40 });
    });
  }
  it('conversions between i32 and i64', () => {
    fc.assert(fc.property(val(32), val(64), (a, b) => {
      for (const got of run('ext_i32_i64', 'i64', 1, [['i32', a]])) expect(got).toEqual([sext(a, 32, 64)]);
      for (const got of run('extu_i32_i64', 'i64', 1, [['i32', a]])) expect(got).toEqual([a]);
      for (const got of run('extrl_i64_i32', 'i32', 1, [['i64', b]])) expect(got).toEqual([b % P(32)]);
      for (const got of run('extrh_i64_i32', 'i32', 1, [['i64', b]])) expect(got).toEqual([b / P(32)]);
    }), { numRuns: 40 });
  });
});
