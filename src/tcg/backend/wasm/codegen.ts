/**
 * IR → WebAssembly code generation for one TB (the wasm counterpart of QEMU tcg/<host>/tcg-target.c.inc).
 *
 * The TB becomes one exported function `tb(rt: externref, env: i32) -> i32` returning the `exit_tb`
 * value; `env` is the byte address of the CPU state in the imported memory. Semantics follow the
 * reference interpreter (src/tcg/interp.ts) bit for bit; see there for the choices QEMU leaves open.
 *
 * - TB temps are wasm locals; constants are immediates.
 * - Globals are cached in locals (loaded at entry), written back ("flushed") before anything that may
 *   look at env (guest memory accesses, helper calls that read globals, env loads/stores that overlap
 *   them, exits) and reloaded after helpers that may write them and env stores that overlap them, as
 *   the comment of src/tcg/ir.ts requires. A TB whose globals overlap in env keeps them in memory.
 * - Control flow: the op list is cut into segments at branch-target labels; segment k's code follows
 *   the `end` of block B_k, so a forward branch is a plain `br`. When some branch goes backwards the
 *   blocks sit in a `loop` whose head dispatches on a state local with `br_table` (a backward branch
 *   sets the state and re-enters the loop).
 * - Guest memory accesses and helper calls go through imported JS trampolines that receive the
 *   runtime (as an externref) and the index of the current guest instruction, so `rt.curInsn` is exact
 *   whenever anything can throw.
 */
import type { IrFunction } from '../../context.js';
import {
  CALL_NO_READ_GLOBALS, CALL_NO_WRITE_GLOBALS, Cond, EXIT_LOOKUP, MO_64, MO_BE, MO_SIGN, MO_SIZE,
  type HelperInfo, type Op, type TcgType, type Temp,
} from '../../ir.js';
import { TcgIrError } from '../../interp.js';
import { Code, ModuleBuilder, Opc, ValType, type FuncBody, type FuncType } from './encoder.js';

/** Name of the import module every TB module imports from. */
export const IMPORT_MODULE = 't';

/** What a generated module imports (names in {@link IMPORT_MODULE}); the backend supplies them. */
export interface TbImports {
  /** Whether the module imports `ld` (guest load, low 32 bits). */
  readonly ld: boolean;
  /** Whether the module imports `ldq` (64-bit guest load; also sets the `hi` global). */
  readonly ldq: boolean;
  /** Whether the module imports `st` (guest store). */
  readonly st: boolean;
  /** Whether the module imports `err` (reports a branch to a label that is never set). */
  readonly err: boolean;
  /** Helpers imported as `h0`, `h1`, …, in this order. */
  readonly helpers: readonly HelperInfo[];
}

/** A generated TB module before compilation. */
export interface GeneratedTb {
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly imports: TbImports;
  /**
   * The env bytes the TB itself may read or write (its globals and env ld/st ranges), as sorted,
   * disjoint int32-word ranges [start0, end0, start1, end1, …]. Helpers and the memory slow path may
   * touch any other env byte; the TB never does.
   */
  readonly footprint: Int32Array;
}

/** The env footprint of a TB (see {@link GeneratedTb.footprint}). */
export function envFootprint(fn: IrFunction): Int32Array {
  const ranges: [number, number][] = [];
  const add = (lo: number, hi: number): void => { ranges.push([lo >> 2, (hi + 3) >> 2]); };
  for (const op of fn.ops) {
    for (const t of op.i) if (t.kind === 'global') add(t.offset, t.offset + envSize(t));
    for (const t of op.o) if (t.kind === 'global') add(t.offset, t.offset + envSize(t));
    if (op.opc === 'ld_i32' || op.opc === 'ld_i64' || op.opc === 'st_i32' || op.opc === 'st_i64') {
      const off = op.c[0] ?? 0;
      add(off, off + (1 << ((op.c[1] ?? 0) & MO_SIZE)));
    }
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of ranges) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1]!) out[n - 1] = Math.max(out[n - 1]!, hi);
    else out.push(lo, hi);
  }
  return Int32Array.from(out);
}

const P_RT = 0;
const P_ENV = 1;
/** Tier mode's third parameter: the byte address of the CPU's control block (see {@link TierCodegen}). */
const P_CTL = 2;
/** Tier mode: instructions completed in this wasm run before this TB. */
const P_DONE = 3;
/** Tier mode: chain while DONE ≤ LIMIT (reloaded from the control block after every call out). */
const P_LIMIT = 4;

const T_LD: FuncType = { params: [ValType.EXTERNREF, ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32], results: [ValType.I32] };
const T_ST: FuncType = {
  params: [ValType.EXTERNREF, ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32],
  results: [],
};
const T_ERR: FuncType = { params: [ValType.I32], results: [] };
const T_TB: FuncType = { params: [ValType.EXTERNREF, ValType.I32], results: [ValType.I32] };
/** Tier mode: `tb(rt, env, ctl, done, limit) -> exit`. */
export const T_TIER_TB: FuncType = {
  params: [ValType.EXTERNREF, ValType.I32, ValType.I32, ValType.I32, ValType.I32], results: [ValType.I32],
};

/**
 * The control block of one CPU in tier mode (int32 words at `ctl`), shared by the executor (JS) and
 * the chained TBs (wasm).
 */
export const CTL_CUR = 0;
/**
 * Instructions of the TBs completed since JS entered wasm; like CTL_CUR, stored before every call out
 * of wasm (which may throw or read the clock) and at the return to JS.
 */
export const CTL_DONE = 4;
/** Non-zero: do not chain (the executor's stop flag: interrupts, exit requests, flushes…). */
export const CTL_STOP = 8;
/**
 * Chain only to a TB that fits: DONE + its instructions ≤ LIMIT. The executor stores its remaining
 * budget, or -2^31 when it sets CTL_STOP. TBs read it at entry from JS and again after each call out
 * (only JS can change it).
 */
export const CTL_LIMIT = 12;
/** Byte address of the CPU's soft TLB entries. */
export const CTL_TLB = 16;
/** Byte address of the CPU's wasm jump cache ({@link TIER_JC_ENTRIES} entries of {@link TIER_JC_BYTES}). */
export const CTL_JC = 20;
/** Byte offsets in env of the pc's low word and high word (-1: a 32-bit pc), or -1 for no pc global. */
export const CTL_PC_LO = 24;
export const CTL_PC_HI = 28;
/**
 * Byte address of the TLB's addends: one int32 per entry, the byte address in the memory of the entry's
 * RAM page, or -1 when that RAM is elsewhere (QEMU CPUTLBEntry.addend).
 */
export const CTL_ADDEND = 32;
/** Bytes of a control block. */
export const CTL_SIZE = 64;

/**
 * The wasm jump cache (QEMU's tb_jmp_cache, as helper_lookup_tb_ptr reads it): where a TB that ends in
 * `lookup_and_goto_ptr` finds its successor without returning to JS. Entry = [pc lo, pc hi, TB flags,
 * table index of the TB's entry]; the loop fills it, the tier clears entries of retired TBs.
 */
export const TIER_JC_ENTRIES = 4096;
export const TIER_JC_BYTES = 16;
/** Table entries per tier TB: chain slot 0, chain slot 1, the TB's own entry. */
export const TIER_SLOTS = 3;
/** The jump cache index of a pc's low word (the same hash as the execution loop's jump cache). */
export const tierJcIndex = (lo: number): number => ((lo >>> 1) ^ (lo >>> 13)) & (TIER_JC_ENTRIES - 1);

/** The soft TLB's layout and the guest page size (src/accel/tcg/tlb.ts TIER_TLB_LAYOUT; numbers, so no import). */
export interface TierTlbLayout {
  /** log2 of TLB entries per MMU index. */
  readonly tlbBits: number;
  /** Bytes per TLB entry and the byte offsets of its fields. */
  readonly tlbEntryBytes: number;
  readonly tlbReadTag: number;
  readonly tlbWriteTag: number;
  readonly tlbRamId: number;
  readonly tlbRamOffset: number;
  /** Guest page bits (the TLB's page size). */
  readonly pageBits: number;
}

