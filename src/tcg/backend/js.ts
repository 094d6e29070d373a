/**
 * The generated-JS backend: each TB's IR becomes the source of one JS function, compiled with
 * `new Function` (so V8 optimizes each TB as straight-line code with int32 locals). Where a
 * Content-Security-Policy forbids `new Function`, {@link jsBackendAvailable} returns false and the
 * embedder uses the closure backend instead (same semantics, no eval).
 *
 * Shape of the generated code (QEMU's tcg/<host>/tcg-target.c.inc does the same with registers):
 * - every TB temp is a `let` local: i32 as one int32 local, i64 as two (lo, hi) with carries by hand;
 * - globals are cached in locals: loaded from `rt.envI32` at first use while the code is straight-line,
 *   written back (only those written since the last sync, tracked at compile time) before every exit,
 *   every helper call that is not pure, env loads/stores that overlap them, and on the slow path of
 *   every guest memory access; helper calls that may write globals reload them (ir.ts contract);
 * - after the first branch or label, globals read later are all loaded (so every path into a label
 *   agrees) and globals only written later are stored through to env;
 * - forward branches are `break` out of labeled blocks opened at the top of the function; a TB with a
 *   backward branch runs its body in a `for (;;) switch (L)` dispatcher instead;
 * - `rt.curInsn` is set before each helper call and on the slow path of each memory access (the only
 *   places that can throw), with the instruction index known at compile time;
 * - guest memory: when the runtime exposes its soft TLB ({@link TbFastMem}), the TLB hit check and the
 *   RAM access are inline (QEMU's tcg_out_tlb_load); a miss, MMIO, a flagged page or a misaligned
 *   access calls `rt.load`/`rt.store` as the closure backend always does. Big-endian memops always call.
 *
 * Compiled factories are cached by source text ({@link JsBackendOptions.cacheSize}): identical TBs
 * (after a code-cache flush, or the same code mapped twice) reuse one compiled function.
 *
 * Measurements (scratch benchmark, Node 20, one x86-64 core shared with other jobs, best of 3; TB
 * runs per second, higher is better; compile = average time of `compile()` plus the first run):
 * - 24-op i64 ALU TB (add/and/shl/shr/xor/setcond/ext32s, brcond, two exits): closure 1.1 M runs/s,
 *   js 15-35 M runs/s (x14-x31);
 * - a TB looping 64 times inside (backward branch, switch dispatcher; mul/add/shr/xor): closure 0.09-0.10 M,
 *   js 0.80-0.92 M runs/s (x8-x11);
 * - toy-CPU loop under the real executor (test/accel/toy: LQ/LW/LHU/SQ/SW + ALU, chained TBs, real
 *   SoftTlb; each variant in its own process): closure 8-13 MIPS, js 19-70 MIPS, js with the inline TLB
 *   (`fastMem`) 34-62 MIPS. The inline TLB path is not a measurable gain over V8-inlined `SoftTlb.load`
 *   on this noisy machine; re-measure on real RISC-V workloads before relying on it (`inlineTlb: false`);
 * - compile cost (300 random TBs of ~9 ops, compile + first run, so V8's parse and baseline compile are
 *   included): closure 0.37-0.42 ms/TB, js 0.9-1.1 ms/TB; on a source-cache hit `compile()` costs
 *   0.04-0.3 ms (source generation only). A TB pays its compile back after roughly a few thousand
 *   instructions, which hot TBs reach quickly; cold code may prefer the closure backend (tiering).
 */
import type { IrFunction } from '../context.js';
import {
  CALL_NO_READ_GLOBALS, CALL_NO_RETURN, CALL_NO_SIDE_EFFECTS, CALL_NO_WRITE_GLOBALS, Cond, EXIT_LOOKUP, MO_BE, MO_SIGN,
  MO_SIZE, type HelperInfo, type Op, type Temp,
} from '../ir.js';
import { TcgIrError } from '../interp.js';
import type { Backend, CompiledTb, TbRuntime } from './backend.js';
import {
  bswap32, ctz32, div64, mul128, mulhu32, popcnt32, rotl64, toBig, type JsKit,
} from './js-runtime.js';

/**
 * Direct access to a CPU's soft TLB and RAM for inline guest memory accesses. The execution loop's
 * runtime may expose it as `rt.fastMem`; the layout is the one documented in src/accel/tcg/tlb.ts
 * (8 int32 words per entry: read tag lo/hi, write tag lo/hi, code tag lo/hi, RAM id, page offset).
 */
export interface TbFastMem {
  /** The TLB entries (SoftTlb.entries); read only by compiled code. */
  readonly tlbEntries: Int32Array;
  /** log2 of the entries per MMU index (SoftTlb.tlbBits). */
  readonly tlbBits: number;
  /** RAM block bytes by RAM id (RamTable.bytes; the array may grow, it is read at each access). */
  readonly ramBytes: readonly Uint8Array[];
}

/** A {@link TbRuntime} that may expose its soft TLB to compiled code. */
export type JsTbRuntime = TbRuntime & { readonly fastMem?: TbFastMem | undefined };

/**
 * Page size the inline TLB check assumes; must equal TARGET_PAGE_BITS of src/accel/tcg/tcg-cpu-ops.ts
 * (tcg may not import accel; a test checks that they agree).
 */
export const JS_TLB_PAGE_BITS = 12;
const PAGE_MASK = -(1 << JS_TLB_PAGE_BITS);
const PAGE_OFF = (1 << JS_TLB_PAGE_BITS) - 1;

/** `new Function` is forbidden here (Content-Security-Policy without 'unsafe-eval'). */
export class JsBackendUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`the JS TCG backend cannot compile code here (new Function failed: ${String(cause)}); use the closure backend`);
    this.name = 'JsBackendUnavailableError';
  }
}

/** True when `new Function` works (no CSP forbids it), i.e. the JS backend can be used. */
export function jsBackendAvailable(): boolean {
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    return (new Function('return 42') as () => number)() === 42;
  } catch {
    return false;
  }
}

/** Options of {@link createJsBackend}. */
export interface JsBackendOptions {
  /** Compiled factories kept by source text (default 4096; 0 disables the cache). */
  readonly cacheSize?: number;
  /** Emit the soft-TLB fast path inline (default true; without it every access calls rt.load/store). */
  readonly inlineTlb?: boolean;
}

/** Statistics of one JS backend instance. */
export interface JsBackendStats {
  /** TBs compiled. */
  compiled: number;
  /** TBs whose source was found in the cache (no `new Function`). */
  cacheHits: number;
  /** Total characters of generated source. */
  sourceChars: number;
}

