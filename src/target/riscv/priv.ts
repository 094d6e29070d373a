/**
 * RISC-V traps, interrupts, xRET/WFI/SFENCE.VMA helpers, MMU index and TB flags.
 * Behaviour as QEMU 7.2 target/riscv/cpu_helper.c (riscv_cpu_do_interrupt, riscv_cpu_exec_interrupt,
 * riscv_cpu_local_irq_pending, riscv_cpu_mmu_index, riscv_cpu_set_mode) and op_helper.c (helper_mret,
 * helper_sret, helper_wfi, helper_tlb_flush), without the hypervisor extension.
 *
 * Calling conventions for the translator (H6):
 * - Helpers that may fault (`helperMret`, `helperSret`, `helperWfi`, `helperSfenceVma`) take the instruction
 *   bits as an optional last argument: they become xtval of an illegal-instruction exception.
 * - Faults are raised with {@link raiseException}, which records the trap and throws `CpuLoopExit`
 *   (not restored): the loop restores the pc of the faulting instruction, then calls
 *   {@link riscvDoInterrupt}, which uses that pc as xepc.
 */
import { CpuLoopExit } from '../../accel/tcg/tcg-cpu-ops.js';
import { LOG_BIT, type Logger } from '../../util/log.js';
import {
  EXCP_ILLEGAL_INST, EXCP_INST_ACCESS_FAULT, EXCP_INST_ADDR_MIS, EXCP_U_ECALL,
  FS_DIRTY, IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER, MIP_STIP,
  MSTATUS_FS, MSTATUS_FS_SHIFT, MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPP_SHIFT, MSTATUS_MPRV,
  MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP, MSTATUS_SUM, MSTATUS_TSR, MSTATUS_TVM, MSTATUS_TW,
  PRV_M, PRV_S, PRV_U, type PendingTrap, type Priv, type RiscvHartState,
} from './hart-state.js';

// ---- MMU indexes -----------------------------------------------------------------------------------

/** MMU index of U-mode accesses. */
export const MMU_IDX_U = 0;
/** MMU index of S-mode accesses with mstatus.SUM = 0. */
export const MMU_IDX_S = 1;
/** MMU index of S-mode loads/stores with mstatus.SUM = 1 (may touch U pages; never used for fetch). */
export const MMU_IDX_S_SUM = 2;
/** MMU index of M-mode accesses (no translation; PMP only). */
export const MMU_IDX_M = 3;
/** Number of MMU indexes (soft TLBs) of a RISC-V hart (`TcgCpuOps.nbMmuModes`). */
export const RISCV_NB_MMU_MODES = 4;

/**
 * The MMU index for an access in the current state (as QEMU riscv_cpu_mmu_index, with MPRV and SUM
 * folded into the index so that toggling them needs no TLB flush).
 * Fetches use the current privilege; loads/stores in M-mode with MPRV=1 use the privilege in MPP;
 * S-mode loads/stores with SUM=1 use {@link MMU_IDX_S_SUM}.
 */
