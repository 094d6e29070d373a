/**
 * The closure backend: compiles each IR op once into a small JS closure (no eval / new Function, so it
 * runs under a strict Content-Security-Policy) and strings the closures of a basic block together.
 *
 * Representation (chosen by measurement, see below): every value lives in an `Int32Array` slot pair
 * (lo at 2k, hi at 2k+1; i32 values use lo only). TB temps and constants live in a per-TB frame;
 * globals are read and written in place in `rt.envI32` (i64 global at byte offset o: lo at o/4, hi at
 * o/4+1), so the env is exact at every helper call, memory access and exit without any write-back.
 * Because a location is always (array, index), the closures are bound to one runtime's `envI32` at
 * first use (a TB run by several CPUs gets one binding per runtime); each op then has one closure
 * shape whatever its operands are, with extra shapes only where a constant operand pays.
 * 64-bit mulu2/muls2/mulsu2, div/rem (./wide-arith.ts) and rotates are done on int32 words. Other rare
 * ops (bswap, deposit) take a BigInt slow path that reuses the reference interpreter's semantics ({@link evalPureOp}).
 *
 * Blocks: the ops between labels and branches form a block, compiled into ONE closure that calls its
 * ops' closures one after the other (unrolled calls, 8 at most; longer runs are grouped by 8) and then
 * its terminator. A block returns `~k` for the block at item index k to run next (backward branches, and
 * forward ones beyond {@link DIRECT_CALL_WINDOW} items) or the exit value (>= 0) of a TB exit; a forward branch or
 * fall-through calls the next block's closure directly. Exits absorb the constant stores to globals
 * just before them (the pc of a `goto_tb` exit), and the usual RISC-V TB ending (`brcond` between two
 * such exits) is folded into the block's own closure, so a typical TB is one call into its block and
 * one call per guest instruction. Fused pairs, whose intermediate temp is read by nothing else:
 * `op t; ext32s_i64 d, t` (RV64 addw/subw/mulw/slliw) and `add t, x, const; qemu_ld/st [t]`.
 * No-op markers (insn_start, set_label, goto_tb, mb, discard, nop) produce no closure; `rt.curInsn` is
 * stored only by ops that may throw (qemu_ld/st, call), with their instruction's index known at compile time.
 *
 * Measurements. `npm run bench -- --arch rv64 --program intmix,interp,memsort --backend closure`, guest
 * MIPS, on a 2-core machine shared with other work (load average ~3; runs vary by ±15%, so each pair
 * below was measured back to back):
 *                                         intmix   memsort   interp
 *   one closure per op, pc-returning array   35.0      33.1     31.7
 *   blocks (this file)                       54.7      53.4     67.6
 * (At load ~0.3 the old design ran intmix at 38.7 MIPS; the js backend, generated code, at ~112.)
 * What was tried in the block design and dropped: the terminator running the block's steps in a
 * `for` loop over an array instead of a separate block closure: intmix 45-48 vs 50-53 MIPS (and the
 * old array loop for blocks over 8 steps cost interp 52 → 72 MIPS when replaced by unrolled groups);
 * closures chained by calling the next one (`return next()`), in a micro-benchmark of 400 random
 * blocks: 9.5 vs 7.5 ns/op; closures naming `env` alone when all operands are globals (one array to
 * check instead of three): no difference measurable (50.1-52.9 vs 49.7-51.2 MIPS); two ops per closure
 * (pair literals) in the micro-benchmark: 29.4 vs 30.3 ns per 4-op block, i.e. the cost is in each op's
 * operand loads, not in the call. In that micro-benchmark a closure op costs ~6 ns against ~1.4 ns for
 * the same op in generated JS, hence the design: as few ops (and calls) per guest instruction as possible.
 */
import type { IrFunction } from '../context.js';
import {
  Cond, EXIT_LOOKUP, MO_64, MO_SIGN, MO_SIZE, type HelperInfo, type Op, type Opcode, type Temp,
} from '../ir.js';
import { evalPureOp, helperRet, TcgIrError } from '../interp.js';
import type { Backend, CompileHooks, CompiledTb, TbRuntime } from './backend.js';
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

