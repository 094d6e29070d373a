/**
 * The wasm tier: hot TBs compiled to WebAssembly that run against the machine's one memory
 * (./tcg-memory.ts: guest RAM, env, the soft TLB) and chain to each other inside wasm, as QEMU's TBs
 * jump to each other directly (accel/tcg/cpu-exec.c tb_add_jump patches the jump).
 *
 * Hot TBs are queued and compiled in batches into *regions* (one function holding several TBs, guest
 * registers kept in locals across them; ./codegen.ts generateTierModule); a region takes in the compiled
 * TBs linked to its new ones. Each compiled TB gets a number `id` and three table entries: chain slot 0
 * and 1 (`3·id + n`: the linked TB's entry, or a stub that returns `n + 1`, the plain chain exit the
 * loop expects) and its own entry (`3·id + 2`, what the wasm jump cache names). A TB goes on to the next
 * only if it fits in the budget and the stop flag is clear, so interrupts, exit requests, flushes and
 * budgets are honoured at TB boundaries as in the JS loop. The loop side (src/accel/tcg/cpu-exec.ts)
 * links, fills the jump cache, and reads the control block after a run: which TB ran last (CTL_CUR) and
 * how many instructions completed (CTL_DONE).
 *
 * A TB whose runtime is not inside the memory (a CPU whose env is elsewhere) runs a closure-compiled copy.
 */
import type { IrFunction } from '../../context.js';
import { CALL_NO_READ_GLOBALS, CALL_NO_WRITE_GLOBALS, EXIT_LOOKUP } from '../../ir.js';
import { TcgIrError } from '../../interp.js';
import type { Backend, CompileHooks, CompiledTb, TbRuntime } from '../backend.js';
import { closureBackend } from '../closure.js';
import { createDirectTrampolines } from './backend.js';
import {
  CTL_DONE, CTL_LIMIT, CTL_STOP, generateTierModule, IMPORT_MODULE, T_TIER_TB, TIER_JC_BYTES, TIER_SLOTS,
  type TierCodegen, type TierTlbLayout,
} from './codegen.js';

import { Code, ModuleBuilder, Opc } from './encoder.js';
import type { WasmTcgMemory } from './tcg-memory.js';

export type { TierTlbLayout };

/** What a runtime must offer for TBs to run in wasm (the execution loop implements it). */
export interface TierRuntime extends TbRuntime {
  /** Byte address of env in the memory, or -1 when env is elsewhere (then TBs run their closure copy). */
  readonly tierEnv: number;
  /** Byte address of the control block. */
  readonly tierCtl: number;
  /** The control block as int32 words. */
  readonly tierCtlI32: Int32Array;
  /** Set by a TB's entry from JS: the loop then reads the control block. */
  tierEntered: boolean;
  /** Instructions executed so far, and the count at which the current run's budget ends. */
  readonly icount: number;
  readonly tierBudgetEnd: number;
}

/** What the tier attaches to the code of a TB it compiled. */
export interface TierCode extends CompiledTb {
  readonly tierId: number;
  /** The exported function (what a table entry linking to this TB holds). */
  readonly tierFn: Function;
}

/** Statistics of a wasm tier. */
export interface WasmTierStats {
  /** TBs compiled. */
  compiles: number;
  /** Modules compiled (a batch of TBs each). */
  modules: number;
  /** Chain links compiled as direct tail calls inside a module. */
  directLinks: number;
  /** Compilations that threw (those TBs stay on their previous code). */
  failures: number;
  bytes: number;
  /** Milliseconds generating, compiling and instantiating. */
  ms: number;
}

