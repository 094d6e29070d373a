/**
 * The closure backend: no code generation (no eval / new Function), so it runs under a strict
 * Content-Security-Policy. A TB is bound, at its first run on a runtime, to threaded code
 * (./closure-code.ts): an `Int32Array` of records run by one `switch`, for the common ops whose operands
 * are globals and constants, and a closure per op for the rest (each op compiled once into a small JS
 * closure, as below).
 *
 * Representation: every value lives in an `Int32Array` slot pair (lo at 2k, hi at 2k+1; i32 values use
 * lo only). TB temps and constants live in a per-TB frame; globals are read and written in place in
 * `rt.envI32` (i64 global at byte offset o: lo at o/4, hi at o/4+1), so the env is exact at every helper
 * call, memory access and exit without any write-back. Records name env words and carry constants as
 * immediates; closures are bound to one runtime's `envI32` (a TB run by several CPUs gets one binding per
 * runtime). One arrow literal runs every TB, so the loop's call site sees one function and V8 inlines it.
 * 64-bit mulu2/muls2/mulsu2, div/rem (./wide-arith.ts) and rotates are done on int32 words. Other rare
 * ops (bswap, deposit) take a BigInt slow path that reuses the reference interpreter's semantics ({@link evalPureOp}).
 *
 * Fused pairs, whose intermediate temp is read by nothing else, become one record or closure:
 * `op t; ext32s_i64 d, t` (RV64 addw/subw/mulw/slliw) and `add t, x, const; qemu_ld/st [t]`; so do
 * `mov pc <- const; exit_tb` and the usual end of a RISC-V TB (a brcond between two such exits).
 * No-op markers (insn_start, set_label, goto_tb, mb, discard, nop) produce nothing; `rt.curInsn` is
 * stored only by ops that may throw (qemu_ld/st, call), with their instruction's index known at compile time.
 *
 * Measurements: `npm run bench -- --arch rv64 --program intmix --backend closure` (guest MIPS, 2-core
 * shared machine, back to back):
 *                                                            intmix
 *   one closure per op, pc-returning array (first session)     35.0
 *   one closure per basic block calling its ops' closures      55-61
 *   threaded code (this file), fused TB ending                 72-73
 *   ... run by one arrow literal for every TB                  75-77
 * (Following chain links inside the threaded code, so the loop is not entered per TB, did not gain:
 * docs/performance.md.)
 * In a micro-benchmark (blocks of 4-6 random i64 ops, Node 20), a closure op cost ~15 ns against ~7 ns
 * for the same op as a record of one `switch`: the call per closure and the loads of its captured
 * operands are what the records save.
 */
import type { IrFunction } from '../context.js';
import {
  Cond, EXIT_LOOKUP, MO_64, MO_SIGN, MO_SIZE, type HelperInfo, type Op, type Opcode, type Temp,
} from '../ir.js';
import { evalPureOp, helperRet, TcgIrError } from '../interp.js';
import type { Backend, CompileHooks, CompiledTb, TbRuntime } from './backend.js';
import { runThreaded, T } from './closure-code.js';
import { DIV_OUT, divu64, mulhu32 } from './wide-arith.js';

const M32 = 0xffffffffn;
const MIN = -0x80000000;

function popcnt32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function bswap32(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) | 0;
}

const TWO32 = 4294967296;

/** Unsigned 64×64→128-bit product of (ah:al)×(bh:bl); words low to high in `MUL_OUT`. */
const MUL_OUT = new Int32Array(4);
function mulu64(al: number, ah: number, bl: number, bh: number): void {
  const h00 = mulhu32(al, bl);
  const l01 = Math.imul(al, bh), h01 = mulhu32(al, bh);
  const l10 = Math.imul(ah, bl), h10 = mulhu32(ah, bl);
  const l11 = Math.imul(ah, bh), h11 = mulhu32(ah, bh);
  const s1 = (h00 >>> 0) + (l01 >>> 0) + (l10 >>> 0);
  const s2 = (h01 >>> 0) + (h10 >>> 0) + (l11 >>> 0) + Math.floor(s1 / TWO32);
  MUL_OUT[0] = Math.imul(al, bl);
  MUL_OUT[1] = s1;
  MUL_OUT[2] = s2;
  MUL_OUT[3] = (h11 + Math.floor(s2 / TWO32)) | 0;
}

/** MUL_OUT high half -= (xh:xl) (mod 2^64): signed-product correction. */
function mulHiSub(xl: number, xh: number): void {
  const l = MUL_OUT[2]!;
  MUL_OUT[3] = (MUL_OUT[3]! - xh - ((l >>> 0) < (xl >>> 0) ? 1 : 0)) | 0;
  MUL_OUT[2] = (l - xl) | 0;
}

function readBig(A: Int32Array, i: number, wide: boolean): bigint {
  return wide ? (BigInt(A[i + 1]! >>> 0) << 32n) | BigInt(A[i]! >>> 0) : BigInt(A[i]! >>> 0);
}

function writeBig(A: Int32Array, i: number, wide: boolean, v: bigint): void {
  A[i] = Number(v & M32) | 0;
  if (wide) A[i + 1] = Number((v >> 32n) & M32) | 0;
}

/** Signed "less than" / "less or equal" as closures over two slots, for one comparison shape. */
type Rel = 'eq' | 'ne' | 'lt' | 'le' | 'never' | 'always';

/** Reduces a condition to a relation on (possibly swapped) operands with an xor bias (unsigned → signed). */
function splitCond(cond: Cond): { rel: Rel; swap: boolean; bias: number } {
  switch (cond) {
    case Cond.NEVER: return { rel: 'never', swap: false, bias: 0 };
    case Cond.ALWAYS: return { rel: 'always', swap: false, bias: 0 };
    case Cond.EQ: return { rel: 'eq', swap: false, bias: 0 };
    case Cond.NE: return { rel: 'ne', swap: false, bias: 0 };
    case Cond.LT: return { rel: 'lt', swap: false, bias: 0 };
    case Cond.GE: return { rel: 'le', swap: true, bias: 0 };
    case Cond.LE: return { rel: 'le', swap: false, bias: 0 };
    case Cond.GT: return { rel: 'lt', swap: true, bias: 0 };
    case Cond.LTU: return { rel: 'lt', swap: false, bias: MIN };
    case Cond.GEU: return { rel: 'le', swap: true, bias: MIN };
    case Cond.LEU: return { rel: 'le', swap: false, bias: MIN };
    case Cond.GTU: return { rel: 'lt', swap: true, bias: MIN };
    default: throw new TcgIrError(`bad TCG condition ${cond as number}`);
  }
}

/** Builds a boolean test `a cond b` over two slots (i32 or i64). */
function makeTest(cond: Cond, wide: boolean, A: Int32Array, ai: number, B: Int32Array, bi: number): () => boolean {
  const { rel, swap, bias } = splitCond(cond);
  if (swap) { const T = A; A = B; B = T; const t = ai; ai = bi; bi = t; }
  if (!wide) {
    switch (rel) {
      case 'never': return () => false;
      case 'always': return () => true;
      case 'eq': return () => A[ai] === B[bi];
      case 'ne': return () => A[ai] !== B[bi];
      case 'lt': return () => (A[ai]! ^ bias) < (B[bi]! ^ bias);
      case 'le': return () => (A[ai]! ^ bias) <= (B[bi]! ^ bias);
    }
  }
  const ah = ai + 1, bh = bi + 1;
  switch (rel) {
    case 'never': return () => false;
    case 'always': return () => true;
    case 'eq': return () => A[ai] === B[bi] && A[ah] === B[bh];
    case 'ne': return () => A[ai] !== B[bi] || A[ah] !== B[bh];
    case 'lt': return () => {
      const x = A[ah]! ^ bias, y = B[bh]! ^ bias;
      return x < y || (x === y && (A[ai]! ^ MIN) < (B[bi]! ^ MIN));
    };
    case 'le': return () => {
      const x = A[ah]! ^ bias, y = B[bh]! ^ bias;
      return x < y || (x === y && (A[ai]! ^ MIN) <= (B[bi]! ^ MIN));
    };
  }
}

