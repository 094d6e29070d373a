/**
 * Translation blocks: generation, the physical hash table, per-page code tracking, chaining links and
 * invalidation (QEMU accel/tcg/translate-all.c tb_gen_code, accel/tcg/tb-maint.c, accel/tcg/translator.c).
 *
 * TBs are keyed by (virtual pc, flags, cflags, RAM page of pc): the RAM page is a number naming a 4 KiB
 * page of a RAM block (QEMU keys TBs by ram_addr_t), so one RAM page mapped at several physical or
 * virtual addresses is tracked once. A {@link TbCache} may be shared by all CPUs of a machine: a store
 * by one CPU invalidates the code of all.
 */
import { optimizeIr } from '../../tcg/optimize.js';
import type { IrFunction } from '../../tcg/context.js';
import { TcgContext } from '../../tcg/context.js';
import type { Backend, CompileHooks, CompiledTb } from '../../tcg/backend/backend.js';
import { isTierCode, type TierCode, type WasmTier } from '../../tcg/backend/wasm/tier.js';
import { TARGET_PAGE_SIZE, type TcgCpuOps } from './tcg-cpu-ops.js';
import {
  joinAddr, pageKeyOffset, pageKeyRamId, RamTable, ramPageKey, TLB_ENTRY_WORDS, TLB_RAM_ID, TLB_RAM_OFFSET, type SoftTlb, type TcgRamBlock,
} from './tlb.js';

/** cflags: instruction count limit of the TB (0 = the cache's default; QEMU CF_COUNT_MASK). */
export const CF_COUNT_MASK = 0xffff;
/** cflags: translated while hooks were installed (instruction hooks force one instruction per TB). */
export const CF_HOOKS = 1 << 16;
/** cflags: not in the hash table (code fetched from a device, not RAM). */
export const CF_NOCACHE = 1 << 17;

const PAGE_OFFSET_MASK = TARGET_PAGE_SIZE - 1;
const MASK32 = 0xffffffffn;

/** One translated block of guest code (QEMU TranslationBlock). */
export class TranslationBlock {
  /** Virtual pc of the first instruction, as int32 halves for the hot path. */
  readonly pcLo: number;
  readonly pcHi: number;
  /**
   * Chain slots: the TB that `goto_tb n` + `exit_tb n+1` continues to, once known (QEMU jmp_dest).
   * Two fields rather than an array: the execution loop reads one per TB, and the indirection showed.
   */
  jmpDest0: TranslationBlock | null = null;
  jmpDest1: TranslationBlock | null = null;

  /** Chain slot `slot`'s destination. */
  jmpDest(slot: 0 | 1 | number): TranslationBlock | null {
    return slot === 0 ? this.jmpDest0 : this.jmpDest1;
  }

  /** Sets chain slot `slot`. */
  setJmpDest(slot: 0 | 1 | number, tb: TranslationBlock | null): void {
    if (slot === 0) this.jmpDest0 = tb; else this.jmpDest1 = tb;
  }
  /** TBs whose chain slots point here (QEMU jmp_list_head), unlinked when this TB is invalidated. */
  jmpIncoming: TranslationBlock[] = [];
  /** Set once the TB was invalidated or flushed: never run it again, never chain to it. */
  invalid = false;
  /** Next TB in the same hash bucket. */
  hashNext: TranslationBlock | null = null;

  constructor(
    /** Virtual pc of the first instruction. */
    readonly pc: bigint,
    /** Target TB flags (TbState.flags). */
    readonly flags: number,
    /** Compile flags (CF_*). */
    readonly cflags: number,
    /** Physical address of the first instruction. */
    readonly physPc: bigint,
    /** RAM page key of the first page, -1 for code not in RAM (then the TB is not cached). */
    readonly page0: number,
    /** RAM page key of the second page, -1 if the TB stays on one page. */
    readonly page1: number,
    /** Bytes of guest code covered, from pc. */
    readonly size: number,
    /** Number of guest instructions. */
    readonly nbInsns: number,
    /** The compiled code (a tiering backend may replace it once, through `CompileHooks.replace`). */
    public code: CompiledTb,
    /** The `insn_start` words of each instruction ([pcLo, pcHi, ...extra]) for state restore. */
    readonly insnStarts: readonly (readonly number[])[],
  ) {
    this.pcLo = Number(pc & MASK32) | 0;
    this.pcHi = Number(pc >> 32n) | 0;
  }