/**
 * A compiled block: runs straight-line steps up to a terminator and returns `~k` for the block at item
 * index k to run next (< 0, backward or far branches) or the TB's exit value (>= 0), so that a TB whose
 * entry block always exits is its entry block.
 */
type Block = () => number;

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

/**
 * `x rel y` on (lo, hi) words: rel 0 eq, 1 ne, 2 lt, 3 le; the high words compare signed after xor with
 * `hb`, the low words after xor with `lb` (MIN: unsigned).
 */
function test64(rel: number, hb: number, lb: number, xl: number, xh: number, yl: number, yh: number): boolean {
  if (rel < 2) return (xl === yl && xh === yh) !== (rel === 1);
  const a = xh ^ hb, b = yh ^ hb;
  if (a !== b) return a < b;
  const c = xl ^ lb, d = yl ^ lb;
  return rel === 2 ? c < d : c <= d;
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

/**
 * Forward branches and fall-throughs call the next block directly (no dispatch) when both blocks start
 * in the same window of this many items; that bounds the host stack depth a long TB can reach.
 */
const DIRECT_CALL_WINDOW = 128;

/** What the compile-time pass found about the TB (independent of the runtime it will run on). */
interface Layout {
  readonly items: readonly Item[];
  /** Label id → index of the item it precedes. */
  readonly labelAt: Int32Array;
  /** Item index (0..items.length) → 1 where a block starts (TB entry, label, after a terminator). */
  readonly blockStart: Uint8Array;
  /** Item index → FUSE_* kind when the item is compiled together with the next one. */
  readonly fuse: Uint8Array;
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

  // Pairs compiled as one closure. The first op's output is a temp read by the second op only, so
  // the fused closure may skip writing it (nothing else can observe it).
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
  return { items, labelAt, blockStart, fuse };
}

/** The TB's closures bound to one runtime. */
interface Binding {
  readonly env: Int32Array;
  /** The TB's first block. */
  readonly entry: Block;
  /** Runs blocks from `~k` (item index k, as a block returns it) on until an exit; returns the exit value. */
  readonly loop: (k: number) => number;
  /** False when the entry block always returns an exit value (no backward or far branch in the TB). */
  readonly needsLoop: boolean;
}

/** Compiles an IR function into a {@link CompiledTb} made of closures. */
export function compileClosure(ir: IrFunction, hooks?: CompileHooks): CompiledTb {
  // What binding needs. Once bound, a TB whose IR the cache can translate again lets it go (most TBs are
  // cold and run on one CPU; their IR was most of the heap), and gets it back for another CPU.
  let fn: IrFunction | null = ir;
  let lay: Layout | null = layout(ir);
  const again = hooks?.retranslate;
  const bindings = new WeakMap<TbRuntime, Binding>();
  let lastRt: TbRuntime | null = null;
  let entry: Block = () => 0;
  let loop: (k: number) => number = () => 0;

  return (rt: TbRuntime): number => {
    // A runtime's envI32 is fixed (readonly in TbRuntime): the runtime alone selects the binding.
    if (rt !== lastRt) {
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
        // On the only runtime there is, the cache may call the bound code directly: the entry block
        // itself when it always exits (most TBs), which saves a call per TB run.
        if (hooks?.soleRuntime?.(rt) === true) {
          const e = b.entry, l = b.loop;
          hooks.replace(b.needsLoop ? (): number => { const r = e(); return r >= 0 ? r : l(r); } : e);
        }
      }
      lastRt = rt;
      entry = b.entry;
      loop = b.loop;
    }
    const r = entry();
    return r >= 0 ? r : loop(r);
  };
}

/** An exit block that only stores constants to globals: `(env index, value)` pairs, then exits. */
interface ConstExit {
  readonly writes: readonly number[];
  readonly result: number;
}