/**
 * Tier mode (./tier.ts): the TB is a member of a region module (see {@link generateTierModule}) that
 * imports the machine's shared memory (`mem`) and chain table (`tbl`). Guest loads and stores hit the soft
 * TLB inline (layout in src/accel/tcg/tlb.ts, passed here as numbers so this layer does not import it) and
 * read RAM at the entry's addend; `goto_tb n; exit_tb n+1` continues at a region member or tail-calls
 * table entry `3·id + n` (the linked TB, or a stub returning n+1) while the budget and stop flag allow it.
 */
export interface TierCodegen extends TierTlbLayout {
  /** The TB's number in the tier: its chain slots are table entries 3·id and 3·id+1. */
  readonly id: number;
  /** Guest instructions of the TB (added to DONE at every exit). */
  readonly nbInsns: number;
  /** Region member to continue at for chain slot 0 and 1, or -1: through the table. */
  readonly direct?: readonly [number, number];
  /** Instructions of those members (set by {@link generateTierModule}). */
  readonly directNb?: readonly [number, number];
  /** The largest TB (instructions): a TB reached through the table or the jump cache may be that large. */
  readonly maxTbInsns: number;
  /**
   * The TB's flags. With them, `lookup_and_goto_ptr` looks its target up in the wasm jump cache, which
   * assumes the TB leaves the flags as they were: frontends end a TB that changes them with a plain
   * `exit_tb` (as QEMU's do: a CSR write ends the TB), never with a lookup.
   */
  readonly flags?: number;
}

const vt = (t: TcgType): ValType => (t === 'i32' ? ValType.I32 : ValType.I64);

/** Comparison opcodes (i32 forms; the i64 form is 11 higher: spec 5.4.7 orders them alike). */
const CMP32: Readonly<Record<number, Opc>> = {
  [Cond.EQ]: Opc.I32_EQ, [Cond.NE]: Opc.I32_NE,
  [Cond.LT]: Opc.I32_LT_S, [Cond.GE]: Opc.I32_GE_S, [Cond.LE]: Opc.I32_LE_S, [Cond.GT]: Opc.I32_GT_S,
  [Cond.LTU]: Opc.I32_LT_U, [Cond.GEU]: Opc.I32_GE_U, [Cond.LEU]: Opc.I32_LE_U, [Cond.GTU]: Opc.I32_GT_U,
};
const CMP64_DELTA = Opc.I64_EQ - Opc.I32_EQ;

/** Straight binary ops: [i32 opcode, i64 opcode]. */
const BINARY: Readonly<Record<string, readonly [Opc, Opc]>> = {
  add: [Opc.I32_ADD, Opc.I64_ADD], sub: [Opc.I32_SUB, Opc.I64_SUB], mul: [Opc.I32_MUL, Opc.I64_MUL],
  and: [Opc.I32_AND, Opc.I64_AND], or: [Opc.I32_OR, Opc.I64_OR], xor: [Opc.I32_XOR, Opc.I64_XOR],
  shl: [Opc.I32_SHL, Opc.I64_SHL], shr: [Opc.I32_SHR_U, Opc.I64_SHR_U], sar: [Opc.I32_SHR_S, Opc.I64_SHR_S],
  rotl: [Opc.I32_ROTL, Opc.I64_ROTL], rotr: [Opc.I32_ROTR, Opc.I64_ROTR],
};

/** Low `len` bits set, as a BigInt. */
const maskBig = (len: number): bigint => (1n << BigInt(len)) - 1n;

const envSize = (t: Temp): number => (t.type === 'i32' ? 4 : 8);

/** Info about one op, from the pre-pass. */
interface Segmentation {
  /** Segment index each target label resolves to (its last `set_label`), by label id; -1 = never set. */
  readonly labelSeg: Int32Array;
  /** For each op index, the segment it belongs to. */
  readonly opSeg: Int32Array;
  /** Ops that start a new segment (`set_label` of a branch target, the last one set for that label). */
  readonly starts: Set<number>;
  readonly nbSegs: number;
  readonly hasBackward: boolean;
}

function segment(fn: IrFunction): Segmentation {
  const ops = fn.ops;
  const targets = new Set<number>();
  for (const op of ops) if ((op.opc === 'br' || op.opc === 'brcond_i32' || op.opc === 'brcond_i64') && op.label) targets.add(op.label.id);
  // The interpreter jumps to the last set_label of a label: only that one starts a segment.
  const lastSet = new Map<number, number>();
  ops.forEach((op, k) => {
    if (op.opc === 'set_label' && op.label && targets.has(op.label.id)) lastSet.set(op.label.id, k);
  });
  const starts = new Set(lastSet.values());
  const opSeg = new Int32Array(ops.length);
  const labelSeg = new Int32Array(fn.nbLabels).fill(-1);
  let seg = 0;
  ops.forEach((op, k) => {
    if (starts.has(k)) {
      seg++;
      labelSeg[op.label!.id] = seg;
    }
    opSeg[k] = seg;
  });
  let hasBackward = false;
  ops.forEach((op, k) => {
    if ((op.opc === 'br' || op.opc === 'brcond_i32' || op.opc === 'brcond_i64') && op.label) {
      const t = labelSeg[op.label.id]!;
      if (t >= 0 && t <= opSeg[k]!) hasBackward = true;
    }
  });
  return { labelSeg, opSeg, starts, nbSegs: seg + 1, hasBackward };
}

/** One TB of a tier module: its IR and tier options, `direct` naming member positions. */
export interface TierMember {
  readonly fn: IrFunction;
  readonly tier: TierCodegen;
}

/** The region function: the tier signature plus the member to start with. */
const T_REGION: FuncType = {
  params: [ValType.EXTERNREF, ValType.I32, ValType.I32, ValType.I32, ValType.I32, ValType.I32], results: [ValType.I32],
};

/**
 * Generates one module for a *region* of TBs (exports `tb0`, `tb1`, … in member order, each of tier
 * signature). All members live in one function: a loop dispatching with `br_table` on the member to run,
 * guest globals loaded into locals once at entry and kept there while the TBs chain to each other (a
 * chain slot whose `direct` names another member), written back only when the region is left (as v86
 * keeps x86 registers in wasm locals across its basic blocks). A jump between members is a direct
 * branch the table cannot undo, so the tier retires the whole module when any member is invalidated.
 */
export function generateTierModule(members: readonly TierMember[]): { bytes: Uint8Array<ArrayBuffer>; imports: TbImports } {
  const mb = new ModuleBuilder();
  const im = new ImportSet();
  for (const m of members) new TbCodegen(m.fn, m.tier, { mb, im }).scanImports();
  im.declare(mb, true);
  const region = new RegionCtx();
  for (const m of members) TbCodegen.collectGlobals(m.fn, region.usedGlobals, region.writtenGlobals);
  const regionFn = mb.addFunc(T_REGION, null);
  const entries = members.map(() => mb.addFunc(T_TIER_TB, null));
  const n = members.length;
  const anyMem = members.some((m) => m.fn.ops.some((op) => op.opc.startsWith('qemu_')));
  new TbCodegen(members[0]!.fn, members[0]!.tier, { mb, im }, region).regionPrologue(anyMem);
  const c = region.c;
  c.block(Opc.LOOP);
  for (let k = 0; k <= n; k++) c.block(Opc.BLOCK);
  c.localGet(P_NEXT).brTable(Array.from({ length: n }, (_, k) => k), n);
  members.forEach((m, k) => {
    c.end();
    region.depthToDispatch = n - k;
    region.current = k;
    const d = m.tier.direct;
    const nb = (j: number | undefined): number => (j !== undefined && j >= 0 ? members[j]!.tier.nbInsns : m.tier.maxTbInsns);
    const directNb: [number, number] = [nb(d?.[0]), nb(d?.[1])];
    new TbCodegen(m.fn, { ...m.tier, directNb }, { mb, im }, region).emitMember();
  });
  c.end();
  c.op(Opc.UNREACHABLE).end();
  c.op(Opc.UNREACHABLE).end();
  mb.setBody(regionFn, { locals: region.locals, code: c.w });
  entries.forEach((f, k) => {
    const e = new Code().localGet(P_RT).localGet(P_ENV).localGet(P_CTL).localGet(P_DONE).localGet(P_LIMIT).i32Const(k)
      .returnCall(regionFn).end();
    mb.setBody(f, { locals: [], code: e.w });
    mb.exportFunc(`tb${k}`, f);
  });
  return { bytes: mb.encode(), imports: im.imports };
}

