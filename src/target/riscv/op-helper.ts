/**
 * Run-time helpers called from translated RISC-V code (QEMU target/riscv/op_helper.c, DEF_HELPER in
 * helper.h). Each is a {@link HelperInfo}; its first argument is the `RiscvCpu` (the runtime's `cpu`).
 * Helpers that may raise a guest exception record it in the hart and throw `CpuLoopExit`.
 */
import {
  CALL_NO_READ_GLOBALS, CALL_NO_RETURN, CALL_NO_WRITE_GLOBALS, type HelperInfo,
} from '../../tcg/ir.js';
import { EXCP_ILLEGAL_INST, EXCP_U_ECALL, type RiscvHartState } from './hart-state.js';
import { csrRead, csrReadModifyWrite, csrWrite, RiscvIllegalCsr } from './csr.js';
import {
  helperMret as privMret, helperSfenceVma as privSfenceVma, helperSret as privSret, helperWfi as privWfi,
  markFsDirty as privMarkFsDirty, raiseException,
} from './priv.js';

/** What the helpers need from the CPU object. */
export interface RiscvHelperCpu {
  readonly hart: RiscvHartState;
  /** Drops every translated block (fence.i; QEMU relies on SMC detection, we flush explicitly). */
  flushCode(): void;
}

/** Raises illegal-instruction with mtval = `insn`. */
export function raiseIllegal(h: RiscvHartState, insn: number): never {
  return raiseException(h, EXCP_ILLEGAL_INST, BigInt(insn >>> 0));
}

function def(name: string, fn: HelperInfo['fn'], args: HelperInfo['args'], ret: 'i32' | 'i64' | null, flags = 0): HelperInfo {
  return ret ? { name, fn, args, ret, flags } : { name, fn, args, flags };
}

/** raise_exception(cause, tval): never returns. */
export const helperRaiseException = def('raise_exception',
  (cpu: RiscvHelperCpu, cause: number, tval: bigint) => raiseException(cpu.hart, cause, tval),
  ['i32', 'i64'], null, CALL_NO_RETURN | CALL_NO_WRITE_GLOBALS);

/** ecall: cause 8/9/11 from the current privilege (resolved by riscvDoInterrupt). */
export const helperEcall = def('ecall',
  (cpu: RiscvHelperCpu) => raiseException(cpu.hart, EXCP_U_ECALL, 0n),
  [], null, CALL_NO_RETURN | CALL_NO_WRITE_GLOBALS);

function csrCheck<T>(cpu: RiscvHelperCpu, insn: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RiscvIllegalCsr) raiseIllegal(cpu.hart, insn);
    throw e;
  }
}

/** csrr(csrno, insn) → value (read-only access). */
export const helperCsrr = def('csrr',
  (cpu: RiscvHelperCpu, csrno: number, insn: number) => csrCheck(cpu, insn, () => csrRead(cpu.hart, csrno)),
  ['i32', 'i32'], 'i64');

/** csrw(csrno, value, insn) (write-only access: csrrw with rd = x0). */
export const helperCsrw = def('csrw',
  (cpu: RiscvHelperCpu, csrno: number, src: bigint, insn: number) => {
    const h = cpu.hart;
    csrCheck(cpu, insn, () => csrWrite(h, csrno, src & h.xlenMask));
  },
  ['i32', 'i64', 'i32'], null);

/** csrrw(csrno, src, mask, insn) → old value; new = (old & ~mask) | (src & mask). */
export const helperCsrrw = def('csrrw',
  (cpu: RiscvHelperCpu, csrno: number, src: bigint, mask: bigint, insn: number) => {
    const h = cpu.hart;
    return csrCheck(cpu, insn, () => csrReadModifyWrite(h, csrno, src, mask));
  },
  ['i32', 'i64', 'i64', 'i32'], 'i64');

/** mret(insn) → new pc. */
export const helperMret = def('mret',
  (cpu: RiscvHelperCpu, insn: number) => privMret(cpu.hart, insn),
  ['i32'], 'i64');

/** sret(insn) → new pc. */
export const helperSret = def('sret',
  (cpu: RiscvHelperCpu, insn: number) => privSret(cpu.hart, insn),
  ['i32'], 'i64');

/** wfi(insn): may raise illegal (TW), may halt the hart. */
export const helperWfi = def('wfi',
  (cpu: RiscvHelperCpu, insn: number) => privWfi(cpu.hart, insn),
  ['i32'], null);

/** sfence.vma(insn): illegal in U-mode and in S-mode with mstatus.TVM (QEMU helper_tlb_flush). */
export const helperSfenceVma = def('sfence_vma',
  (cpu: RiscvHelperCpu, insn: number) => privSfenceVma(cpu.hart, insn),
  ['i32'], null, CALL_NO_WRITE_GLOBALS);

/** fence.i: drop translated code. */
export const helperFenceI = def('fence_i',
  (cpu: RiscvHelperCpu) => cpu.flushCode(),
  [], null, CALL_NO_WRITE_GLOBALS);

/**
 * Sets mstatus.FS = Dirty (QEMU mark_fs_dirty). No TB exit is needed: the rest of the TB was
 * translated knowing FS is Dirty from here on.
 */
export const helperMarkFsDirty = def('mark_fs_dirty',
  (cpu: RiscvHelperCpu) => privMarkFsDirty(cpu.hart),
  [], null, CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS);