function bind(fn: IrFunction, lay: Layout, rt: TbRuntime): Binding {
  const env = rt.envI32;
  const envView = rt.envView;
  const F = new Int32Array(2 * fn.temps.length);
  for (const t of fn.temps) {
    if (t.kind === 'const') { F[2 * t.id] = Number(t.value & M32) | 0; F[2 * t.id + 1] = Number((t.value >> 32n) & M32) | 0; }
  }
  const arr = (t: Temp): Int32Array => (t.kind === 'global' ? env : F);
  const idx = (t: Temp): number => (t.kind === 'global' ? t.offset >> 2 : 2 * t.id);
  const wideAddr = fn.addrType === 'i64';
  const { items, labelAt, blockStart, fuse } = lay;
  const n = items.length;

  // Blocks are built last to first, so that a forward continuation already exists when needed.
  const blocks: Block[] = new Array<Block>(n + 1);
  let needsLoop = false;
  const constExits: (ConstExit | null)[] = new Array<ConstExit | null>(n + 1).fill(null);
  const exit0: Block = () => 0;
  blocks[n] = exit0;
  constExits[n] = { writes: [], result: 0 };
  for (let s = n - 1; s >= 0; s--) if (blockStart[s]) buildBlock(s);

  /** Continuation to the block at item `k` from the block starting at `from`. */
  function cont(from: number, k: number): Block {
    if (k > from && Math.floor(k / DIRECT_CALL_WINDOW) === Math.floor(from / DIRECT_CALL_WINDOW)) return blocks[k]!;
    const c = ~k;
    needsLoop = true;
    return () => c;
  }

  /** `mov g <- const` items, which an exit may absorb. */
  function constMovWrites(op: Op): number[] | null {
    if ((op.opc !== 'mov_i64' && op.opc !== 'mov_i32') || op.o[0]!.kind !== 'global' || op.i[0]!.kind !== 'const') return null;
    const e = op.o[0]!.offset >> 2, v = op.i[0]!.value;
    const w = [e, Number(v & M32) | 0];
    if (op.opc === 'mov_i64') w.push(e + 1, Number((v >> 32n) & M32) | 0);
    return w;
  }

  function buildBlock(s: number): void {
    // The block's items: s .. end (inclusive terminator, or up to the next block start).
    let end = s;
    while (!TERMINATORS.has(items[end]!.op.opc) && !blockStart[end + 1]) end++;
    const last = items[end]!.op;
    let stepsEnd = end + 1;
    let term: Block;
    let cexit: ConstExit | null = null;
    switch (last.opc) {
      case 'exit_tb': {
        // Absorb the constant stores to globals just before the exit (the pc of a goto_tb exit).
        const writes: number[] = [];
        let k = end;
        for (;;) {
          if (k === s || fuse[k - 1] || (k >= 2 && fuse[k - 2])) break;
          const w = constMovWrites(items[k - 1]!.op);
          if (!w) break;
          writes.unshift(...w);
          k--;
        }
        stepsEnd = k;
        cexit = { writes, result: last.c[0] ?? 0 };
        term = constExitBlock(cexit);
        break;
      }
      case 'lookup_and_goto_ptr': cexit = { writes: [], result: EXIT_LOOKUP }; term = constExitBlock(cexit); stepsEnd = end; break;
      case 'br': term = cont(s, labelAt[last.label!.id]!); stepsEnd = end; break;
      case 'brcond_i32': case 'brcond_i64': {
        const tk = labelAt[last.label!.id]!, fk = end + 1;
        term = brcond(last, cont(s, tk), cont(s, fk), tk > s ? constExits[tk]! : null, constExits[fk]!);
        stepsEnd = end;
        break;
      }
      default: term = cont(s, end + 1); break;
    }
    let steps: Step[] = [];
    for (let k = s; k < stepsEnd; k++) {
      if (fuse[k] === FUSE_EXT32S) { steps.push(genExt32s(items[k]!.op, items[k + 1]!.op)); k++; } else if (fuse[k] === FUSE_ADDR) { steps.push(genAddrMem(items[k]!.op, items[k + 1]!)); k++; } else steps.push(genStep(items[k]!));
    }
    // Long runs: groups of 8 steps become one step each (unrolled calls beat a loop over an array).
    while (steps.length > 8) {
      const grouped: Step[] = [];
      for (let k = 0; k < steps.length; k += 8) {
        const chunk = steps.slice(k, k + 8);
        if (chunk.length === 8) grouped.push(group8(chunk)); else grouped.push(...chunk);
      }
      steps = grouped;
    }
    const fusedTerm = last.opc === 'brcond_i64' || last.opc === 'brcond_i32'
      ? seqBrExit(steps, last, labelAt[last.label!.id]! > s ? constExits[labelAt[last.label!.id]!]! : null, constExits[end + 1]!) : null;
    blocks[s] = fusedTerm ?? (cexit ? seqExit(steps, cexit) : null) ?? seq(steps, term);
    if (steps.length === 0 && cexit && last.opc === 'exit_tb') constExits[s] = cexit;
  }

  function constExitBlock(x: ConstExit): Block {
    const w = x.writes, r = x.result;
    switch (w.length) {
      case 0: return () => r;
      case 2: { const e0 = w[0]!, v0 = w[1]!; return () => { env[e0] = v0; return r; }; }
      case 4: { const e0 = w[0]!, v0 = w[1]!, e1 = w[2]!, v1 = w[3]!; return () => { env[e0] = v0; env[e1] = v1; return r; }; }
      default: return () => { for (let k = 0; k < w.length; k += 2) env[w[k]!] = w[k + 1]!; return r; };
    }
  }

  /** One closure running `steps` (at most 8) in order, then `term`. */
  function seq(steps: Step[], term: Block): Block {
    const [s0, s1, s2, s3, s4, s5, s6, s7] = steps;
    switch (steps.length) {
      case 0: return term;
      case 1: return () => { s0!(); return term(); };
      case 2: return () => { s0!(); s1!(); return term(); };
      case 3: return () => { s0!(); s1!(); s2!(); return term(); };
      case 4: return () => { s0!(); s1!(); s2!(); s3!(); return term(); };
      case 5: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); return term(); };
      case 6: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); return term(); };
      case 7: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); return term(); };
      default: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); s7!(); return term(); };
    }
  }

  /** Eight steps as one. */
  function group8(steps: Step[]): Step {
    const [s0, s1, s2, s3, s4, s5, s6, s7] = steps;
    return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); s7!(); };
  }

  /**
   * Steps then a branch between two pc exits, in one closure (the usual RISC-V TB: a few instructions
   * and a conditional branch), or null when the block is not of that shape.
   */
  function seqBrExit(steps: Step[], op: Op, tx: ConstExit | null, fx: ConstExit | null): Block | null {
    if (steps.length === 0 || steps.length > 8 || !tx || !fx || tx.writes.length !== 4 || fx.writes.length !== 4
      || tx.writes[0] !== fx.writes[0] || tx.writes[2] !== tx.writes[0]! + 1 || fx.writes[2] !== tx.writes[2]) return null;
    const { rel, swap, bias } = splitCond(op.c[0] as Cond);
    if (rel === 'never' || rel === 'always') return null;
    const r = rel === 'eq' ? 0 : rel === 'ne' ? 1 : rel === 'lt' ? 2 : 3;
    let X = arr(op.i[0]!), xi = idx(op.i[0]!), Y = arr(op.i[1]!), yi = idx(op.i[1]!);
    if (swap) { const A = X; X = Y; Y = A; const t = xi; xi = yi; yi = t; }
    // i32: the "high words" read are the low words again: the whole comparison is decided there.
    const wide = op.opc === 'brcond_i64';
    const xh = wide ? xi + 1 : xi, yh = wide ? yi + 1 : yi;
    const e = tx.writes[0]!, eh = e + 1;
    const tl = tx.writes[1]!, th = tx.writes[3]!, tr = tx.result, fl = fx.writes[1]!, fh = fx.writes[3]!, fr = fx.result;
    const hb = bias, lb = MIN;
    // The test and the stores are written out in each arity (not a shared inner closure: one call less).
    const [s0, s1, s2, s3, s4, s5, s6, s7] = steps;
    switch (steps.length) {
      case 1: return () => {
        s0!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
      case 2: return () => {
        s0!(); s1!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
      case 3: return () => {
        s0!(); s1!(); s2!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
      case 4: return () => {
        s0!(); s1!(); s2!(); s3!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
      case 5: return () => {
        s0!(); s1!(); s2!(); s3!(); s4!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
      case 6: return () => {
        s0!(); s1!(); s2!(); s3!(); s4!(); s5!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
      case 7: return () => {
        s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
      default: return () => {
        s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); s7!();
        if (test64(r, hb, lb, X[xi]!, X[xh]!, Y[yi]!, Y[yh]!)) { env[e] = tl; env[eh] = th; return tr; }
        env[e] = fl; env[eh] = fh; return fr;
      };
    }
  }

  /** Steps then an exit that stores nothing or one 64-bit constant (a goto_tb's pc), in one closure; or null. */
  function seqExit(steps: Step[], x: ConstExit): Block | null {
    const w = x.writes, r = x.result;
    if (steps.length === 0 || steps.length > 8) return null;
    const [s0, s1, s2, s3, s4, s5, s6, s7] = steps;
    if (w.length === 0) {
      switch (steps.length) {
        case 1: return () => { s0!(); return r; };
        case 2: return () => { s0!(); s1!(); return r; };
        case 3: return () => { s0!(); s1!(); s2!(); return r; };
        case 4: return () => { s0!(); s1!(); s2!(); s3!(); return r; };
        case 5: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); return r; };
        case 6: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); return r; };
        case 7: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); return r; };
        default: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); s7!(); return r; };
      }
    }
    if (w.length !== 4 || w[2] !== w[0]! + 1) return null;
    const e = w[0]!, eh = e + 1, l = w[1]!, h = w[3]!;
    switch (steps.length) {
      case 1: return () => { s0!(); env[e] = l; env[eh] = h; return r; };
      case 2: return () => { s0!(); s1!(); env[e] = l; env[eh] = h; return r; };
      case 3: return () => { s0!(); s1!(); s2!(); env[e] = l; env[eh] = h; return r; };
      case 4: return () => { s0!(); s1!(); s2!(); s3!(); env[e] = l; env[eh] = h; return r; };
      case 5: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); env[e] = l; env[eh] = h; return r; };
      case 6: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); env[e] = l; env[eh] = h; return r; };
      case 7: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); env[e] = l; env[eh] = h; return r; };
      default: return () => { s0!(); s1!(); s2!(); s3!(); s4!(); s5!(); s6!(); s7!(); env[e] = l; env[eh] = h; return r; };
    }
  }

  /**
   * A conditional branch ending a block. `T`/`F` continue at the target / the next item; when both are
   * exits that only store one 64-bit constant to the same global (a RISC-V branch: pc and exit slot),
   * the stores are done here and no further closure runs.
   */
  function brcond(op: Op, T: Block, Fb: Block, tx: ConstExit | null, fx: ConstExit | null): Block {
    const wide = op.opc === 'brcond_i64';
    const cond = op.c[0] as Cond;
    const { rel, swap, bias } = splitCond(cond);
    if (rel === 'always') return T;
    if (rel === 'never') return Fb;
    let X = arr(op.i[0]!), xi = idx(op.i[0]!), Y = arr(op.i[1]!), yi = idx(op.i[1]!);
    if (swap) { const A = X; X = Y; Y = A; const t = xi; xi = yi; yi = t; }
    const xh = xi + 1, yh = yi + 1;
    if (tx && fx && tx.writes.length === 4 && fx.writes.length === 4 && tx.writes[0] === fx.writes[0]
      && tx.writes[2] === tx.writes[0]! + 1 && fx.writes[2] === tx.writes[2]) {
      const e = tx.writes[0]!, eh = e + 1;
      const tl = tx.writes[1]!, th = tx.writes[3]!, tr = tx.result, fl = fx.writes[1]!, fh = fx.writes[3]!, fr = fx.result;
      if (wide) {
        const y1 = op.i[1]!;
        if (!swap && y1.kind === 'const' && (rel === 'eq' || rel === 'ne')) {
          const cl = Number(y1.value & M32) | 0, ch = Number((y1.value >> 32n) & M32) | 0;
          if (rel === 'eq') {
            return () => {
              if (X[xi] === cl && X[xh] === ch) { env[e] = tl; env[eh] = th; return tr; }
              env[e] = fl; env[eh] = fh; return fr;
            };
          }
          return () => {
            if (X[xi] !== cl || X[xh] !== ch) { env[e] = tl; env[eh] = th; return tr; }
            env[e] = fl; env[eh] = fh; return fr;
          };
        }
        switch (rel) {
          case 'eq': return () => {
            if (X[xi] === Y[yi] && X[xh] === Y[yh]) { env[e] = tl; env[eh] = th; return tr; }
            env[e] = fl; env[eh] = fh; return fr;
          };
          case 'ne': return () => {
            if (X[xi] !== Y[yi] || X[xh] !== Y[yh]) { env[e] = tl; env[eh] = th; return tr; }
            env[e] = fl; env[eh] = fh; return fr;
          };
          case 'lt': return () => {
            const a = X[xh]! ^ bias, b = Y[yh]! ^ bias;
            if (a < b || (a === b && (X[xi]! ^ MIN) < (Y[yi]! ^ MIN))) { env[e] = tl; env[eh] = th; return tr; }
            env[e] = fl; env[eh] = fh; return fr;
          };
          case 'le': return () => {
            const a = X[xh]! ^ bias, b = Y[yh]! ^ bias;
            if (a < b || (a === b && (X[xi]! ^ MIN) <= (Y[yi]! ^ MIN))) { env[e] = tl; env[eh] = th; return tr; }
            env[e] = fl; env[eh] = fh; return fr;
          };
        }
      }
      switch (rel) {
        case 'eq': return () => {
          if (X[xi] === Y[yi]) { env[e] = tl; env[eh] = th; return tr; }
          env[e] = fl; env[eh] = fh; return fr;
        };
        case 'ne': return () => {
          if (X[xi] !== Y[yi]) { env[e] = tl; env[eh] = th; return tr; }
          env[e] = fl; env[eh] = fh; return fr;
        };
        case 'lt': return () => {
          if ((X[xi]! ^ bias) < (Y[yi]! ^ bias)) { env[e] = tl; env[eh] = th; return tr; }
          env[e] = fl; env[eh] = fh; return fr;
        };
        case 'le': return () => {
          if ((X[xi]! ^ bias) <= (Y[yi]! ^ bias)) { env[e] = tl; env[eh] = th; return tr; }
          env[e] = fl; env[eh] = fh; return fr;
        };
      }
    }
    if (wide) {
      switch (rel) {
        case 'eq': return () => (X[xi] === Y[yi] && X[xh] === Y[yh] ? T() : Fb());
        case 'ne': return () => (X[xi] !== Y[yi] || X[xh] !== Y[yh] ? T() : Fb());
        case 'lt': return () => {
          const a = X[xh]! ^ bias, b = Y[yh]! ^ bias;
          return a < b || (a === b && (X[xi]! ^ MIN) < (Y[yi]! ^ MIN)) ? T() : Fb();
        };
        case 'le': return () => {
          const a = X[xh]! ^ bias, b = Y[yh]! ^ bias;
          return a < b || (a === b && (X[xi]! ^ MIN) <= (Y[yi]! ^ MIN)) ? T() : Fb();
        };
      }
    }
    switch (rel) {
      case 'eq': return () => (X[xi] === Y[yi] ? T() : Fb());
      case 'ne': return () => (X[xi] !== Y[yi] ? T() : Fb());
      case 'lt': return () => ((X[xi]! ^ bias) < (Y[yi]! ^ bias) ? T() : Fb());
      case 'le': return () => ((X[xi]! ^ bias) <= (Y[yi]! ^ bias) ? T() : Fb());
    }
  }

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

  return {
    env,
    needsLoop,
    entry: blocks[0]!,
    loop: (k: number): number => {
      do k = blocks[~k]!(); while (k < 0);
      return k;
    },
  };
}

/** The closure backend (see the file comment). */
export const closureBackend: Backend = {
  name: 'closure',
  compile: compileClosure,
};