/** A backend compiling TBs into the wasm tier (use as the hot backend of a tiered backend). */
export interface WasmTier extends Backend {
  readonly memory: WasmTcgMemory;
  readonly layout: TierTlbLayout;
  readonly stats: WasmTierStats;
  /** Points chain slot `slot` of TB `srcId` at TB `dst` (a tier TB), or back at the stub with null. */
  link(srcId: number, slot: number, dst: TierCode | null): void;
  /**
   * Forgets every compiled copy of the TB of `owner` (invalidated): their slots go back to the stubs and
   * their numbers are reused. Returns the owners of the other TBs of those modules, which may branch to
   * a copy directly: the caller must invalidate them too (each then retired in turn).
   */
  retire(owner: unknown): unknown[];
  /** How the cache's TBs link (set by the cache), so regions can take in their compiled neighbours. */
  graph: TierGraph | null;
  /** The largest TB the cache makes, in instructions (set by the cache; default 512, QEMU's TCG_MAX_INSNS). */
  maxTbInsns: number;
  /**
   * Queues a hot TB; `done` receives its code when the queue is compiled (at {@link batchSize} TBs or
   * at {@link flush}). `hooks.owner`/`hooks.chain` let TBs of one batch jump to each other directly.
   */
  enqueue(fn: IrFunction, hooks: CompileHooks | undefined, done: (code: CompiledTb | null) => void): void;
  /** Compiles every queued TB now (one module) and hands each its code. */
  flush(): void;
  /** TBs per module (the queue is compiled when it reaches this). */
  readonly batchSize: number;
  /**
   * Whether a hot TB should run here. Not a TB with several calls to helpers that read or write guest
   * globals (e.g. floating point through softfloat helpers): in a region every such call writes back and
   * reloads every global the region keeps in locals, so generated JS runs those TBs faster.
   */
  accepts(fn: IrFunction): boolean;
  /** False once TB `id` or a mate of its module was released (then it must not run: it may jump into a dead TB). */
  alive(id: number): boolean;
  /** The owner recorded for TB `id` (see {@link setOwner}). */
  owner(id: number): unknown;
  /** Records what TB `id` is for the loop (its TranslationBlock): its newest compiled copy. */
  setOwner(id: number, owner: unknown): void;
  /** Registers a CPU's wasm jump cache (int32 view), so entries of retired TBs are cleared from it. */
  addJumpCache(jc: Int32Array): void;
  /** The table index of TB `id`'s entry (what a jump cache entry holds). */
  entryIndex(id: number): number;
  /** The last error a compilation threw (for diagnostics), or null. */
  readonly lastError: unknown;
}

/** The TB graph as the cache knows it (owners are its TranslationBlocks). */
export interface TierGraph {
  /** The owner chain slot `slot` of `owner` is linked to, or null. */
  chain(owner: unknown, slot: number): unknown;
  /** The owners linked to `owner`. */
  incoming(owner: unknown): readonly unknown[];
  /** Gives `owner` a new compiled copy (it was taken into a region with newly hot neighbours). */
  adopt(owner: unknown, code: CompiledTb): void;
  /** The TB flags of `owner` (lets its `lookup_and_goto_ptr` use the wasm jump cache). */
  flags(owner: unknown): number;
}

/**
 * Most TBs in one region. A region takes in the already compiled TBs linked to its new ones, so that a
 * loop whose TBs got hot at different times still ends up in one function; but the larger the function,
 * the more of its guest registers V8 keeps on the stack. Measured on intmix (auto, MIPS, two runs each):
 * 16 → 615–632, 32 → 693–698, 48 → 676–782, 96 → 622–646, 256 → 591–669 (interp and memsort agree: 48
 * is as fast as any).
 */
export const TIER_MAX_REGION = 48;

const CTL_LIMIT_W = CTL_LIMIT >> 2;
const CTL_STOP_W = CTL_STOP >> 2;
/** CTL_LIMIT when chaining must stop: no instruction count is below it. */
export const LIMIT_STOP = -0x80000000;

/**
 * Builds the stubs that empty table entries hold, one per kind of entry: they record the instructions
 * done (the caller already named itself in CTL_CUR) and return to JS what the caller would have: chain
 * exit 1 or 2, or EXIT_LOOKUP for a TB entry (reached from a stale jump cache entry).
 */
function makeStubs(memory: WebAssembly.Memory): Function[] {
  const mb = new ModuleBuilder();
  mb.importSharedMemory(IMPORT_MODULE, 'mem', 1, 65536);
  const values = [1, 2, EXIT_LOOKUP];
  values.forEach((v, k) => {
    const f = mb.addFunc(T_TIER_TB, { locals: [], code: new Code().localGet(2).localGet(3).mem(Opc.I32_STORE, 2, CTL_DONE).i32Const(v).end().w });
    mb.exportFunc(`s${k}`, f);
  });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode()), { [IMPORT_MODULE]: { mem: memory } });
  return values.map((_, k) => inst.exports[`s${k}`] as Function);
}