  /** Offset of pc in its page. */
  get pageOffset(): number {
    return this.pcLo & PAGE_OFFSET_MASK;
  }

  /** True if the TB's bytes on RAM page `key` overlap [start, end) (offsets within that page). */
  overlapsPage(key: number, start: number, end: number): boolean {
    const off = this.pageOffset;
    if (key === this.page0 && start < Math.min(TARGET_PAGE_SIZE, off + this.size) && end > off) return true;
    return key === this.page1 && start < off + this.size - TARGET_PAGE_SIZE && end > 0;
  }
}

/** Options of a TB cache. */
export interface TbCacheOptions {
  /** Turns optimized IR into host code. */
  readonly backend: Backend;
  /** IR optimization pass run before the backend (default: none). */
  /** IR optimizer (default: {@link optimizeIr}, QEMU's tcg/optimize.c + liveness); `null` turns it off. */
  readonly optimize?: ((fn: IrFunction) => IrFunction) | null | undefined;
  /** Code cache limit in TBs; reaching it flushes everything, as QEMU does when its buffer is full. */
  readonly maxTbs?: number | undefined;
  /** Maximum guest instructions per TB (QEMU TCG_MAX_INSNS = 512). */
  readonly maxInsnsPerTb?: number | undefined;
}

/** Statistics of a TB cache. */
export interface TbCacheStats {
  /** TBs generated (translated and compiled). */
  tbsTranslated: number;
  /** Guest instructions translated. */
  insnsTranslated: number;
  /** TBs currently cached. */
  tbCacheSize: number;
  /** TBs invalidated because their code was written (or explicitly). */
  invalidations: number;
  /** Full flushes (explicit, or because the cache was full). */
  flushes: number;
  /** Translations restarted shorter (a later instruction's fetch faults, or a breakpoint inside). */
  retranslations: number;
}

/** Thrown inside translation to restart it with fewer instructions (QEMU's jmp_trans restart). */
class RetranslateShorter {
  constructor(readonly maxInsns: number) {}
}

/** Most remembered device-access TB limits (see TbCache.endTbAtIo). */
const IO_LIMITS_MAX = 4096;
/** Key of a TB start in TbCache's device-access limits. */
const ioLimitKey = (pcLo: number, pcHi: number, flags: number): string => `${pcLo}:${pcHi}:${flags}`;

/** Anything that holds TB references and must forget them on a flush (a CPU's jump cache). */
export interface TbCacheClient {
  readonly tlb: SoftTlb;
  onTbFlush(): void;
  /** Stop following chain links at the next TB boundary (TBs were retired under a running chain). */
  stopChains?(): void;
}

/**
 * The translated code of one machine: hash table, page tracking, invalidation, flush
 * (QEMU tb_ctx + the page descriptors of tb-maint.c).
 */
export class TbCache {
  readonly ram = new RamTable();
  readonly stats: TbCacheStats = {
    tbsTranslated: 0, insnsTranslated: 0, tbCacheSize: 0, invalidations: 0, flushes: 0, retranslations: 0,
  };
  readonly backend: Backend;
  /** The backend's wasm tier, if any (see {@link TierCode}). */
  readonly tier: WasmTier | null;
  readonly maxTbs: number;
  readonly maxInsnsPerTb: number;
  private readonly optimize: (fn: IrFunction) => IrFunction;
  private readonly hash = new Map<number, TranslationBlock>();
  /** RAM page key → TBs with code on it. A page is a code page iff it has an entry. */
  private readonly pages = new Map<number, TranslationBlock[]>();
  private readonly clients = new Set<TbCacheClient>();
  private readonly watched = new WeakSet<object>();
  /**
   * TBs that must end at a device access: `pcLo:pcHi:flags` → instructions (QEMU's CF_LAST_IO TBs,
   * remembered so that a polling loop is split once instead of at every access; see
   * TcgExecutor.beforeIo). Bounded: cleared when it grows past {@link IO_LIMITS_MAX}.
   */
  private readonly ioLimits = new Map<string, number>();