/** A JS backend with its own source cache (see {@link createJsBackend}). */
export interface JsBackend extends Backend {
  readonly stats: JsBackendStats;
  /** The generated source of a TB (for `-d out_asm`-style dumps and tests). */
  source(fn: IrFunction): string;
}

type Factory = (kit: JsKit) => CompiledTb;

const NO_FAST_MEM = { tlbEntries: new Int32Array(16 * 8).fill(-1), tlbBits: 0, ramBytes: [] as Uint8Array[] };

/** Creates a JS backend with its own compiled-source cache. */
export function createJsBackend(options: JsBackendOptions = {}): JsBackend {
  const cacheSize = options.cacheSize ?? 4096;
  const inlineTlb = options.inlineTlb ?? true;
  const cache = new Map<string, Factory>();
  const stats: JsBackendStats = { compiled: 0, cacheHits: 0, sourceChars: 0 };
  return {
    name: 'js',
    stats,
    source: (fn) => generate(fn, inlineTlb).src,
    compile(fn: IrFunction): CompiledTb {
      const { src, helpers } = generate(fn, inlineTlb);
      stats.compiled++;
      stats.sourceChars += src.length;
      let factory = cache.get(src);
      if (factory !== undefined) {
        stats.cacheHits++;
        // Refresh its position: the cache evicts the least recently used source first.
        cache.delete(src);
        cache.set(src, factory);
      } else {
        try {
          // eslint-disable-next-line @typescript-eslint/no-implied-eval
          factory = new Function('K', src) as Factory;
        } catch (e) {
          if (e instanceof SyntaxError) throw new TcgIrError(`JS backend produced invalid code (${e.message}):\n${src}`);
          throw new JsBackendUnavailableError(e);
        }
        if (cacheSize > 0) {
          if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
          cache.set(src, factory);
        }
      }
      return factory({
        mulhu32, popcnt32, ctz32, bswap32, mul128, div64, rotl64, toBig,
        h: helpers.map((h) => h.fn), noFastMem: NO_FAST_MEM,
      });
    },
  };
}

/** The default JS backend instance (see the file comment). */
export const jsBackend: JsBackend = createJsBackend();

// ---- code generation ------------------------------------------------------------------------------

/** An int32 literal as source (negative ones parenthesized so `-x` and `x - y` stay valid). */
function lit(v: number): string {
  v |= 0;
  return v < 0 ? `(${v})` : `${v}`;
}

function constLo(t: Temp): number {
  return Number(t.value & 0xffffffffn) | 0;
}

function constHi(t: Temp): number {
  return Number((t.value >> 32n) & 0xffffffffn) | 0;
}

const CONTROL = new Set(['br', 'brcond_i32', 'brcond_i64']);

/** Compiles one IR function to the source of a factory `(K) => (rt) => exitValue`. */
function generate(fn: IrFunction, inlineTlb: boolean): { src: string; helpers: HelperInfo[] } {
  return new Gen(fn, inlineTlb).run();
}

class Gen {
  private readonly ops: readonly Op[];
  private readonly out: string[] = [];
  private readonly helpers: HelperInfo[] = [];
  private readonly helperIdx = new Map<HelperInfo, number>();
  /** Globals whose local holds the current value. */
  private valid = new Set<Temp>();
  /** Globals whose local is newer than env. Always a subset of {@link valid}. */
  private dirty = new Set<Temp>();
  /** After the prefix: globals never read again, stored straight to env when written. */
  private writeThrough = new Set<Temp>();
  /**
   * After the prefix: the globals kept current in locals on every path (those read after the prefix).
   * Anything that changes env under them reloads them, so a dirty one is never stale on another path.
   */
  private eager: Temp[] = [];
  /** True while the code is straight-line from the entry (globals load lazily). */
  private lazy = true;
  private reachable = true;
  private insn = -1;
  private readonly labelPos: Int32Array;
  private readonly switchMode: boolean;
  /** Blocks mode: dirty globals on the branches taken to each label so far. */
  private readonly pendingDirty = new Map<number, Set<Temp>>();
  /** Labels some branch targets. */
  private readonly targeted = new Set<number>();
  /** Per global: index of the last op reading it (-1 if none). */
  private readonly lastRead = new Map<Temp, number>();
  /** Globals written by some op (for the switch dispatcher's conservative dirty set). */
  private readonly written = new Set<Temp>();
  private usesMem = false;
  private usesEnvView = false;
  private usesCall = false;
  private usesScratch = false;
  private readonly wideAddr: boolean;
  private pos = 0;

  constructor(private readonly fn: IrFunction, private readonly inlineTlb: boolean) {
    this.ops = fn.ops;
    this.wideAddr = fn.addrType === 'i64';
    this.labelPos = new Int32Array(fn.nbLabels).fill(-1);
    let backward = false;
    this.ops.forEach((op, k) => {
      if (op.opc === 'set_label' && op.label) this.labelPos[op.label.id] = k;
    });
    this.ops.forEach((op, k) => {
      if (op.label && op.opc !== 'set_label') {
        const p = this.labelPos[op.label.id] ?? -1;
        if (p < 0) throw new TcgIrError(`TB branches to label ${op.label.id} that is never set`);
        if (p < k) backward = true;
        this.targeted.add(op.label.id);
      }
      for (const t of op.i) if (t.kind === 'global') this.lastRead.set(t, k);
      for (const t of op.o) if (t.kind === 'global') this.written.add(t);
      if (op.opc.startsWith('qemu_')) this.usesMem = true;
      if (op.opc === 'call') this.usesCall = true;
    });
    this.switchMode = backward;
  }

