/**
 * The wasm tier: hot TBs compiled to WebAssembly that run against the machine's one memory
 * (./tcg-memory.ts: guest RAM, env, the soft TLB) and chain to each other inside wasm, as QEMU's TBs
 * jump to each other directly (accel/tcg/cpu-exec.c tb_add_jump patches the jump; here a `funcref`
 * table entry is set and the TB tail-calls through it with `return_call_indirect`).
 *
 * Each TB gets a number `id`; its chain slot n is table entry `2·id + n`, holding the linked TB's
 * function or a stub that returns `n + 1` (the plain chain exit the execution loop expects). The TB
 * checks the CPU's control block before every tail call (stop flag, instruction budget), so interrupts,
 * exit requests, flushes and budgets are honoured at TB boundaries as in the JS loop. The loop side
 * (src/accel/tcg/cpu-exec.ts) links, unlinks and reads the control block after a run: which TB ran last
 * (CTL_CUR) and how many instructions completed (CTL_DONE).
 *
 * A TB whose runtime is not inside the memory (a CPU outside a machine) runs a closure-compiled copy.
 */
import type { IrFunction } from '../../context.js';
import type { HelperInfo } from '../../ir.js';
import { TcgIrError } from '../../interp.js';
import type { Backend, CompileHooks, CompiledTb, TbRuntime } from '../backend.js';
import { closureBackend } from '../closure.js';
import { makeHelperTramp } from './backend.js';
import {
  CTL_DONE, CTL_LIMIT, generateTierModule, IMPORT_MODULE, T_TIER_TB, type TierCodegen, type TierMember,
} from './codegen.js';
import { Code, ModuleBuilder, Opc } from './encoder.js';
import { RAM_BASE_TABLE, type WasmTcgMemory } from './tcg-memory.js';

/** The soft TLB's layout and the guest page size (from src/accel/tcg/tlb.ts; numbers, so no import). */
export interface TierTlbLayout {
  readonly tlbBits: number;
  readonly tlbEntryBytes: number;
  readonly tlbReadTag: number;
  readonly tlbWriteTag: number;
  readonly tlbRamId: number;
  readonly tlbRamOffset: number;
  readonly pageBits: number;
}

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
   * Forgets TB `id` (invalidated): its slots go back to the stubs and the number is reused. Returns the
   * owners of the other live TBs of its module, which may jump to it directly: the caller must
   * invalidate them too (each then released in turn).
   */
  release(id: number): unknown[];
  /**
   * Queues a hot TB; `done` receives its code when the queue is compiled (at {@link batchSize} TBs or
   * at {@link flush}). `hooks.owner`/`hooks.chain` let TBs of one batch jump to each other directly.
   */
  enqueue(fn: IrFunction, hooks: CompileHooks | undefined, done: (code: CompiledTb | null) => void): void;
  /** Compiles every queued TB now (one module) and hands each its code. */
  flush(): void;
  /** TBs per module (the queue is compiled when it reaches this). */
  readonly batchSize: number;
  /** False once TB `id` or a mate of its module was released (then it must not run: it may jump into a dead TB). */
  alive(id: number): boolean;
  /** The owner recorded for TB `id` (see {@link setOwner}). */
  owner(id: number): unknown;
  /** Records what TB `id` is for the loop (its TranslationBlock). */
  setOwner(id: number, owner: unknown): void;
}

type Tramp = (...args: any[]) => unknown;

const CTL_LIMIT_W = CTL_LIMIT >> 2;

/**
 * Builds the two stubs that unlinked chain slots hold: they record the instructions done (the caller
 * already named itself in CTL_CUR) and return the chain exit value 1 or 2 to JS.
 */