  constructor(options: TbCacheOptions) {
    this.backend = options.backend;
    this.optimize = options.optimize === null ? (fn) => fn : options.optimize ?? optimizeIr;
    this.maxTbs = options.maxTbs ?? 1 << 16;
    this.maxInsnsPerTb = Math.min(CF_COUNT_MASK, options.maxInsnsPerTb ?? 512);
    this.tier = options.backend.wasmTier ?? null;
    const tier = this.tier;
    // Translated wasm code reaches RAM through the TLB's addends: where each block is in the tier memory.
    if (tier !== null) {
      this.ram.onRegister = (id, bytes) => { this.ram.hostAddress[id] = tier.memory.addressOf(bytes); };
      tier.maxTbInsns = this.maxInsnsPerTb;
      tier.graph = {
        chain: (o, slot) => (o as TranslationBlock).jmpDest(slot),
        incoming: (o) => (o as TranslationBlock).jmpIncoming,
        flags: (o) => (o as TranslationBlock).flags,
        adopt: (o, code) => {
          const tb = o as TranslationBlock;
          tb.code = code;
          if (isTierCode(code)) this.adoptTierTb(tb, code);
        },
      };
    }
  }

  /** Registers a CPU (its TLB gets code-page protection, its jump cache hears flushes). */
  addClient(client: TbCacheClient): void {
    this.clients.add(client);
  }

  removeClient(client: TbCacheClient): void {
    this.clients.delete(client);
  }

  /**
   * Makes DMA and other bus writes to RAM invalidate translated code: installs (chaining any previous
   * one) the address space's `onRamWrite` hook (QEMU invalidate_and_set_dirty).
   */
  watchRamWrites(as: object): void {
    if (this.watched.has(as)) return;
    this.watched.add(as);
    const target = as as { onRamWrite?: ((block: TcgRamBlock, offset: number, len: number) => void) | undefined };
    const prev = target.onRamWrite;
    target.onRamWrite = (block, offset, len) => {
      prev?.(block, offset, len);
      const id = this.ram.peekId(block);
      if (id >= 0) this.invalidateRange(id, Number(offset), Number(len));
    };
  }

  /** True if RAM page `key` holds translated code. */
  pageHasCode(key: number): boolean {
    return this.pages.has(key);
  }

  // ---- lookup --------------------------------------------------------------------------------------

  private static hashOf(pcLo: number, pcHi: number, flags: number, cflags: number, page0: number): number {
    let h = Math.imul(pcLo ^ Math.imul(pcHi, 0x85ebca6b), 0x9e3779b1);
    h ^= Math.imul(flags ^ (cflags << 7), 0xc2b2ae35);
    h ^= Math.imul(page0 | 0, 0x27d4eb2f);
    return h ^ (h >>> 15);
  }

  /**
   * Finds a valid TB (QEMU tb_htable_lookup). `page1Of(tb)` gives the current RAM page key of the
   * virtual page after the TB's first page (-1 if unmapped); it is only called for two-page TBs, whose
   * second page must still map to the same RAM.
   */
  lookup(pcLo: number, pcHi: number, flags: number, cflags: number, page0: number,
    page1Of: (tb: TranslationBlock) => number): TranslationBlock | null {
    for (let tb = this.hash.get(TbCache.hashOf(pcLo, pcHi, flags, cflags, page0)) ?? null; tb !== null; tb = tb.hashNext) {
      if (tb.pcLo === pcLo && tb.pcHi === pcHi && tb.flags === flags && tb.cflags === cflags && tb.page0 === page0
          && (tb.page1 === -1 || page1Of(tb) === tb.page1)) return tb;
    }
    return null;
  }

  // ---- generation (QEMU tb_gen_code + translator_loop) --------------------------------------------