/** Generates the wasm module of one TB (the `wasm` backend; the tier's modules: {@link generateTierModule}). */
export function generateTb(fn: IrFunction): GeneratedTb {
  return new TbCodegen(fn).generate();
}

/** The imports of a module: what its TBs need, then their indexes once declared. */
class ImportSet {
  ld = false;
  ldq = false;
  st = false;
  err = false;
  fLd = -1;
  fLdq = -1;
  fSt = -1;
  fErr = -1;
  gHi = -1;
  readonly helpers: HelperInfo[] = [];
  readonly helperIndex = new Map<HelperInfo, number>();
  private declared = false;

  /** Adds what `fn` needs. */
  scan(fn: IrFunction, seg: Segmentation): void {
    if (this.declared) return;
    for (const op of fn.ops) {
      switch (op.opc) {
        case 'qemu_ld_i32': this.ld = true; break;
        case 'qemu_ld_i64': if (((op.c[0] ?? 0) & MO_SIZE) === MO_64) this.ldq = true; else this.ld = true; break;
        case 'qemu_st_i32': case 'qemu_st_i64': this.st = true; break;
        case 'br': case 'brcond_i32': case 'brcond_i64':
          if (op.label && seg.labelSeg[op.label.id]! < 0) this.err = true;
          break;
        case 'call': {
          const h = op.helper;
          if (!h) throw new TcgIrError('call op without helper');
          if (!this.helperIndex.has(h)) this.helperIndex.set(h, -1);
          break;
        }
        default: break;
      }
    }
  }

  /** Declares the imports in `mb` (once). */
  declare(mb: ModuleBuilder, tier: boolean): void {
    if (this.declared) return;
    this.declared = true;
    const { ld, ldq, st, err } = this;
    if (tier) {
      mb.importSharedMemory(IMPORT_MODULE, 'mem', 1, 65536);
      mb.importTable(IMPORT_MODULE, 'tbl', 0);
    } else {
      mb.importMemory(IMPORT_MODULE, 'mem', 0);
    }
    if (ld) this.fLd = mb.importFunc(IMPORT_MODULE, 'ld', T_LD);
    if (ldq) {
      this.fLdq = mb.importFunc(IMPORT_MODULE, 'ldq', T_LD);
      this.gHi = mb.importGlobal(IMPORT_MODULE, 'hi', ValType.I32, true);
    }
    if (st) this.fSt = mb.importFunc(IMPORT_MODULE, 'st', T_ST);
    if (err) this.fErr = mb.importFunc(IMPORT_MODULE, 'err', T_ERR);
    for (const h of this.helperIndex.keys()) {
      const t: FuncType = {
        params: [ValType.EXTERNREF, ValType.I32, ...h.args.map(vt)],
        results: h.ret ? [vt(h.ret)] : [],
      };
      this.helperIndex.set(h, mb.importFunc(IMPORT_MODULE, `h${this.helpers.length}`, t));
      this.helpers.push(h);
    }
  }

  /** What the backend must supply. */
  get imports(): TbImports {
    return { ld: this.fLd >= 0, ldq: this.fLdq >= 0, st: this.fSt >= 0, err: this.fErr >= 0, helpers: this.helpers };
  }
}

/** A module being built for several TBs (tier mode). */
interface SharedModule {
  readonly mb: ModuleBuilder;
  readonly im: ImportSet;
}

/**
 * What the TBs of one region function share (tier mode): the code being emitted, the locals, the cached
 * guest globals (loaded once at the region's entry, kept in locals across its TBs) and the TLB base.
 */
class RegionCtx {
  readonly c = new Code();
  readonly locals: ValType[] = [];
  readonly scratchLocal = new Map<string, number>();
  readonly gLocal = new Map<number, number>();
  readonly usedGlobals: Temp[] = [];
  readonly writtenGlobals: Temp[] = [];
  readonly dirty = new Set<Temp>();
  cacheGlobals = true;
  tlbLocal = -1;
  addendLocal = -1;
  /** Blocks between the current member's top level and the dispatch loop. */
  depthToDispatch = 0;
  /** Index of the member being emitted. */
  current = 0;
}

/** Region function parameter: the member to start with. */
const P_NEXT = 5;

class TbCodegen {
  private readonly c: Code;
  private readonly locals: ValType[];
  private readonly tempLocal = new Map<number, number>();
  private readonly scratchLocal: Map<string, number>;

  // imports (declared before any function; shared by the TBs of a tier module)
  private readonly im: ImportSet;
  private readonly mb: ModuleBuilder;

  // globals cache
  /** Local caching each used global (by temp id), when caching is on. */
  private readonly gLocal: Map<number, number>;
  private readonly usedGlobals: Temp[];
  /** Globals some op writes (flushed at sync points when dirty). */
  private readonly writtenGlobals: Temp[];
  private readonly dirty: Set<Temp>;
  private cacheGlobals = true;

  // control flow
  private seg!: Segmentation;
  private curSeg = 0;
  /** Extra block depth of the code being emitted (an open `if`). */
  private extraDepth = 0;
  private stateLocal = -1;

  private readonly nbParams: number;
  /** Locals holding the TLB base and the addends' base (tier mode, TBs with guest memory accesses). */
  private tlbLocal = -1;
  private addendLocal = -1;

  constructor(private readonly fn: IrFunction, private readonly tier: TierCodegen | null = null, shared: SharedModule | null = null,
    private readonly region: RegionCtx | null = null) {
    this.nbParams = region ? 6 : tier ? 5 : 2;
    this.mb = shared?.mb ?? new ModuleBuilder();
    this.im = shared?.im ?? new ImportSet();
    this.seg = segment(fn);
    const r = region ?? new RegionCtx();
    this.c = r.c;
    this.locals = r.locals;
    this.scratchLocal = r.scratchLocal;
    this.gLocal = r.gLocal;
    this.usedGlobals = r.usedGlobals;
    this.writtenGlobals = r.writtenGlobals;
    this.dirty = r.dirty;
    this.cacheGlobals = r.cacheGlobals;
    this.tlbLocal = r.tlbLocal;
    this.addendLocal = r.addendLocal;
  }

  // ---- locals -------------------------------------------------------------------------------------

  private newLocal(t: ValType): number {
    this.locals.push(t);
    return this.nbParams + this.locals.length - 1;
  }

  private localOf(t: Temp): number {
    let l = this.tempLocal.get(t.id);
    if (l === undefined) {
      l = this.newLocal(vt(t.type));
      this.tempLocal.set(t.id, l);
    }
    return l;
  }

  /** Scratch local `k` of a type (op-local temporaries; `k` ≥ 8 is reserved for {@link set}). */
  private scratch(type: TcgType, k: number): number {
    const key = `${type}${k}`;
    let l = this.scratchLocal.get(key);
    if (l === undefined) {
      l = this.newLocal(vt(type));
      this.scratchLocal.set(key, l);
    }
    return l;
  }

  // ---- values ---------------------------------------------------------------------------------------

  private constant(type: TcgType, v: bigint): void {
    if (type === 'i32') this.c.i32Const(Number(BigInt.asIntN(32, v)));
    else this.c.i64Const(v);
  }

  private k(type: TcgType, v: number | bigint): void {
    this.constant(type, typeof v === 'bigint' ? v : BigInt(v));
  }

  private loadGlobal(t: Temp): void {
    this.c.localGet(P_ENV);
    if (t.type === 'i32') this.c.mem(Opc.I32_LOAD, 2, t.offset);
    else this.c.mem(Opc.I64_LOAD, 3, t.offset);
  }

  /** Pushes the value of `t`. */
  private push(t: Temp): void {
    switch (t.kind) {
      case 'const': this.constant(t.type, t.value); return;
      case 'temp': this.c.localGet(this.localOf(t)); return;
      default: {
        const l = this.gLocal.get(t.id);
        if (l !== undefined) this.c.localGet(l);
        else this.loadGlobal(t);
      }
    }
  }