/** The guest pc of a TB's IR (its first `insn_start`), as a number. */
function pcOf(fn: IrFunction): number {
  const op = fn.ops.find((o) => o.opc === 'insn_start');
  return op ? (op.c[1] ?? 0) * 2 ** 32 + ((op.c[0] ?? 0) >>> 0) : 0;
}

/** A queued hot TB. */
interface Pending {
  readonly fn: IrFunction;
  readonly hooks: CompileHooks | undefined;
  readonly done: (code: CompiledTb | null) => void;
}

/** TBs per module by default: large enough that a hot loop's TBs share one (direct jumps), small enough to compile in a few ms. */
export const TIER_BATCH_SIZE = 32;

/** Creates the wasm tier of one machine memory. */
export function createWasmTier(memory: WasmTcgMemory, layout: TierTlbLayout, batchSize = TIER_BATCH_SIZE): WasmTier {
  const stats: WasmTierStats = { compiles: 0, modules: 0, directLinks: 0, failures: 0, bytes: 0, ms: 0 };
  const table = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
  const stubs = makeStubs(memory.memory);
  const owners: unknown[] = [];
  /** The module each TB belongs to (shared per module; `dead` once a member was released). */
  const moduleOf: ({ ids: number[]; dead: boolean } | undefined)[] = [];
  /** The IR each compiled TB was made from (to compile it again into a larger region). */
  const irs: (IrFunction | undefined)[] = [];
  /** Owner → ids of its compiled copies, newest last. */
  const copies = new Map<unknown, number[]>();
  /** The function of each compiled copy, and the table slots that were linked to it. */
  const fns: (Function | undefined)[] = [];
  const slotsInto = new Map<number, number[]>();
  const jumpCaches: Int32Array[] = [];
  let queue: Pending[] = [];
  let lastError: unknown = null;
  const free: number[] = [];
  let nextId = 0;
  const tramps = createDirectTrampolines();
  const err = (label: number): never => { throw new TcgIrError(`branch to unset label ${label}`); };
  /** Table entry of compiled TB `id`'s own entry (its chain slots are the two before it). */
  const entryAt = (id: number): number => TIER_SLOTS * id + 2;

  const allocId = (): number => {
    const id = free.pop() ?? nextId++;
    const need = TIER_SLOTS * (id + 1);
    if (table.length < need) {
      const from = table.length;
      table.grow(Math.max(need - from, from, 3 * 64));
      for (let k = from; k < table.length; k++) table.set(k, stubs[k % TIER_SLOTS] as any);
    }
    return id;
  };

  const importsFor = (imports: ReturnType<typeof generateTierModule>['imports']): Record<string, WebAssembly.ImportValue> => {
    const t: Record<string, WebAssembly.ImportValue> = { mem: memory.memory, tbl: table };
    if (imports.ld) t['ld'] = tramps.ld as WebAssembly.ImportValue;
    if (imports.ldq) { t['ldq'] = tramps.ldq as WebAssembly.ImportValue; t['hi'] = tramps.hi; }
    if (imports.st) t['st'] = tramps.st as WebAssembly.ImportValue;
    if (imports.err) t['err'] = err as WebAssembly.ImportValue;
    imports.helpers.forEach((h, k) => { t[`h${k}`] = tramps.helper(h) as WebAssembly.ImportValue; });
    return t;
  };

  /** The JS entry of a tier TB: from the loop, with done = 0 and the loop's limit. */
  const entry = (run: (rt: TbRuntime, env: number, ctl: number, done: number, limit: number) => number, ir: IrFunction, id: number): TierCode => {
    // Outside a machine memory: the same TB as closure code (compiled on first need).
    let fallback: CompiledTb | null = null;
    return Object.assign((rt: TbRuntime): number => {
      const x = rt as TierRuntime;
      if (x.tierEnv === undefined || x.tierEnv < 0) return (fallback ??= closureBackend.compile(ir))(rt);
      x.tierEntered = true;
      const ctl = x.tierCtlI32;
      const limit = ctl[CTL_STOP_W] !== 0 ? LIMIT_STOP : Math.min(x.tierBudgetEnd - x.icount, 0x3fffffff);
      ctl[CTL_LIMIT_W] = limit;
      return run(rt, x.tierEnv, x.tierCtl, 0, limit);
    }, { tierId: id, tierFn: run as Function });
  };

  /** A TB going into a region: queued (`pending`) or taken in (a compiled neighbour, `owner` only). */
  interface Member { readonly fn: IrFunction; readonly owner: unknown; readonly pending: Pending | null }

  /**
   * Compiles `batch` into one region, together with the compiled TBs linked to it (transitively, up to
   * {@link TIER_MAX_REGION}); members linked to each other branch directly. Returns the codes of `batch`.
   */
  const compileBatch = (unordered: readonly Pending[]): (CompiledTb | null)[] => {
    const t0 = performance.now();
    const graph = tier.graph;
    const list: Member[] = unordered.map((p) => ({ fn: p.fn, owner: p.hooks?.owner?.(), pending: p }));
    if (graph !== null) {
      const seen = new Set(list.map((m) => m.owner));
      const frontier = list.map((m) => m.owner);
      while (frontier.length > 0 && list.length < TIER_MAX_REGION) {
        const o = frontier.pop();
        for (const c of [graph.chain(o, 0), graph.chain(o, 1), ...graph.incoming(o)]) {
          if (c === null || c === undefined || seen.has(c) || list.length >= TIER_MAX_REGION) continue;
          seen.add(c);
          const ids = copies.get(c);
          const last = ids?.[ids.length - 1];
          const fn = last !== undefined ? irs[last] : undefined;
          if (fn === undefined) continue;
          list.push({ fn, owner: c, pending: null });
          frontier.push(c);
        }
      }
    }
    // Members in guest pc order: jumps to a higher pc (most of them; loops jump back once per
    // iteration) become direct branches in the region (see generateTierModule).
    const members = list.sort((a, b) => pcOf(a.fn) - pcOf(b.fn));
    const ids = members.map(() => allocId());
    try {
      const owners = members.map((m) => m.owner);
      const chainOf = (m: Member, n: number): unknown =>
        (graph !== null && m.owner !== undefined ? graph.chain(m.owner, n) : m.pending?.hooks?.chain?.(n)) ?? null;
      const gen = generateTierModule(members.map((m, k) => {
        const direct: [number, number] = [-1, -1];
        for (let n = 0; n < 2; n++) {
          const d = chainOf(m, n);
          const j = d === null ? -1 : owners.indexOf(d);
          if (j >= 0) { direct[n] = j; stats.directLinks++; }
        }
        const nbInsns = m.fn.nbInsns;
        const flags = graph !== null && m.owner !== undefined ? graph.flags(m.owner) : undefined;
        return {
          fn: m.fn,
          tier: {
            id: ids[k]!, nbInsns, ...layout, direct, maxTbInsns: tier.maxTbInsns,
            ...(flags !== undefined ? { flags } : {}),
          } satisfies TierCodegen,
        };
      }));
      const inst = new WebAssembly.Instance(new WebAssembly.Module(gen.bytes), { [IMPORT_MODULE]: importsFor(gen.imports) });
      stats.modules++;
      stats.compiles += members.length;
      stats.bytes += gen.bytes.length;
      const mod = { ids, dead: false };
      const codes = members.map((m, k) => entry(inst.exports[`tb${k}`] as any, m.fn, ids[k]!));
      ids.forEach((id, k) => {
        table.set(entryAt(id), codes[k]!.tierFn as any);
        moduleOf[id] = mod; irs[id] = members[k]!.fn; fns[id] = codes[k]!.tierFn;
      });
      // Neighbours taken in get their new copy now; the batch's own TBs through their callbacks.
      members.forEach((m, k) => { if (m.pending === null) graph!.adopt(m.owner, codes[k]!); });
      return unordered.map((p) => codes[members.findIndex((m) => m.pending === p)] ?? null);
    } catch (e) {
      stats.failures += unordered.length;
      free.push(...ids);
      throw e;
    } finally {
      stats.ms += performance.now() - t0;
    }
  };

  const tier: WasmTier = {
    name: 'wasm-tier',
    memory,
    layout,
    stats,
    batchSize,
    graph: null,
    maxTbInsns: 512,
    accepts(fn: IrFunction): boolean {
      let calls = 0;
      for (const op of fn.ops) {
        if (op.opc !== 'call') continue;
        const f = op.helper?.flags ?? 0;
        if ((f & (CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS)) !== (CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS) && ++calls >= 2) return false;
      }
      return true;
    },
    compile(fn: IrFunction): CompiledTb {
      const code = compileBatch([{ fn, hooks: undefined, done: () => undefined }])[0];
      if (!code) throw new TcgIrError('wasm tier: compilation failed');
      return code;
    },
    enqueue(fn: IrFunction, hooks: CompileHooks | undefined, done: (code: CompiledTb | null) => void): void {
      queue.push({ fn, hooks, done });
      if (queue.length >= batchSize) tier.flush();
    },
    flush(): void {
      if (queue.length === 0) return;
      const batch = queue;
      queue = [];
      let codes: (CompiledTb | null)[];
      try {
        codes = compileBatch(batch);
      } catch (e) {
        lastError = e;
        codes = batch.map(() => null);
      }
      batch.forEach((p, k) => p.done(codes[k] ?? null));
    },
    link(srcId: number, slot: number, dst: TierCode | null): void {
      const at = TIER_SLOTS * srcId + slot;
      table.set(at, (dst !== null ? dst.tierFn : stubs[slot]) as any);
      if (dst !== null) {
        const list = slotsInto.get(dst.tierId);
        if (list === undefined) slotsInto.set(dst.tierId, [at]); else list.push(at);
      }
    },
    retire(owner: unknown): unknown[] {
      const ids = copies.get(owner);
      if (ids === undefined) return [];
      copies.delete(owner);
      const mates = new Set<unknown>();
      for (const id of ids) {
        for (let k = 0; k < TIER_SLOTS; k++) table.set(TIER_SLOTS * id + k, stubs[k] as any);
        // Slots of other TBs' copies (old ones included) that still lead here go back to the stubs.
        for (const at of slotsInto.get(id) ?? []) if (table.get(at) === fns[id]) table.set(at, stubs[at % TIER_SLOTS] as any);
        // And jump cache entries naming it.
        const at = entryAt(id);
        for (const jc of jumpCaches) {
          for (let w = 3; w < jc.length; w += TIER_JC_BYTES >> 2) if (jc[w] === at) jc[w - 3] = jc[w - 2] = jc[w - 1] = jc[w] = -1;
        }
        slotsInto.delete(id);
        fns[id] = undefined;
        owners[id] = undefined;
        irs[id] = undefined;
        const mod = moduleOf[id];
        moduleOf[id] = undefined;
        free.push(id);
        if (mod === undefined) continue;
        // Mates may branch to this copy directly: they go too.
        mod.dead = true;
        for (const m of mod.ids) if (moduleOf[m] === mod && owners[m] !== undefined && owners[m] !== owner) mates.add(owners[m]);
      }
      return [...mates];
    },
    addJumpCache(jc: Int32Array): void {
      jumpCaches.push(jc.fill(-1));
    },
    entryIndex: entryAt,
    get lastError() { return lastError; },
    alive(id: number): boolean {
      const mod = moduleOf[id];
      return mod !== undefined && !mod.dead;
    },
    owner(id: number): unknown {
      return owners[id];
    },
    setOwner(id: number, owner: unknown): void {
      owners[id] = owner;
      const ids = copies.get(owner);
      if (ids === undefined) copies.set(owner, [id]);
      else ids.push(id);
    },
  };
  return tier;
}

/** True if `code` was compiled by a wasm tier. */
export function isTierCode(code: CompiledTb): code is TierCode {
  return typeof (code as Partial<TierCode>).tierId === 'number';
}

