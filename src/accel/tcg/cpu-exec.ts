/**
 * The TCG execution loop of one CPU (QEMU accel/tcg/cpu-exec.c: cpu_exec, cpu_exec_loop, tb_lookup,
 * cpu_handle_interrupt/exception, cpu_tb_exec) and the runtime translated code runs against.
 *
 * `TcgExecutor` is at once the CPU's {@link TbRuntime} (env views, soft TLB load/store, `curInsn`), its
 * jump cache, and the loop. Instruction counting (icount) is exact: a TB that exits normally ran all of
 * its instructions; a TB left by {@link CpuLoopExit} ran `curInsn` of them (the faulting one does not
 * count), so any run is deterministic and can stop at an exact instruction budget.
 */
import type { TbRuntime } from '../../tcg/backend/backend.js';
import { EXIT_LOOKUP, type HelperInfo } from '../../tcg/ir.js';
import {
  CTL_ADDEND, CTL_CUR, CTL_DONE, CTL_JC, CTL_LIMIT, CTL_PC_HI, CTL_PC_LO, CTL_SIZE, CTL_STOP, CTL_TLB, TIER_JC_BYTES, TIER_JC_ENTRIES, tierJcIndex,
} from '../../tcg/backend/wasm/codegen.js';
import { LIMIT_STOP, type TierCode, type TierRuntime, type WasmTier } from '../../tcg/backend/wasm/tier.js';
import { CF_COUNT_MASK, CF_HOOKS, CF_NOCACHE, TbCache, type TbCacheClient, type TbCacheStats, type TranslationBlock } from './tb-cache.js';
import {
  CpuLoopExit, CpuLoopExitNoExc, TARGET_PAGE_SIZE, type TcgCpuOps,
} from './tcg-cpu-ops.js';
import {
  joinAddr, ramPageKey, SoftTlb, TLB_RAM_ID, TLB_RAM_OFFSET, type CodeWriteHandler, type MemHookSink,
  type SoftTlbOptions, type TcgAddressSpace, type TlbStats,
} from './tlb.js';

/** Why {@link TcgExecutor.exec} returned. */
export type ExecStopReason = 'budget' | 'halt' | 'breakpoint' | 'exit-request' | 'until' | 'stalled';

/**
 * Consecutive exceptions without a retired instruction after which the loop gives up with reason
 * 'stalled' (a guest whose trap vector itself faults would otherwise hang the host; QEMU would spin).
 */
export const MAX_EXCEPTIONS_WITHOUT_PROGRESS = 1 << 16;

/** Result of {@link TcgExecutor.exec}. */
export interface ExecResult {
  readonly reason: ExecStopReason;
  /** Guest instructions executed by this call. */
  readonly instructions: number;
}

/** Options of one {@link TcgExecutor.exec} call. */
export interface ExecOptions {
  /**
   * Do not stop at a breakpoint on the very first instruction (resuming from a breakpoint stop, or
   * single-stepping over one, as a debugger does).
   */
  readonly skipBreakpointAtStart?: boolean;
  /** Checked at every TB boundary; `true` stops with reason 'until'. */
  readonly until?: (() => boolean) | undefined;
}

/** Observers of execution (the CPU class turns them into events). Each costs nothing when absent. */
export interface ExecHooks {
  /** Before each guest instruction (TBs are then one instruction long). */
  readonly insn?: ((pc: bigint) => void) | undefined;
  /** Before each TB. */
  readonly tb?: ((pc: bigint, nbInsns: number) => void) | undefined;
  /** After each guest data load (the soft TLB then sends every access to its slow path). */
  readonly memRead?: ((vaddr: bigint, size: number, value: bigint) => void) | undefined;
  /** After each guest data store. */
  readonly memWrite?: ((vaddr: bigint, size: number, value: bigint) => void) | undefined;
  /** A guest exception is about to be delivered (`pc`: the faulting instruction). */
  readonly exception?: ((pc: bigint) => void) | undefined;
  /** An interrupt was taken at a TB boundary. */
  readonly interrupt?: (() => void) | undefined;
}

/** Thrown by {@link TcgExecutor.beforeIo}: one preallocated object, as it may be thrown often. */
const IO_EXIT = new CpuLoopExitNoExc(true, false);