  /** Pops the value on the stack into `t`. */
  private set(t: Temp): void {
    switch (t.kind) {
      case 'const': throw new TcgIrError(`write to constant temp #${t.id}`);
      case 'temp': this.c.localSet(this.localOf(t)); return;
      default: {
        const l = this.gLocal.get(t.id);
        if (l !== undefined) {
          this.c.localSet(l);
          this.dirty.add(t);
          return;
        }
        const s = this.scratch(t.type, 8);
        this.c.localSet(s).localGet(P_ENV).localGet(s);
        if (t.type === 'i32') this.c.mem(Opc.I32_STORE, 2, t.offset);
        else this.c.mem(Opc.I64_STORE, 3, t.offset);
      }
    }
  }

  private op2(type: TcgType, pair: readonly [Opc, Opc]): void {
    this.c.op(type === 'i32' ? pair[0] : pair[1]);
  }

  // ---- globals cache --------------------------------------------------------------------------------

  private planGlobals(): void {
    TbCodegen.collectGlobals(this.fn, this.usedGlobals, this.writtenGlobals);
    this.decideGlobalCache();
  }

  /** Adds the globals `fn` reads or writes to `used` and those it writes to `written` (no duplicates). */
  static collectGlobals(fn: IrFunction, used: Temp[], written: Temp[]): void {
    const u = new Set(used.map((t) => t.id)), w = new Set(written.map((t) => t.id));
    for (const op of fn.ops) {
      for (const t of op.i) if (t.kind === 'global' && !u.has(t.id)) { u.add(t.id); used.push(t); }
      for (const t of op.o) {
        if (t.kind !== 'global' || op.opc === 'discard') continue;
        if (!u.has(t.id)) { u.add(t.id); used.push(t); }
        if (!w.has(t.id)) { w.add(t.id); written.push(t); }
      }
    }
  }

  /** Caches the used globals in locals unless two overlap in env. */
  private decideGlobalCache(): void {
    const byOffset = [...this.usedGlobals].sort((a, b) => a.offset - b.offset);
    for (let k = 1; k < byOffset.length; k++) {
      const p = byOffset[k - 1]!, q = byOffset[k]!;
      if (p.offset + envSize(p) > q.offset) this.cacheGlobals = false;
    }
    if (!this.cacheGlobals) return;
    for (const g of this.usedGlobals) this.gLocal.set(g.id, this.newLocal(vt(g.type)));
  }

  private storeGlobal(g: Temp): void {
    const l = this.gLocal.get(g.id)!;
    this.c.localGet(P_ENV).localGet(l);
    if (g.type === 'i32') this.c.mem(Opc.I32_STORE, 2, g.offset);
    else this.c.mem(Opc.I64_STORE, 3, g.offset);
  }

  private reloadGlobal(g: Temp): void {
    this.loadGlobal(g);
    this.c.localSet(this.gLocal.get(g.id)!);
  }

  /** Writes back dirty cached globals (all, or those overlapping env bytes [lo, hi)). */
  private flush(lo = 0, hi = Infinity): void {
    for (const g of [...this.dirty]) {
      if (g.offset < hi && g.offset + envSize(g) > lo) {
        this.storeGlobal(g);
        this.dirty.delete(g);
      }
    }
  }

  /** Reloads cached globals (all, or those overlapping env bytes [lo, hi)); call after a flush. */
  private reload(lo = 0, hi = Infinity): void {
    if (!this.cacheGlobals) return;
    for (const g of this.usedGlobals) if (g.offset < hi && g.offset + envSize(g) > lo) this.reloadGlobal(g);
  }

  /** At a merge point any written global may be dirty. */
  private assumeAllDirty(): void {
    if (!this.cacheGlobals) return;
    for (const g of this.writtenGlobals) this.dirty.add(g);
  }

  // ---- imports --------------------------------------------------------------------------------------

  private planImports(): void {
    this.scanImports();
    this.im.declare(this.mb, this.tier !== null);
  }

  /** Adds this TB's imports to the (possibly shared) import set. */
  scanImports(): void {
    this.im.scan(this.fn, this.seg);
  }
  // ---- control flow ---------------------------------------------------------------------------------

  /** Emits a branch to `label` from the current segment (taken unconditionally at this point). */
  private branch(labelId: number): void {
    const target = this.seg.labelSeg[labelId]!;
    if (target < 0) {
      this.c.i32Const(labelId).call(this.im.fErr).op(Opc.UNREACHABLE);
      return;
    }
    const i = this.curSeg;
    if (target > i) {
      this.c.br(target - i - 1 + this.extraDepth);
    } else {
      this.c.i32Const(target).localSet(this.stateLocal);
      this.c.br(this.seg.nbSegs - 1 - i + this.extraDepth);
    }
  }

  /** Pushes the i32 truth value of `a cond b`. */
  private cond(cond: Cond, a: Temp, b: Temp): void {
    if (cond === Cond.NEVER || cond === Cond.ALWAYS) {
      this.c.i32Const(cond === Cond.ALWAYS ? 1 : 0);
      return;
    }
    const o = CMP32[cond];
    if (o === undefined) throw new TcgIrError(`bad TCG condition ${cond as number}`);
    this.push(a);
    this.push(b);
    this.c.op(a.type === 'i32' ? o : ((o + CMP64_DELTA) as Opc));
  }

  // ---- the TB ---------------------------------------------------------------------------------------

  generate(): GeneratedTb {
    this.planImports();
    const body = this.emitBody();
    const f = this.mb.addFunc(T_TB, body);
    this.mb.exportFunc('tb', f);
    return { bytes: this.mb.encode(), imports: this.im.imports, footprint: envFootprint(this.fn) };
  }

  /** The TB's function body (imports already declared). */
  emitBody(): FuncBody {
    const fn = this.fn;
    this.planGlobals();
    const c = this.c;
    const { nbSegs, hasBackward } = this.seg;

    for (const g of this.usedGlobals) if (this.gLocal.has(g.id)) this.reloadGlobal(g);
    this.emitSegments();
    c.end();
    return { locals: this.locals, code: c.w };
  }

  /**
   * The TB's ops as segments (see the file comment), ending in `unreachable`: every path leaves through
   * an exit, so control never falls out of it (into the next member, in a region).
   */
  private emitSegments(): void {
    const c = this.c;
    const { nbSegs, hasBackward } = this.seg;
    if (hasBackward) {
      this.stateLocal = this.newLocal(ValType.I32);
      c.block(Opc.LOOP);
    }
    for (let k = nbSegs - 1; k >= 1; k--) c.block(Opc.BLOCK);
    if (hasBackward) {
      c.block(Opc.BLOCK);
      c.localGet(this.stateLocal).brTable(Array.from({ length: nbSegs }, (_, k) => k), 0);
      c.end();
    }
    let insn = -1;
    let dead = false;
    this.curSeg = 0;
    this.fn.ops.forEach((op, idx) => {
      if (this.seg.starts.has(idx)) {
        // The end of block B_k: segment k starts here, reached by fallthrough or a branch.
        c.end();
        this.curSeg = this.seg.opSeg[idx]!;
        dead = false;
        this.dirty.clear();
        this.assumeAllDirty();
      }
      if (op.opc === 'insn_start') insn++;
      if (dead) return;
      dead = this.emitOp(op, insn);
    });
    if (!dead) this.exit(0);
    if (hasBackward) c.end();
    c.op(Opc.UNREACHABLE);
  }