  /**
   * Translates and compiles the TB at `pc`, and inserts it unless it is uncacheable. Throws
   * `CpuLoopExit` if fetching the first instruction faults (the target recorded the exception).
   * `breakpoints`: addresses that must start a TB (a TB never contains one after its first instruction).
   */
  generate(ops: TcgCpuOps, tlb: SoftTlb, pc: bigint, flags: number, cflags: number,
    breakpoints: ReadonlySet<bigint> | null): TranslationBlock {
    const pcLo = Number(pc & MASK32) | 0, pcHi = Number(pc >> 32n) | 0;
    const mmuIdx = ops.mmuIndexForFetch();
    const e0 = tlb.codeEntry(pcLo, pcHi, mmuIdx, false);
    let maxInsns = (cflags & CF_COUNT_MASK)
      || (this.ioLimits.size !== 0 ? this.ioLimits.get(ioLimitKey(pcLo, pcHi, flags)) : undefined) || this.maxInsnsPerTb;
    if (!tlb.codeIsRam(e0)) {
      // Executing from a device: one instruction, not cached (QEMU 7.2 tb_gen_code with phys_pc == -1).
      cflags = (cflags & ~CF_COUNT_MASK) | CF_NOCACHE | 1;
      maxInsns = 1;
    }
    for (;;) {
      try {
        const tb = this.translateOnce(ops, tlb, pc, pcLo, pcHi, flags, cflags, maxInsns, mmuIdx, breakpoints);
        if (tb.page0 !== -1 && (tb.cflags & CF_NOCACHE) === 0) this.insert(tb);
        return tb;
      } catch (e) {
        if (!(e instanceof RetranslateShorter)) throw e;
        this.stats.retranslations++;
        maxInsns = e.maxInsns;
      }
    }
  }

  private translateOnce(ops: TcgCpuOps, tlb: SoftTlb, pc: bigint, pcLo: number, pcHi: number, flags: number,
    cflags: number, maxInsns: number, mmuIdx: number, breakpoints: ReadonlySet<bigint> | null): TranslationBlock {
    // Entries are re-resolved at each fetch (a tiny TLB may evict one page's entry when filling the
    // other); what the TB records about its pages is captured at the first resolution.
    const e0 = tlb.codeEntry(pcLo, pcHi, mmuIdx, false);
    const ram0 = tlb.codeIsRam(e0);
    const key0 = ram0 ? ramPageKey(tlb.entries[e0 + TLB_RAM_ID]!, tlb.entries[e0 + TLB_RAM_OFFSET]! >>> 0) : -1;
    const phys0 = tlb.physPages[e0 / TLB_ENTRY_WORDS]!;
    const pageVa = pc & ~BigInt(PAGE_OFFSET_MASK);
    const nextVa = BigInt.asUintN(64, pageVa + BigInt(TARGET_PAGE_SIZE));
    const nLo = Number(nextVa & MASK32) | 0, nHi = Number(nextVa >> 32n) | 0;
    let state1 = 0; // 0: second page not resolved yet, 1: fetchable, -1: not fetchable
    let key1 = -1;
    let maxEnd = 0;
    let uncacheable = (cflags & CF_NOCACHE) !== 0;
    const ctx = new TcgContext(ops.globals, ops.addrType);
    const insnsStarted = (): number => {
      let n = 0;
      for (const op of ctx.ops) if (op.opc === 'insn_start') n++;
      return n;
    };

    const fetchPiece = (vaddr: bigint, size: 1 | 2 | 4, probe: boolean): number => {
      const page = vaddr & ~BigInt(PAGE_OFFSET_MASK);
      let e: number;
      if (page === pageVa) {
        e = tlb.codeEntry(pcLo, pcHi, mmuIdx, false);
      } else if (page === nextVa) {
        if (state1 === 0) {
          const e1 = tlb.codeEntry(nLo, nHi, mmuIdx, true);
          state1 = e1 < 0 ? -1 : 1;
          if (e1 >= 0 && tlb.codeIsRam(e1)) key1 = ramPageKey(tlb.entries[e1 + TLB_RAM_ID]!, tlb.entries[e1 + TLB_RAM_OFFSET]! >>> 0);
        }
        if (state1 < 0) {
          if (probe) return -1;
          const n = insnsStarted();
          if (n > 1) throw new RetranslateShorter(n - 1);
          tlb.codeEntry(nLo, nHi, mmuIdx, false); // raises the guest's fetch fault
          throw new Error(`tlbFill for fetch at 0x${nextVa.toString(16)} failed without raising a fault`);
        }
        if (ram0 && key1 < 0) {
          // RAM code continuing into a device: only the first instruction may do that, uncached.
          if (probe) return -1;
          const n = insnsStarted();
          if (n > 1) throw new RetranslateShorter(n - 1);
          uncacheable = true;
        }
        e = tlb.codeEntry(nLo, nHi, mmuIdx, false);
      } else {
        if (probe) return -1;
        const n = insnsStarted();
        if (n > 1) throw new RetranslateShorter(n - 1);
        throw new Error(`translator fetched 0x${vaddr.toString(16)}, more than two pages from TB pc 0x${pc.toString(16)}`);
      }
      const end = Number(BigInt.asUintN(64, vaddr - pc)) + size;
      if (end > maxEnd) maxEnd = end;
      return tlb.readCode(e, Number(vaddr & BigInt(PAGE_OFFSET_MASK)), size, vaddr);
    };
    const fetch = (vaddr: bigint, size: 2 | 4, probe: boolean): number => {
      vaddr = BigInt.asUintN(64, vaddr);
      if ((Number(vaddr & BigInt(PAGE_OFFSET_MASK)) + size) <= TARGET_PAGE_SIZE) return fetchPiece(vaddr, size, probe);
      let v = 0;
      for (let k = 0; k < size; k++) {
        const b = fetchPiece(BigInt.asUintN(64, vaddr + BigInt(k)), 1, probe);
        if (b < 0) return -1;
        v |= b << (8 * k);
      }
      return v >>> 0;
    };

    const res = ops.translate(ctx, {
      pc, flags, maxInsns,
      fetch16: (vaddr, probe = false) => fetch(vaddr, 2, probe),
      fetch32: (vaddr, probe = false) => fetch(vaddr, 4, probe),
    });
    const fn = ctx.finish();
    const insnStarts: number[][] = [];
    for (const op of fn.ops) if (op.opc === 'insn_start') insnStarts.push([...op.c]);
    if (insnStarts.length === 0) throw new Error(`translation of TB at 0x${pc.toString(16)} produced no instruction`);
    if (breakpoints !== null && breakpoints.size > 0) {
      for (let k = 1; k < insnStarts.length; k++) {
        const w = insnStarts[k]!;
        if (breakpoints.has(joinAddr(w[0]!, w[1]!))) throw new RetranslateShorter(k);
      }
    }
    const size = Math.max(res.size, maxEnd, 1);
    const pageOff = pcLo & PAGE_OFFSET_MASK;
    let page0 = -1, page1 = -1;
    if (ram0 && !uncacheable) {
      page0 = key0;
      if (pageOff + size > TARGET_PAGE_SIZE) page1 = key1;
    }
    const physPc = phys0 + BigInt(pageOff);
    const lazy = this.backend.optimizesLazily === true;
    const hooks = this.compileHooks(ops);
    const code = this.backend.compile(lazy ? fn : this.optimize(fn), hooks);
    this.stats.tbsTranslated++;
    this.stats.insnsTranslated += insnStarts.length;
    const made = new TranslationBlock(pc, flags, uncacheable ? cflags | CF_NOCACHE : cflags, physPc, page0, page1, size,
      insnStarts.length, code, insnStarts);
    hooks.tb = made;
    return made;
  }

