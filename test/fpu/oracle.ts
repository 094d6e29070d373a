/**
 * The differential oracle's op table and transport: op numbers match test/fixtures/fpu/fpu-oracle.c.
 * Each op maps raw operands (u64 register values) to the 64-bit destination register value our softfloat
 * predicts, the same form the guest program reports (fmv.x.w and 32-bit integer results sign-extended).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as sf from '../../src/fpu/index.js';

export const ORACLE_ELF = fileURLToPath(new URL('../fixtures/fpu/fpu-oracle.elf', import.meta.url));

/** Operand kinds, used to pick generators. */
export type Kind = 'f32' | 'f64' | 'i32' | 'i64';

export interface OpDef {
  readonly code: number;
  readonly name: string;
  /** Kinds of a, b, c actually read. */
  readonly args: readonly Kind[];
  /** Our prediction of the destination register. */
  readonly run: (a: bigint, b: bigint, c: bigint, s: sf.FloatStatus) => bigint;
}

const lo = (x: bigint): number => Number(x & 0xffffffffn);
const sx32 = (x: number): bigint => BigInt.asUintN(64, BigInt(x | 0));
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const bool = (x: boolean): bigint => (x ? 1n : 0n);

type S2 = (a: number, b: number, s: sf.FloatStatus) => number;
type D2 = (a: bigint, b: bigint, s: sf.FloatStatus) => bigint;
const s2 = (f: S2) => (a: bigint, b: bigint, _c: bigint, s: sf.FloatStatus): bigint => sx32(f(lo(a), lo(b), s));
const d2 = (f: D2) => (a: bigint, b: bigint, _c: bigint, s: sf.FloatStatus): bigint => f(a, b, s);
const S = ['f32', 'f32'] as const, D = ['f64', 'f64'] as const;

/** Every op of the oracle, by code. */
export const OPS: readonly OpDef[] = [
  { code: 0, name: 'fadd.s', args: S, run: s2(sf.f32Add) },
  { code: 1, name: 'fsub.s', args: S, run: s2(sf.f32Sub) },
  { code: 2, name: 'fmul.s', args: S, run: s2(sf.f32Mul) },
  { code: 3, name: 'fdiv.s', args: S, run: s2(sf.f32Div) },
  { code: 4, name: 'fsqrt.s', args: ['f32'], run: (a, _b, _c, s) => sx32(sf.f32Sqrt(lo(a), s)) },
  { code: 5, name: 'fmin.s', args: S, run: s2(sf.f32Min) },
  { code: 6, name: 'fmax.s', args: S, run: s2(sf.f32Max) },
  ...([[7, 'fmadd.s', false, false], [8, 'fmsub.s', false, true], [9, 'fnmsub.s', true, false],
    [10, 'fnmadd.s', true, true]] as const).map(([code, name, np, nc]): OpDef => ({
    code, name, args: ['f32', 'f32', 'f32'],
    run: (a, b, c, s) => sx32(sf.f32MulAdd(lo(a), lo(b), lo(c), np, nc, s)),
  })),
  { code: 11, name: 'feq.s', args: S, run: (a, b, _c, s) => bool(sf.f32Eq(lo(a), lo(b), s)) },
  { code: 12, name: 'flt.s', args: S, run: (a, b, _c, s) => bool(sf.f32Lt(lo(a), lo(b), s)) },
  { code: 13, name: 'fle.s', args: S, run: (a, b, _c, s) => bool(sf.f32Le(lo(a), lo(b), s)) },
  { code: 14, name: 'fclass.s', args: ['f32'], run: (a) => BigInt(sf.f32Classify(lo(a))) },
  { code: 15, name: 'fcvt.w.s', args: ['f32'], run: (a, _b, _c, s) => sx32(sf.f32ToI32(lo(a), s)) },
  { code: 16, name: 'fcvt.wu.s', args: ['f32'], run: (a, _b, _c, s) => sx32(sf.f32ToU32(lo(a), s)) },
  { code: 17, name: 'fcvt.l.s', args: ['f32'], run: (a, _b, _c, s) => u64(sf.f32ToI64(lo(a), s)) },
  { code: 18, name: 'fcvt.lu.s', args: ['f32'], run: (a, _b, _c, s) => u64(sf.f32ToU64(lo(a), s)) },
  { code: 19, name: 'fcvt.s.w', args: ['i32'], run: (a, _b, _c, s) => sx32(sf.i32ToF32(lo(a), s)) },
  { code: 20, name: 'fcvt.s.wu', args: ['i32'], run: (a, _b, _c, s) => sx32(sf.u32ToF32(lo(a), s)) },
  { code: 21, name: 'fcvt.s.l', args: ['i64'], run: (a, _b, _c, s) => sx32(sf.i64ToF32(BigInt.asIntN(64, a), s)) },
  { code: 22, name: 'fcvt.s.lu', args: ['i64'], run: (a, _b, _c, s) => sx32(sf.u64ToF32(a, s)) },
  { code: 23, name: 'fadd.d', args: D, run: d2(sf.f64Add) },
  { code: 24, name: 'fsub.d', args: D, run: d2(sf.f64Sub) },
  { code: 25, name: 'fmul.d', args: D, run: d2(sf.f64Mul) },
  { code: 26, name: 'fdiv.d', args: D, run: d2(sf.f64Div) },
  { code: 27, name: 'fsqrt.d', args: ['f64'], run: (a, _b, _c, s) => sf.f64Sqrt(a, s) },
  { code: 28, name: 'fmin.d', args: D, run: d2(sf.f64Min) },
  { code: 29, name: 'fmax.d', args: D, run: d2(sf.f64Max) },
  ...([[30, 'fmadd.d', false, false], [31, 'fmsub.d', false, true], [32, 'fnmsub.d', true, false],
    [33, 'fnmadd.d', true, true]] as const).map(([code, name, np, nc]): OpDef => ({
    code, name, args: ['f64', 'f64', 'f64'],
    run: (a, b, c, s) => sf.f64MulAdd(a, b, c, np, nc, s),
  })),
  { code: 34, name: 'feq.d', args: D, run: (a, b, _c, s) => bool(sf.f64Eq(a, b, s)) },
  { code: 35, name: 'flt.d', args: D, run: (a, b, _c, s) => bool(sf.f64Lt(a, b, s)) },
  { code: 36, name: 'fle.d', args: D, run: (a, b, _c, s) => bool(sf.f64Le(a, b, s)) },
  { code: 37, name: 'fclass.d', args: ['f64'], run: (a) => BigInt(sf.f64Classify(a)) },
  { code: 38, name: 'fcvt.w.d', args: ['f64'], run: (a, _b, _c, s) => sx32(sf.f64ToI32(a, s)) },
  { code: 39, name: 'fcvt.wu.d', args: ['f64'], run: (a, _b, _c, s) => sx32(sf.f64ToU32(a, s)) },
  { code: 40, name: 'fcvt.l.d', args: ['f64'], run: (a, _b, _c, s) => u64(sf.f64ToI64(a, s)) },
  { code: 41, name: 'fcvt.lu.d', args: ['f64'], run: (a, _b, _c, s) => u64(sf.f64ToU64(a, s)) },
  { code: 42, name: 'fcvt.d.w', args: ['i32'], run: (a, _b, _c, s) => sf.i32ToF64(lo(a), s) },
  { code: 43, name: 'fcvt.d.wu', args: ['i32'], run: (a, _b, _c, s) => sf.u32ToF64(lo(a), s) },
  { code: 44, name: 'fcvt.d.l', args: ['i64'], run: (a, _b, _c, s) => sf.i64ToF64(BigInt.asIntN(64, a), s) },
  { code: 45, name: 'fcvt.d.lu', args: ['i64'], run: (a, _b, _c, s) => sf.u64ToF64(a, s) },
  { code: 46, name: 'fcvt.s.d', args: ['f64'], run: (a, _b, _c, s) => sx32(sf.f64ToF32(a, s)) },
  { code: 47, name: 'fcvt.d.s', args: ['f32'], run: (a, _b, _c, s) => sf.f32ToF64(lo(a), s) },
];