  /** Emits one op; returns true if the code after it is unreachable. */
  private emitOp(op: Op, insn: number): boolean {
    const c = this.c;
    const opc = op.opc;
    switch (opc) {
      case 'insn_start': case 'nop': case 'mb': case 'discard': case 'goto_tb': case 'set_label':
        return false;
      case 'br':
        // Cached globals stay in their locals across branches: every segment start assumes them all dirty.
        this.branch(op.label!.id);
        return true;
      case 'brcond_i32': case 'brcond_i64': {
        const cond = op.c[0] as Cond;
        if (cond === Cond.NEVER) return false;
        if (cond === Cond.ALWAYS) {
          this.branch(op.label!.id);
          return true;
        }
        this.cond(cond, op.i[0]!, op.i[1]!);
        const target = this.seg.labelSeg[op.label!.id]!;
        if (target > this.curSeg) {
          c.brIf(target - this.curSeg - 1 + this.extraDepth);
        } else {
          c.block(Opc.IF);
          this.extraDepth++;
          this.branch(op.label!.id);
          this.extraDepth--;
          c.end();
        }
        return false;
      }
      case 'exit_tb':
        this.exit(op.c[0] ?? 0);
        return true;
      case 'lookup_and_goto_ptr':
        this.exit(EXIT_LOOKUP);
        return true;
      case 'ld_i32': case 'ld_i64': {
        const [off = 0, memop = 0] = op.c;
        const size = memop & MO_SIZE, sign = (memop & MO_SIGN) !== 0;
        this.flush(off, off + (1 << size));
        c.localGet(P_ENV);
        if (opc === 'ld_i32') {
          const o = size === 0 ? (sign ? Opc.I32_LOAD8_S : Opc.I32_LOAD8_U)
            : size === 1 ? (sign ? Opc.I32_LOAD16_S : Opc.I32_LOAD16_U) : Opc.I32_LOAD;
          c.mem(o, 0, off);
        } else {
          const o = size === 0 ? (sign ? Opc.I64_LOAD8_S : Opc.I64_LOAD8_U)
            : size === 1 ? (sign ? Opc.I64_LOAD16_S : Opc.I64_LOAD16_U)
              : size === 2 ? (sign ? Opc.I64_LOAD32_S : Opc.I64_LOAD32_U) : Opc.I64_LOAD;
          c.mem(o, 0, off);
        }
        this.set(op.o[0]!);
        return false;
      }
      case 'st_i32': case 'st_i64': {
        const [off = 0, memop = 0] = op.c;
        const size = memop & MO_SIZE;
        const v = op.i[0]!;
        this.flush(off, off + (1 << size));
        c.localGet(P_ENV);
        this.push(v);
        if (opc === 'st_i32') {
          if (size === 0) c.mem(Opc.I32_STORE8, 0, off);
          else if (size === 1) c.mem(Opc.I32_STORE16, 0, off);
          else if (size === 2) c.mem(Opc.I32_STORE, 0, off);
          else c.op(Opc.I64_EXTEND_I32_U).mem(Opc.I64_STORE, 0, off);
        } else {
          c.mem(size === 0 ? Opc.I64_STORE8 : size === 1 ? Opc.I64_STORE16 : size === 2 ? Opc.I64_STORE32 : Opc.I64_STORE, 0, off);
        }
        this.reload(off, off + (1 << size));
        return false;
      }
      case 'qemu_ld_i32': case 'qemu_ld_i64': {
        const [memop = 0, mmu = 0] = op.c;
        if (this.tier && (memop & MO_BE) === 0) {
          this.tierLoad(op, insn);
          return false;
        }
        this.flush();
        if (this.tier) this.syncCtl();
        const q = opc === 'qemu_ld_i64' && (memop & MO_SIZE) === MO_64;
        c.localGet(P_RT).i32Const(insn);
        this.pushHalves(op.i[0]!);
        c.i32Const(memop).i32Const(mmu).call(q ? this.im.fLdq : this.im.fLd);
        if (this.tier) this.reloadLimit();
        this.widenLoaded(opc === 'qemu_ld_i64', memop);
        this.set(op.o[0]!);
        return false;
      }
      case 'qemu_st_i32': case 'qemu_st_i64': {
        const [memop = 0, mmu = 0] = op.c;
        const v = op.i[0]!;
        if (this.tier && (memop & MO_BE) === 0) {
          this.tierStore(op, insn);
          return false;
        }
        this.flush();
        if (this.tier) this.syncCtl();
        c.localGet(P_RT).i32Const(insn);
        this.pushHalves(op.i[1]!);
        this.pushHalves(v);
        c.i32Const(memop).i32Const(mmu).call(this.im.fSt);
        if (this.tier) this.reloadLimit();
        return false;
      }
      case 'call': {
        const h = op.helper!;
        const readsOrWrites = (h.flags & (CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS)) !== (CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS);
        if (readsOrWrites) this.flush();
        if (this.tier && readsOrWrites) this.syncCtl();
        c.localGet(P_RT).i32Const(insn);
        for (const a of op.i) this.push(a);
        c.call(this.im.helperIndex.get(h)!);
        if (this.tier && readsOrWrites) this.reloadLimit();
        if ((h.flags & CALL_NO_WRITE_GLOBALS) === 0) this.reload();
        if (op.o[0]) {
          this.set(op.o[0]);
        } else if (h.ret) {
          c.op(Opc.DROP);
        }
        return false;
      }
      default:
        this.emitPure(op);
        return false;
    }
  }

  // ---- tier mode --------------------------------------------------------------------------------------

  /**
   * Leaves the TB with exit value `v`: globals written back, the TB's instructions counted in CTL_DONE,
   * and for a chain exit (1, 2) a tail call to the linked TB while the control block allows it.
   */
  private exit(v: number): void {
    const c = this.c;
    const t = this.tier;
    if (t === null) {
      this.flush();
      c.i32Const(v).op(Opc.RETURN);
      return;
    }
    c.localGet(P_DONE).i32Const(t.nbInsns).op(Opc.I32_ADD).localSet(P_DONE);
    const chain = v === 1 || v === 2;
    const member = chain ? t.direct?.[v - 1] ?? -1 : -1;
    if (member >= 0 && this.region !== null) {
      // A TB of this region: continue at it, guest registers staying in locals. A later member is the
      // end of an enclosing block (a direct branch, predicted per site as QEMU's patched jumps are); an
      // earlier one goes round the dispatch loop.
      // Only if the member's instructions fit in the budget (exactly: its size is known here).
      c.localGet(P_DONE).i32Const(t.directNb?.[v - 1] ?? t.maxTbInsns).op(Opc.I32_ADD).localGet(P_LIMIT).op(Opc.I32_LE_S);
      c.block(Opc.IF);
      const cur = this.region.current;
      const toTop = this.depthToDispatch() - this.region.depthToDispatch;
      if (member > cur) c.br(toTop + member - cur - 1 + 1);
      else c.i32Const(member).localSet(P_NEXT).br(this.depthToDispatch() + 1);
      c.end();
    }
    this.flush();
    if (chain && member < 0) {
      // Elsewhere: through the table (the slot may hold the stub, which returns to JS as this TB: name it);
      // the TB there may be as large as any.
      c.localGet(P_DONE).i32Const(t.maxTbInsns).op(Opc.I32_ADD).localGet(P_LIMIT).op(Opc.I32_LE_S);
      c.block(Opc.IF);
      c.localGet(P_CTL).i32Const(t.id).mem(Opc.I32_STORE, 2, CTL_CUR);
      c.localGet(P_RT).localGet(P_ENV).localGet(P_CTL).localGet(P_DONE).localGet(P_LIMIT)
        .i32Const(TIER_SLOTS * t.id + v - 1).returnCallIndirect(this.mb.type(T_TIER_TB));
      c.end();
    }
    if (v === EXIT_LOOKUP && t.flags !== undefined) this.jumpCacheLookup(t.flags);
    this.syncCtl();
    c.i32Const(v).op(Opc.RETURN);
  }

