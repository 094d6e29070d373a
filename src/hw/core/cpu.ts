/**
 * The CPU base class (QEMU include/hw/core/cpu.h CPUState, hw/core/cpu-common.c): what every guest CPU
 * model shares — the TCG execution engine (soft TLB, TB cache, loop), run/step, breakpoints, execution
 * hooks as events, and register access by name.
 *
 * A target subclass supplies the env (its registers at fixed offsets), a {@link TcgCpuOps} (usually
 * itself), the register names, and a type registration (`defineType({ name, parent: TYPE_CPU, instance })`).
 * The board gives it an address space ({@link CpuState.setAddressSpace}) before the first run.
 * @module
 */
import { createJsBackend } from '../../tcg/backend/js.js';
import { createAutoBackend } from '../../tcg/backend/tiered.js';
import { createWasmBackend } from '../../tcg/backend/wasm/index.js';
import { EventEmitter } from 'eventemitter3';
import { TcgExecutor, type ExecHooks, type ExecResult, type ExecStats, type ExecStopReason } from '../../accel/tcg/cpu-exec.js';
import { TbCache, type TbCacheStats } from '../../accel/tcg/tb-cache.js';
import type { TcgCpuOps } from '../../accel/tcg/tcg-cpu-ops.js';
import { TIER_TLB_LAYOUT, type TcgAddressSpace, type TlbStats } from '../../accel/tcg/tlb.js';
import type { IrFunction } from '../../tcg/context.js';
import type { Backend } from '../../tcg/backend/backend.js';
import { closureBackend } from '../../tcg/backend/closure.js';
import { interpreterBackend } from '../../tcg/backend/interpreter.js';
import { registerType } from '../../qom/type.js';
import { LifecycleError } from '../../util/errors.js';
import type { Logger } from '../../util/log.js';
import { Device } from './device.js';

/** Name of the abstract CPU type (QEMU TYPE_CPU). */
export const TYPE_CPU = 'cpu';

/** Events a CPU emits (listen with `cpu.hooks.on(...)`); each costs nothing while nobody listens. */
export interface CpuEvents {
  /** Before each guest instruction (translation switches to one instruction per TB while listened). */
  insn: [pc: bigint];
  /** Before each translation block. */
  tb: [pc: bigint, nbInsns: number];
  /** After each guest data load (all accesses take the soft TLB's slow path while listened). */
  'mem:read': [vaddr: bigint, size: number, value: bigint];
  /** After each guest data store. */
  'mem:write': [vaddr: bigint, size: number, value: bigint];
  /** A guest exception is about to be delivered; `pc` is the faulting instruction. */
  exception: [pc: bigint];
  /** An interrupt was taken. */
  interrupt: [];
}

type CpuEventName = keyof CpuEvents;
type Listener<E extends CpuEventName> = EventEmitter.EventListener<CpuEvents, E>;

/**
 * The CPU's event emitter (eventemitter3): adding or removing listeners reconfigures the execution
 * engine, so that hooks nobody listens to cost nothing.
 */
export class CpuHooks extends EventEmitter<CpuEvents> {
  constructor(private readonly changed: () => void) {
    super();
  }
  override on<E extends CpuEventName>(event: E, fn: Listener<E>, context?: unknown): this {
    super.on(event, fn, context);
    this.changed();
    return this;
  }
  override addListener<E extends CpuEventName>(event: E, fn: Listener<E>, context?: unknown): this {
    return this.on(event, fn, context);
  }
  override once<E extends CpuEventName>(event: E, fn: Listener<E>, context?: unknown): this {
    super.once(event, ((...args: unknown[]) => {
      (fn as (...a: unknown[]) => void).apply(context, args);
      this.changed();
    }) as Listener<E>);
    this.changed();
    return this;
  }
  override off<E extends CpuEventName>(event: E, fn?: Listener<E>, context?: unknown, once?: boolean): this {
    super.off(event, fn, context, once);
    this.changed();
    return this;
  }
  override removeListener<E extends CpuEventName>(event: E, fn?: Listener<E>, context?: unknown, once?: boolean): this {
    return this.off(event, fn, context, once);
  }
  override removeAllListeners(event?: CpuEventName): this {
    super.removeAllListeners(event);
    this.changed();
    return this;
  }
}