/** A compiled op (or fused pair of ops) that falls through to the next one. */
type Step = () => void;

/** `d = a cond b` (RISC-V slt/sltu/seqz/snez); the common relations inline, without a test closure. */
function setcondStep(cond: Cond, wide: boolean, A: Int32Array, ai: number, B: Int32Array, bi: number, D: Int32Array, di: number): () => void {
  const { rel, swap, bias } = splitCond(cond);
  if (swap) { const T = A; A = B; B = T; const t = ai; ai = bi; bi = t; }
  const ah = ai + 1, bh = bi + 1, dh = di + 1;
  if (!wide) {
    switch (rel) {
      case 'eq': return () => { D[di] = A[ai] === B[bi] ? 1 : 0; };
      case 'ne': return () => { D[di] = A[ai] !== B[bi] ? 1 : 0; };
      case 'lt': return () => { D[di] = (A[ai]! ^ bias) < (B[bi]! ^ bias) ? 1 : 0; };
      case 'le': return () => { D[di] = (A[ai]! ^ bias) <= (B[bi]! ^ bias) ? 1 : 0; };
      case 'never': return () => { D[di] = 0; };
      case 'always': return () => { D[di] = 1; };
    }
  }
  switch (rel) {
    case 'eq': return () => { D[di] = A[ai] === B[bi] && A[ah] === B[bh] ? 1 : 0; D[dh] = 0; };
    case 'ne': return () => { D[di] = A[ai] !== B[bi] || A[ah] !== B[bh] ? 1 : 0; D[dh] = 0; };
    case 'lt': return () => {
      const x = A[ah]! ^ bias, y = B[bh]! ^ bias;
      D[di] = x < y || (x === y && (A[ai]! ^ MIN) < (B[bi]! ^ MIN)) ? 1 : 0; D[dh] = 0;
    };
    case 'le': return () => {
      const x = A[ah]! ^ bias, y = B[bh]! ^ bias;
      D[di] = x < y || (x === y && (A[ai]! ^ MIN) <= (B[bi]! ^ MIN)) ? 1 : 0; D[dh] = 0;
    };
    case 'never': return () => { D[di] = 0; D[dh] = 0; };
    case 'always': return () => { D[di] = 1; D[dh] = 0; };
  }
}

/** One non-marker op of the TB with what its closure needs to know at bind time. */
interface Item {
  readonly op: Op;
  /** Index of the guest instruction the op belongs to (-1 before the first insn_start). */
  readonly insn: number;
}

const MARKERS = new Set<Opcode>(['insn_start', 'set_label', 'goto_tb', 'mb', 'discard', 'nop']);
const TERMINATORS = new Set<Opcode>(['br', 'brcond_i32', 'brcond_i64', 'exit_tb', 'lookup_and_goto_ptr']);

/** Fusion of item k with item k+1 (see {@link layout}). */
const FUSE_EXT32S = 1, FUSE_ADDR = 2;
const EXT32S_PRODUCERS = new Set<Opcode>(['add_i64', 'sub_i64', 'mul_i64', 'shl_i64']);

/** What the compile-time pass found about the TB (independent of the runtime it will run on). */
interface Layout {
  readonly items: readonly Item[];
  /** Label id → index of the item it precedes. */
  readonly labelAt: Int32Array;
  /** Item index (0..items.length) → 1 where a block starts (TB entry, label, after a terminator). */
  readonly blockStart: Uint8Array;
  /** Item index → FUSE_* kind when the item is compiled together with the next one. */
  readonly fuse: Uint8Array;
  /** Temp id → number of ops reading it. */
  readonly reads: Int32Array;
}

function layout(fn: IrFunction): Layout {
  const items: Item[] = [];
  const labelAt = new Int32Array(fn.nbLabels).fill(-1);
  const reads = new Int32Array(fn.temps.length);
  let insn = -1;
  for (const op of fn.ops) {
    if (op.opc === 'insn_start') insn++;
    if (op.opc === 'set_label' && op.label) labelAt[op.label.id] = items.length;
    if (!MARKERS.has(op.opc)) items.push({ op, insn });
    for (const t of op.i) reads[t.id]!++;
  }
  for (const op of fn.ops) {
    if (op.label && labelAt[op.label.id]! < 0) throw new TcgIrError(`TB branches to label ${op.label.id} that is never set`);
  }
  const n = items.length;
  const blockStart = new Uint8Array(n + 1);
  blockStart[0] = 1;
  blockStart[n] = 1;
  for (const k of labelAt) blockStart[k] = 1;
  items.forEach((it, k) => { if (TERMINATORS.has(it.op.opc)) blockStart[k + 1] = 1; });

  // Pairs compiled as one record or closure. The first op's output is a temp read by the second op only,
  // so the fused code may skip writing it (nothing else can observe it).
  const fuse = new Uint8Array(n);
  for (let k = 0; k + 1 < n; k++) {
    const a = items[k]!.op, b = items[k + 1]!.op, t = a.o[0];
    if (blockStart[k + 1] || !t || t.kind !== 'temp' || reads[t.id] !== 1) continue;
    if (b.opc === 'ext32s_i64' && b.i[0] === t && EXT32S_PRODUCERS.has(a.opc)) {
      if (a.opc === 'shl_i64' && a.i[1]!.kind !== 'const') continue;
      fuse[k] = FUSE_EXT32S;
      k++;
    } else if (a.opc === `add_${fn.addrType}` && a.i[1]!.kind === 'const'
      && (((b.opc === 'qemu_ld_i64' || b.opc === 'qemu_ld_i32') && b.i[0] === t)
        || ((b.opc === 'qemu_st_i64' || b.opc === 'qemu_st_i32') && b.i[1] === t && b.i[0] !== t))) {
      fuse[k] = FUSE_ADDR;
      k++;
    }
  }
  return { items, labelAt, blockStart, fuse, reads };
}

/** The TB bound to one runtime: its threaded code and what the code's records refer to. */
interface Binding {
  readonly env: Int32Array;
  readonly code: Int32Array;
  readonly steps: readonly Step[];
  readonly tests: readonly (() => boolean)[];
}

const EMPTY = new Int32Array(0);

/** Compiles an IR function into a {@link CompiledTb} made of closures. */
export function compileClosure(ir: IrFunction, hooks?: CompileHooks): CompiledTb {
  // What binding needs. Once bound, a TB whose IR the cache can translate again lets it go (most TBs are
  // cold and run on one CPU; their IR was most of the heap), and gets it back for another CPU.
  let fn: IrFunction | null = ir;
  let lay: Layout | null = layout(ir);
  const again = hooks?.retranslate;
  const bindings = new WeakMap<TbRuntime, Binding>();
  // The binding in use, spread into variables: one arrow literal runs every closure TB, so that where the
  // loop calls only closure TBs V8 may inline it there.
  let R: TbRuntime | null = null;
  let C: Int32Array = EMPTY, E: Int32Array = EMPTY;
  let S: readonly Step[] = [], X: readonly (() => boolean)[] = [];
  const select = (rt: TbRuntime): number => {
    // A runtime's envI32 is fixed (readonly in TbRuntime): the runtime alone selects the binding.
    let b = bindings.get(rt);
    if (!b || b.env !== rt.envI32) {
      if (fn === null) {
        fn = again!() ?? null;
        if (fn === null) throw new TcgIrError('closure backend: a TB bound once could not be translated again for another CPU');
        lay = layout(fn);
      }
      b = bind(fn, lay!, rt);
      if (again !== undefined) { fn = null; lay = null; }
      bindings.set(rt, b);
    }
    R = rt; C = b.code; E = b.env; S = b.steps; X = b.tests;
    return runThreaded(C, E, S, X, rt);
  };
  return (rt: TbRuntime): number => (rt === R ? runThreaded(C, E, S, X, rt) : select(rt));
}