  /**
   * The hooks a backend gets for one TB (made outside translateOnce on purpose: closures made there would
   * keep its whole scope alive, the TcgContext and its IR included, for as long as the backend keeps the
   * hooks, which is the life of every cold TB).
   */
  private compileHooks(ops: TcgCpuOps): CompileHooks & { tb: TranslationBlock | null } {
    const hooks = {
      retranslate: (): IrFunction | null => (hooks.tb !== null ? this.retranslate(hooks.tb, ops) : null),
      tb: null as TranslationBlock | null,
      replace: (c: CompiledTb): void => {
        const made = hooks.tb;
        if (made === null) return;
        made.code = c;
        if (this.tier !== null && isTierCode(c)) this.adoptTierTb(made, c);
      },
      owner: (): unknown => hooks.tb,
      chain: (slot: number): unknown => hooks.tb?.jmpDest(slot) ?? null,
      optimize: this.optimize,
    };
    return hooks;
  }

  /**
   * `tb`'s IR translated again from its RAM pages (no TLB: the pages it recorded), with its pc, flags and
   * instruction count. Null when the TB is not in RAM or invalid, or when the translation fetches outside
   * the TB's bytes or comes out of another length (it cannot, for a deterministic frontend).
   */
  retranslate(tb: TranslationBlock, ops: TcgCpuOps): IrFunction | null {
    if (tb.invalid || tb.page0 < 0) return null;
    const pageOff = tb.pcLo & PAGE_OFFSET_MASK;
    const outside = new Error('retranslate: fetch outside the TB');
    const fetch = (vaddr: bigint, size: 2 | 4, probe: boolean): number => {
      const d = Number(BigInt.asUintN(64, vaddr - tb.pc));
      if (d + size > tb.size) {
        if (probe) return -1;
        throw outside;
      }
      let v = 0;
      for (let k = 0; k < size; k++) {
        const o = pageOff + d + k;
        const key = o < TARGET_PAGE_SIZE ? tb.page0 : tb.page1;
        if (key < 0) throw outside;
        const bytes = this.ram.bytes[pageKeyRamId(key)]!;
        v |= bytes[pageKeyOffset(key) + (o & PAGE_OFFSET_MASK)]! << (8 * k);
      }
      return v >>> 0;
    };
    const ctx = new TcgContext(ops.globals, ops.addrType);
    try {
      ops.translate(ctx, {
        pc: tb.pc, flags: tb.flags, maxInsns: tb.nbInsns,
        fetch16: (vaddr, probe = false) => fetch(vaddr, 2, probe),
        fetch32: (vaddr, probe = false) => fetch(vaddr, 4, probe),
      });
    } catch (e) {
      if (e === outside) return null;
      throw e;
    }
    const fn = ctx.finish();
    return fn.nbInsns === tb.nbInsns ? fn : null;
  }