  run(): { src: string; helpers: HelperInfo[] } {
    // Body first: it decides which declarations and bindings the prologue needs.
    if (!this.switchMode) {
      const blocks = [...this.targeted].sort((a, b) => this.labelPos[b]! - this.labelPos[a]!);
      if (blocks.length > 0) this.emit(blocks.map((l) => `L${l}: {`).join(' '));
    } else {
      this.emit('let L = 0;');
    }
    for (this.pos = 0; this.pos < this.ops.length; this.pos++) this.op(this.ops[this.pos]!);
    if (this.reachable) this.exit(0);
    if (this.switchMode && !this.lazy) this.emit('}');

    // Only the temps some op names: every declared local costs a store per call until V8 optimizes the TB,
    // and most TBs touch a few of the ~70 guest-register globals.
    const used = new Set<Temp>();
    for (const op of this.ops) {
      for (const t of op.i) used.add(t);
      for (const t of op.o) used.add(t);
    }
    const decl: string[] = [];
    for (const t of this.fn.temps) {
      if (t.kind === 'const' || !used.has(t)) continue;
      decl.push(`v${t.id} = 0`);
      if (t.type === 'i64') decl.push(`w${t.id} = 0`);
    }
    const pre: string[] = ['"use strict";'];
    const kitNames = ['mulhu32', 'popcnt32', 'ctz32', 'bswap32', 'mul128', 'div64', 'rotl64', 'toBig'];
    pre.push(`const {${kitNames.join(', ')}} = K;`);
    if (this.helpers.length > 0) pre.push(`const ${this.helpers.map((_, k) => `h${k} = K.h[${k}]`).join(', ')};`);
    if (this.usesScratch) pre.push('const S = new Int32Array(4);');
    pre.push('const NOFM = K.noFastMem;');
    pre.push('return function tb(rt) {');
    pre.push('const E = rt.envI32;');
    if (this.usesEnvView) pre.push('const V = rt.envView;');
    if (this.usesCall) pre.push('const cpu = rt.cpu;');
    if (this.usesMem && this.inlineTlb) {
      pre.push('const FM = rt.fastMem || NOFM, T = FM.tlbEntries, TB = FM.tlbBits, TM = (1 << TB) - 1, B = FM.ramBytes;');
    }
    if (decl.length > 0) pre.push(`let ${decl.join(', ')};`);
    return { src: `${pre.join('\n')}\n${this.out.join('\n')}\n};`, helpers: this.helpers };
  }

  private emit(s: string): void {
    this.out.push(s);
  }

  // ---- operands --------------------------------------------------------------------------------

  /** Emits the load of global `g` into its local(s). */
  private load(g: Temp): void {
    const w = g.offset >> 2;
    this.emit(g.type === 'i64' ? `v${g.id} = E[${w}]; w${g.id} = E[${w + 1}];` : `v${g.id} = E[${w}];`);
    this.valid.add(g);
  }

  private storeCode(g: Temp): string {
    const w = g.offset >> 2;
    return g.type === 'i64' ? `E[${w}] = v${g.id}; E[${w + 1}] = w${g.id};` : `E[${w}] = v${g.id};`;
  }

  /** Source of the low word (or the i32 value) of an input. */
  private lo(t: Temp): string {
    if (t.kind === 'const') return lit(constLo(t));
    if (t.kind === 'global' && !this.valid.has(t)) {
      if (!this.lazy) throw new TcgIrError(`JS backend: global ${t.name} read at op ${this.pos} but not cached`);
      this.load(t);
    }
    return `v${t.id}`;
  }

  /** Source of the high word of an i64 input (0 for i32 inputs). */
  private hi(t: Temp): string {
    if (t.type === 'i32') return '0';
    if (t.kind === 'const') return lit(constHi(t));
    this.lo(t);
    return `w${t.id}`;
  }

  /** Marks output `t` written (after the op's code). */
  private wrote(t: Temp): void {
    if (t.kind !== 'global') return;
    if (this.writeThrough.has(t)) {
      this.emit(this.storeCode(t));
      return;
    }
    this.valid.add(t);
    this.dirty.add(t);
  }

  /** Assigns an i32 output. */
  private set32(d: Temp, expr: string): void {
    this.emit(`v${d.id} = ${expr};`);
    this.wrote(d);
  }

  /** Assigns an i64 output from two expressions evaluated before either word is written. */
  private set64(d: Temp, lo: string, hi: string, pre = ''): void {
    this.emit(`{ ${pre}const l_ = ${lo}, h_ = ${hi}; v${d.id} = l_; w${d.id} = h_; }`);
    this.wrote(d);
  }

  // ---- global state at syncs, clobbers and control flow -------------------------------------------

  /** Source writing back every dirty global (state unchanged: for exits and slow paths). */
  private syncCode(): string {
    let s = '';
    for (const g of this.dirty) s += this.storeCode(g);
    return s;
  }

  /** Writes back every dirty global on all paths from here. */
  private syncAll(): void {
    const s = this.syncCode();
    if (s) this.emit(s);
    this.dirty.clear();
  }

  private overlaps(g: Temp, off: number, size: number): boolean {
    const gs = g.type === 'i64' ? 8 : 4;
    return g.offset < off + size && off < g.offset + gs;
  }

  /** After env bytes [off, off+size) changed under the cached globals (dirty ones were synced). */
  private clobberRange(off: number, size: number): void {
    for (const g of [...this.valid]) {
      if (this.overlaps(g, off, size)) { this.valid.delete(g); this.dirty.delete(g); }
    }
    if (!this.lazy) for (const g of this.eager) if (this.overlaps(g, off, size)) this.load(g);
  }

  /** After a helper that may write any global (dirty ones were synced). */
  private clobberAll(): void {
    this.valid.clear();
    this.dirty.clear();
    if (!this.lazy) for (const g of this.eager) this.load(g);
  }

  /** Leaves straight-line mode before the first branch or branch target (see the file comment). */
  private endPrefix(): void {
    if (!this.lazy) return;
    this.lazy = false;
    for (const g of this.written) {
      if ((this.lastRead.get(g) ?? -1) < this.pos) {
        if (this.dirty.has(g) && this.reachable) this.emit(this.storeCode(g));
        this.dirty.delete(g);
        this.valid.delete(g);
        this.writeThrough.add(g);
      }
    }
    const keep = new Set<Temp>();
    for (const [g, last] of this.lastRead) {
      if (last < this.pos) continue;
      keep.add(g);
      if (!this.valid.has(g)) {
        if (this.reachable) this.load(g); else this.valid.add(g);
      }
    }
    // Clean globals not read any more need not be kept current.
    for (const g of [...this.valid]) if (!keep.has(g)) this.valid.delete(g);
    this.eager = [...keep];
    if (this.switchMode) {
      this.markLoopDirty();
      this.emit('for (;;) switch (L) { case 0:');
    }
  }

  /** Switch mode: any path may reach a label, so every cached global written anywhere may be dirty. */
  private markLoopDirty(): void {
    for (const g of this.written) if (!this.writeThrough.has(g)) this.dirty.add(g);
  }

  private exit(value: number): void {
    this.emit(`${this.syncCode()} return ${value};`);
    this.reachable = false;
  }

