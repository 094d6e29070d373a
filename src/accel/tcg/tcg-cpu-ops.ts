/**
 * What the execution loop needs from a guest CPU model (QEMU include/hw/core/tcg-cpu-ops.h,
 * TCGCPUOps, plus cpu_get_tb_cpu_state and the translator hooks of accel/tcg/translator.c).
 * A target (src/target/<arch>/) implements this; the loop (cpu-exec.ts) never knows which guest it runs.
 */
import type { GlobalSet, TcgContext } from '../../tcg/context.js';

/** Kind of memory access, for page walks and faults (QEMU MMUAccessType). */
export const enum MmuAccess {
  LOAD = 0,
  STORE = 1,
  FETCH = 2,
}

/** Result of a successful virtual→physical translation (QEMU tlb_set_page arguments). */
export interface TlbFillResult {
  /** Physical address of the start of the page containing the access. */
  readonly physPage: bigint;
  /** Permissions of the page for this MMU index: bit 0 read, bit 1 write, bit 2 exec. */
  readonly prot: number;
  /** log2 of the mapping's page size (>= 12); the soft TLB still caches 4 KiB pieces. */
  readonly pageBits: number;
}

export const PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;

/** log2 of the soft TLB / code-tracking page size (QEMU TARGET_PAGE_BITS). */
export const TARGET_PAGE_BITS = 12;
/** Soft TLB / code-tracking page size in bytes. */
export const TARGET_PAGE_SIZE = 1 << TARGET_PAGE_BITS;

/** Start address of the 4 KiB page holding `vaddr` (QEMU `addr & TARGET_PAGE_MASK`). */
export function pageOf(vaddr: bigint): bigint {
  return vaddr & ~BigInt(TARGET_PAGE_SIZE - 1);
}

/**
 * Thrown by helpers and by the memory slow path to leave the TB and return to the loop
 * (QEMU cpu_loop_exit / siglongjmp). The target records the exception in its own state before
 * throwing; the loop restores the guest pc from the faulting instruction's `insn_start` (unless
 * `restored` is set) and then calls {@link TcgCpuOps.doInterrupt}.
 */
export class CpuLoopExit extends Error {
  constructor(
    /** true if the guest state (pc) was already made exact by the thrower. */
    readonly restored = false,
  ) {
    super('cpu loop exit');
  }
}

/**
 * Leaves the TB without delivering an exception (QEMU cpu_loop_exit_noexc, or EXCP_HLT/EXCP_YIELD that
 * do_interrupt never sees): the loop does not call {@link TcgCpuOps.doInterrupt}.
 * - `restored = false`: the loop restores the state of the current instruction from its `insn_start`
 *   (the instruction is re-executed; it does not count in icount).
 * - `restored = true, completed = false`: the thrower made the state exact at the start of the current
 *   instruction (it does not count).
 * - `restored = true, completed = true`: the thrower set the pc past the current instruction, which
 *   counts as executed (e.g. WFI: set `halted`, pc = next instruction, then throw).
 */
export class CpuLoopExitNoExc extends CpuLoopExit {
  constructor(restored = false, readonly completed = false) {
    super(restored);
  }
}

/** The per-TB state the translation depends on (QEMU cpu_get_tb_cpu_state). */
export interface TbState {
  readonly pc: bigint;
  /** Target-defined flags (privilege, FS state, …): a TB is only reused when they match. */
  readonly flags: number;
}