  // ---- insertion, invalidation, flush --------------------------------------------------------------

  private insert(tb: TranslationBlock): void {
    if (this.stats.tbCacheSize >= this.maxTbs) this.flush();
    const h = TbCache.hashOf(tb.pcLo, tb.pcHi, tb.flags, tb.cflags, tb.page0);
    tb.hashNext = this.hash.get(h) ?? null;
    this.hash.set(h, tb);
    this.addToPage(tb.page0, tb);
    if (tb.page1 !== -1 && tb.page1 !== tb.page0) this.addToPage(tb.page1, tb);
    this.stats.tbCacheSize++;
  }

  private addToPage(key: number, tb: TranslationBlock): void {
    const list = this.pages.get(key);
    if (list) { list.push(tb); return; }
    this.pages.set(key, [tb]);
    // src/memory DIRTY_CODE (bit 0) clear = the page may hold translated code.
    const dirty = this.ram.blocks[pageKeyRamId(key)]?.dirty;
    const p = pageKeyOffset(key) / TARGET_PAGE_SIZE;
    if (dirty !== undefined && p < dirty.length) dirty[p]! &= ~1;
    // A new code page: writes to it must now take the slow path everywhere (QEMU tlb_protect_code).
    for (const c of this.clients) c.tlb.protectCodePage(key);
  }

  private removeFromPage(key: number, tb: TranslationBlock): void {
    const list = this.pages.get(key);
    if (!list) return;
    const i = list.indexOf(tb);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.pages.delete(key);
  }

  /**
   * `tb`'s instruction `insn` accesses a device: TBs at `tb`'s pc end with that instruction from now on
   * (and `tb` is invalidated), so that the access is the last instruction of its TB.
   */
  endTbAtIo(tb: TranslationBlock, insn: number): void {
    if (this.ioLimits.size >= IO_LIMITS_MAX) this.ioLimits.clear();
    this.ioLimits.set(ioLimitKey(tb.pcLo, tb.pcHi, tb.flags), insn + 1);
    this.invalidate(tb);
  }

  /** Links chain slot `slot` of `src` to `dst` (QEMU tb_add_jump). The caller checked the rules. */
  link(src: TranslationBlock, slot: 0 | 1, dst: TranslationBlock): void {
    if (src.jmpDest(slot) !== null || src.invalid || dst.invalid) return;
    src.setJmpDest(slot, dst);
    dst.jmpIncoming.push(src);
    this.tierLink(src, slot, dst.code);
  }

  /**
   * Mirrors chain slot `slot` of `src` in the wasm tier's table: pointed at `dst` (when both are tier
   * code), or back at its stub (null). Nothing without a tier or when `src` is not tier code.
   */
  private tierLink(src: TranslationBlock, slot: number, dst: CompiledTb | null): void {
    if (this.tier !== null && isTierCode(src.code) && (dst === null || isTierCode(dst))) this.tier.link(src.code.tierId, slot, dst);
  }