  private branch(labelId: number, cond: string | null): void {
    if (this.switchMode) {
      const go = `L = ${labelId + 1}; continue;`;
      this.emit(cond === null ? go : `if (${cond}) { ${go} }`);
    } else {
      const p = this.pendingDirty.get(labelId) ?? new Set<Temp>();
      for (const g of this.dirty) p.add(g);
      this.pendingDirty.set(labelId, p);
      this.emit(cond === null ? `break L${labelId};` : `if (${cond}) break L${labelId};`);
    }
    if (cond === null) this.reachable = false;
  }

  private setLabel(labelId: number): void {
    if (!this.targeted.has(labelId)) return;
    if (this.switchMode) {
      this.emit(`case ${labelId + 1}:`);
      this.markLoopDirty();
      this.reachable = true;
      return;
    }
    this.emit(`} // L${labelId}`);
    const p = this.pendingDirty.get(labelId);
    if (p !== undefined) {
      if (!this.reachable) this.dirty.clear();
      for (const g of p) this.dirty.add(g);
      this.reachable = true;
    }
  }

  private setInsn(): string {
    return this.insn >= 0 ? `rt.curInsn = ${this.insn}; ` : '';
  }

  // ---- conditions ------------------------------------------------------------------------------

  /** Boolean source of `a cond b`. */
  private cond(cond: Cond, a: Temp, b: Temp): string {
    const al = this.lo(a), bl = this.lo(b);
    if (a.type === 'i32') {
      switch (cond) {
        case Cond.NEVER: return 'false';
        case Cond.ALWAYS: return 'true';
        case Cond.EQ: return `${al} === ${bl}`;
        case Cond.NE: return `${al} !== ${bl}`;
        case Cond.LT: return `${al} < ${bl}`;
        case Cond.GE: return `${al} >= ${bl}`;
        case Cond.LE: return `${al} <= ${bl}`;
        case Cond.GT: return `${al} > ${bl}`;
        case Cond.LTU: return `(${al} >>> 0) < (${bl} >>> 0)`;
        case Cond.GEU: return `(${al} >>> 0) >= (${bl} >>> 0)`;
        case Cond.LEU: return `(${al} >>> 0) <= (${bl} >>> 0)`;
        case Cond.GTU: return `(${al} >>> 0) > (${bl} >>> 0)`;
        default: throw new TcgIrError(`bad TCG condition ${cond as number}`);
      }
    }
    const ah = this.hi(a), bh = this.hi(b);
    const lt = (x: string, y: string, xl: string, yl: string, eq: boolean, unsigned: boolean): string => {
      const [hx, hy] = unsigned ? [`(${x} >>> 0)`, `(${y} >>> 0)`] : [x, y];
      return `(${hx} < ${hy} || (${x} === ${y} && (${xl} >>> 0) ${eq ? '<=' : '<'} (${yl} >>> 0)))`;
    };
    switch (cond) {
      case Cond.NEVER: return 'false';
      case Cond.ALWAYS: return 'true';
      case Cond.EQ: return `(${al} === ${bl} && ${ah} === ${bh})`;
      case Cond.NE: return `(${al} !== ${bl} || ${ah} !== ${bh})`;
      case Cond.LT: return lt(ah, bh, al, bl, false, false);
      case Cond.LE: return lt(ah, bh, al, bl, true, false);
      case Cond.GT: return lt(bh, ah, bl, al, false, false);
      case Cond.GE: return lt(bh, ah, bl, al, true, false);
      case Cond.LTU: return lt(ah, bh, al, bl, false, true);
      case Cond.LEU: return lt(ah, bh, al, bl, true, true);
      case Cond.GTU: return lt(bh, ah, bl, al, false, true);
      case Cond.GEU: return lt(bh, ah, bl, al, true, true);
      default: throw new TcgIrError(`bad TCG condition ${cond as number}`);
    }
  }

  // ---- ops -------------------------------------------------------------------------------------