/**
 * Which TCG backend compiles this CPU's TBs: `closure` (default; no eval, works under a strict CSP),
 * `js` (generated JS through `new Function`), `wasm` (WebAssembly, one module per TB), `auto` (closures first,
 * hot TBs recompiled into the wasm tier where shared WebAssembly memory exists, else to generated JS where
 * `new Function` is allowed), or `interp` (the reference IR interpreter, the oracle).
 */
export type TcgBackendName = 'closure' | 'interp' | 'js' | 'wasm' | 'auto';

/** TCG configuration of a CPU; set before its first run. */
export interface TcgConfig {
  /** Backend by name or object (default 'closure'). */
  readonly backend?: TcgBackendName | Backend;
  /** IR optimizer run before the backend (default: `optimizeIr`); `null` runs the IR unoptimized. */
  readonly optimize?: ((fn: IrFunction) => IrFunction) | null;
  /** A TB cache shared with the machine's other CPUs (default: a cache of this CPU's own). */
  readonly cache?: TbCache;
  /** log2 of the soft TLB entries per MMU index (default 10). */
  readonly tlbBits?: number;
  /** Code cache limit in TBs (default 65536) when this CPU creates its own cache. */
  readonly maxTbs?: number;
}

/** Why {@link CpuState.run} returned. */
export type CpuStopReason = ExecStopReason;

/** Options of {@link CpuState.run}. */
export interface CpuRunOptions {
  /** Instruction budget (default: unlimited). The run stops exactly after that many instructions. */
  readonly instructions?: number;
  /**
   * Stop condition: an address (a temporary breakpoint: stops before the instruction there, exactly) or a
   * predicate checked at each TB boundary (cheap, not instruction-exact). Reason 'until'.
   */
  readonly until?: bigint | (() => boolean);
}

/** Result of {@link CpuState.run} and {@link CpuState.step}. */
export interface CpuRunResult {
  readonly reason: CpuStopReason;
  /** Instructions executed by this call. */
  readonly instructions: number;
}

/** Execution statistics of a CPU. */
export type CpuStats = ExecStats & TbCacheStats & { tlb: TlbStats };

/** Resolves a backend name. */
export function tcgBackend(b: TcgBackendName | Backend): Backend {
  if (typeof b !== 'string') return b;
  if (b === 'closure') return closureBackend;
  if (b === 'interp') return interpreterBackend;
  if (b === 'js') return createJsBackend();
  if (b === 'wasm') return createWasmBackend();
  // Hot-code tiering: closures first, TBs that run often recompiled into the wasm tier (or generated JS).
  if (b === 'auto') return createAutoBackend({ tierLayout: TIER_TLB_LAYOUT });
  throw new LifecycleError(`unknown TCG backend '${String(b)}': expected 'closure', 'js', 'wasm', 'auto' or 'interp'`);
}

/** Base class of every guest CPU (QEMU CPUState). */
export abstract class CpuState extends Device {
  /** Execution hooks as events; see {@link CpuEvents}. */
  readonly hooks: CpuHooks = new CpuHooks(() => this.syncHooks());
  /**
   * The machine's debug log (`-d int`, `-d mmu`…), set by the machine that adds the CPU; a CPU without
   * one logs nothing. Targets test the category mask before formatting anything, so that a disabled
   * category costs one test.
   */
  log?: Logger;

  #tcg: TcgExecutor | null = null;
  #as: TcgAddressSpace | null = null;
  #config: TcgConfig = {};
  /** pc of the last breakpoint stop: the next run resumes over it. */
  #bpStopPc: bigint | null = null;