  /**
   * A TB's code was replaced by wasm tier code: record it and mirror its chain links (both ways) in the
   * tier's table, so wasm TBs jump to each other without returning to the loop.
   */
  private adoptTierTb(tb: TranslationBlock, code: TierCode): void {
    const tier = this.tier!;
    tier.setOwner(code.tierId, tb);
    if (tb.invalid || !tier.alive(code.tierId)) {
      // Invalidated while queued, or a module mate was: this code never runs (nor do its mates).
      if (!tb.invalid) this.invalidate(tb);
      else for (const m of tier.retire(tb)) this.invalidate(m as TranslationBlock);
      return;
    }
    for (let n = 0; n < 2; n++) {
      const d = tb.jmpDest(n);
      if (d !== null) this.tierLink(tb, n, d.code);
    }
    for (const src of tb.jmpIncoming) {
      if (src.jmpDest0 === tb) this.tierLink(src, 0, code);
      if (src.jmpDest1 === tb) this.tierLink(src, 1, code);
    }
  }

  /** Removes one TB: from the hash table, its pages and every chain (QEMU tb_phys_invalidate). */
  invalidate(tb: TranslationBlock): void {
    if (tb.invalid) return;
    tb.invalid = true;
    if (tb.page0 !== -1 && (tb.cflags & CF_NOCACHE) === 0) {
      const h = TbCache.hashOf(tb.pcLo, tb.pcHi, tb.flags, tb.cflags, tb.page0);
      let prev: TranslationBlock | null = null;
      for (let t = this.hash.get(h) ?? null; t !== null; prev = t, t = t.hashNext) {
        if (t !== tb) continue;
        if (prev) prev.hashNext = t.hashNext;
        else if (t.hashNext) this.hash.set(h, t.hashNext);
        else this.hash.delete(h);
        this.stats.tbCacheSize--;
        break;
      }
      this.removeFromPage(tb.page0, tb);
      if (tb.page1 !== -1) this.removeFromPage(tb.page1, tb);
    }
    const tier = this.tier;
    for (const src of tb.jmpIncoming) {
      if (src.jmpDest0 === tb) { src.jmpDest0 = null; this.tierLink(src, 0, null); }
      if (src.jmpDest1 === tb) { src.jmpDest1 = null; this.tierLink(src, 1, null); }
    }
    tb.jmpIncoming = [];
    if (tier !== null) {
      // TBs of its wasm modules may branch to it directly: retire them too (rare: hot code rewritten).
      const mates = tier.retire(tb);
      if (mates.length > 0) {
        for (const c of this.clients) c.stopChains?.();
        for (const m of mates) this.invalidate(m as TranslationBlock);
      }
    }
    for (let n = 0; n < 2; n++) {
      const d = tb.jmpDest(n);
      if (!d) continue;
      const i = d.jmpIncoming.indexOf(tb);
      if (i >= 0) d.jmpIncoming.splice(i, 1);
      tb.setJmpDest(n, null);
    }
    this.stats.invalidations++;
  }

  /**
   * Invalidates every TB with code in bytes [offset, offset+len) of RAM block `ramId`
   * (QEMU tb_invalidate_phys_range). Returns the number of TBs invalidated.
   */
  invalidateRange(ramId: number, offset: number, len: number): number {
    if (len <= 0 || this.pages.size === 0) return 0;
    let n = 0;
    const end = offset + len;
    for (let p = offset - (offset & PAGE_OFFSET_MASK); p < end; p += TARGET_PAGE_SIZE) {
      const key = ramPageKey(ramId, p);
      const list = this.pages.get(key);
      if (!list) continue;
      const s = Math.max(offset, p) - p, e = Math.min(end, p + TARGET_PAGE_SIZE) - p;
      for (const tb of [...list]) {
        if (tb.overlapsPage(key, s, e)) { this.invalidate(tb); n++; }
      }
    }
    return n;
  }

  /** Forgets every TB (QEMU tb_flush): all chains, the hash table, page tracking and jump caches. */
  flush(): void {
    const tier = this.tier;
    for (const list of this.pages.values()) {
      for (const tb of list) {
        // A TB on two pages is listed twice: release its wasm number once.
        if (tier !== null && !tb.invalid) tier.retire(tb);
        tb.invalid = true; tb.jmpIncoming = []; tb.jmpDest0 = tb.jmpDest1 = null;
      }
    }
    this.hash.clear();
    this.pages.clear();
    this.stats.tbCacheSize = 0;
    this.stats.flushes++;
    for (const c of this.clients) c.onTbFlush();
  }
}