  private op(op: Op): void {
    switch (op.opc) {
      case 'insn_start': this.insn++; return;
      case 'nop': case 'mb': case 'discard': case 'goto_tb': return;
      case 'set_label':
        if (this.targeted.has(op.label!.id)) this.endPrefix();
        this.setLabel(op.label!.id);
        return;
      default: break;
    }
    if (CONTROL.has(op.opc)) this.endPrefix();
    if (!this.reachable) return;
    const c0 = op.c[0] ?? 0, c1 = op.c[1] ?? 0;
    const [o0, o1] = op.o;
    const [i0, i1] = op.i;
    switch (op.opc) {
      // ---- control flow and exits ---------------------------------------------------------------
      case 'br': this.branch(op.label!.id, null); return;
      case 'brcond_i32': case 'brcond_i64': {
        if (c0 === Cond.NEVER) return;
        if (c0 === Cond.ALWAYS) { this.branch(op.label!.id, null); return; }
        this.branch(op.label!.id, this.cond(c0 as Cond, i0!, i1!));
        return;
      }
      case 'exit_tb': this.exit(c0); return;
      case 'lookup_and_goto_ptr': this.exit(EXIT_LOOKUP); return;

      // ---- moves and conversions ----------------------------------------------------------------
      case 'mov_i32': case 'extrl_i64_i32': this.set32(o0!, this.lo(i0!)); return;
      case 'extrh_i64_i32': this.set32(o0!, this.hi(i0!)); return;
      case 'mov_i64': this.set64(o0!, this.lo(i0!), this.hi(i0!)); return;
      case 'ext_i32_i64': case 'ext32s_i64': this.set64(o0!, this.lo(i0!), 'l_ >> 31'); return;
      case 'extu_i32_i64': case 'ext32u_i64': this.set64(o0!, this.lo(i0!), '0'); return;

      // ---- i32 arithmetic and logic -------------------------------------------------------------
      case 'add_i32': this.set32(o0!, `(${this.lo(i0!)} + ${this.lo(i1!)}) | 0`); return;
      case 'sub_i32': this.set32(o0!, `(${this.lo(i0!)} - ${this.lo(i1!)}) | 0`); return;
      case 'neg_i32': this.set32(o0!, `(0 - ${this.lo(i0!)}) | 0`); return;
      case 'mul_i32': this.set32(o0!, `Math.imul(${this.lo(i0!)}, ${this.lo(i1!)})`); return;
      case 'and_i32': this.set32(o0!, `${this.lo(i0!)} & ${this.lo(i1!)}`); return;
      case 'or_i32': this.set32(o0!, `${this.lo(i0!)} | ${this.lo(i1!)}`); return;
      case 'xor_i32': this.set32(o0!, `${this.lo(i0!)} ^ ${this.lo(i1!)}`); return;
      case 'not_i32': this.set32(o0!, `~${this.lo(i0!)}`); return;
      case 'andc_i32': this.set32(o0!, `${this.lo(i0!)} & ~${this.lo(i1!)}`); return;
      case 'orc_i32': this.set32(o0!, `${this.lo(i0!)} | ~${this.lo(i1!)}`); return;
      case 'eqv_i32': this.set32(o0!, `~(${this.lo(i0!)} ^ ${this.lo(i1!)})`); return;
      // JS shifts take the count modulo 32, as the interpreter defines.
      case 'shl_i32': this.set32(o0!, `${this.lo(i0!)} << ${this.lo(i1!)}`); return;
      case 'shr_i32': this.set32(o0!, `(${this.lo(i0!)} >>> ${this.lo(i1!)}) | 0`); return;
      case 'sar_i32': this.set32(o0!, `${this.lo(i0!)} >> ${this.lo(i1!)}`); return;
      case 'rotl_i32': case 'rotr_i32': {
        const a = this.lo(i0!);
        const [l, r] = op.opc === 'rotl_i32' ? ['<<', '>>>'] : ['>>>', '<<'];
        if (i1!.kind === 'const') {
          const n = constLo(i1!) & 31;
          this.set32(o0!, n === 0 ? a : `(${a} ${l} ${n}) | (${a} ${r} ${32 - n})`);
        } else {
          const b = this.lo(i1!);
          this.set32(o0!, `(${a} ${l} (${b} & 31)) | (${a} ${r} ((32 - (${b} & 31)) & 31))`);
        }
        return;
      }
      case 'ext8s_i32': this.set32(o0!, `(${this.lo(i0!)} << 24) >> 24`); return;
      case 'ext8u_i32': this.set32(o0!, `${this.lo(i0!)} & 255`); return;
      case 'ext16s_i32': this.set32(o0!, `(${this.lo(i0!)} << 16) >> 16`); return;
      case 'ext16u_i32': this.set32(o0!, `${this.lo(i0!)} & 65535`); return;
      case 'extract_i32': {
        const a = this.lo(i0!);
        if (c1 === 32) { this.set32(o0!, a); return; }
        this.set32(o0!, `(${a} >>> ${c0}) & ${(2 ** c1 - 1) | 0}`);
        return;
      }
      case 'sextract_i32': this.set32(o0!, `(${this.lo(i0!)} << ${32 - c0 - c1}) >> ${32 - c1}`); return;
      case 'deposit_i32': {
        const fm = ((c1 === 32 ? -1 : (1 << c1) - 1) << c0) | 0;
        this.set32(o0!, `(${this.lo(i0!)} & ${lit(~fm)}) | ((${this.lo(i1!)} << ${c0}) & ${lit(fm)})`);
        return;
      }
      case 'bswap16_i32': case 'bswap16_i64': {
        const a = this.lo(i0!);
        const r = `(((${a} & 255) << 8) | ((${a} >>> 8) & 255))`;
        const v = (c0 & 4) !== 0 ? `(${r} << 16) >> 16` : r;
        if (op.opc === 'bswap16_i32') this.set32(o0!, v); else this.set64(o0!, v, (c0 & 4) !== 0 ? 'l_ >> 31' : '0');
        return;
      }
      case 'bswap32_i32': this.set32(o0!, `bswap32(${this.lo(i0!)})`); return;
      case 'bswap32_i64': this.set64(o0!, `bswap32(${this.lo(i0!)})`, (c0 & 4) !== 0 ? 'l_ >> 31' : '0'); return;
      case 'bswap64_i64': this.set64(o0!, `bswap32(${this.hi(i0!)})`, `bswap32(${this.lo(i0!)})`); return;
      case 'clz_i32': {
        const a = this.lo(i0!), z = this.lo(i1!);
        this.set32(o0!, `${a} === 0 ? ${z} : Math.clz32(${a})`);
        return;
      }
      case 'ctz_i32': {
        const a = this.lo(i0!), z = this.lo(i1!);
        this.set32(o0!, `${a} === 0 ? ${z} : ctz32(${a})`);
        return;
      }
      case 'ctpop_i32': this.set32(o0!, `popcnt32(${this.lo(i0!)})`); return;
      case 'setcond_i32': this.set32(o0!, `(${this.cond(c0 as Cond, i0!, i1!)}) ? 1 : 0`); return;
      case 'setcond_i64': this.set64(o0!, `(${this.cond(c0 as Cond, i0!, i1!)}) ? 1 : 0`, '0'); return;
      case 'movcond_i32': case 'movcond_i64': {
        const t = this.cond(c0 as Cond, i0!, i1!);
        const v1 = op.i[2]!, v2 = op.i[3]!;
        if (op.opc === 'movcond_i32') this.set32(o0!, `(${t}) ? ${this.lo(v1)} : ${this.lo(v2)}`);
        else {
          const x1 = this.lo(v1), y1 = this.hi(v1), x2 = this.lo(v2), y2 = this.hi(v2);
          this.set64(o0!, `c_ ? ${x1} : ${x2}`, `c_ ? ${y1} : ${y2}`, `const c_ = ${t}; `);
        }
        return;
      }
      case 'mulu2_i32': case 'muls2_i32': {
        const a = this.lo(i0!), b = this.lo(i1!);
        const hi = op.opc === 'mulu2_i32'
          ? `mulhu32(${a}, ${b})`
          : `(mulhu32(${a}, ${b}) - (${a} < 0 ? ${b} : 0) - (${b} < 0 ? ${a} : 0)) | 0`;
        this.emit(`{ const l_ = Math.imul(${a}, ${b}), h_ = ${hi}; v${o0!.id} = l_; v${o1!.id} = h_; }`);
        this.wrote(o0!); this.wrote(o1!);
        return;
      }
      case 'div_i32': {
        const a = this.lo(i0!), b = this.lo(i1!);
        this.set32(o0!, `${b} === 0 ? -1 : ${b} === -1 ? (0 - ${a}) | 0 : (${a} / ${b}) | 0`);
        return;
      }
      case 'divu_i32': {
        const a = this.lo(i0!), b = this.lo(i1!);
        this.set32(o0!, `${b} === 0 ? -1 : ((${a} >>> 0) / (${b} >>> 0)) | 0`);
        return;
      }
      case 'rem_i32': {
        const a = this.lo(i0!), b = this.lo(i1!);
        this.set32(o0!, `${b} === 0 ? ${a} : ${b} === -1 ? 0 : (${a} % ${b}) | 0`);
        return;
      }
      case 'remu_i32': {
        const a = this.lo(i0!), b = this.lo(i1!);
        this.set32(o0!, `${b} === 0 ? ${a} : ((${a} >>> 0) % (${b} >>> 0)) | 0`);
        return;
      }

      // ---- i64 arithmetic and logic -------------------------------------------------------------
      case 'add_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!), bl = this.lo(i1!), bh = this.hi(i1!);
        this.set64(o0!, `(${al} + ${bl}) | 0`, `(${ah} + ${bh} + ((l_ >>> 0) < (${al} >>> 0) ? 1 : 0)) | 0`);
        return;
      }
      case 'sub_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!), bl = this.lo(i1!), bh = this.hi(i1!);
        this.set64(o0!, `(${al} - ${bl}) | 0`, `(${ah} - ${bh} - ((${al} >>> 0) < (${bl} >>> 0) ? 1 : 0)) | 0`);
        return;
      }
      case 'neg_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!);
        this.set64(o0!, `(0 - ${al}) | 0`, `(~${ah} + (${al} === 0 ? 1 : 0)) | 0`);
        return;
      }
      case 'mul_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!), bl = this.lo(i1!), bh = this.hi(i1!);
        this.set64(o0!, `Math.imul(${al}, ${bl})`,
          `(Math.imul(${al}, ${bh}) + Math.imul(${ah}, ${bl}) + mulhu32(${al}, ${bl})) | 0`);
        return;
      }
      case 'and_i64': case 'or_i64': case 'xor_i64': case 'andc_i64': case 'orc_i64': case 'eqv_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!), bl = this.lo(i1!), bh = this.hi(i1!);
        const f = (x: string, y: string): string => {
          switch (op.opc) {
            case 'and_i64': return `${x} & ${y}`;
            case 'or_i64': return `${x} | ${y}`;
            case 'xor_i64': return `${x} ^ ${y}`;
            case 'andc_i64': return `${x} & ~${y}`;
            case 'orc_i64': return `${x} | ~${y}`;
            default: return `~(${x} ^ ${y})`;
          }
        };
        this.set64(o0!, f(al, bl), f(ah, bh));
        return;
      }
      case 'not_i64': this.set64(o0!, `~${this.lo(i0!)}`, `~${this.hi(i0!)}`); return;
      case 'shl_i64': case 'shr_i64': case 'sar_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!);
        if (i1!.kind === 'const') {
          const [l, h] = shift64(op.opc, constLo(i1!) & 63, al, ah);
          this.set64(o0!, l, h);
          return;
        }
        const n = this.lo(i1!);
        const [l1, h1] = shift64(op.opc, 1, 'x_', 'y_', 'n_');
        const [l2, h2] = shift64(op.opc, 32, 'x_', 'y_', 'n_');
        this.emit(`{ const n_ = ${n} & 63, x_ = ${al}, y_ = ${ah}; let l_ = x_, h_ = y_;`
          + ` if (n_ >= 32) { l_ = ${l2}; h_ = ${h2}; } else if (n_ !== 0) { l_ = ${l1}; h_ = ${h1}; }`
          + ` v${o0!.id} = l_; w${o0!.id} = h_; }`);
        this.wrote(o0!);
        return;
      }
      case 'rotl_i64': case 'rotr_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!);
        const left = op.opc === 'rotl_i64';
        if (i1!.kind === 'const') {
          const n = left ? constLo(i1!) & 63 : (64 - (constLo(i1!) & 63)) & 63;
          const [x, y, m] = n >= 32 ? [ah, al, n - 32] : [al, ah, n];
          if (m === 0) this.set64(o0!, x, y);
          else this.set64(o0!, `(${x} << ${m}) | (${y} >>> ${32 - m})`, `(${y} << ${m}) | (${x} >>> ${32 - m})`);
          return;
        }
        this.usesScratch = true;
        const n = this.lo(i1!);
        this.emit(`rotl64(S, ${al}, ${ah}, ${left ? n : `64 - (${n} & 63)`});`);
        this.set64(o0!, 'S[0]', 'S[1]');
        return;
      }
      case 'ext8s_i64': this.set64(o0!, `(${this.lo(i0!)} << 24) >> 24`, 'l_ >> 31'); return;
      case 'ext8u_i64': this.set64(o0!, `${this.lo(i0!)} & 255`, '0'); return;
      case 'ext16s_i64': this.set64(o0!, `(${this.lo(i0!)} << 16) >> 16`, 'l_ >> 31'); return;
      case 'ext16u_i64': this.set64(o0!, `${this.lo(i0!)} & 65535`, '0'); return;
      case 'extract_i64': case 'sextract_i64': {
        const signed = op.opc === 'sextract_i64';
        const [x, y] = shift64('shr_i64', c0, this.lo(i0!), this.hi(i0!));
        const len = c1;
        if (len < 32) {
          const l = signed ? `(x_ << ${32 - len}) >> ${32 - len}` : `x_ & ${(2 ** len - 1) | 0}`;
          this.set64(o0!, l, signed ? 'l_ >> 31' : '0', `const x_ = ${x}; `);
        } else if (len === 32) {
          this.set64(o0!, x, signed ? 'l_ >> 31' : '0');
        } else if (len < 64) {
          const hl = len - 32;
          const h = signed ? `(y_ << ${32 - hl}) >> ${32 - hl}` : `y_ & ${(2 ** hl - 1) | 0}`;
          this.set64(o0!, x, h, `const y_ = ${y}; `);
        } else {
          this.set64(o0!, x, y);
        }
        return;
      }
      case 'deposit_i64': {
        const fm = (((1n << BigInt(c1)) - 1n) << BigInt(c0)) & 0xffffffffffffffffn;
        const ml = Number(fm & 0xffffffffn) | 0, mh = Number(fm >> 32n) | 0;
        const al = this.lo(i0!), ah = this.hi(i0!);
        const [sl, sh] = shift64('shl_i64', c0, this.lo(i1!), this.hi(i1!));
        this.set64(o0!, `(${al} & ${lit(~ml)}) | ((${sl}) & ${lit(ml)})`, `(${ah} & ${lit(~mh)}) | ((${sh}) & ${lit(mh)})`);
        return;
      }
      case 'clz_i64': case 'ctz_i64': {
        const al = this.lo(i0!), ah = this.hi(i0!), zl = this.lo(i1!), zh = this.hi(i1!);
        const d = o0!.id;
        if (op.opc === 'clz_i64') {
          this.emit(`if (${ah} !== 0) { v${d} = Math.clz32(${ah}); w${d} = 0; } else if (${al} !== 0) { v${d} = 32 + Math.clz32(${al}); w${d} = 0; }`
            + ` else { const l_ = ${zl}, h_ = ${zh}; v${d} = l_; w${d} = h_; }`);
        } else {
          this.emit(`if (${al} !== 0) { v${d} = ctz32(${al}); w${d} = 0; } else if (${ah} !== 0) { v${d} = 32 + ctz32(${ah}); w${d} = 0; }`
            + ` else { const l_ = ${zl}, h_ = ${zh}; v${d} = l_; w${d} = h_; }`);
        }
        this.wrote(o0!);
        return;
      }
      case 'ctpop_i64': this.set64(o0!, `popcnt32(${this.lo(i0!)}) + popcnt32(${this.hi(i0!)})`, '0'); return;
      case 'mulu2_i64': case 'muls2_i64': case 'mulsu2_i64': {
        this.usesScratch = true;
        const kind = op.opc === 'mulu2_i64' ? 0 : op.opc === 'muls2_i64' ? 1 : 2;
        this.emit(`mul128(S, ${this.lo(i0!)}, ${this.hi(i0!)}, ${this.lo(i1!)}, ${this.hi(i1!)}, ${kind});`);
        this.set64(o0!, 'S[0]', 'S[1]');
        this.set64(o1!, 'S[2]', 'S[3]');
        return;
      }
      case 'div_i64': case 'divu_i64': case 'rem_i64': case 'remu_i64': {
        this.usesScratch = true;
        const k = ['div_i64', 'divu_i64', 'rem_i64', 'remu_i64'].indexOf(op.opc);
        this.emit(`div64(S, ${k}, ${this.lo(i0!)}, ${this.hi(i0!)}, ${this.lo(i1!)}, ${this.hi(i1!)});`);
        this.set64(o0!, 'S[0]', 'S[1]');
        return;
      }

      // ---- env access ---------------------------------------------------------------------------
      case 'ld_i32': case 'ld_i64': this.envLoad(op); return;
      case 'st_i32': case 'st_i64': this.envStore(op); return;

      // ---- guest memory -------------------------------------------------------------------------
      case 'qemu_ld_i32': case 'qemu_ld_i64': this.guestLoad(op); return;
      case 'qemu_st_i32': case 'qemu_st_i64': this.guestStore(op); return;

      case 'call': this.call(op); return;
      default:
        throw new TcgIrError(`JS backend: unsupported op ${op.opc}`);
    }
  }

  private envLoad(op: Op): void {
    const d = op.o[0]!, off = op.c[0]!, memop = op.c[1]!, size = memop & MO_SIZE, sign = (memop & MO_SIGN) !== 0;
    const bytes = 1 << size;
    // Dirty globals under the loaded bytes must reach env first.
    for (const g of [...this.dirty]) {
      if (this.overlaps(g, off, bytes)) { this.emit(this.storeCode(g)); this.dirty.delete(g); }
    }
    const word = (o: number): string => {
      if ((o & 3) === 0) return `E[${o >> 2}]`;
      this.usesEnvView = true;
      return `V.getInt32(${o}, true)`;
    };
    let lo: string;
    switch (size) {
      case 0: this.usesEnvView = true; lo = sign ? `V.getInt8(${off})` : `V.getUint8(${off})`; break;
      case 1: this.usesEnvView = true; lo = sign ? `V.getInt16(${off}, true)` : `V.getUint16(${off}, true)`; break;
      default: lo = word(off); break;
    }
    if (op.opc === 'ld_i32') { this.set32(d, lo); return; }
    const hi = size === 3 ? word(off + 4) : size === 2 && !sign ? '0' : 'l_ >> 31';
    this.set64(d, lo, hi);
  }

  private envStore(op: Op): void {
    const v = op.i[0]!, off = op.c[0]!, size = op.c[1]! & MO_SIZE;
    const bytes = 1 << size;
    const lo = this.lo(v), hi = op.opc === 'st_i64' ? this.hi(v) : '0';
    for (const g of [...this.dirty]) {
      if (this.overlaps(g, off, bytes)) { this.emit(this.storeCode(g)); this.dirty.delete(g); }
    }
    const word = (o: number, x: string): string => {
      if ((o & 3) === 0) return `E[${o >> 2}] = ${x};`;
      this.usesEnvView = true;
      return `V.setInt32(${o}, ${x}, true);`;
    };
    switch (size) {
      case 0: this.usesEnvView = true; this.emit(`V.setUint8(${off}, ${lo} & 255);`); break;
      case 1: this.usesEnvView = true; this.emit(`V.setUint16(${off}, ${lo} & 65535, true);`); break;
      case 2: this.emit(word(off, lo)); break;
      default: this.emit(`${word(off, lo)} ${word(off + 4, hi)}`); break;
    }
    this.clobberRange(off, bytes);
  }

  /** Address words of a guest memory access. */
  private addr(t: Temp): [string, string] {
    return [this.lo(t), this.wideAddr ? this.hi(t) : '0'];
  }

  private guestLoad(op: Op): void {
    const d = op.o[0]!, memop = op.c[0]!, mmu = op.c[1]!;
    const size = memop & MO_SIZE, sign = (memop & MO_SIGN) !== 0, wide = op.opc === 'qemu_ld_i64';
    const [al, ah] = this.addr(op.i[0]!);
    this.usesMem = true;
    const call = `${this.syncCode()}${this.setInsn()}l_ = rt.load(a_, b_, ${memop}, ${mmu});`;
    const callHi = wide && size === 3 ? ' h_ = rt.loadHi;' : '';
    let s = `{ const a_ = ${al}, b_ = ${ah}; let l_, h_;`;
    if (this.inlineTlb && (memop & MO_BE) === 0) {
      const m = (k: number): string => `m_[o_ + ${k}]`;
      const w32 = (k: number): string => `${m(k)} | (${m(k + 1)} << 8) | (${m(k + 2)} << 16) | (${m(k + 3)} << 24)`;
      let fast: string;
      switch (size) {
        case 0: fast = sign ? `l_ = (${m(0)} << 24) >> 24;` : `l_ = ${m(0)};`; break;
        case 1: fast = sign ? `l_ = ((${m(0)} | (${m(1)} << 8)) << 16) >> 16;` : `l_ = ${m(0)} | (${m(1)} << 8);`; break;
        case 2: fast = `l_ = ${w32(0)};`; break;
        default: fast = `l_ = ${w32(0)};${wide ? ` h_ = ${w32(4)};` : ''}`; break;
      }
      s += ` const e_ = ((${mmu} << TB) + ((a_ >>> ${JS_TLB_PAGE_BITS}) & TM)) << 3;`
        + ` if ((a_ & ${lit(PAGE_MASK | ((1 << size) - 1))}) === T[e_] && b_ === T[e_ + 1]) {`
        + ` const m_ = B[T[e_ + 6]], o_ = (T[e_ + 7] >>> 0) + (a_ & ${PAGE_OFF}); ${fast} }`
        + ` else { ${call}${callHi} }`;
    } else {
      s += ` ${call}${callHi}`;
    }
    if (!wide) s += ` v${d.id} = l_ | 0; }`;
    else if (size === 3) s += ` v${d.id} = l_ | 0; w${d.id} = h_ | 0; }`;
    else s += ` v${d.id} = l_ | 0; w${d.id} = ${sign ? 'v' + d.id + ' >> 31' : '0'}; }`;
    this.emit(s);
    this.wrote(d);
  }

  private guestStore(op: Op): void {
    const v = op.i[0]!, memop = op.c[0]!, mmu = op.c[1]!;
    const size = memop & MO_SIZE;
    const vl = this.lo(v), vh = op.opc === 'qemu_st_i64' ? this.hi(v) : '0';
    const [al, ah] = this.addr(op.i[1]!);
    const call = `${this.syncCode()}${this.setInsn()}rt.store(a_, b_, x_, y_, ${memop}, ${mmu});`;
    let s = `{ const a_ = ${al}, b_ = ${ah}, x_ = ${vl}, y_ = ${vh};`;
    if (this.inlineTlb && (memop & MO_BE) === 0) {
      const st: string[] = [];
      for (let k = 0; k < Math.min(4, 1 << size); k++) st.push(`m_[o_ + ${k}] = ${k === 0 ? 'x_' : `x_ >>> ${8 * k}`};`);
      for (let k = 4; k < (1 << size); k++) st.push(`m_[o_ + ${k}] = ${k === 4 ? 'y_' : `y_ >>> ${8 * (k - 4)}`};`);
      s += ` const e_ = ((${mmu} << TB) + ((a_ >>> ${JS_TLB_PAGE_BITS}) & TM)) << 3;`
        + ` if ((a_ & ${lit(PAGE_MASK | ((1 << size) - 1))}) === T[e_ + 2] && b_ === T[e_ + 3]) {`
        + ` const m_ = B[T[e_ + 6]], o_ = (T[e_ + 7] >>> 0) + (a_ & ${PAGE_OFF}); ${st.join(' ')} }`
        + ` else { ${call} } }`;
    } else {
      s += ` ${call} }`;
    }
    this.emit(s);
  }

  private call(op: Op): void {
    const h = op.helper;
    if (!h) throw new TcgIrError('call op without helper');
    let k = this.helperIdx.get(h);
    if (k === undefined) {
      k = this.helpers.length;
      this.helpers.push(h);
      this.helperIdx.set(h, k);
    }
    const args = op.i.map((t) => (t.type === 'i64' ? `toBig(${this.lo(t)}, ${this.hi(t)})` : this.lo(t)));
    const pure = (h.flags & (CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS | CALL_NO_SIDE_EFFECTS))
      === (CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS | CALL_NO_SIDE_EFFECTS);
    const clobbers = (h.flags & CALL_NO_WRITE_GLOBALS) === 0;
    if (!pure) this.syncAll();
    const callSrc = `h${k}(${['cpu', ...args].join(', ')})`;
    const ret = op.o[0];
    if (pure) {
      if (ret === undefined) this.emit(`${callSrc};`);
      else if (ret.type === 'i32') this.set32(ret, `${callSrc} | 0`);
      else this.set64(ret, 'Number(r_ & 0xffffffffn) | 0', 'Number(r_ >> 32n) | 0', `const r_ = BigInt.asUintN(64, ${callSrc}); `);
      return;
    }
    const insn = this.setInsn();
    const r = `r_${this.pos}`;
    this.emit('{');
    if (ret === undefined) this.emit(`${insn}${callSrc};`);
    else if (ret.type === 'i32') this.emit(`${insn}const ${r} = ${callSrc};`);
    else this.emit(`${insn}const ${r} = BigInt.asUintN(64, ${callSrc});`);
    if ((h.flags & CALL_NO_RETURN) !== 0) {
      // Never returns normally; what follows (until a label) is dead.
      this.emit(`throw new Error('TCG helper declared no-return returned: ${h.name.replace(/[^\w.-]/g, '_')}'); }`);
      this.reachable = false;
      return;
    }
    if (clobbers) this.clobberAll();
    if (ret !== undefined) {
      if (ret.type === 'i32') this.set32(ret, `${r} | 0`);
      else this.set64(ret, `Number(${r} & 0xffffffffn) | 0`, `Number(${r} >> 32n) | 0`);
    }
    this.emit('}');
  }
}

/**
 * Source of a 64-bit shift of (l, h) by `n` (a compile-time count 0..63, or with `nv` the name of a
 * run-time count: then `n` only says which range, 1..31 or 32..63, the code is for).
 */
function shift64(opc: string, n: number, l: string, h: string, nv?: string): [string, string] {
  const N = nv ?? `${n}`;
  const M = nv !== undefined ? `(${nv} - 32)` : `${n - 32}`;
  const R = nv !== undefined ? `(32 - ${nv})` : `${32 - n}`;
  if (nv === undefined && n === 0) return [l, h];
  const big = n >= 32;
  switch (opc) {
    case 'shl_i64':
      return big ? ['0', `${l} << ${M}`] : [`${l} << ${N}`, `(${h} << ${N}) | (${l} >>> ${R})`];
    case 'shr_i64':
      return big ? [`(${h} >>> ${M}) | 0`, '0'] : [`(${l} >>> ${N}) | (${h} << ${R})`, `(${h} >>> ${N}) | 0`];
    default:
      return big ? [`${h} >> ${M}`, `${h} >> 31`] : [`(${l} >>> ${N}) | (${h} << ${R})`, `${h} >> ${N}`];
  }
}