/**
 * The closures of one TB on one runtime, for the ops its threaded code does not have. A scope of its own:
 * the closures keep this function's variables alive (env, the TB's frame), not the encoder's.
 */
function closureSteps(fn: IrFunction, rt: TbRuntime) {
  const env = rt.envI32;
  const envView = rt.envView;
  const F = new Int32Array(2 * fn.temps.length);
  for (const t of fn.temps) {
    if (t.kind === 'const') { F[2 * t.id] = Number(t.value & M32) | 0; F[2 * t.id + 1] = Number((t.value >> 32n) & M32) | 0; }
  }
  const arr = (t: Temp): Int32Array => (t.kind === 'global' ? env : F);
  const idx = (t: Temp): number => (t.kind === 'global' ? t.offset >> 2 : 2 * t.id);
  const wideAddr = fn.addrType === 'i64';
  /** `op t <- a, b; ext32s_i64 d <- t` with t dead: the 32-bit result sign-extended into d (RV64 addw, mulw, …). */
  function genExt32s(op: Op, ext: Op): Step {
    const d = ext.o[0]!, D = arr(d), di = idx(d), dh = di + 1;
    const A = arr(op.i[0]!), ai = idx(op.i[0]!), b = op.i[1]!, B = arr(b), bi = idx(b);
    const cl = Number(b.value & M32) | 0;
    switch (op.opc) {
      case 'add_i64':
        if (b.kind === 'const') return () => { const l = (A[ai]! + cl) | 0; D[di] = l; D[dh] = l >> 31; };
        return () => { const l = (A[ai]! + B[bi]!) | 0; D[di] = l; D[dh] = l >> 31; };
      case 'sub_i64': return () => { const l = (A[ai]! - B[bi]!) | 0; D[di] = l; D[dh] = l >> 31; };
      case 'mul_i64': return () => { const l = Math.imul(A[ai]!, B[bi]!); D[di] = l; D[dh] = l >> 31; };
      default: {
        // shl_i64 by a constant
        const n = Number(b.value & 63n);
        if (n >= 32) return () => { D[di] = 0; D[dh] = 0; };
        return () => { const l = A[ai]! << n; D[di] = l; D[dh] = l >> 31; };
      }
    }
  }

  /** `add t <- x, const; qemu_ld/st … [t]` with t dead: the access at x + const. */
  function genAddrMem(add: Op, it: Item): Step {
    const op = it.op, insn = it.insn, memop = op.c[0] ?? 0, mmu = op.c[1] ?? 0;
    const x = add.i[0]!, X = arr(x), xi = idx(x), xh = xi + 1, k = add.i[1]!.value;
    const cl = Number(k & M32) | 0, ch = Number((k >> 32n) & M32) | 0;
    if (op.opc === 'qemu_st_i32' || op.opc === 'qemu_st_i64') {
      const v = op.i[0]!, V = arr(v), vi = idx(v), vh = vi + 1;
      if (!wideAddr) {
        if (op.opc === 'qemu_st_i32') return () => { rt.curInsn = insn; rt.store((X[xi]! + cl) | 0, 0, V[vi]!, 0, memop, mmu); };
        return () => { rt.curInsn = insn; rt.store((X[xi]! + cl) | 0, 0, V[vi]!, V[vh]!, memop, mmu); };
      }
      if (op.opc === 'qemu_st_i32') {
        return () => {
          const al = X[xi]!, lo = (al + cl) | 0;
          rt.curInsn = insn;
          rt.store(lo, (X[xh]! + ch + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, V[vi]!, 0, memop, mmu);
        };
      }
      return () => {
        const al = X[xi]!, lo = (al + cl) | 0;
        rt.curInsn = insn;
        rt.store(lo, (X[xh]! + ch + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, V[vi]!, V[vh]!, memop, mmu);
      };
    }
    const d = op.o[0]!, D = arr(d), di = idx(d), dh = di + 1;
    if (!wideAddr) {
      if (op.opc === 'qemu_ld_i32') return () => { rt.curInsn = insn; D[di] = rt.load((X[xi]! + cl) | 0, 0, memop, mmu); };
      if ((memop & MO_SIZE) === MO_64) return () => { rt.curInsn = insn; D[di] = rt.load((X[xi]! + cl) | 0, 0, memop, mmu); D[dh] = rt.loadHi; };
      if (memop & MO_SIGN) return () => { rt.curInsn = insn; const l = rt.load((X[xi]! + cl) | 0, 0, memop, mmu); D[di] = l; D[dh] = l >> 31; };
      return () => { rt.curInsn = insn; D[di] = rt.load((X[xi]! + cl) | 0, 0, memop, mmu); D[dh] = 0; };
    }
    if (op.opc === 'qemu_ld_i32') {
      return () => {
        const al = X[xi]!, lo = (al + cl) | 0;
        rt.curInsn = insn;
        D[di] = rt.load(lo, (X[xh]! + ch + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, memop, mmu);
      };
    }
    if ((memop & MO_SIZE) === MO_64) {
      return () => {
        const al = X[xi]!, lo = (al + cl) | 0;
        rt.curInsn = insn;
        D[di] = rt.load(lo, (X[xh]! + ch + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, memop, mmu);
        D[dh] = rt.loadHi;
      };
    }
    if (memop & MO_SIGN) {
      return () => {
        const al = X[xi]!, lo = (al + cl) | 0;
        rt.curInsn = insn;
        const l = rt.load(lo, (X[xh]! + ch + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, memop, mmu);
        D[di] = l; D[dh] = l >> 31;
      };
    }
    return () => {
      const al = X[xi]!, lo = (al + cl) | 0;
      rt.curInsn = insn;
      D[di] = rt.load(lo, (X[xh]! + ch + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0, memop, mmu);
      D[dh] = 0;
    };
  }

  /** Generic slow path: read inputs as BigInt, evaluate with the interpreter's semantics, write outputs. */
  function slow(op: Op): Step {
    const ins = op.i.map((t) => ({ A: arr(t), i: idx(t), w: t.type === 'i64' }));
    const outs = op.o.map((t) => ({ A: arr(t), i: idx(t), w: t.type === 'i64' }));
    const opc = op.opc, c = op.c;
    return () => {
      const xs = ins.map((x) => readBig(x.A, x.i, x.w));
      const r = evalPureOp(opc, xs, c);
      outs.forEach((o, k) => writeBig(o.A, o.i, o.w, r[k]!));
    };
  }

  function genStep(s: Item): Step {
    const op = s.op;
    const o0 = op.o[0], i0 = op.i[0], i1 = op.i[1];
    const D = o0 ? arr(o0) : F, di = o0 ? idx(o0) : 0, dh = di + 1;
    const A = i0 ? arr(i0) : F, ai = i0 ? idx(i0) : 0, ah = ai + 1;
    const B = i1 ? arr(i1) : F, bi = i1 ? idx(i1) : 0, bh = bi + 1;
    const ah0 = ah, bh0 = bh; // high-word indexes, for closures that name the values ah/bh
    const bConst = i1?.kind === 'const';
    const cl = i1 ? Number(i1.value & M32) | 0 : 0;
    const ch = i1 ? Number((i1.value >> 32n) & M32) | 0 : 0;
    const c0 = op.c[0] ?? 0, c1 = op.c[1] ?? 0;

    switch (op.opc) {
      case 'mov_i32': case 'mov_i64':
        if (i0!.kind === 'const') {
          const l = Number(i0!.value & M32) | 0, h = Number((i0!.value >> 32n) & M32) | 0;
          if (op.opc === 'mov_i32') return () => { D[di] = l; };
          return () => { D[di] = l; D[dh] = h; };
        }
        break;
      case 'br': case 'brcond_i32': case 'brcond_i64': case 'exit_tb': case 'lookup_and_goto_ptr':
        throw new TcgIrError(`${op.opc} compiled as a step`);
    }
    switch (op.opc) {
      // ---- moves and conversions ----------------------------------------------------------------
      case 'mov_i32': return () => { D[di] = A[ai]!; };
      case 'mov_i64': return () => { const l = A[ai]!, h = A[ah]!; D[di] = l; D[dh] = h; };
      case 'ext_i32_i64': return () => { const l = A[ai]!; D[di] = l; D[dh] = l >> 31; };
      case 'extu_i32_i64': return () => { D[di] = A[ai]!; D[dh] = 0; };
      case 'extrl_i64_i32': return () => { D[di] = A[ai]!; };
      case 'extrh_i64_i32': return () => { D[di] = A[ah]!; };

      // ---- i32 arithmetic and logic -------------------------------------------------------------
      case 'add_i32':
        if (bConst) return () => { D[di] = (A[ai]! + cl) | 0; };
        return () => { D[di] = (A[ai]! + B[bi]!) | 0; };
      case 'sub_i32': return () => { D[di] = (A[ai]! - B[bi]!) | 0; };
      case 'neg_i32': return () => { D[di] = -A[ai]! | 0; };
      case 'mul_i32': return () => { D[di] = Math.imul(A[ai]!, B[bi]!); };
      case 'and_i32':
        if (bConst) return () => { D[di] = A[ai]! & cl; };
        return () => { D[di] = A[ai]! & B[bi]!; };
      case 'or_i32': return () => { D[di] = A[ai]! | B[bi]!; };
      case 'xor_i32': return () => { D[di] = A[ai]! ^ B[bi]!; };
      case 'not_i32': return () => { D[di] = ~A[ai]!; };
      case 'andc_i32': return () => { D[di] = A[ai]! & ~B[bi]!; };
      case 'orc_i32': return () => { D[di] = A[ai]! | ~B[bi]!; };
      case 'eqv_i32': return () => { D[di] = ~(A[ai]! ^ B[bi]!); };
      // JS shift operators already take the count modulo 32.
      case 'shl_i32':
        if (bConst) { const n = cl & 31; return () => { D[di] = A[ai]! << n; }; }
        return () => { D[di] = A[ai]! << B[bi]!; };
      case 'shr_i32':
        if (bConst) { const n = cl & 31; return () => { D[di] = (A[ai]! >>> n) | 0; }; }
        return () => { D[di] = (A[ai]! >>> B[bi]!) | 0; };
      case 'sar_i32':
        if (bConst) { const n = cl & 31; return () => { D[di] = A[ai]! >> n; }; }
        return () => { D[di] = A[ai]! >> B[bi]!; };
      case 'rotl_i32': return () => { const a = A[ai]!, n = B[bi]! & 31; D[di] = (a << n) | (a >>> (32 - n)); };
      case 'rotr_i32': return () => { const a = A[ai]!, n = B[bi]! & 31; D[di] = (a >>> n) | (a << (32 - n)); };
      case 'ext8s_i32': return () => { D[di] = (A[ai]! << 24) >> 24; };
      case 'ext8u_i32': return () => { D[di] = A[ai]! & 0xff; };
      case 'ext16s_i32': return () => { D[di] = (A[ai]! << 16) >> 16; };
      case 'ext16u_i32': return () => { D[di] = A[ai]! & 0xffff; };
      case 'extract_i32': {
        const m = c1 === 32 ? -1 : (1 << c1) - 1;
        return () => { D[di] = (A[ai]! >>> c0) & m; };
      }
      case 'sextract_i32': {
        const l = 32 - c0 - c1, r = 32 - c1;
        return () => { D[di] = (A[ai]! << l) >> r; };
      }
      case 'deposit_i32': {
        const fm = (c1 === 32 ? -1 : ((1 << c1) - 1)) << c0;
        return () => { D[di] = (A[ai]! & ~fm) | ((B[bi]! << c0) & fm); };
      }
      case 'bswap16_i32': {
        const os = (c0 & 4) !== 0;
        return () => {
          const a = A[ai]!, r = ((a & 0xff) << 8) | ((a >>> 8) & 0xff);
          D[di] = os ? (r << 16) >> 16 : r;
        };
      }
      case 'bswap32_i32': return () => { D[di] = bswap32(A[ai]!); };
      case 'clz_i32': return () => { const a = A[ai]!; D[di] = a === 0 ? B[bi]! : Math.clz32(a); };
      case 'ctz_i32': return () => { const a = A[ai]!; D[di] = a === 0 ? B[bi]! : ctz32(a); };
      case 'ctpop_i32': return () => { D[di] = popcnt32(A[ai]!); };
      case 'setcond_i32': return setcondStep(c0 as Cond, false, A, ai, B, bi, D, di);
      case 'movcond_i32': case 'movcond_i64': {
        const wide = op.opc === 'movcond_i64';
        const test = makeTest(c0 as Cond, wide, A, ai, B, bi);
        const v1 = op.i[2]!, v2 = op.i[3]!;
        const V1 = arr(v1), x1 = idx(v1), V2 = arr(v2), x2 = idx(v2);
        if (!wide) return () => { D[di] = test() ? V1[x1]! : V2[x2]!; };
        return () => {
          if (test()) { const l = V1[x1]!, h = V1[x1 + 1]!; D[di] = l; D[dh] = h; } else { const l = V2[x2]!, h = V2[x2 + 1]!; D[di] = l; D[dh] = h; }
        };
      }
      case 'mulu2_i32': {
        const O = arr(op.o[1]!), oi = idx(op.o[1]!);
        return () => { const a = A[ai]!, b = B[bi]!; const lo = Math.imul(a, b), hi = mulhu32(a, b); D[di] = lo; O[oi] = hi; };
      }
      case 'muls2_i32': {
        const O = arr(op.o[1]!), oi = idx(op.o[1]!);
        return () => {
          const a = A[ai]!, b = B[bi]!;
          // signed high word = unsigned high word - (a<0 ? b : 0) - (b<0 ? a : 0)
          const lo = Math.imul(a, b), hi = (mulhu32(a, b) - (a < 0 ? b : 0) - (b < 0 ? a : 0)) | 0;
          D[di] = lo; O[oi] = hi;
        };
      }
      case 'div_i32': return () => {
        const a = A[ai]!, b = B[bi]!;
        D[di] = b === 0 ? -1 : (b === -1 ? -a | 0 : (a / b) | 0);
      };
      case 'divu_i32': return () => {
        const a = A[ai]! >>> 0, b = B[bi]! >>> 0;
        D[di] = b === 0 ? -1 : ((a / b) >>> 0) | 0;
      };
      case 'rem_i32': return () => {
        const a = A[ai]!, b = B[bi]!;
        D[di] = b === 0 ? a : (b === -1 ? 0 : (a % b) | 0);
      };
      case 'remu_i32': return () => {
        const a = A[ai]! >>> 0, b = B[bi]! >>> 0;
        D[di] = b === 0 ? a | 0 : (a % b) | 0;
      };

      // ---- i64 arithmetic and logic -------------------------------------------------------------
      case 'add_i64':
        if (bConst) {
          return () => {
            const al = A[ai]!, lo = (al + cl) | 0;
            D[dh] = (A[ah]! + ch + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; D[di] = lo;
          };
        }
        return () => {
          const al = A[ai]!, lo = (al + B[bi]!) | 0;
          D[dh] = (A[ah]! + B[bh]! + ((lo >>> 0) < (al >>> 0) ? 1 : 0)) | 0; D[di] = lo;
        };
      case 'sub_i64': return () => {
        const al = A[ai]!, bl = B[bi]!;
        D[dh] = (A[ah]! - B[bh]! - ((al >>> 0) < (bl >>> 0) ? 1 : 0)) | 0; D[di] = (al - bl) | 0;
      };
      case 'neg_i64': return () => {
        const al = A[ai]!;
        D[dh] = (~A[ah]! + (al === 0 ? 1 : 0)) | 0; D[di] = -al | 0;
      };
      case 'mul_i64': return () => {
        const al = A[ai]!, bl = B[bi]!;
        D[dh] = (Math.imul(al, B[bh]!) + Math.imul(A[ah]!, bl) + mulhu32(al, bl)) | 0;
        D[di] = Math.imul(al, bl);
      };
      case 'and_i64':
        if (bConst) return () => { D[di] = A[ai]! & cl; D[dh] = A[ah]! & ch; };
        return () => { D[di] = A[ai]! & B[bi]!; D[dh] = A[ah]! & B[bh]!; };
      case 'or_i64':
        if (bConst) return () => { D[di] = A[ai]! | cl; D[dh] = A[ah]! | ch; };
        return () => { D[di] = A[ai]! | B[bi]!; D[dh] = A[ah]! | B[bh]!; };
      case 'xor_i64':
        if (bConst) return () => { D[di] = A[ai]! ^ cl; D[dh] = A[ah]! ^ ch; };
        return () => { D[di] = A[ai]! ^ B[bi]!; D[dh] = A[ah]! ^ B[bh]!; };
      case 'not_i64': return () => { D[di] = ~A[ai]!; D[dh] = ~A[ah]!; };
      case 'andc_i64': return () => { D[di] = A[ai]! & ~B[bi]!; D[dh] = A[ah]! & ~B[bh]!; };
      case 'orc_i64': return () => { D[di] = A[ai]! | ~B[bi]!; D[dh] = A[ah]! | ~B[bh]!; };
      case 'eqv_i64': return () => { D[di] = ~(A[ai]! ^ B[bi]!); D[dh] = ~(A[ah]! ^ B[bh]!); };
      case 'shl_i64': {
        if (bConst) {
          const n = cl & 63;
          if (n === 0) return () => { const l = A[ai]!, h = A[ah]!; D[di] = l; D[dh] = h; };
          if (n < 32) return () => { const l = A[ai]!; D[dh] = (A[ah]! << n) | (l >>> (32 - n)); D[di] = l << n; };
          return () => { D[dh] = A[ai]! << n; D[di] = 0; };
        }
        return () => {
          const n = B[bi]! & 63, l = A[ai]!, h = A[ah]!;
          if (n === 0) { D[di] = l; D[dh] = h; } else if (n < 32) { D[dh] = (h << n) | (l >>> (32 - n)); D[di] = l << n; } else { D[dh] = l << n; D[di] = 0; }
        };
      }
      case 'shr_i64': {
        if (bConst) {
          const n = cl & 63;
          if (n === 0) return () => { const l = A[ai]!, h = A[ah]!; D[di] = l; D[dh] = h; };
          if (n < 32) return () => { const h = A[ah]!; D[di] = (A[ai]! >>> n) | (h << (32 - n)); D[dh] = h >>> n; };
          return () => { D[di] = A[ah]! >>> n; D[dh] = 0; };
        }
        return () => {
          const n = B[bi]! & 63, l = A[ai]!, h = A[ah]!;
          if (n === 0) { D[di] = l; D[dh] = h; } else if (n < 32) { D[di] = (l >>> n) | (h << (32 - n)); D[dh] = h >>> n; } else { D[di] = h >>> n; D[dh] = 0; }
        };
      }
      case 'sar_i64': {
        if (bConst) {
          const n = cl & 63;
          if (n === 0) return () => { const l = A[ai]!, h = A[ah]!; D[di] = l; D[dh] = h; };
          if (n < 32) return () => { const h = A[ah]!; D[di] = (A[ai]! >>> n) | (h << (32 - n)); D[dh] = h >> n; };
          return () => { const h = A[ah]!; D[di] = h >> n; D[dh] = h >> 31; };
        }
        return () => {
          const n = B[bi]! & 63, l = A[ai]!, h = A[ah]!;
          if (n === 0) { D[di] = l; D[dh] = h; } else if (n < 32) { D[di] = (l >>> n) | (h << (32 - n)); D[dh] = h >> n; } else { D[di] = h >> n; D[dh] = h >> 31; }
        };
      }
      // 64-bit division without BigInt when divu64 can (see there); semantics as interp.ts (RISC-V
      // division by zero, MIN / -1 wraps).
      case 'divu_i64': case 'remu_i64': {
        const rem = op.opc === 'remu_i64';
        return () => {
          const bl = B[bi]!, bh = B[bh0]!, al = A[ai]!, ah = A[ah0]!;
          if ((bl | bh) === 0) { if (rem) { D[di] = al; D[dh] = ah; } else { D[di] = -1; D[dh] = -1; } return; }
          divu64(al, ah, bl, bh);
          if (rem) { D[di] = DIV_OUT[2]!; D[dh] = DIV_OUT[3]!; } else { D[di] = DIV_OUT[0]!; D[dh] = DIV_OUT[1]!; }
        };
      }
      case 'div_i64': case 'rem_i64': {
        const rem = op.opc === 'rem_i64';
        return () => {
          const bl = B[bi]!, bh = B[bh0]!, al = A[ai]!, ah = A[ah0]!;
          if ((bl | bh) === 0) { if (rem) { D[di] = al; D[dh] = ah; } else { D[di] = -1; D[dh] = -1; } return; }
          if ((bl & bh) === -1) {
            if (rem) { D[di] = 0; D[dh] = 0; } else { D[dh] = (~ah + (al === 0 ? 1 : 0)) | 0; D[di] = -al | 0; }
            return;
          }
          // Divide |a| by |b| as unsigned 64-bit numbers (MIN becomes 2^63), then apply the signs.
          const an = ah < 0, bn = bh < 0;
          const ul = an ? -al | 0 : al, uh = an ? (~ah + (al === 0 ? 1 : 0)) | 0 : ah;
          const vl = bn ? -bl | 0 : bl, vh = bn ? (~bh + (bl === 0 ? 1 : 0)) | 0 : bh;
          divu64(ul, uh, vl, vh);
          let l: number, h: number, neg: boolean;
          if (rem) { l = DIV_OUT[2]!; h = DIV_OUT[3]!; neg = an; } else { l = DIV_OUT[0]!; h = DIV_OUT[1]!; neg = an !== bn; }
          if (neg) { D[dh] = (~h + (l === 0 ? 1 : 0)) | 0; D[di] = -l | 0; } else { D[di] = l; D[dh] = h; }
        };
      }
      case 'mulu2_i64': case 'muls2_i64': case 'mulsu2_i64': {
        const O = arr(op.o[1]!), oi = idx(op.o[1]!), oh = oi + 1;
        const sa = op.opc !== 'mulu2_i64', sb = op.opc === 'muls2_i64';
        return () => {
          const al = A[ai]!, ah = A[ah0]!, bl = B[bi]!, bh = B[bh0]!;
          mulu64(al, ah, bl, bh);
          // signed high half = unsigned high half - (a<0 ? b : 0) - (b<0 ? a : 0)
          if (sa && ah < 0) mulHiSub(bl, bh);
          if (sb && bh < 0) mulHiSub(al, ah);
          D[di] = MUL_OUT[0]!; D[dh] = MUL_OUT[1]!; O[oi] = MUL_OUT[2]!; O[oh] = MUL_OUT[3]!;
        };
      }
      case 'rotl_i64': case 'rotr_i64': {
        const right = op.opc === 'rotr_i64';
        return () => {
          let n = B[bi]! & 63;
          if (right) n = (64 - n) & 63;
          let l = A[ai]!, h = A[ah0]!;
          if (n >= 32) { const t = l; l = h; h = t; n -= 32; }
          if (n === 0) { D[di] = l; D[dh] = h; } else { D[di] = (l << n) | (h >>> (32 - n)); D[dh] = (h << n) | (l >>> (32 - n)); }
        };
      }
      case 'ext8s_i64': return () => { const l = (A[ai]! << 24) >> 24; D[di] = l; D[dh] = l >> 31; };
      case 'ext8u_i64': return () => { D[di] = A[ai]! & 0xff; D[dh] = 0; };
      case 'ext16s_i64': return () => { const l = (A[ai]! << 16) >> 16; D[di] = l; D[dh] = l >> 31; };
      case 'ext16u_i64': return () => { D[di] = A[ai]! & 0xffff; D[dh] = 0; };
      case 'ext32s_i64': return () => { const l = A[ai]!; D[di] = l; D[dh] = l >> 31; };
      case 'ext32u_i64': return () => { D[di] = A[ai]!; D[dh] = 0; };
      case 'extract_i64': case 'sextract_i64': {
        const signed = op.opc === 'sextract_i64';
        const ofs = c0, len = c1;
        // Shift the field to bit 0 of (lo, hi), then mask or sign-extend it.
        return () => {
          let l = A[ai]!, h = A[ah]!;
          if (ofs >= 32) { l = h >> (ofs - 32); h = h >> 31; } else if (ofs > 0) { l = (l >>> ofs) | (h << (32 - ofs)); h = h >> ofs; }
          if (len < 32) {
            l = signed ? (l << (32 - len)) >> (32 - len) : l & ((1 << len) - 1);
            h = signed ? l >> 31 : 0;
          } else if (len < 64) {
            const hl = len - 32;
            h = hl === 0 ? (signed ? l >> 31 : 0) : signed ? (h << (32 - hl)) >> (32 - hl) : h & ((1 << hl) - 1);
          }
          D[di] = l; D[dh] = h;
        };
      }
      case 'clz_i64': return () => {
        const l = A[ai]!, h = A[ah]!;
        if (h !== 0) { D[di] = Math.clz32(h); D[dh] = 0; } else if (l !== 0) { D[di] = 32 + Math.clz32(l); D[dh] = 0; } else { const zl = B[bi]!, zh = B[bh]!; D[di] = zl; D[dh] = zh; }
      };
      case 'ctz_i64': return () => {
        const l = A[ai]!, h = A[ah]!;
        if (l !== 0) { D[di] = ctz32(l); D[dh] = 0; } else if (h !== 0) { D[di] = 32 + ctz32(h); D[dh] = 0; } else { const zl = B[bi]!, zh = B[bh]!; D[di] = zl; D[dh] = zh; }
      };
      case 'ctpop_i64': return () => { D[di] = popcnt32(A[ai]!) + popcnt32(A[ah]!); D[dh] = 0; };
      case 'setcond_i64': return setcondStep(c0 as Cond, true, A, ai, B, bi, D, di);

      // ---- env access ---------------------------------------------------------------------------
      case 'ld_i32': case 'ld_i64': {
        const wide = op.opc === 'ld_i64', ofs = c0, memop = c1, size = memop & MO_SIZE, sign = (memop & MO_SIGN) !== 0;
        if (size >= 2 && (ofs & 3) === 0) {
          const e = ofs >> 2;
          if (!wide) return () => { D[di] = env[e]!; };
          if (size === 3) return () => { const l = env[e]!, h = env[e + 1]!; D[di] = l; D[dh] = h; };
          return () => { const l = env[e]!; D[di] = l; D[dh] = sign ? l >> 31 : 0; };
        }
        return () => {
          let l: number, h = 0;
          switch (size) {
            case 0: l = sign ? envView.getInt8(ofs) : envView.getUint8(ofs); h = l >> 31; break;
            case 1: l = sign ? envView.getInt16(ofs, true) : envView.getUint16(ofs, true); h = l >> 31; break;
            case 2: l = envView.getInt32(ofs, true); h = sign ? l >> 31 : 0; break;
            default: l = envView.getInt32(ofs, true); h = envView.getInt32(ofs + 4, true); break;
          }
          D[di] = l;
          if (wide) D[dh] = h;
        };
      }
      case 'st_i32': case 'st_i64': {
        const ofs = c0, size = c1 & MO_SIZE;
        if (size >= 2 && (ofs & 3) === 0) {
          const e = ofs >> 2;
          if (size === 2) return () => { env[e] = A[ai]!; };
          // Read both halves first: the stored value may be a global the store overlaps.
          if (op.opc === 'st_i64') return () => { const l = A[ai]!, h = A[ah]!; env[e] = l; env[e + 1] = h; };
          return () => { env[e] = A[ai]!; env[e + 1] = 0; };
        }
        const wide = op.opc === 'st_i64';
        return () => {
          const l = A[ai]!, h = wide ? A[ah]! : 0;
          switch (size) {
            case 0: envView.setUint8(ofs, l & 0xff); break;
            case 1: envView.setUint16(ofs, l & 0xffff, true); break;
            case 2: envView.setInt32(ofs, l, true); break;
            default: envView.setInt32(ofs, l, true); envView.setInt32(ofs + 4, h, true); break;
          }
        };
      }

      // ---- guest memory -------------------------------------------------------------------------
      case 'qemu_ld_i32': case 'qemu_ld_i64': {
        const insn = s.insn, memop = c0, mmu = c1;
        if (op.opc === 'qemu_ld_i32') {
          if (wideAddr) return () => { rt.curInsn = insn; D[di] = rt.load(A[ai]!, A[ah]!, memop, mmu); };
          return () => { rt.curInsn = insn; D[di] = rt.load(A[ai]!, 0, memop, mmu); };
        }
        const size = memop & MO_SIZE, sign = (memop & MO_SIGN) !== 0;
        if (size === MO_64) {
          return () => {
            rt.curInsn = insn;
            const l = rt.load(A[ai]!, wideAddr ? A[ah]! : 0, memop, mmu);
            D[di] = l; D[dh] = rt.loadHi | 0;
          };
        }
        return () => {
          rt.curInsn = insn;
          const l = rt.load(A[ai]!, wideAddr ? A[ah]! : 0, memop, mmu) | 0;
          D[di] = l; D[dh] = sign ? l >> 31 : 0;
        };
      }
      case 'qemu_st_i32': case 'qemu_st_i64': {
        const insn = s.insn, memop = c0, mmu = c1, wide = op.opc === 'qemu_st_i64';
        // i[0] = value (A), i[1] = address (B)
        return () => {
          rt.curInsn = insn;
          rt.store(B[bi]!, wideAddr ? B[bh]! : 0, A[ai]!, wide ? A[ah]! : 0, memop, mmu);
        };
      }


      // ---- helper calls -------------------------------------------------------------------------
      case 'call': return genCall(s);

      default:
        return slow(op);
    }
  }

  function genCall(s: Item): Step {
    const op = s.op, insn = s.insn;
    const h: HelperInfo | undefined = op.helper;
    if (!h) throw new TcgIrError('call op without helper');
    const f = h.fn, cpu = rt.cpu;
    const args = op.i.map((t) => ({ A: arr(t), i: idx(t), w: t.type === 'i64' }));
    const ret = op.o[0];
    const R = ret ? arr(ret) : F, ri = ret ? idx(ret) : 0;
    const rw = ret?.type === 'i64';
    const store = (r: unknown): void => {
      if (!ret) return;
      if (rw) writeBig(R, ri, true, helperRet('i64', r));
      else R[ri] = (r as number) | 0;
    };
    const get = (x: { A: Int32Array; i: number; w: boolean }): number | bigint =>
      (x.w ? readBig(x.A, x.i, true) : x.A[x.i]!);
    switch (args.length) {
      case 0: return () => { rt.curInsn = insn; store(f(cpu)); };
      case 1: { const x = args[0]!; return () => { rt.curInsn = insn; store(f(cpu, get(x))); }; }
      case 2: { const x = args[0]!, y = args[1]!; return () => { rt.curInsn = insn; store(f(cpu, get(x), get(y))); }; }
      case 3: {
        const x = args[0]!, y = args[1]!, z = args[2]!;
        return () => { rt.curInsn = insn; store(f(cpu, get(x), get(y), get(z))); };
      }
      case 4: {
        const x = args[0]!, y = args[1]!, z = args[2]!, u = args[3]!;
        return () => { rt.curInsn = insn; store(f(cpu, get(x), get(y), get(z), get(u))); };
      }
      default: return () => { rt.curInsn = insn; store(f(cpu, ...args.map(get))); };
    }
  }

  return { env, arr, idx, genStep, genExt32s, genAddrMem };
}

function bind(fn: IrFunction, lay: Layout, rt: TbRuntime): Binding {
  const { env, arr, idx, genStep, genExt32s, genAddrMem } = closureSteps(fn, rt);
  const wideAddr = fn.addrType === 'i64';
  const { items, labelAt, blockStart, fuse, reads } = lay;
  const n = items.length;

  // The TB as threaded code (./closure-code.ts): ops on globals and constants as records, the rest as
  // closures (steps), branches and exits as records.
  const code: number[] = [];
  const steps: Step[] = [];
  const tests: (() => boolean)[] = [];
  /** Item index → word index of its first record (branch targets). */
  const wordAt = new Int32Array(n + 1);
  /** (word of a jump's target field, item index it goes to), resolved at the end. */
  const jumps: number[] = [];
  const rec = (opc: T, d = 0, a = 0, b = 0, kl = 0, kh = 0, x = 0, y = 0): void => { code.push(opc, d, a, b, kl, kh, x, y); };
  const step = (s: Step): void => { steps.push(s); rec(T.STEP, 0, 0, 0, 0, 0, steps.length - 1); };
  const g = (t: Temp): boolean => t.kind === 'global';
  const w = (t: Temp): number => t.offset >> 2;
  const lo = (t: Temp): number => Number(t.value & M32) | 0;
  const hi = (t: Temp): number => Number((t.value >> 32n) & M32) | 0;
  for (let k = 0; k < n; k++) {
    wordAt[k] = code.length;
    const it = items[k]!, op = it.op;
    const narrow = narrowAccess(k);
    if (narrow > 0) {
      for (let j = 1; j < narrow; j++) wordAt[k + j] = wordAt[k]!;
      k += narrow - 1;
      continue;
    }
    if (fuse[k] === FUSE_EXT32S) {
      if (!wordOp(op, items[k + 1]!.op)) step(genExt32s(op, items[k + 1]!.op));
      wordAt[++k] = wordAt[k - 1]!;
      continue;
    }
    if (fuse[k] === FUSE_ADDR) {
      if (!(wideAddr && access(items[k + 1]!, op.i[0]!, lo(op.i[1]!), hi(op.i[1]!), false))) step(genAddrMem(op, items[k + 1]!));
      wordAt[++k] = wordAt[k - 1]!;
      continue;
    }
    // `mov pc <- const; exit_tb`: one record.
    const x = pcExit(k);
    if (x) {
      rec(x[4] ? T.EXIT_PC : T.EXIT_PC32, 0, x[0], 0, x[1], x[2], x[3]);
      wordAt[++k] = wordAt[k - 1]!;
      continue;
    }
    switch (op.opc) {
      case 'exit_tb': rec(T.EXIT, 0, 0, 0, 0, 0, op.c[0] ?? 0); break;
      case 'lookup_and_goto_ptr': rec(T.EXIT, 0, 0, 0, 0, 0, EXIT_LOOKUP); break;
      case 'br': jumps.push(code.length + 1, labelAt[op.label!.id]!); rec(T.JMP); break;
      case 'brcond_i32': case 'brcond_i64': branch(op, k); break;
      case 'qemu_ld_i64': case 'qemu_st_i64':
        if (!(wideAddr && access(it, op.i[op.opc === 'qemu_ld_i64' ? 0 : 1]!, 0, 0, false))) step(genStep(it));
        break;
      default:
        if (!aluOp(op)) step(genStep(it));
    }
  }
  wordAt[n] = code.length;
  rec(T.EXIT, 0, 0, 0, 0, 0, 0);
  for (let j = 0; j < jumps.length; j += 2) code[jumps[j]!] = wordAt[jumps[j + 1]!]!;
  const C = Int32Array.from(code);

  /** A conditional branch to a label: a record on globals and constants, or a test closure. */
  function branch(op: Op, k: number): void {
    const { rel, swap, bias } = splitCond(op.c[0] as Cond);
    if (rel === 'never') return;
    const target = labelAt[op.label!.id]!;
    if (rel === 'always') { jumps.push(code.length + 1, target); rec(T.JMP); return; }
    const x = op.i[swap ? 1 : 0]!, y = op.i[swap ? 0 : 1]!;
    const r = rel === 'eq' ? 0 : rel === 'ne' ? 1 : rel === 'lt' ? 2 : 3;
    // An i32 compare names its low words as the high words too: decided there, with the bias.
    const wide = op.opc === 'brcond_i64' ? 1 : 0;
    const tx = pcExit(target), fx = pcExit(k + 1);
    if (tx && fx && tx[4] && fx[4] && tx[0] === fx[0] && g(x) && (g(y) || y.kind === 'const')) {
      // Both ways store a 64-bit pc to the same global and exit: one record pair, no jump.
      if (g(y)) rec(T.BRX, tx[0], w(x), w(y), w(x) + wide, w(y) + wide, r, bias);
      else rec(T.BRX_C, tx[0], w(x), lo(y), w(x) + wide, wide ? hi(y) : lo(y), r, bias);
      code.push(tx[1], tx[2], tx[3], fx[1], fx[2], fx[3], 0, 0);
      return;
    }
    jumps.push(code.length + 1, target);
    if (g(x) && g(y)) rec(T.BR, 0, w(x), w(y), w(x) + wide, w(y) + wide, r, bias);
    else if (g(x) && y.kind === 'const') rec(T.BR_C, 0, w(x), lo(y), w(x) + wide, wide ? hi(y) : lo(y), r, bias);
    else {
      tests.push(makeTest(op.c[0] as Cond, wide === 1, arr(op.i[0]!), idx(op.i[0]!), arr(op.i[1]!), idx(op.i[1]!)));
      rec(T.BR_FN, 0, 0, 0, 0, 0, tests.length - 1);
    }
  }

  /**
   * `[env word, lo, hi, exit value, 64-bit]` when items k, k+1 are `mov g <- const; exit_tb` (the pc store
   * and exit of a goto_tb), else null.
   */
  function pcExit(k: number): [number, number, number, number, boolean] | null {
    if (k + 1 >= n || blockStart[k + 1] || fuse[k] || (k > 0 && fuse[k - 1])) return null;
    const op = items[k]!.op, x = items[k + 1]!.op;
    if (x.opc !== 'exit_tb' || (op.opc !== 'mov_i64' && op.opc !== 'mov_i32') || !g(op.o[0]!) || op.i[0]!.kind !== 'const') return null;
    return [w(op.o[0]!), lo(op.i[0]!), hi(op.i[0]!), x.c[0] ?? 0, op.opc === 'mov_i64'];
  }

  /** A record for an i64 op on globals and constants, or false. */
  function aluOp(op: Op): boolean {
    const d = op.o[0], a = op.i[0], b = op.i[1];
    if (!d || !g(d) || !a) return false;
    const D = w(d);
    switch (op.opc) {
      case 'mov_i64':
        if (a.kind === 'const') { rec(T.MOV_C, D, 0, 0, lo(a), hi(a)); return true; }
        if (g(a)) { rec(T.MOV, D, w(a)); return true; }
        return false;
      case 'ext32s_i64': case 'ext32u_i64':
        if (!g(a)) return false;
        rec(op.opc === 'ext32s_i64' ? T.EXT32S : T.EXT32U, D, w(a));
        return true;
    }
    if (!g(a) || !b) return false;
    const bc = b.kind === 'const';
    if (!bc && !g(b)) return false;
    const A = w(a);
    const pair = (withConst: T, withGlobal: T): boolean => {
      if (bc) rec(withConst, D, A, 0, lo(b), hi(b)); else rec(withGlobal, D, A, w(b));
      return true;
    };
    const shift = (lt32: T, ge32: T): boolean => {
      if (!bc) return false;
      const s = lo(b) & 63;
      if (s === 0) rec(T.MOV, D, A); else rec(s < 32 ? lt32 : ge32, D, A, 0, s);
      return true;
    };
    switch (op.opc) {
      case 'add_i64': return pair(T.ADD_C, T.ADD);
      case 'sub_i64': return !bc && pair(T.SUB, T.SUB);
      case 'and_i64': return pair(T.AND_C, T.AND);
      case 'or_i64': return pair(T.OR_C, T.OR);
      case 'xor_i64': return pair(T.XOR_C, T.XOR);
      case 'mul_i64': return !bc && pair(T.MUL, T.MUL);
      case 'shl_i64': return shift(T.SHL_C, T.SHL_C32);
      case 'shr_i64': return shift(T.SHR_C, T.SHR_C32);
      case 'sar_i64': return shift(T.SAR_C, T.SAR_C32);
      default: return false;
    }
  }

  /** A record for `op t <- a, b; ext32s_i64 d <- t` (fused: t is read by nothing else), or false. */
  function wordOp(op: Op, ext: Op): boolean {
    const d = ext.o[0]!, a = op.i[0]!, b = op.i[1]!;
    if (!g(d) || !g(a) || (b.kind !== 'const' && !g(b))) return false;
    const bc = b.kind === 'const';
    switch (op.opc) {
      case 'add_i64': if (bc) rec(T.ADDW_C, w(d), w(a), 0, lo(b)); else rec(T.ADDW, w(d), w(a), w(b)); return true;
      case 'sub_i64': if (bc) return false; rec(T.SUBW, w(d), w(a), w(b)); return true;
      case 'mul_i64': if (bc) return false; rec(T.MULW, w(d), w(a), w(b)); return true;
      case 'shl_i64': {
        if (!bc) return false;
        const s = lo(b) & 63;
        if (s >= 32) rec(T.MOV_C, w(d)); else rec(T.SHLW_C, w(d), w(a), 0, s);
        return true;
      }
      default: return false;
    }
  }

  /**
   * RV32 on 64-bit registers (32-bit addresses): `[add_i64 t <- g, const;] extrl_i64_i32 a <- t|g;
   * qemu_ld/st_i64 [a]` with the temps read once, as one record. Returns the items it took (0: not that).
   */
  function narrowAccess(k: number): number {
    if (wideAddr) return 0;
    let j = k, base: Temp, kl = 0;
    const add = items[j]!.op;
    if (add.opc === 'add_i64' && add.i[1]!.kind === 'const' && g(add.i[0]!) && add.o[0]!.kind === 'temp' && reads[add.o[0]!.id] === 1) {
      base = add.i[0]!;
      kl = lo(add.i[1]!);
      j++;
      if (j + 1 >= n || blockStart[j] || items[j]!.op.opc !== 'extrl_i64_i32' || items[j]!.op.i[0] !== add.o[0]) return 0;
    } else if (add.opc === 'extrl_i64_i32' && g(add.i[0]!)) {
      base = add.i[0]!;
    } else return 0;
    const ext = items[j]!.op, a = ext.o[0]!;
    if (j + 1 >= n || blockStart[j + 1] || a.kind !== 'temp' || reads[a.id] !== 1) return 0;
    const it = items[j + 1]!;
    if ((it.op.opc === 'qemu_st_i64' ? it.op.i[1] : it.op.i[0]) !== a) return 0;
    return access(it, base, kl, 0, true) ? j + 2 - k : 0;
  }

  /**
   * A record for the 64-bit guest load or store `it` (qemu_ld/st_i64 of a global) at `base + (kl, kh)`,
   * `base` a global; `narrow`: a 32-bit address. False when it is not of that shape.
   */
  function access(it: Item, base: Temp, kl: number, kh: number, narrow: boolean): boolean {
    const op = it.op, memop = op.c[0] ?? 0, mmu = op.c[1] ?? 0;
    if (!g(base)) return false;
    if (op.opc === 'qemu_st_i64') {
      if (!g(op.i[0]!)) return false;
      rec(narrow ? T.ST_A32 : T.ST, w(op.i[0]!), w(base), it.insn, kl, kh, memop, mmu);
      return true;
    }
    if (op.opc !== 'qemu_ld_i64' || !g(op.o[0]!)) return false;
    const kind = (memop & MO_SIZE) === MO_64 ? (narrow ? T.LD64_A32 : T.LD64)
      : (memop & MO_SIGN) !== 0 ? (narrow ? T.LDS_A32 : T.LDS) : (narrow ? T.LDU_A32 : T.LDU);
    rec(kind, w(op.o[0]!), w(base), it.insn, kl, kh, memop, mmu);
    return true;
  }

  return { env, code: C, steps, tests };
}

/** The closure backend (see the file comment). */
export const closureBackend: Backend = {
  name: 'closure',
  compile: compileClosure,
};