/** One input record. */
export interface Case {
  readonly op: OpDef;
  readonly rm: sf.RoundingMode;
  readonly a: bigint;
  readonly b: bigint;
  readonly c: bigint;
}

/** What the guest reported for a case. */
export interface Outcome {
  readonly result: bigint;
  readonly flags: number;
}

/** True when qemu-riscv64 can be started. */
export function haveQemu(): boolean {
  const r = spawnSync('qemu-riscv64', ['--version'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

/** Runs every case through the real instructions in one qemu-riscv64 process. */
export function runOracle(cases: readonly Case[]): Outcome[] {
  const input = Buffer.alloc(cases.length * 32);
  cases.forEach((k, i) => {
    input.writeUInt32LE(k.op.code, i * 32);
    input.writeUInt32LE(k.rm, i * 32 + 4);
    input.writeBigUInt64LE(k.a, i * 32 + 8);
    input.writeBigUInt64LE(k.b, i * 32 + 16);
    input.writeBigUInt64LE(k.c, i * 32 + 24);
  });
  const r = spawnSync('qemu-riscv64', [ORACLE_ELF], { input, maxBuffer: cases.length * 16 + 4096 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`fpu-oracle.elf exited with ${r.status}: ${String(r.stderr)}`);
  const out = r.stdout;
  if (out.length !== cases.length * 16) {
    throw new Error(`fpu-oracle.elf wrote ${out.length} bytes for ${cases.length} cases`);
  }
  return cases.map((_, i) => ({
    result: out.readBigUInt64LE(i * 16),
    flags: Number(out.readBigUInt64LE(i * 16 + 8)),
  }));
}

/** Our prediction for a case. */
export function predict(k: Case): Outcome {
  const s: sf.FloatStatus = { rm: k.rm, flags: 0 };
  const result = k.op.run(k.a, k.b, k.c, s);
  return { result, flags: s.flags };
}