  /** The buffer holding the CPU state translated code runs against (see {@link envWords}). */
  abstract readonly env: ArrayBufferLike;
  /**
   * The CPU state as int32 words: registers at the byte offsets the target's globals name, from the
   * view's start (which is not the buffer's start once env lives in a wasm memory). Undefined: all of
   * {@link env}.
   */
  get envWords(): Int32Array | undefined {
    return undefined;
  }
  /**
   * Moves env into memory from `allocate(bytes)` (the wasm tier's memory), keeping its contents. Targets
   * that support it override this; by default env stays where it is (TBs then run as closure code).
   */
  protected placeEnv(_allocate: (bytes: number) => Int32Array): void {}
  /** The guest model as the execution loop sees it (usually the CPU object itself). */
  protected abstract tcgOps(): TcgCpuOps;
  /** A register by name (target-defined names, e.g. 'a0', 'x5', 'pc', 'mstatus'). */
  abstract getRegister(name: string): bigint;
  /** Sets a register by name. */
  abstract setRegister(name: string, value: bigint): void;
  /** The names {@link getRegister} accepts, in display order. */
  registerNames(): readonly string[] {
    return [];
  }

  // ---- configuration -----------------------------------------------------------------------------

  /** The address space this CPU's loads, stores and fetches go through (QEMU cpu_address_space_init). */
  setAddressSpace(as: TcgAddressSpace): void {
    if (this.#tcg) throw new LifecycleError(`${this.toString()}: the address space must be set before the CPU first runs`);
    this.#as = as;
  }

  get addressSpace(): TcgAddressSpace | null {
    return this.#as;
  }

  /** TCG backend, optimizer, shared TB cache…; see {@link TcgConfig}. Only before the CPU first runs. */
  configureTcg(config: TcgConfig): void {
    if (this.#tcg) throw new LifecycleError(`${this.toString()}: TCG must be configured before the CPU first runs`);
    this.#config = { ...this.#config, ...config };
  }

  /** The execution engine (created on first use: TLB, jump cache, loop). */
  get tcg(): TcgExecutor {
    if (this.#tcg) return this.#tcg;
    const as = this.#as;
    if (!as) throw new LifecycleError(`${this.toString()} has no address space: call setAddressSpace() before running it`);
    const c = this.#config;
    const cache = c.cache ?? new TbCache({ backend: tcgBackend(c.backend ?? 'closure'), optimize: c.optimize, maxTbs: c.maxTbs });
    cache.watchRamWrites(as);
    // With a wasm tier, env moves into the tier's memory so translated wasm code reaches it directly.
    const tier = cache.tier;
    if (tier) this.placeEnv((size) => tier.memory.allocateI32(size >> 2, 64));
    const t = new TcgExecutor(this.tcgOps(), this.envWords ?? this.env, as, { cache, cpu: this, ...(c.tlbBits !== undefined ? { tlbBits: c.tlbBits } : {}) });
    this.#tcg = t;
    this.syncHooks();
    return t;
  }

  // ---- state -------------------------------------------------------------------------------------

  /** The program counter. */
  get pc(): bigint {
    return this.tcgOps().getTbState().pc;
  }
  set pc(v: bigint) {
    this.tcgOps().setPc(v);
  }

  /** Halted in WFI (QEMU cpu->halted); woken when the target reports work (a pending interrupt). */
  get halted(): boolean {
    return this.#tcg?.halted ?? false;
  }
  set halted(h: boolean) {
    this.tcg.halted = h;
  }

  /** Guest instructions executed since creation (exact; mid-TB it includes the instructions already done). */
  get icount(): number {
    return this.#tcg?.currentIcount() ?? 0;
  }

  /**
   * Asks the running loop to return at the next TB boundary (QEMU cpu_exit), e.g. from a device
   * callback; `run` then returns with reason 'exit-request'.
   */
  exit(): void {
    this.tcg.exitRequest = true;
  }

  /**
   * Tells the loop that an interrupt may be pending (QEMU cpu_interrupt); see
   * {@link TcgExecutor.interruptRequest}. Targets that keep that flag exact call this on IRQ changes.
   */
  interrupt(): void {
    this.tcg.interruptRequest = true;
  }

  /** Execution statistics (TBs translated, cache size, chained exits, invalidations, flushes, TLB). */
  get stats(): CpuStats {
    return this.tcg.getStats();
  }

  /** Power-on reset of the generic part: not halted, no exit request, empty TLB. Subclasses call super. */
  protected override reset(): void {
    const t = this.#tcg;
    this.#bpStopPc = null;
    if (!t) return;
    t.halted = false;
    t.exitRequest = false;
    t.flushAll();
  }

  // ---- running -----------------------------------------------------------------------------------

  /** Runs until the budget, a breakpoint, halt, an exit request or `until` (see {@link CpuRunOptions}). */
  run(options: CpuRunOptions = {}): CpuRunResult {
    const t = this.tcg;
    const budget = options.instructions ?? Number.POSITIVE_INFINITY;
    const until = options.until;
    let tempBp: bigint | null = null;
    if (typeof until === 'bigint') {
      const a = BigInt.asUintN(64, until);
      if (!t.breakpoints.has(a)) { tempBp = a; t.addBreakpoint(a); }
    }
    let r: ExecResult;
    try {
      r = t.exec(budget, {
        skipBreakpointAtStart: this.#bpStopPc !== null && this.#bpStopPc === BigInt.asUintN(64, this.pc),
        until: typeof until === 'function' ? until : undefined,
      });
    } finally {
      if (tempBp !== null) t.removeBreakpoint(tempBp);
    }
    this.#bpStopPc = null;
    if (r.reason === 'breakpoint') {
      const pc = BigInt.asUintN(64, this.pc);
      this.#bpStopPc = pc;
      if (typeof until === 'bigint' && pc === BigInt.asUintN(64, until)) return { reason: 'until', instructions: r.instructions };
    }
    return r;
  }

  /**
   * Executes exactly one guest instruction (over a breakpoint at pc, if any). Returns `instructions` 0 if
   * the CPU is halted or the instruction raised an exception (then pc is at the handler).
   */
  step(): CpuRunResult {
    const r = this.tcg.exec(1, { skipBreakpointAtStart: true });
    this.#bpStopPc = null;
    return r;
  }

  // ---- breakpoints -------------------------------------------------------------------------------

  /** Stops runs before the instruction at virtual address `pc` (QEMU cpu_breakpoint_insert). */
  addBreakpoint(pc: bigint): void {
    this.tcg.addBreakpoint(pc);
  }

  /** Removes a breakpoint; returns whether there was one. */
  removeBreakpoint(pc: bigint): boolean {
    return this.tcg.removeBreakpoint(pc);
  }

  /** The breakpoint addresses. */
  get breakpoints(): ReadonlySet<bigint> {
    return this.tcg.breakpoints;
  }

  // ---- code and TLB maintenance ------------------------------------------------------------------

  /** Forgets all translated code (QEMU tb_flush). */
  tbFlush(): void {
    this.tcg.tbFlush();
  }

  /** Flushes the whole soft TLB (QEMU tlb_flush). */
  tlbFlush(): void {
    this.tcg.flushAll();
  }

  /** Flushes one page of the soft TLB in the MMU indexes of `mmuIdxMask` (default all; QEMU tlb_flush_page). */
  tlbFlushPage(vaddr: bigint, mmuIdxMask = -1): void {
    this.tcg.flushPage(vaddr, mmuIdxMask);
  }

  /** Invalidates translated code for physical RAM [addr, addr+len) written behind the CPU's back. */
  invalidateCode(physAddr: bigint, len: number): void {
    this.tcg.invalidateCode(physAddr, len);
  }

  // ---- hooks -------------------------------------------------------------------------------------

  private syncHooks(): void {
    const t = this.#tcg;
    if (!t) return;
    const h = this.hooks;
    const has = (e: CpuEventName): boolean => h.listenerCount(e) > 0;
    if (!h.eventNames().some((e) => h.listenerCount(e) > 0)) {
      t.setHooks(null);
      return;
    }
    const hooks: ExecHooks = {
      insn: has('insn') ? (pc) => h.emit('insn', pc) : undefined,
      tb: has('tb') ? (pc, n) => h.emit('tb', pc, n) : undefined,
      memRead: has('mem:read') ? (a, s, v) => h.emit('mem:read', a, s, v) : undefined,
      memWrite: has('mem:write') ? (a, s, v) => h.emit('mem:write', a, s, v) : undefined,
      exception: has('exception') ? (pc) => h.emit('exception', pc) : undefined,
      interrupt: has('interrupt') ? () => h.emit('interrupt') : undefined,
    };
    t.setHooks(hooks);
  }
}

registerType({ name: TYPE_CPU, parent: 'device', abstract: true, instance: CpuState, description: 'base of every guest CPU' });