function makeStubs(memory: WebAssembly.Memory): [Function, Function] {
  const mb = new ModuleBuilder();
  mb.importSharedMemory(IMPORT_MODULE, 'mem', 1, 65536);
  const stub = (v: number): Code => new Code().localGet(2).localGet(3).mem(Opc.I32_STORE, 2, CTL_DONE).i32Const(v).end();
  const f1 = mb.addFunc(T_TIER_TB, { locals: [], code: stub(1).w });
  const f2 = mb.addFunc(T_TIER_TB, { locals: [], code: stub(2).w });
  mb.exportFunc('s1', f1);
  mb.exportFunc('s2', f2);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode()), { [IMPORT_MODULE]: { mem: memory } });
  return [inst.exports['s1'] as Function, inst.exports['s2'] as Function];
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
  let queue: Pending[] = [];
  const free: number[] = [];
  let nextId = 0;
  const hi = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  const helperTramps = new WeakMap<HelperInfo, Tramp>();
  const err = (label: number): never => { throw new TcgIrError(`branch to unset label ${label}`); };
  const ld = (rt: TbRuntime, insn: number, lo: number, ah: number, memop: number, mmu: number): number => {
    if (insn >= 0) rt.curInsn = insn;
    return rt.load(lo, ah, memop, mmu);
  };
  const ldq = (rt: TbRuntime, insn: number, lo: number, ah: number, memop: number, mmu: number): number => {
    if (insn >= 0) rt.curInsn = insn;
    const r = rt.load(lo, ah, memop, mmu);
    hi.value = rt.loadHi;
    return r;
  };
  const st = (rt: TbRuntime, insn: number, lo: number, ah: number, vlo: number, vhi: number, memop: number, mmu: number): void => {
    if (insn >= 0) rt.curInsn = insn;
    rt.store(lo, ah, vlo, vhi, memop, mmu);
  };

  const allocId = (): number => {
    const id = free.pop() ?? nextId++;
    const need = 2 * id + 2;
    if (table.length < need) {
      const from = table.length;
      table.grow(Math.max(need - from, from, 64));
      for (let k = from; k < table.length; k++) table.set(k, stubs[k & 1] as any);
    }
    return id;
  };

  const importsFor = (imports: ReturnType<typeof generateTierModule>['imports']): Record<string, WebAssembly.ImportValue> => {
    const t: Record<string, WebAssembly.ImportValue> = { mem: memory.memory, tbl: table };
    if (imports.ld) t['ld'] = ld as WebAssembly.ImportValue;
    if (imports.ldq) { t['ldq'] = ldq as WebAssembly.ImportValue; t['hi'] = hi; }
    if (imports.st) t['st'] = st as WebAssembly.ImportValue;
    if (imports.err) t['err'] = err as WebAssembly.ImportValue;
    imports.helpers.forEach((h, k) => {
      let tr = helperTramps.get(h);
      if (!tr) { tr = makeHelperTramp(h, null, null); helperTramps.set(h, tr); }
      t[`h${k}`] = tr as WebAssembly.ImportValue;
    });
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
      return run(rt, x.tierEnv, x.tierCtl, 0, x.tierCtlI32[CTL_LIMIT_W]!);
    }, { tierId: id, tierFn: run as Function });
  };

  /** Compiles `batch` into one module; members linked to each other (hooks.chain) jump directly. */
  const compileBatch = (unordered: readonly Pending[]): CompiledTb[] => {
    const t0 = performance.now();
    // Members in guest pc order: jumps to a higher pc (most of them; loops jump back once per
    // iteration) become direct branches in the region (see generateTierModule).
    const batch = [...unordered].sort((a, b) => pcOf(a.fn) - pcOf(b.fn));
    const ids = batch.map(() => allocId());
    try {
      const owner = batch.map((p) => p.hooks?.owner?.());
      const members: TierMember[] = batch.map((p, k) => {
        const direct: [number, number] = [-1, -1];
        for (let n = 0; n < 2; n++) {
          const d = p.hooks?.chain?.(n);
          if (d === undefined || d === null) continue;
          const j = owner.indexOf(d);
          if (j >= 0) { direct[n] = j; stats.directLinks++; }
        }
        const nbInsns = p.fn.ops.reduce((a, op) => a + (op.opc === 'insn_start' ? 1 : 0), 0);
        const tier: TierCodegen = { id: ids[k]!, nbInsns, ...layout, ramBaseTable: RAM_BASE_TABLE, direct };
        return { fn: p.fn, tier };
      });
      const gen = generateTierModule(members);
      const inst = new WebAssembly.Instance(new WebAssembly.Module(gen.bytes), { [IMPORT_MODULE]: importsFor(gen.imports) });
      stats.modules++;
      stats.compiles += batch.length;
      stats.bytes += gen.bytes.length;
      const mod = { ids, dead: false };
      for (const id of ids) moduleOf[id] = mod;
      const codes = batch.map((p, k) => entry(inst.exports[`tb${k}`] as any, p.fn, ids[k]!));
      return unordered.map((p) => codes[batch.indexOf(p)]!);
    } catch (e) {
      stats.failures += batch.length;
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
      } catch {
        codes = batch.map(() => null);
      }
      batch.forEach((p, k) => p.done(codes[k] ?? null));
    },
    link(srcId: number, slot: number, dst: TierCode | null): void {
      table.set(2 * srcId + slot, (dst !== null ? dst.tierFn : stubs[slot]) as any);
    },
    release(id: number): unknown[] {
      if (owners[id] === undefined && moduleOf[id] === undefined) return [];
      table.set(2 * id, stubs[0] as any);
      table.set(2 * id + 1, stubs[1] as any);
      owners[id] = undefined;
      const mod = moduleOf[id];
      moduleOf[id] = undefined;
      free.push(id);
      if (mod === undefined) return [];
      // Mates may `return_call` this TB directly: they go too.
      mod.dead = true;
      const mates: unknown[] = [];
      for (const m of mod.ids) if (m !== id && moduleOf[m] === mod && owners[m] !== undefined) mates.push(owners[m]);
      return mates;
    },
    alive(id: number): boolean {
      const mod = moduleOf[id];
      return mod !== undefined && !mod.dead;
    },
    owner(id: number): unknown {
      return owners[id];
    },
    setOwner(id: number, owner: unknown): void {
      owners[id] = owner;
    },
  };
  return tier;
}

/** True if `code` was compiled by a wasm tier. */
export function isTierCode(code: CompiledTb): code is TierCode {
  return typeof (code as Partial<TierCode>).tierId === 'number';
}