/** Statistics of one CPU's execution (plus those of its TB cache and TLB). */
export interface ExecStats {
  /** TBs entered by the loop (a chain that runs inside the wasm tier counts once: its entry from JS). */
  tbsExecuted: number;
  /** TB entries that followed a chain link (no lookup), as counted by the loop (see {@link tbsExecuted}). */
  chainedExits: number;
  /** Chain links made. */
  chainsLinked: number;
  /** Lookups answered by the jump cache. */
  jumpCacheHits: number;
  /** Lookups answered by the hash table. */
  hashHits: number;
  /** Guest exceptions delivered. */
  exceptions: number;
  /** Interrupts taken. */
  interrupts: number;
  /** TB exits forced by a store into the executing TB's own code. */
  smcExits: number;
  /** TB exits forced by a device access before the TB's last instruction (run again alone). */
  ioExits: number;
}

/** Options of a {@link TcgExecutor}. */
export interface TcgExecutorOptions extends SoftTlbOptions {
  /**
   * The TB cache (share one between the CPUs of a machine so stores by one invalidate code of all). If
   * its backend has a wasm tier and env lies in the tier's memory, this CPU's TLB and control block are
   * placed there too and its hot TBs run in wasm.
   */
  readonly cache: TbCache;
  /** The object passed to helpers as their first argument (`TbRuntime.cpu`); default: the ops object. */
  readonly cpu?: unknown;
}

const JC_BITS = 12;
const JC_SIZE = 1 << JC_BITS;
/** Jump cache slot of a pc (its low word). */
const jcIndex = (lo: number): number => ((lo >>> 1) ^ (lo >>> (JC_BITS + 1))) & (JC_SIZE - 1);
const PAGE_MASK = ~(TARGET_PAGE_SIZE - 1);
const MASK32 = 0xffffffffn;
const CTL_CUR_W = CTL_CUR >> 2, CTL_DONE_W = CTL_DONE >> 2, CTL_STOP_W = CTL_STOP >> 2;
const CTL_LIMIT_W = CTL_LIMIT >> 2;

/** The per-CPU execution engine (QEMU CPUState's TCG part + cpu_exec). */
export class TcgExecutor extends SoftTlb implements TierRuntime, TbCacheClient, CodeWriteHandler {
  readonly cpu: unknown;
  readonly env: ArrayBufferLike;
  readonly envI32: Int32Array;
  readonly envView: DataView;
  readonly cache: TbCache;
  /** Guest instructions executed since creation (exact; see the module comment). */
  icount = 0;
  /**
   * Set whenever a flag the loop must act on at a TB boundary becomes true (halted, exitRequest,
   * interruptRequest, a forced one-instruction TB, a TLB flush, hooks or breakpoints changing), so that
   * the chained fast path tests one field per TB instead of each of them.
   */
  private get stopChain(): boolean { return this.tierCtlI32[CTL_STOP_W] !== 0; }
  private set stopChain(v: boolean) {
    this.tierCtlI32[CTL_STOP_W] = v ? 1 : 0;
    // Seen by a wasm chain after its next call out (the only way JS runs while it does).
    if (v) this.tierCtlI32[CTL_LIMIT_W] = LIMIT_STOP;
  }
  /** The wasm tier this CPU's hot TBs run in, or null (see {@link TcgExecutorOptions.cache}). */
  readonly tier: WasmTier | null;
  /** TierRuntime: env's byte address in the tier memory, -1 when TBs cannot run in wasm here. */
  readonly tierEnv: number;
  /** TierRuntime: the control block (src/tcg/backend/wasm/codegen.ts CTL_*), also the stop flag's home. */
  readonly tierCtl: number;
  readonly tierCtlI32: Int32Array;
  /** TierRuntime: set when a wasm TB was entered from the loop (the chain's end is in the control block). */
  tierEntered = false;
  /** TierRuntime: the icount at which the running `exec` call's budget ends. */
  tierBudgetEnd = 0;
  /** The wasm jump cache (src/tcg/backend/wasm/codegen.ts TIER_JC_*), or null without a tier. */
  private readonly tierJc: Int32Array | null;
  #halted = false;
  #exitRequest = false;
  #interruptRequest = true;