  /**
   * `lookup_and_goto_ptr` inside wasm (QEMU helper_lookup_tb_ptr): the pc (already in env) in the CPU's
   * wasm jump cache; on a hit with this TB's flags, tail-call the TB found. A miss returns EXIT_LOOKUP.
   */
  private jumpCacheLookup(flags: number): void {
    const c = this.c, t = this.tier!;
    const lo = this.scratch('i32', 3), hi = this.scratch('i32', 4), e = this.scratch('i32', 6);
    c.localGet(P_DONE).i32Const(t.maxTbInsns).op(Opc.I32_ADD).localGet(P_LIMIT).op(Opc.I32_LE_S);
    c.localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_PC_LO).i32Const(0).op(Opc.I32_GE_S).op(Opc.I32_AND);
    c.block(Opc.IF);
    c.localGet(P_ENV).localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_PC_LO).op(Opc.I32_ADD).mem(Opc.I32_LOAD, 2, 0).localSet(lo);
    // hi = pcHiOffset < 0 ? 0 : env[pcHiOffset]
    c.i32Const(0).localSet(hi);
    c.localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_PC_HI).i32Const(0).op(Opc.I32_GE_S);
    c.block(Opc.IF);
    c.localGet(P_ENV).localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_PC_HI).op(Opc.I32_ADD).mem(Opc.I32_LOAD, 2, 0).localSet(hi);
    c.end();
    // e = jc + index(lo) * 16
    c.localGet(lo).i32Const(1).op(Opc.I32_SHR_U).localGet(lo).i32Const(13).op(Opc.I32_SHR_U).op(Opc.I32_XOR)
      .i32Const(TIER_JC_ENTRIES - 1).op(Opc.I32_AND).i32Const(Math.log2(TIER_JC_BYTES)).op(Opc.I32_SHL)
      .localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_JC).op(Opc.I32_ADD).localSet(e);
    c.localGet(e).mem(Opc.I32_LOAD, 2, 0).localGet(lo).op(Opc.I32_EQ);
    c.localGet(e).mem(Opc.I32_LOAD, 2, 4).localGet(hi).op(Opc.I32_EQ).op(Opc.I32_AND);
    c.localGet(e).mem(Opc.I32_LOAD, 2, 8).i32Const(flags).op(Opc.I32_EQ).op(Opc.I32_AND);
    c.block(Opc.IF);
    c.localGet(P_CTL).i32Const(t.id).mem(Opc.I32_STORE, 2, CTL_CUR);
    c.localGet(P_RT).localGet(P_ENV).localGet(P_CTL).localGet(P_DONE).localGet(P_LIMIT)
      .localGet(e).mem(Opc.I32_LOAD, 2, 12).returnCallIndirect(this.mb.type(T_TIER_TB));
    c.end();
    c.end();
  }

  /** Branch depth from the code being emitted to the region's dispatch loop. */
  private depthToDispatch(): number {
    const { nbSegs, hasBackward } = this.seg;
    return this.region!.depthToDispatch + (nbSegs - 1 - this.curSeg) + (hasBackward ? 1 : 0) + this.extraDepth;
  }

  /**
   * Region mode: the region's entry code (before the dispatch loop): caches the globals of every member
   * in locals and loads the TLB base. Call on a codegen of the first member, before the others are made.
   */
  regionPrologue(anyMemoryAccess: boolean): void {
    const r = this.region!;
    this.decideGlobalCache();
    r.cacheGlobals = this.cacheGlobals;
    for (const g of this.usedGlobals) if (this.gLocal.has(g.id)) this.reloadGlobal(g);
    if (anyMemoryAccess) {
      r.tlbLocal = this.newLocal(ValType.I32);
      this.c.localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_TLB).localSet(r.tlbLocal);
      r.addendLocal = this.newLocal(ValType.I32);
      this.c.localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_ADDEND).localSet(r.addendLocal);
    }
  }

  /** Region mode: this member's code, entered from the dispatch loop (any global may be dirty). */
  emitMember(): void {
    this.dirty.clear();
    this.assumeAllDirty();
    this.emitSegments();
  }

  /** Tier mode, before a call out or a return to JS: which TB runs and what completed before it. */
  private syncCtl(): void {
    const c = this.c;
    c.localGet(P_CTL).i32Const(this.tier!.id).mem(Opc.I32_STORE, 2, CTL_CUR);
    c.localGet(P_CTL).localGet(P_DONE).mem(Opc.I32_STORE, 2, CTL_DONE);
  }

  /** Tier mode, after a call out: JS may have asked to stop chaining. */
  private reloadLimit(): void {
    this.c.localGet(P_CTL).mem(Opc.I32_LOAD, 2, CTL_LIMIT).localSet(P_LIMIT);
  }

  /** Writes back dirty globals without forgetting that they are dirty (a path that rejoins). */
  private flushKeep(): void {
    for (const g of this.dirty) this.storeGlobal(g);
  }

  /**
   * The inline soft-TLB check of a guest access (QEMU tcg_out_tlb_load): leaves the host byte address in
   * local `host` and branches to depth `slowDepth` when the access must take the slow path (TLB miss,
   * flagged page, misaligned or page-crossing access, RAM outside the memory). Sets `lo`/`hi` locals.
   */
  private tlbCheck(addr: Temp, size: number, mmu: number, write: boolean, lo: number, hi: number, host: number, slowDepth: number): void {
    const c = this.c, t = this.tier!;
    if (addr.type === 'i64') {
      this.push(addr); c.op(Opc.I32_WRAP_I64).localSet(lo);
      this.push(addr); c.i64Const(32n).op(Opc.I64_SHR_U).op(Opc.I32_WRAP_I64).localSet(hi);
    } else {
      this.push(addr); c.localSet(lo);
      c.i32Const(0).localSet(hi);
    }
    const e = this.scratch('i32', 6), i4 = this.scratch('i32', 2);
    const mmuOff = (mmu << t.tlbBits) * t.tlbEntryBytes;
    const tag = mmuOff + (write ? t.tlbWriteTag : t.tlbReadTag);
    // i4 = ((lo >>> pageBits) & mask) * 4 (the addend's offset); e = tlb + i4 * entryBytes / 4
    c.localGet(lo).i32Const(t.pageBits).op(Opc.I32_SHR_U).i32Const((1 << t.tlbBits) - 1).op(Opc.I32_AND)
      .i32Const(2).op(Opc.I32_SHL).localTee(i4)
      .i32Const(Math.log2(t.tlbEntryBytes) - 2).op(Opc.I32_SHL).localGet(this.tlbLocal).op(Opc.I32_ADD).localSet(e);
    // (lo & (PAGE_MASK | (size - 1))) == tag.lo && hi == tag.hi
    c.localGet(lo).i32Const(~((1 << t.pageBits) - 1) | ((1 << size) - 1)).op(Opc.I32_AND)
      .localGet(e).mem(Opc.I32_LOAD, 2, tag).op(Opc.I32_NE);
    c.localGet(hi).localGet(e).mem(Opc.I32_LOAD, 2, tag + 4).op(Opc.I32_NE).op(Opc.I32_OR).brIf(slowDepth);
    // host = addend + page offset; RAM outside the memory (addend -1) takes the slow path
    c.localGet(i4).localGet(this.addendLocal).op(Opc.I32_ADD).mem(Opc.I32_LOAD, 2, (mmu << t.tlbBits) * 4)
      .localTee(host).i32Const(0).op(Opc.I32_LT_S).brIf(slowDepth);
    c.localGet(host).localGet(lo).i32Const((1 << t.pageBits) - 1).op(Opc.I32_AND).op(Opc.I32_ADD).localSet(host);
  }

  private tierLoad(op: Op, insn: number): void {
    const c = this.c;
    const [memop = 0, mmu = 0] = op.c;
    const size = memop & MO_SIZE, sign = (memop & MO_SIGN) !== 0;
    const is64 = op.opc === 'qemu_ld_i64';
    const lo = this.scratch('i32', 3), hi = this.scratch('i32', 4), host = this.scratch('i32', 5);
    c.block(Opc.BLOCK, is64 ? ValType.I64 : ValType.I32);
    c.block(Opc.BLOCK);
    this.tlbCheck(op.i[0]!, size, mmu, false, lo, hi, host, 0);
    c.localGet(host);
    if (is64) {
      c.mem(size === 0 ? (sign ? Opc.I64_LOAD8_S : Opc.I64_LOAD8_U) : size === 1 ? (sign ? Opc.I64_LOAD16_S : Opc.I64_LOAD16_U)
        : size === 2 ? (sign ? Opc.I64_LOAD32_S : Opc.I64_LOAD32_U) : Opc.I64_LOAD, 0, 0);
    } else {
      c.mem(size === 0 ? (sign ? Opc.I32_LOAD8_S : Opc.I32_LOAD8_U) : size === 1 ? (sign ? Opc.I32_LOAD16_S : Opc.I32_LOAD16_U)
        : Opc.I32_LOAD, 0, 0);
    }
    c.br(1);
    c.end();
    // slow path: exact env and control block for a fault, then the trampoline
    this.flushKeep();
    this.syncCtl();
    const q = is64 && size === 3;
    c.localGet(P_RT).i32Const(insn).localGet(lo).localGet(hi).i32Const(memop).i32Const(mmu).call(q ? this.im.fLdq : this.im.fLd);
    this.reloadLimit();
    this.widenLoaded(is64, memop);
    c.end();
    this.set(op.o[0]!);
  }

  private tierStore(op: Op, insn: number): void {
    const c = this.c;
    const [memop = 0, mmu = 0] = op.c;
    const size = memop & MO_SIZE;
    const v = op.i[0]!;
    const lo = this.scratch('i32', 3), hi = this.scratch('i32', 4), host = this.scratch('i32', 5);
    c.block(Opc.BLOCK);
    c.block(Opc.BLOCK);
    this.tlbCheck(op.i[1]!, size, mmu, true, lo, hi, host, 0);
    c.localGet(host);
    this.push(v);
    if (v.type === 'i64') c.mem(size === 0 ? Opc.I64_STORE8 : size === 1 ? Opc.I64_STORE16 : size === 2 ? Opc.I64_STORE32 : Opc.I64_STORE, 0, 0);
    else if (size === 3) c.op(Opc.I64_EXTEND_I32_U).mem(Opc.I64_STORE, 0, 0);
    else c.mem(size === 0 ? Opc.I32_STORE8 : size === 1 ? Opc.I32_STORE16 : Opc.I32_STORE, 0, 0);
    c.br(1);
    c.end();
    this.flushKeep();
    this.syncCtl();
    c.localGet(P_RT).i32Const(insn).localGet(lo).localGet(hi);
    this.pushHalves(v);
    c.i32Const(memop).i32Const(mmu).call(this.im.fSt);
    this.reloadLimit();
    c.end();
  }

  /**
   * After a call of the `ld`/`ldq` trampoline (an i32 on the stack): the value as the op's type, for an
   * i64 load joined with the `hi` global (64-bit) or extended per the memop.
   */
  private widenLoaded(is64: boolean, memop: number): void {
    if (!is64) return;
    const c = this.c;
    if ((memop & MO_SIZE) === MO_64) {
      c.op(Opc.I64_EXTEND_I32_U).globalGet(this.im.gHi).op(Opc.I64_EXTEND_I32_U).i64Const(32n).op(Opc.I64_SHL).op(Opc.I64_OR);
    } else {
      c.op(memop & MO_SIGN ? Opc.I64_EXTEND_I32_S : Opc.I64_EXTEND_I32_U);
    }
  }

  /** Pushes a guest address or value as (lo, hi) i32 halves (hi 0 for an i32), as the trampolines take them. */
  private pushHalves(a: Temp): void {
    const c = this.c;
    if (a.type === 'i64') {
      this.push(a);
      c.op(Opc.I32_WRAP_I64);
      this.push(a);
      c.i64Const(32n).op(Opc.I64_SHR_U).op(Opc.I32_WRAP_I64);
    } else {
      this.push(a);
      c.i32Const(0);
    }
  }

  // ---- pure ops -------------------------------------------------------------------------------------

  private emitPure(op: Op): void {
    const c = this.c;
    const opc = op.opc;
    const a = op.i[0]!, b = op.i[1]!;
    const d = op.o[0]!;
    switch (opc) {
      case 'ext_i32_i64': this.push(a); c.op(Opc.I64_EXTEND_I32_S); this.set(d); return;
      case 'extu_i32_i64': this.push(a); c.op(Opc.I64_EXTEND_I32_U); this.set(d); return;
      case 'extrl_i64_i32': this.push(a); c.op(Opc.I32_WRAP_I64); this.set(d); return;
      case 'extrh_i64_i32': this.push(a); c.i64Const(32n).op(Opc.I64_SHR_U).op(Opc.I32_WRAP_I64); this.set(d); return;
      default: break;
    }
    const type: TcgType = opc.endsWith('_i32') ? 'i32' : 'i64';
    const w = type === 'i32' ? 32 : 64;
    const is32 = type === 'i32';
    const base = opc.slice(0, opc.lastIndexOf('_'));
    const bin = BINARY[base];
    if (bin) {
      this.push(a);
      this.push(b);
      this.op2(type, bin);
      this.set(d);
      return;
    }
    switch (base) {
      case 'mov': this.push(a); break;
      case 'neg': this.k(type, 0); this.push(a); this.op2(type, [Opc.I32_SUB, Opc.I64_SUB]); break;
      case 'not': this.push(a); this.k(type, -1); this.op2(type, [Opc.I32_XOR, Opc.I64_XOR]); break;
      case 'andc':
        this.push(a); this.push(b); this.k(type, -1);
        this.op2(type, [Opc.I32_XOR, Opc.I64_XOR]); this.op2(type, [Opc.I32_AND, Opc.I64_AND]);
        break;
      case 'orc':
        this.push(a); this.push(b); this.k(type, -1);
        this.op2(type, [Opc.I32_XOR, Opc.I64_XOR]); this.op2(type, [Opc.I32_OR, Opc.I64_OR]);
        break;
      case 'eqv':
        this.push(a); this.push(b); this.op2(type, [Opc.I32_XOR, Opc.I64_XOR]);
        this.k(type, -1); this.op2(type, [Opc.I32_XOR, Opc.I64_XOR]);
        break;
      case 'div': case 'divu': case 'rem': case 'remu':
        this.emitDiv(base, type, a, b);
        break;
      case 'mulu2': case 'muls2': case 'mulsu2':
        this.emitMul2(base, type, op);
        return;
      case 'ext8s': this.push(a); c.op(is32 ? Opc.I32_EXTEND8_S : Opc.I64_EXTEND8_S); break;
      case 'ext16s': this.push(a); c.op(is32 ? Opc.I32_EXTEND16_S : Opc.I64_EXTEND16_S); break;
      case 'ext32s': this.push(a); c.op(Opc.I64_EXTEND32_S); break;
      case 'ext8u': this.push(a); this.k(type, 0xff); this.op2(type, [Opc.I32_AND, Opc.I64_AND]); break;
      case 'ext16u': this.push(a); this.k(type, 0xffff); this.op2(type, [Opc.I32_AND, Opc.I64_AND]); break;
      case 'ext32u': this.push(a); c.i64Const(0xffffffffn).op(Opc.I64_AND); break;
      case 'extract': {
        const [ofs = 0, len = 1] = op.c;
        this.push(a);
        if (ofs > 0) { this.k(type, ofs); this.op2(type, [Opc.I32_SHR_U, Opc.I64_SHR_U]); }
        if (ofs + len < w) { this.k(type, maskBig(len)); this.op2(type, [Opc.I32_AND, Opc.I64_AND]); }
        break;
      }
      case 'sextract': {
        const [ofs = 0, len = 1] = op.c;
        this.push(a);
        const left = w - ofs - len;
        if (left > 0) { this.k(type, left); this.op2(type, [Opc.I32_SHL, Opc.I64_SHL]); }
        if (w - len > 0) { this.k(type, w - len); this.op2(type, [Opc.I32_SHR_S, Opc.I64_SHR_S]); }
        break;
      }
      case 'deposit': {
        const [ofs = 0, len = 1] = op.c;
        const fm = maskBig(len) << BigInt(ofs);
        this.push(a);
        this.k(type, ~fm);
        this.op2(type, [Opc.I32_AND, Opc.I64_AND]);
        this.push(b);
        if (ofs > 0) { this.k(type, ofs); this.op2(type, [Opc.I32_SHL, Opc.I64_SHL]); }
        this.k(type, fm);
        this.op2(type, [Opc.I32_AND, Opc.I64_AND]);
        this.op2(type, [Opc.I32_OR, Opc.I64_OR]);
        break;
      }
      case 'bswap16': {
        // ((a >> 8) & 0xff) | ((a & 0xff) << 8); the input's high bits are ignored (interp.ts).
        this.push(a); this.k(type, 8); this.op2(type, [Opc.I32_SHR_U, Opc.I64_SHR_U]);
        this.k(type, 0xff); this.op2(type, [Opc.I32_AND, Opc.I64_AND]);
        this.push(a); this.k(type, 0xff); this.op2(type, [Opc.I32_AND, Opc.I64_AND]);
        this.k(type, 8); this.op2(type, [Opc.I32_SHL, Opc.I64_SHL]);
        this.op2(type, [Opc.I32_OR, Opc.I64_OR]);
        if ((op.c[0] ?? 0) & 4) c.op(is32 ? Opc.I32_EXTEND16_S : Opc.I64_EXTEND16_S);
        break;
      }
      case 'bswap32': {
        this.push(a);
        if (!is32) c.op(Opc.I32_WRAP_I64);
        this.bswap32Top();
        if (!is32) c.op((op.c[0] ?? 0) & 4 ? Opc.I64_EXTEND_I32_S : Opc.I64_EXTEND_I32_U);
        break;
      }
      case 'bswap64': {
        const x = this.scratch('i64', 0);
        this.push(a);
        c.localSet(x);
        // swap bytes within 16-bit lanes, then 16-bit lanes within 32-bit lanes, then the halves
        for (const [sh, m] of [[8n, 0x00ff00ff00ff00ffn], [16n, 0x0000ffff0000ffffn]] as const) {
          c.localGet(x).i64Const(sh).op(Opc.I64_SHR_U).i64Const(m).op(Opc.I64_AND);
          c.localGet(x).i64Const(m).op(Opc.I64_AND).i64Const(sh).op(Opc.I64_SHL);
          c.op(Opc.I64_OR).localSet(x);
        }
        c.localGet(x).i64Const(32n).op(Opc.I64_ROTL);
        break;
      }
      case 'clz': case 'ctz': {
        // wasm's clz/ctz give the width for 0; the IR gives the second operand.
        this.push(b);
        this.push(a);
        if (base === 'clz') this.op2(type, [Opc.I32_CLZ, Opc.I64_CLZ]);
        else this.op2(type, [Opc.I32_CTZ, Opc.I64_CTZ]);
        this.push(a);
        c.op(is32 ? Opc.I32_EQZ : Opc.I64_EQZ);
        c.op(Opc.SELECT);
        break;
      }
      case 'ctpop': this.push(a); this.op2(type, [Opc.I32_POPCNT, Opc.I64_POPCNT]); break;
      case 'setcond':
        this.cond(op.c[0] as Cond, a, b);
        if (!is32) c.op(Opc.I64_EXTEND_I32_U);
        break;
      case 'movcond':
        this.push(op.i[2]!);
        this.push(op.i[3]!);
        this.cond(op.c[0] as Cond, a, b);
        c.op(Opc.SELECT);
        break;
      default:
        throw new TcgIrError(`wasm backend: unsupported op ${opc}`);
    }
    this.set(d);
  }

  /** bswap32 of the i32 on the stack: ((x rotr 8) & 0xff00ff00) | ((x rotl 8) & 0x00ff00ff). */
  private bswap32Top(): void {
    const x = this.scratch('i32', 0);
    this.c.localTee(x).i32Const(8).op(Opc.I32_ROTR).i32Const(0xff00ff00 | 0).op(Opc.I32_AND)
      .localGet(x).i32Const(8).op(Opc.I32_ROTL).i32Const(0x00ff00ff).op(Opc.I32_AND).op(Opc.I32_OR);
  }

  /**
   * Division and remainder with the interpreter's edge cases (wasm traps on x/0 and MIN/-1):
   * x/0 = all ones, x%0 = x, MIN/-1 = MIN (computed as 0 - a), MIN%-1 = 0 (wasm rem_s gives 0).
   */
  private emitDiv(base: string, type: TcgType, a: Temp, b: Temp): void {
    const c = this.c;
    const is32 = type === 'i32';
    const rt = vt(type);
    this.push(b);
    c.op(is32 ? Opc.I32_EQZ : Opc.I64_EQZ);
    c.block(Opc.IF, rt);
    if (base === 'div' || base === 'divu') this.k(type, -1);
    else this.push(a);
    c.op(Opc.ELSE);
    switch (base) {
      case 'div':
        this.push(b);
        this.k(type, -1);
        c.op(is32 ? Opc.I32_EQ : Opc.I64_EQ);
        c.block(Opc.IF, rt);
        this.k(type, 0); this.push(a); this.op2(type, [Opc.I32_SUB, Opc.I64_SUB]);
        c.op(Opc.ELSE);
        this.push(a); this.push(b); this.op2(type, [Opc.I32_DIV_S, Opc.I64_DIV_S]);
        c.end();
        break;
      case 'divu': this.push(a); this.push(b); this.op2(type, [Opc.I32_DIV_U, Opc.I64_DIV_U]); break;
      case 'rem': this.push(a); this.push(b); this.op2(type, [Opc.I32_REM_S, Opc.I64_REM_S]); break;
      default: this.push(a); this.push(b); this.op2(type, [Opc.I32_REM_U, Opc.I64_REM_U]); break;
    }
    c.end();
  }

  /** Double-width products: o = [lo, hi]. Inputs are read before either output is written. */
  private emitMul2(base: string, type: TcgType, op: Op): void {
    const c = this.c;
    const [a, b] = op.i as [Temp, Temp];
    const [lo, hi] = op.o as [Temp, Temp];
    if (type === 'i32') {
      const p = this.scratch('i64', 0);
      const ext = base === 'mulu2' ? Opc.I64_EXTEND_I32_U : Opc.I64_EXTEND_I32_S;
      this.push(a); c.op(ext);
      this.push(b); c.op(ext);
      c.op(Opc.I64_MUL).localSet(p);
      c.localGet(p).op(Opc.I32_WRAP_I64);
      this.set(lo);
      c.localGet(p).i64Const(32n).op(Opc.I64_SHR_U).op(Opc.I32_WRAP_I64);
      this.set(hi);
      return;
    }
    // 64×64 → 128 from 32-bit pieces (as QEMU's mulu64 in util/host-utils.c):
    // t = aL*bL; m1 = aH*bL + (t >> 32); m2 = aL*bH + (m1 & M32); hi = aH*bH + (m1 >> 32) + (m2 >> 32)
    const A = this.scratch('i64', 0), B = this.scratch('i64', 1), M1 = this.scratch('i64', 2), M2 = this.scratch('i64', 3);
    const H = this.scratch('i64', 4);
    this.push(a); c.localSet(A);
    this.push(b); c.localSet(B);
    const L = (x: number): void => { c.localGet(x).i64Const(0xffffffffn).op(Opc.I64_AND); };
    const Hh = (x: number): void => { c.localGet(x).i64Const(32n).op(Opc.I64_SHR_U); };
    // m1 = aH*bL + ((aL*bL) >> 32)
    Hh(A); L(B); c.op(Opc.I64_MUL);
    L(A); L(B); c.op(Opc.I64_MUL).i64Const(32n).op(Opc.I64_SHR_U);
    c.op(Opc.I64_ADD).localSet(M1);
    // m2 = aL*bH + (m1 & M32)
    L(A); Hh(B); c.op(Opc.I64_MUL);
    L(M1); c.op(Opc.I64_ADD).localSet(M2);
    // hi = aH*bH + (m1 >> 32) + (m2 >> 32)
    Hh(A); Hh(B); c.op(Opc.I64_MUL);
    Hh(M1); c.op(Opc.I64_ADD);
    Hh(M2); c.op(Opc.I64_ADD);
    if (base === 'muls2' || base === 'mulsu2') {
      // signed corrections: hi -= (a < 0 ? b : 0) [- (b < 0 ? a : 0) for muls2]
      c.localGet(A).i64Const(63n).op(Opc.I64_SHR_S).localGet(B).op(Opc.I64_AND).op(Opc.I64_SUB);
      if (base === 'muls2') c.localGet(B).i64Const(63n).op(Opc.I64_SHR_S).localGet(A).op(Opc.I64_AND).op(Opc.I64_SUB);
    }
    c.localSet(H);
    c.localGet(A).localGet(B).op(Opc.I64_MUL);
    this.set(lo);
    c.localGet(H);
    this.set(hi);
  }
}
