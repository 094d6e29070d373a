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
import type { Backend, CompiledTb, TbRuntime } from '../backend.js';
import { closureBackend } from '../closure.js';
import { makeHelperTramp } from './backend.js';
import {
  CTL_DONE, CTL_RUNS, generateTb, IMPORT_MODULE, T_TIER_TB, type TierCodegen,
} from './codegen.js';
import { Code, ModuleBuilder } from './encoder.js';
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
  compiles: number;
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
  /** Forgets TB `id` (invalidated): its slots go back to the stubs and the number is reused. */
  release(id: number): void;
  /** The owner recorded for TB `id` (see {@link setOwner}). */
  owner(id: number): unknown;
  /** Records what TB `id` is for the loop (its TranslationBlock). */
  setOwner(id: number, owner: unknown): void;
}

type Tramp = (...args: any[]) => unknown;

const CTL_DONE_W = CTL_DONE >> 2;
const CTL_RUNS_W = CTL_RUNS >> 2;

/** Builds the two stubs (return 1, return 2) that unlinked chain slots hold. */
function makeStubs(): [Function, Function] {
  const mb = new ModuleBuilder();
  const f1 = mb.addFunc(T_TIER_TB, { locals: [], code: new Code().i32Const(1).end().w });
  const f2 = mb.addFunc(T_TIER_TB, { locals: [], code: new Code().i32Const(2).end().w });
  mb.exportFunc('s1', f1);
  mb.exportFunc('s2', f2);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.encode()), {});
  return [inst.exports['s1'] as Function, inst.exports['s2'] as Function];
}

/** Creates the wasm tier of one machine memory. */
export function createWasmTier(memory: WasmTcgMemory, layout: TierTlbLayout): WasmTier {
  const stats: WasmTierStats = { compiles: 0, failures: 0, bytes: 0, ms: 0 };
  const table = new WebAssembly.Table({ element: 'anyfunc', initial: 0 });
  const stubs = makeStubs();
  const owners: unknown[] = [];
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

  const tier: WasmTier = {
    name: 'wasm-tier',
    memory,
    layout,
    stats,
    compile(fn: IrFunction): CompiledTb {
      const t0 = performance.now();
      const id = allocId();
      let code: TierCode;
      try {
        const nbInsns = fn.ops.reduce((n, op) => n + (op.opc === 'insn_start' ? 1 : 0), 0);
        const opts: TierCodegen = { id, nbInsns, ...layout, ramBaseTable: RAM_BASE_TABLE };
        const gen = generateTb(fn, opts);
        const module = new WebAssembly.Module(gen.bytes);
        const t: Record<string, WebAssembly.ImportValue> = { mem: memory.memory, tbl: table };
        if (gen.imports.ld) t['ld'] = ld as WebAssembly.ImportValue;
        if (gen.imports.ldq) { t['ldq'] = ldq as WebAssembly.ImportValue; t['hi'] = hi; }
        if (gen.imports.st) t['st'] = st as WebAssembly.ImportValue;
        if (gen.imports.err) t['err'] = err as WebAssembly.ImportValue;
        gen.imports.helpers.forEach((h, k) => {
          let tr = helperTramps.get(h);
          if (!tr) { tr = makeHelperTramp(h, null, null); helperTramps.set(h, tr); }
          t[`h${k}`] = tr as WebAssembly.ImportValue;
        });
        const inst = new WebAssembly.Instance(module, { [IMPORT_MODULE]: t });
        const run = inst.exports['tb'] as unknown as (rt: TbRuntime, env: number, ctl: number) => number;
        // Outside a machine memory: the same TB as closure code (compiled on first need).
        let fallback: CompiledTb | null = null;
        const ir = fn;
        code = Object.assign((rt: TbRuntime): number => {
          const x = rt as TierRuntime;
          if (x.tierEnv === undefined || x.tierEnv < 0) return (fallback ??= closureBackend.compile(ir))(rt);
          const ctl = x.tierCtlI32;
          ctl[CTL_DONE_W] = 0;
          ctl[CTL_RUNS_W] = 0;
          x.tierEntered = true;
          return run(rt, x.tierEnv, x.tierCtl);
        }, { tierId: id, tierFn: run as Function });
        stats.compiles++;
        stats.bytes += gen.bytes.length;
      } catch (e) {
        stats.failures++;
        free.push(id);
        throw e;
      }
      stats.ms += performance.now() - t0;
      return code;
    },
    link(srcId: number, slot: number, dst: TierCode | null): void {
      table.set(2 * srcId + slot, (dst !== null ? dst.tierFn : stubs[slot]) as any);
    },
    release(id: number): void {
      table.set(2 * id, stubs[0] as any);
      table.set(2 * id + 1, stubs[1] as any);
      owners[id] = undefined;
      free.push(id);
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