  /** Halted (WFI): no TB runs until `ops.hasWork()` (QEMU cpu->halted). */
  get halted(): boolean { return this.#halted; }
  set halted(v: boolean) { this.#halted = v; if (v) this.stopChain = true; }
  /** Set (e.g. by a device callback) to leave the loop at the next TB boundary (QEMU cpu_exit). */
  get exitRequest(): boolean { return this.#exitRequest; }
  set exitRequest(v: boolean) { this.#exitRequest = v; if (v) this.stopChain = true; }
  /**
   * When true the loop asks `ops.execInterrupt()` at every TB boundary (QEMU cpu->interrupt_request).
   * Default true; a target that keeps it exact (set on IRQ line changes, cleared when nothing is pending)
   * saves that call per TB.
   */
  get interruptRequest(): boolean { return this.#interruptRequest; }
  set interruptRequest(v: boolean) { this.#interruptRequest = v; if (v) this.stopChain = true; }
  /** Breakpoint addresses: execution stops before them; TBs never contain one after their first insn. */
  readonly breakpoints = new Set<bigint>();
  /** The TB entered from the loop, or null between TBs (in a wasm chain the control block knows more). */
  private curTb: TranslationBlock | null = null;
  /** The TB executing now, or null between TBs. */
  get currentTb(): TranslationBlock | null {
    return this.tierEntered ? this.tierTb() : this.curTb;
  }

  /** The TB a wasm chain is in (it names it in the control block at every call out and at its end). */
  private tierTb(): TranslationBlock {
    return this.tier!.owner(this.tierCtlI32[CTL_CUR_W]!) as TranslationBlock;
  }
  readonly execStats: ExecStats = {
    tbsExecuted: 0, chainedExits: 0, chainsLinked: 0, jumpCacheHits: 0, hashHits: 0, exceptions: 0,
    interrupts: 0, smcExits: 0, ioExits: 0,
  };

  private readonly jc: (TranslationBlock | null)[] = new Array<TranslationBlock | null>(JC_SIZE).fill(null);
  private readonly pcWord: number;
  private readonly pc64: boolean;
  private readonly fastState: boolean;
  private sPcLo = 0;
  private sPcHi = 0;
  private sFlags = 0;
  /** cflags of new TBs (CF_HOOKS|1 while instruction hooks are installed). */
  private curCflags = 0;
  /** Forces the next TB to one instruction (after a store into the executing TB, QEMU cflags_next_tb). */
  private oneInsnNext = false;
  /** Set by TLB flushes: a chain link taken from the running TB could follow a stale mapping. */
  private chainBarrier = false;
  private hooks: ExecHooks | null = null;
  private hookInsn: ((pc: bigint) => void) | null = null;
  private hookTb: ((pc: bigint, n: number) => void) | null = null;

  /**
   * The soft TLB and RAM as compiled code may read them directly (the generated-JS backend's inline
   * fast path; layout in tlb.ts). Set in the constructor so every executor has the same shape.
   */
  readonly fastMem: { readonly tlbEntries: Int32Array; readonly tlbBits: number; readonly ramBytes: readonly Uint8Array[] };

  constructor(ops: TcgCpuOps, env: ArrayBufferLike | Int32Array, as: TcgAddressSpace, options: TcgExecutorOptions) {
    // env as views: a CPU may keep env at an offset of a larger (wasm) memory
    const envI32 = env instanceof Int32Array ? env : new Int32Array(env);
    const tier = options.cache.tier;
    const tierEnv = tier !== null && (options.tlbBits ?? tier.layout.tlbBits) === tier.layout.tlbBits
      ? tier.memory.addressOf(envI32) : -1;
    super(ops, as, options.cache.ram, tierEnv >= 0
      ? { ...options, allocateEntries: (words) => tier!.memory.allocateI32(words, 64), allocateAddends: (n) => tier!.memory.allocateI32(n, 64) }
      : options);
    this.tier = tierEnv >= 0 ? tier : null;
    this.tierEnv = tierEnv;
    if (tierEnv >= 0) {
      this.tierCtlI32 = tier!.memory.allocateI32(CTL_SIZE >> 2, 64);
      this.tierCtl = this.tierCtlI32.byteOffset;
      this.tierCtlI32[CTL_TLB >> 2] = tier!.memory.addressOf(this.entries);
      this.tierCtlI32[CTL_ADDEND >> 2] = tier!.memory.addressOf(this.addends!);
      // The wasm jump cache, for TBs ending in lookup_and_goto_ptr (needs the pc's place in env).
      this.tierJc = tier!.memory.allocateI32(TIER_JC_ENTRIES * (TIER_JC_BYTES >> 2), 64);
      tier!.addJumpCache(this.tierJc);
      this.tierCtlI32[CTL_JC >> 2] = this.tierJc.byteOffset;
      const pcOff = ops.pcEnvOffset;
      this.tierCtlI32[CTL_PC_LO >> 2] = pcOff ?? -1;
      this.tierCtlI32[CTL_PC_HI >> 2] = pcOff !== undefined && ops.addrType === 'i64' ? pcOff + 4 : -1;
    } else {
      this.tierCtl = -1;
      this.tierCtlI32 = new Int32Array(CTL_SIZE >> 2);
      this.tierJc = null;
    }
    this.fastMem = { tlbEntries: this.entries, tlbBits: this.tlbBits, ramBytes: this.ram.bytes };
    this.cpu = options.cpu ?? ops;
    this.env = envI32.buffer;
    this.envI32 = envI32;
    this.envView = new DataView(envI32.buffer, envI32.byteOffset, envI32.byteLength);
    this.cache = options.cache;
    this.pc64 = ops.addrType === 'i64';
    this.fastState = ops.pcEnvOffset !== undefined && typeof ops.getTbFlags === 'function';
    this.pcWord = (ops.pcEnvOffset ?? 0) >> 2;
    this.codeWrites = this;
    this.onFlush = () => {
      this.onTbFlush();
      this.chainBarrier = true;
      this.stopChain = true;
    };
    this.cache.addClient(this);
  }

  /** This CPU's soft TLB (the executor is its own TLB). */
  get tlb(): SoftTlb {
    return this;
  }

  /** Instructions executed so far, exact even in the middle of a TB (for devices reading a clock). */
  currentIcount(): number {
    if (this.tierEntered) return this.icount + this.tierCtlI32[CTL_DONE_W]! + this.curInsn;
    return this.icount + (this.curTb !== null ? this.curInsn : 0);
  }

  // ---- hooks ---------------------------------------------------------------------------------------

  /** Installs (or with null removes) execution observers; see {@link ExecHooks}. */
  setHooks(hooks: ExecHooks | null): void {
    const hadMem = this.memHooks !== null;
    this.hooks = hooks;
    this.hookInsn = hooks?.insn ?? null;
    this.hookTb = hooks?.tb ?? null;
    const memRead = hooks?.memRead, memWrite = hooks?.memWrite;
    const sink: MemHookSink | null = memRead || memWrite ? {
      memRead: (a, s, v) => memRead?.(a, s, v),
      memWrite: (a, s, v) => memWrite?.(a, s, v),
    } : null;
    this.memHooks = sink;
    this.curCflags = this.hookInsn !== null ? CF_HOOKS | 1 : 0;
    // A chain running now (hooks set from a helper) must come back to the boundary checks.
    this.stopChain = true;
    // Entries are filled with or without TLB_HOOK: refill them all when that changes.
    if (hadMem !== (sink !== null)) this.flushAll();
  }

  // ---- breakpoints ---------------------------------------------------------------------------------

  /** Stops execution before the instruction at virtual address `pc` (QEMU cpu_breakpoint_insert). */
  addBreakpoint(pc: bigint): void {
    pc = BigInt.asUintN(64, pc);
    if (this.breakpoints.has(pc)) return;
    this.breakpoints.add(pc);
    this.stopChain = true;
    // TBs that contain pc past their start must be retranslated: flush, as QEMU breakpoint_invalidate does.
    this.cache.flush();
  }

  removeBreakpoint(pc: bigint): boolean {
    // TBs split at the address stay correct; no flush needed.
    return this.breakpoints.delete(BigInt.asUintN(64, pc));
  }

  // ---- code cache maintenance ----------------------------------------------------------------------

  /** Forgets all translated code (QEMU tb_flush). Safe to call from a helper inside a TB. */
  tbFlush(): void {
    this.cache.flush();
  }

  /**
   * Invalidates translated code in physical RAM [physAddr, physAddr+len) (QEMU tb_invalidate_phys_range),
   * e.g. after the embedder wrote guest RAM directly.
   */
  invalidateCode(physAddr: bigint, len: number): void {
    let a = physAddr;
    const end = physAddr + BigInt(len);
    while (a < end) {
      const sec = this.as.translate(a);
      if (!sec) { a = (a | BigInt(TARGET_PAGE_SIZE - 1)) + 1n; continue; }
      const secEnd = sec.offsetWithinAddressSpace + sec.size;
      const stop = end < secEnd ? end : secEnd;
      const block = sec.mr.ram;
      if (block) {
        const id = this.cache.ram.peekId(block);
        if (id >= 0) this.cache.invalidateRange(id, Number(sec.offsetWithinRegion + (a - sec.offsetWithinAddressSpace)), Number(stop - a));
      }
      a = stop;
    }
  }

  /** TbCacheClient: TBs were retired under a possibly running chain. */
  stopChains(): void {
    this.stopChain = true;
  }

  /** TbCacheClient: the cache was flushed. */
  onTbFlush(): void {
    this.jc.fill(null);
    this.tierJc?.fill(-1);
  }

  /** CodeWriteHandler: a store is about to write RAM holding translated code (QEMU notdirty_write). */
  beforeCodeWrite(ramId: number, offset: number, len: number): void {
    const cur = this.currentTb;
    if (cur !== null && !cur.invalid && (cur.cflags & CF_COUNT_MASK) !== 1 && this.tbOverlaps(cur, ramId, offset, len)) {
      // The executing TB is modified: drop it, restore the state of the store instruction and re-execute
      // it alone (QEMU tb_invalidate_phys_page_range__locked + cpu_loop_exit_noexc); nothing is written yet.
      this.cache.invalidateRange(ramId, offset, len);
      this.cache.invalidate(cur);
      this.ops.restoreStateToOpc(cur.insnStarts[this.curInsn]!);
      this.oneInsnNext = true;
      this.stopChain = true;
      this.execStats.smcExits++;
      throw new CpuLoopExitNoExc(true, false);
    }
    this.cache.invalidateRange(ramId, offset, len);
  }

  /**
   * CodeWriteHandler: a device access by translated code. As in QEMU's icount mode (accel/tcg
   * cputlb.c io_readx/io_writex → cpu_io_recompile), a device access must be the last instruction of its
   * TB, so that what the device does (a shutdown, an exit request, an interrupt) takes effect at an exact
   * instruction count, the same whatever the TB boundaries are. If it is not, nothing has been accessed
   * yet: restore the state of this instruction and run it again as a TB of its own.
   */
  beforeIo(): void {
    const cur = this.currentTb;
    if (cur === null || this.curInsn >= cur.nbInsns - 1) return;
    // TBs at this pc end at the access from now on (a polling loop pays this once, not at every access).
    if ((cur.cflags & CF_COUNT_MASK) === 0) this.cache.endTbAtIo(cur, this.curInsn);
    this.ops.restoreStateToOpc(cur.insnStarts[this.curInsn]!);
    this.oneInsnNext = true;
    this.stopChain = true;
    this.execStats.ioExits++;
    throw IO_EXIT;
  }

  /** CodeWriteHandler. */
  pageHasCode(key: number): boolean {
    return this.cache.pageHasCode(key);
  }

  private tbOverlaps(tb: TranslationBlock, ramId: number, offset: number, len: number): boolean {
    const end = offset + len;
    for (let p = offset - (offset & (TARGET_PAGE_SIZE - 1)); p < end; p += TARGET_PAGE_SIZE) {
      const key = ramPageKey(ramId, p);
      if (tb.overlapsPage(key, Math.max(offset, p) - p, Math.min(end, p + TARGET_PAGE_SIZE) - p)) return true;
    }
    return false;
  }

  // ---- lookup (QEMU tb_lookup) ---------------------------------------------------------------------

  private readState(): void {
    if (this.fastState) {
      this.sPcLo = this.envI32[this.pcWord]!;
      this.sPcHi = this.pc64 ? this.envI32[this.pcWord + 1]! : 0;
      this.sFlags = this.ops.getTbFlags!();
    } else {
      const s = this.ops.getTbState();
      const pc = BigInt.asUintN(64, s.pc);
      this.sPcLo = Number(pc & MASK32) | 0;
      this.sPcHi = Number(pc >> 32n) | 0;
      this.sFlags = s.flags;
    }
  }

  private readonly page1Of = (tb: TranslationBlock): number => {
    const next = BigInt.asUintN(64, (tb.pc & ~BigInt(TARGET_PAGE_SIZE - 1)) + BigInt(TARGET_PAGE_SIZE));
    const e = this.codeEntry(Number(next & MASK32) | 0, Number(next >> 32n) | 0, this.ops.mmuIndexForFetch(), true);
    if (e < 0 || !this.codeIsRam(e)) return -1;
    return ramPageKey(this.entries[e + TLB_RAM_ID]!, this.entries[e + TLB_RAM_OFFSET]! >>> 0);
  };

  /** Finds or translates the TB for the current state (sPc*, sFlags) with `cflags`. May throw CpuLoopExit. */
  private findTb(cflags: number): TranslationBlock {
    const hit = this.jumpCacheHit(cflags);
    if (hit !== null) return hit;
    const lo = this.sPcLo, hi = this.sPcHi, flags = this.sFlags;
    const mmuIdx = this.ops.mmuIndexForFetch();
    const e = this.codeEntry(lo, hi, mmuIdx, false);
    let tb: TranslationBlock | null = null;
    if (this.codeIsRam(e)) {
      const page0 = ramPageKey(this.entries[e + TLB_RAM_ID]!, this.entries[e + TLB_RAM_OFFSET]! >>> 0);
      tb = this.cache.lookup(lo, hi, flags, cflags, page0, this.page1Of);
      if (tb !== null) this.execStats.hashHits++;
    }
    if (tb === null) {
      tb = this.cache.generate(this.ops, this, joinAddr(lo, hi), flags, cflags, this.breakpoints.size > 0 ? this.breakpoints : null);
    }
    if ((tb.cflags & CF_NOCACHE) === 0) {
      this.jc[jcIndex(lo)] = tb;
      if (this.tierJc !== null) this.tierJcInsert(tb);
    }
    return tb;
  }

  /** Enters a wasm tier TB in the wasm jump cache, so wasm TBs find it without the loop. */
  private tierJcInsert(tb: TranslationBlock): void {
    const id = (tb.code as Partial<TierCode>).tierId;
    if (id === undefined || tb.cflags !== 0) return;
    const jc = this.tierJc!;
    const w = tierJcIndex(tb.pcLo) * (TIER_JC_BYTES >> 2);
    jc[w] = tb.pcLo;
    jc[w + 1] = tb.pcHi;
    jc[w + 2] = tb.flags;
    jc[w + 3] = this.tier!.entryIndex(id);
  }

  /** The jump cache's TB for the state read (sPc*, sFlags) with `cflags`, or null (no hash, no translation). */
  private jumpCacheHit(cflags: number): TranslationBlock | null {
    const lo = this.sPcLo;
    const tb = this.jc[jcIndex(lo)]!;
    if (tb !== null && tb.pcLo === lo && tb.pcHi === this.sPcHi && tb.flags === this.sFlags && tb.cflags === cflags
        && !tb.invalid) {
      this.execStats.jumpCacheHits++;
      return tb;
    }
    return null;
  }

  /** QEMU's chaining rules: same virtual page as the source TB, never into a two-page TB, same cflags. */
  private maybeLink(src: TranslationBlock, slot: 0 | 1, dst: TranslationBlock): void {
    if (src.jmpDest(slot) === null && !src.invalid && !dst.invalid && dst.page1 === -1 && src.cflags === dst.cflags
        && ((src.cflags | dst.cflags) & CF_NOCACHE) === 0 && src.pcHi === dst.pcHi && ((src.pcLo ^ dst.pcLo) & PAGE_MASK) === 0) {
      this.cache.link(src, slot, dst);
      this.execStats.chainsLinked++;
    }
  }

  // ---- the loop (QEMU cpu_exec) ----------------------------------------------------------------------

  /** Runs guest code until `maxInsns` instructions ran or another stop reason (see {@link ExecStopReason}). */
  exec(maxInsns: number, options: ExecOptions = {}): ExecResult {
    const start = this.icount;
    let budget = maxInsns;
    let last: TranslationBlock | null = null;
    let lastSlot: 0 | 1 = 0;
    let first = true;
    let stall = 0;
    const until = options.until;
    const ops = this.ops;
    for (;;) {
      // -- TB boundary: halt, exit request, interrupts, budget (QEMU cpu_handle_halt/interrupt) --
      if (this.halted) {
        if (!ops.hasWork()) return { reason: 'halt', instructions: this.icount - start };
        this.halted = false;
      }
      if (this.exitRequest) {
        this.exitRequest = false;
        return { reason: 'exit-request', instructions: this.icount - start };
      }
      if (this.interruptRequest && !this.oneInsnNext && ops.execInterrupt()) {
        last = null;
        this.execStats.interrupts++;
        this.hooks?.interrupt?.();
        if (this.halted) continue;
      }
      if (budget <= 0) return { reason: 'budget', instructions: this.icount - start };
      if (until !== undefined && until()) return { reason: 'until', instructions: this.icount - start };

      // -- find the TB: chain link, jump cache, hash table, or translate --
      let tb: TranslationBlock | null = null;
      if (last !== null && !this.oneInsnNext) {
        const d: TranslationBlock | null = last.jmpDest(lastSlot);
        if (d !== null && d.cflags === this.curCflags) {
          tb = d;
          this.execStats.chainedExits++;
        }
      }
      try {
        const skipBp = first && options.skipBreakpointAtStart === true;
        if (tb === null) {
          this.readState();
          // Breakpoints are checked before lookup (QEMU check_for_breakpoints), so a breakpoint on an
          // instruction whose fetch faults still stops.
          if (this.breakpoints.size !== 0 && !skipBp && this.breakpoints.has(joinAddr(this.sPcLo, this.sPcHi))) {
            return { reason: 'breakpoint', instructions: this.icount - start };
          }
          if (this.oneInsnNext) {
            this.oneInsnNext = false;
            tb = this.findTb((this.curCflags & ~CF_COUNT_MASK) | 1);
          } else {
            tb = this.findTb(this.curCflags);
            if (last !== null) this.maybeLink(last, lastSlot, tb);
          }
        } else if (this.breakpoints.size !== 0 && !skipBp && this.breakpoints.has(tb.pc)) {
          return { reason: 'breakpoint', instructions: this.icount - start };
        }
        if (tb.nbInsns > budget) {
          // Stop exactly at the budget: a TB limited to the remaining instructions (QEMU CF_COUNT_MASK).
          this.sPcLo = tb.pcLo; this.sPcHi = tb.pcHi; this.sFlags = tb.flags;
          tb = this.findTb((tb.cflags & ~(CF_COUNT_MASK | CF_NOCACHE)) | Math.min(budget, CF_COUNT_MASK));
        }
      } catch (e) {
        // A fetch fault on the first instruction (translation or lookup): pc is already exact.
        if (!(e instanceof CpuLoopExit)) throw e;
        this.deliver(e);
        last = null;
        first = false;
        if (++stall >= MAX_EXCEPTIONS_WITHOUT_PROGRESS) return { reason: 'stalled', instructions: this.icount - start };
        continue;
      }
      first = false;

      // -- run it (QEMU cpu_tb_exec), then follow chain links in a tight loop while nothing at the TB
      // boundary needs the full checks above (no hooks, breakpoints, `until`, pending exit/halt) --
      // Hooks see the TB they are about to run as `currentTb` (tracing reads it).
      this.curTb = tb;
      if (this.hookTb !== null) this.hookTb(tb.pc, tb.nbInsns);
      if (this.hookInsn !== null) this.hookInsn(tb.pc);
      // Chained fast path: follow links while `stopChain` stays false. Everything the boundary code above
      // acts on either cannot change inside a TB (`until`) or sets `stopChain` when it does (interrupt
      // and exit requests, halt, TLB flushes, hooks and breakpoints changing, a one-instruction TB), so
      // each TB costs one flag test here instead of a dozen (interruptRequest is exact on targets that
      // maintain it, so it is usually false). Chained TBs share cflags (maybeLink's rule).
      this.stopChain = until !== undefined || this.breakpoints.size !== 0 || this.hookTb !== null || this.hookInsn !== null
        || this.#interruptRequest || this.#halted || this.#exitRequest || this.oneInsnNext;
      let runs = 0;
      const ctl = this.tierCtlI32;
      // A wasm TB entered below chains only to TBs that fit in what is left of the budget: it computes
      // that from here (budget and icount change together), so no TB pays a store for it.
      this.tierBudgetEnd = this.icount + budget;
      try {
        for (;;) {
          this.curTb = tb;
          this.curInsn = 0;
          this.chainBarrier = false;
          runs++;
          const exit = tb.code(this);
          let n = tb.nbInsns;
          if (this.tierEntered) {
            // The chain ran in wasm: it ended in the TB named by the control block.
            this.tierEntered = false;
            n = ctl[CTL_DONE_W]!;
            tb = this.tierTb();
            this.curTb = tb;
          }
          this.icount += n;
          budget -= n;
          // (stopChain read straight from its word: the accessor showed in profiles)
          if (exit === EXIT_LOOKUP && ctl[CTL_STOP_W] === 0) {
            // An indirect or cross-page jump: look the target up in the jump cache here and go on, as
            // QEMU's lookup_and_goto_ptr does inside generated code (helper_lookup_tb_ptr); on a miss
            // the boundary code above does the full lookup or translates.
            last = null;
            this.readState();
            const d = this.jumpCacheHit(this.curCflags);
            if (d === null || d.nbInsns > budget) break;
            if (this.tierJc !== null) this.tierJcInsert(d);
            tb = d;
            continue;
          }
          if ((exit !== 1 && exit !== 2) || tb.invalid || this.chainBarrier) {
            last = null;
            break;
          }
          last = tb;
          lastSlot = (exit - 1) as 0 | 1;
          if (ctl[CTL_STOP_W] !== 0) break;
          const d: TranslationBlock | null = exit === 1 ? tb.jmpDest0 : tb.jmpDest1;
          if (d === null || d.nbInsns > budget) break;
          tb = d;
        }
      } catch (e) {
        if (this.tierEntered) {
          // Thrown inside a wasm chain: completed TBs are counted in the control block.
          this.tierEntered = false;
          const d = ctl[CTL_DONE_W]!;
          this.icount += d;
          budget -= d;
          tb = this.tierTb();
        }
        this.curTb = null;
        this.execStats.tbsExecuted += runs;
        this.execStats.chainedExits += runs - 1;
        if (!(e instanceof CpuLoopExit)) throw e;
        const done = this.curInsn + (e instanceof CpuLoopExitNoExc && e.completed ? 1 : 0);
        this.icount += done;
        budget -= done;
        if (!e.restored) ops.restoreStateToOpc(tb.insnStarts[this.curInsn]!);
        this.deliver(e);
        last = null;
        stall = done > 0 || runs > 1 ? 0 : stall + 1;
        if (stall >= MAX_EXCEPTIONS_WITHOUT_PROGRESS) return { reason: 'stalled', instructions: this.icount - start };
        continue;
      }
      this.curTb = null;
      this.execStats.tbsExecuted += runs;
      this.execStats.chainedExits += runs - 1;
      stall = 0;
    }
  }

  /** Delivers the exception recorded by the target (QEMU cpu_handle_exception), unless a no-exception exit. */
  private deliver(e: CpuLoopExit): void {
    if (e instanceof CpuLoopExitNoExc) return;
    this.execStats.exceptions++;
    if (this.hooks?.exception) this.hooks.exception(BigInt.asUintN(64, this.ops.getTbState().pc));
    this.ops.doInterrupt();
  }

  /** Statistics of this CPU, its TLB and its (possibly shared) TB cache. */
  getStats(): ExecStats & TbCacheStats & { tlb: TlbStats } {
    return { ...this.execStats, ...this.cache.stats, tlb: { ...this.tlbStats } };
  }
}

/** Runs `exec` for up to `maxInsns` instructions (the brief's functional entry point). */
export function cpuExec(exec: TcgExecutor, options: { maxInsns: number } & ExecOptions): ExecResult {
  return exec.exec(options.maxInsns, options);
}

// ---- helpers frontends can call from translated code ------------------------------------------------

/** A CPU object (the `TbRuntime.cpu` passed to helpers) that gives access to its executor. */
export interface TcgCpuLike {
  readonly tcg: TcgExecutor;
}

/**
 * `fence.i` and similar instruction-cache maintenance. Stores (from the CPU, the slow path and DMA through
 * the address space) already invalidate the code they overwrite, so, as in QEMU (riscv trans_fence_i),
 * nothing needs flushing: the frontend only has to end the TB after it. Provided so frontends have one
 * call site should that change.
 */
export const helperIcacheSync: HelperInfo = {
  name: 'icache_sync', fn: () => undefined, args: [], flags: 0,
};

/** Flushes all translated code (QEMU tb_flush) from translated code; the frontend must end the TB after it. */
export const helperTbFlush: HelperInfo = {
  name: 'tb_flush', fn: (cpu: TcgCpuLike) => { cpu.tcg.tbFlush(); }, args: [], flags: 0,
};