/** Decode of one guest translation block (QEMU TranslatorOps, collapsed to one call). */
export interface TranslateRequest {
  readonly pc: bigint;
  readonly flags: number;
  /** Stop after this many guest instructions. */
  readonly maxInsns: number;
  /**
   * Reads guest code at a virtual address through the code TLB (MMU index for fetch), and records the
   * physical page for self-modifying-code tracking. Throws {@link CpuLoopExit} on a fetch fault
   * (after the target recorded an instruction page fault), but only for the first instruction of a
   * TB; the translator must stop the TB before an instruction whose fetch would fault otherwise
   * (use {@link pageOf} to stop at page boundaries).
   *
   * Loop-side details (accel/tcg/tb-cache.ts):
   * - call `ctx.insnStart(pc)` BEFORE fetching that instruction's bytes (QEMU's insn_start hook runs
   *   before translate_insn): a fetch fault while the TB already has 2+ `insn_start`s is not a guest
   *   fault; the loop retranslates the TB shorter so the faulting instruction starts the next TB.
   * - `probe = true` never faults: it returns -1 if the code is not fetchable (use it to peek at
   *   the next instruction near a page end, as QEMU riscv does to decide whether it crosses).
   * - returns unsigned values (`fetch32` in 0..2^32-1, `fetch16` in 0..65535), little-endian.
   * - the bytes covered by a TB may span at most two pages.
   */
  fetch16(vaddr: bigint, probe?: boolean): number;
  fetch32(vaddr: bigint, probe?: boolean): number;
}

/** Result of a translation. */
export interface TranslateResult {
  /** Number of guest code bytes covered, from `pc`. */
  readonly size: number;
  readonly nbInsns: number;
}

/** The guest CPU model as the loop sees it. */
export interface TcgCpuOps {
  /** The TCG globals of this CPU model (registers in env). */
  readonly globals: GlobalSet;
  /** Guest virtual address type: 'i64' (RV64, AArch64) or 'i32' (RV32). */
  readonly addrType: 'i32' | 'i64';
  /** Current pc and TB flags. */
  getTbState(): TbState;
  /** Sets the pc in env (after an exception or by the user). */
  setPc(pc: bigint): void;
  /** Emits the IR of one TB into `ctx`. */
  translate(ctx: TcgContext, req: TranslateRequest): TranslateResult;
  /**
   * Restores the guest state of a faulting instruction from its `insn_start` words
   * (QEMU restore_state_to_opc): data = [pcLo, pcHi, ...extra].
   */
  restoreStateToOpc(data: readonly number[]): void;
  /** The MMU index used for instruction fetch in the current state. */
  mmuIndexForFetch(): number;
  /**
   * Translates a virtual address (QEMU tlb_fill / riscv_cpu_tlb_fill). On success returns the page;
   * on a fault, if `probe` is false, records the guest exception and throws {@link CpuLoopExit};
   * if `probe` is true, returns null.
   */
  tlbFill(vaddr: bigint, access: MmuAccess, mmuIdx: number, probe: boolean): TlbFillResult | null;
  /** Number of MMU indexes (soft TLBs) the target uses. */
  readonly nbMmuModes: number;
  /** Delivers the exception recorded in the CPU state (QEMU do_interrupt). */
  doInterrupt(): void;
  /**
   * Checks pending, enabled interrupts at a TB boundary and takes one if any (QEMU
   * cpu_exec_interrupt). Returns true if an interrupt was taken (the pc changed).
   */
  execInterrupt(): boolean;
  /** True if there is a pending interrupt that should wake a halted (WFI) CPU. */
  hasWork(): boolean;
  /** Raises a guest bus error/access fault for a physical access the memory system rejected. */
  raiseBusError(vaddr: bigint, access: MmuAccess): never;

  // ---- optional extensions (added by the execution loop, H5; all backward compatible) ----------

  /**
   * Raises the guest's misaligned-access exception for an access whose memop has MO_ALIGN
   * (QEMU TCGCPUOps.do_unaligned_access, e.g. riscv_cpu_do_unaligned_access). Records the exception
   * and throws {@link CpuLoopExit}. When absent, the loop raises {@link raiseBusError} instead.
   */
  raiseAlignmentFault?(vaddr: bigint, access: MmuAccess, mmuIdx: number): never;
  /**
   * Fast path for the loop (optional): byte offset of the pc in env (an i64 global for 64-bit address
   * types, i32 for 32-bit ones). With {@link getTbFlags} it lets the loop read the TB state without
   * allocating a {@link TbState} per TB.
   */
  readonly pcEnvOffset?: number;
  /** The `flags` of {@link getTbState} alone (optional, see {@link pcEnvOffset}). */
  getTbFlags?(): number;
}