export function mmuIndex(h: RiscvHartState, isFetch: boolean): number {
  let mode: number = h.priv;
  if (isFetch) return mode;
  const lo = h.mstatusLo;
  if (mode === PRV_M && (lo & MSTATUS_MPRV) !== 0) mode = (lo & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT;
  if (mode === PRV_S && (lo & MSTATUS_SUM) !== 0) return MMU_IDX_S_SUM;
  return mode;
}

/** Privilege level whose translation an MMU index uses. */
export function mmuIdxPriv(mmuIdx: number): Priv {
  return mmuIdx === MMU_IDX_M ? PRV_M : mmuIdx === MMU_IDX_U ? PRV_U : PRV_S;
}

// ---- TB flags --------------------------------------------------------------------------------------

/** TB flags bits 1:0: current privilege (0, 1, 3). */
export const TB_FLAGS_PRIV_MASK = 0x3;
/** TB flags bits 3:2: MMU index of loads/stores ({@link mmuIndex}(h, false)). */
export const TB_FLAGS_MEM_IDX_SHIFT = 2;
/** TB flags bits 5:4: mstatus.FS (0 = FPU off → F/D instructions are illegal). */
export const TB_FLAGS_FS_SHIFT = 4;
/** TB flags bit 6: XLEN is 64. */
export const TB_FLAGS_XL64 = 1 << 6;

/**
 * The state translation depends on (QEMU cpu_get_tb_cpu_state): privilege, MMU index of
 * loads/stores, FS and XLEN. See the `TB_FLAGS_*` constants for the layout.
 */
export function tbFlags(h: RiscvHartState): number {
  return h.priv | (mmuIndex(h, false) << TB_FLAGS_MEM_IDX_SHIFT)
    | (((h.mstatusLo >>> MSTATUS_FS_SHIFT) & 3) << TB_FLAGS_FS_SHIFT)
    | (h.xlen === 64 ? TB_FLAGS_XL64 : 0);
}
/** Privilege encoded in TB flags. */
export const tbFlagsPriv = (flags: number): Priv => (flags & TB_FLAGS_PRIV_MASK) as Priv;
/** Load/store MMU index encoded in TB flags. */
export const tbFlagsMemIdx = (flags: number): number => (flags >>> TB_FLAGS_MEM_IDX_SHIFT) & 3;
/** mstatus.FS encoded in TB flags. */
export const tbFlagsFs = (flags: number): number => (flags >>> TB_FLAGS_FS_SHIFT) & 3;

/**
 * Marks the FPU state dirty (QEMU mark_fs_dirty): call from F/D helpers that write f registers or
 * fflags/frm when the TB was translated with FS != dirty.
 */
export function markFsDirty(h: RiscvHartState): void {
  if (((h.mstatusLo >>> MSTATUS_FS_SHIFT) & 3) === FS_DIRTY) return;
  h.mstatusLo = (h.mstatusLo | MSTATUS_FS) >>> 0;
  h.onTbFlagsChange();
}

// ---- exceptions ------------------------------------------------------------------------------------

/**
 * Records a synchronous exception and leaves the TB (QEMU riscv_raise_exception). `tval` becomes
 * xtval as given (callers pass the faulting address, the instruction bits, or 0).
 */
export function raiseException(h: RiscvHartState, cause: number, tval: bigint = 0n): never {
  h.pendingException = { cause, tval, interrupt: false };
  throw new CpuLoopExit();
}

/** Changes privilege and drops the LR reservation (QEMU riscv_cpu_set_mode). */
export function setPriv(h: RiscvHartState, priv: Priv): void {
  const changed = h.priv !== priv;
  h.priv = priv;
  h.clearReservation();
  if (changed) h.onTbFlagsChange();
}

// ---- trap delivery ---------------------------------------------------------------------------------

/** Exception names of `-d int` (QEMU target/riscv/cpu.c riscv_excp_names). */
const EXCP_NAMES: readonly string[] = [
  'misaligned_fetch', 'fault_fetch', 'illegal_instruction', 'breakpoint', 'misaligned_load', 'fault_load',
  'misaligned_store', 'fault_store', 'user_ecall', 'supervisor_ecall', 'hypervisor_ecall', 'machine_ecall',
  'exec_page_fault', 'load_page_fault', 'reserved', 'store_page_fault', 'reserved', 'reserved', 'reserved',
  'reserved', 'guest_exec_page_fault', 'guest_load_page_fault', 'reserved', 'guest_store_page_fault',
];
/** Interrupt names of `-d int` (QEMU riscv_intr_names). */
const INTR_NAMES: readonly string[] = [
  'u_software', 's_software', 'vs_software', 'm_software', 'u_timer', 's_timer', 'vs_timer', 'm_timer',
  'u_external', 's_external', 'vs_external', 'm_external', 'reserved', 'reserved', 'reserved', 'reserved',
];

/** The name QEMU gives a trap cause in its logs (QEMU riscv_cpu_get_trap_name). */
export function riscvTrapName(cause: number, async: boolean): string {
  return (async ? INTR_NAMES : EXCP_NAMES)[cause] ?? '(unknown)';
}

const LOG_INT = LOG_BIT.int;

/**
 * The `-d int` line of QEMU 7.2 riscv_cpu_do_interrupt (TARGET_FMT_lx: XLEN/4 hex digits); shared by the
 * logger (below) and `Machine.trace`'s `int` item.
 */
export function formatTrapLine(h: RiscvHartState, async: boolean, cause: number, pc: bigint, tval: bigint): string {
  const x = (v: bigint | number): string => BigInt.asUintN(h.xlen, BigInt(v)).toString(16).padStart(h.xlen / 4, '0');
  return `riscv_cpu_do_interrupt: hart:${h.mhartid}, async:${async ? 1 : 0}, cause:${x(cause)}, `
    + `epc:0x${x(pc)}, tval:0x${x(tval)}, desc=${riscvTrapName(cause, async)}`;
}

function logTrap(h: RiscvHartState, log: Logger, async: boolean, cause: number, pc: bigint, tval: bigint): void {
  log.log('int', formatTrapLine(h, async, cause, pc, tval));
}

/**
 * The cause code a recorded trap is delivered with: ecall is raised as one cause and named from the
 * current mode at delivery, as QEMU does.
 */
export function deliveredCause(h: RiscvHartState, trap: PendingTrap): number {
  return !trap.interrupt && trap.cause === EXCP_U_ECALL ? EXCP_U_ECALL + h.priv : trap.cause;
}

/**
 * Delivers the recorded exception or interrupt (QEMU riscv_cpu_do_interrupt): delegation to S-mode
 * through medeleg/mideleg when the hart is in S or U, xEPC = current pc, xCAUSE (interrupt bit at
 * XLEN-1), xTVAL, the xPIE/xPP/xIE stack in mstatus, new privilege, and pc = xTVEC base (+ 4 × cause for
 * interrupts in vectored mode). Does nothing if nothing is recorded. With a `log` whose `int` category
 * is enabled, each trap is logged as QEMU's `-d int` logs it.
 */
export function riscvDoInterrupt(h: RiscvHartState, log?: Logger): void {
  const trap = h.pendingException;
  if (trap === null) return;
  h.pendingException = null;
  const async = trap.interrupt;
  const cause = deliveredCause(h, trap);
  const deleg = async ? h.mideleg : h.medeleg;
  const pc = h.getPc() & h.xlenMask;
  const tval = trap.tval & h.xlenMask;
  if (log !== undefined && (log.mask & LOG_INT) !== 0) logTrap(h, log, async, cause, pc, tval);
  const causeVal = BigInt(cause) | (async ? 1n << BigInt(h.xlen - 1) : 0n);
  let lo = h.mstatusLo;
  let tvec: bigint;
  if (h.priv <= PRV_S && cause < 32 && ((deleg >>> cause) & 1) === 1) {
    lo = (lo & ~MSTATUS_SPIE) | ((lo & MSTATUS_SIE) !== 0 ? MSTATUS_SPIE : 0);
    lo = (lo & ~MSTATUS_SPP) | (h.priv === PRV_S ? MSTATUS_SPP : 0);
    lo &= ~MSTATUS_SIE;
    h.mstatusLo = lo >>> 0;
    h.scause = causeVal;
    h.sepc = pc;
    h.stval = tval;
    tvec = h.stvec;
    setPriv(h, PRV_S);
  } else {
    lo = (lo & ~MSTATUS_MPIE) | ((lo & MSTATUS_MIE) !== 0 ? MSTATUS_MPIE : 0);
    lo = (lo & ~MSTATUS_MPP) | (h.priv << MSTATUS_MPP_SHIFT);
    lo &= ~MSTATUS_MIE;
    h.mstatusLo = lo >>> 0;
    h.mcause = causeVal;
    h.mepc = pc;
    h.mtval = tval;
    tvec = h.mtvec;
    setPriv(h, PRV_M);
  }
  const base = tvec & ~3n;
  const newPc = async && (tvec & 3n) === 1n ? base + BigInt(cause * 4) : base;
  h.setPc(newPc & h.xlenMask);
  h.onTbFlagsChange();
}

// ---- interrupts ------------------------------------------------------------------------------------

/** Interrupt priority, highest first (privileged spec 3.1.9; QEMU default_iprio without AIA). */
const IRQ_PRIORITY: readonly number[] = [IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER];

/**
 * The interrupt the hart would take now, or -1 (QEMU riscv_cpu_local_irq_pending): pending & enabled
 * (mip & mie), non-delegated ones when in a mode below M or when mstatus.MIE, delegated ones when below S
 * or in S with mstatus.SIE; the highest priority among those.
 */
export function pendingInterrupt(h: RiscvHartState): number {
  const pending = h.mip & h.mie;
  if (pending === 0) return -1;
  const mEnabled = h.priv < PRV_M || (h.mstatusLo & MSTATUS_MIE) !== 0;
  const sEnabled = h.priv < PRV_S || (h.priv === PRV_S && (h.mstatusLo & MSTATUS_SIE) !== 0);
  const irqs = (mEnabled ? pending & ~h.mideleg : 0) | (sEnabled ? pending & h.mideleg : 0);
  if (irqs === 0) return -1;
  for (const irq of IRQ_PRIORITY) if ((irqs >>> irq) & 1) return irq;
  return 31 - Math.clz32(irqs & -irqs);
}

/**
 * Takes a pending, enabled interrupt if there is one (QEMU riscv_cpu_exec_interrupt): records it and
 * delivers it at once (logged to `log` under `-d int`). Returns true if the pc changed.
 */
export function riscvExecInterrupt(h: RiscvHartState, log?: Logger): boolean {
  if ((h.mip & h.mie) === 0) return false;
  const irq = pendingInterrupt(h);
  if (irq < 0) return false;
  h.pendingException = { cause: irq, tval: 0n, interrupt: true };
  riscvDoInterrupt(h, log);
  return true;
}

/**
 * true if an interrupt is pending and enabled in mie, whatever mstatus says: wakes WFI (QEMU
 * riscv_cpu_has_work). As a safety net for machines that don't implement `scheduleStimer`, an armed
 * Sstc deadline that has passed sets STIP here.
 */
export function hasWork(h: RiscvHartState): boolean {
  if (h.stimerArmed && h.getTime() >= h.stimecmp) updateStimer(h);
  return (h.mip & h.mie) !== 0;
}

/**
 * Sets an interrupt line from a device (QEMU riscv_cpu_set_irq / riscv_cpu_update_mip): `irq` is the
 * interrupt number (IRQ_M_SOFT 3, IRQ_M_TIMER 7, IRQ_M_EXT 11, IRQ_S_EXT 9, …). The visible SEIP is the
 * OR of the external line and the bit software wrote to mip.
 */
export function setIrqLine(h: RiscvHartState, irq: number, level: boolean): void {
  if (irq < 0 || irq > 31) return;
  if (irq === IRQ_S_EXT) {
    h.externalSeip = level;
    level = level || h.softwareSeip;
  }
  const bit = 1 << irq;
  h.mip = (level ? h.mip | bit : h.mip & ~bit) >>> 0;
}

/**
 * Sstc: re-evaluates STIP from stimecmp against mtime (QEMU riscv_timer_write_timecmp): sets STIP if
 * the compare value is reached, else clears it and asks the machine for a callback at the deadline.
 */
export function updateStimer(h: RiscvHartState): void {
  if (h.getTime() >= h.stimecmp) {
    h.stimerArmed = false;
    h.mip = (h.mip | MIP_STIP) >>> 0;
  } else {
    h.stimerArmed = true;
    h.mip = (h.mip & ~MIP_STIP) >>> 0;
    h.scheduleStimer(h.stimecmp);
  }
}

/** Sstc: the machine's timer for the deadline given to `scheduleStimer` fired (QEMU riscv_stimer_cb). */
export function stimerExpired(h: RiscvHartState): void {
  updateStimer(h);
}

// ---- xRET, WFI, SFENCE.VMA -------------------------------------------------------------------------

/**
 * MRET (QEMU helper_mret): illegal below M; restores MIE from MPIE, MPIE = 1, privilege from MPP,
 * MPP = U, clears MPRV when returning below M (priv 1.12). Returns the new pc (mepc). As QEMU 7.2,
 * returning below M while no PMP entry is active raises an instruction access fault.
 */
export function helperMret(h: RiscvHartState, insn = 0): bigint {
  if (h.priv !== PRV_M) raiseException(h, EXCP_ILLEGAL_INST, BigInt(insn >>> 0));
  const retpc = h.mepc & h.xlenMask;
  if (!h.hasExt('c') && (retpc & 3n) !== 0n) raiseException(h, EXCP_INST_ADDR_MIS, retpc);
  let lo = h.mstatusLo;
  const prev = ((lo & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT) as Priv;
  if (prev !== PRV_M && h.pmpNumRules === 0) raiseException(h, EXCP_INST_ACCESS_FAULT, retpc);
  lo = (lo & ~MSTATUS_MIE) | ((lo & MSTATUS_MPIE) !== 0 ? MSTATUS_MIE : 0);
  lo |= MSTATUS_MPIE;
  lo = (lo & ~MSTATUS_MPP) | ((h.hasExt('u') ? PRV_U : PRV_M) << MSTATUS_MPP_SHIFT);
  if (prev !== PRV_M) lo &= ~MSTATUS_MPRV;
  h.mstatusLo = lo >>> 0;
  setPriv(h, prev);
  h.onTbFlagsChange();
  return retpc;
}

/**
 * SRET (QEMU helper_sret): illegal in U, and in S when mstatus.TSR; restores SIE from SPIE, SPIE = 1,
 * privilege from SPP, SPP = U, clears MPRV. Returns the new pc (sepc).
 */
export function helperSret(h: RiscvHartState, insn = 0): bigint {
  const bits = BigInt(insn >>> 0);
  if (h.priv === PRV_U) raiseException(h, EXCP_ILLEGAL_INST, bits);
  const retpc = h.sepc & h.xlenMask;
  if (!h.hasExt('c') && (retpc & 3n) !== 0n) raiseException(h, EXCP_INST_ADDR_MIS, retpc);
  if (h.priv === PRV_S && (h.mstatusLo & MSTATUS_TSR) !== 0) raiseException(h, EXCP_ILLEGAL_INST, bits);
  let lo = h.mstatusLo;
  const prev: Priv = (lo & MSTATUS_SPP) !== 0 ? PRV_S : PRV_U;
  lo = (lo & ~MSTATUS_SIE) | ((lo & MSTATUS_SPIE) !== 0 ? MSTATUS_SIE : 0);
  lo |= MSTATUS_SPIE;
  lo &= ~MSTATUS_SPP;
  lo &= ~MSTATUS_MPRV;
  h.mstatusLo = lo >>> 0;
  setPriv(h, prev);
  h.onTbFlagsChange();
  return retpc;
}

/**
 * WFI (QEMU helper_wfi): illegal in S when mstatus.TW, and in U (S-mode exists); otherwise halts the
 * hart through `setHalted(true)` and returns normally. The translator must have made the pc point
 * past the WFI and end the TB, so the loop sees the halt and resumes after it once {@link hasWork}.
 * (Treating WFI as a no-op is also correct: the spec allows it.)
 */
export function helperWfi(h: RiscvHartState, insn = 0): void {
  const bits = BigInt(insn >>> 0);
  if (h.priv === PRV_U && h.hasExt('s')) raiseException(h, EXCP_ILLEGAL_INST, bits);
  if (h.priv !== PRV_M && (h.mstatusLo & MSTATUS_TW) !== 0) raiseException(h, EXCP_ILLEGAL_INST, bits);
  h.setHalted(true);
}

/**
 * SFENCE.VMA (QEMU helper_tlb_flush): illegal in U, and in S when mstatus.TVM; flushes the whole soft
 * TLB (the address/ASID operands are ignored, which is always correct).
 */
export function helperSfenceVma(h: RiscvHartState, insn = 0): void {
  const bits = BigInt(insn >>> 0);
  if (h.priv === PRV_U) raiseException(h, EXCP_ILLEGAL_INST, bits);
  if (h.priv === PRV_S && (h.mstatusLo & MSTATUS_TVM) !== 0) raiseException(h, EXCP_ILLEGAL_INST, bits);
  h.onTlbFlush('all');
}
