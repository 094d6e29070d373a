/**
 * RISC-V virtual memory: Bare, Sv32, Sv39, Sv48 and Sv57 page walks with PMP, as QEMU 7.2
 * target/riscv/cpu_helper.c (get_physical_address, riscv_cpu_tlb_fill, raise_mmu_exception):
 * hardware A/D updates, superpages (misaligned ones fault), U/SUM/MXR checks, non-canonical addresses
 * fault, reserved PTE bits (N, PBMT, 60:54 — no Svnapot/Svpbmt) fault, PTE reads checked by PMP as
 * S-mode loads. Superpages are returned as 4 KiB pieces (pageBits 12), as QEMU's fake leaf PTE.
 */
import {
  MmuAccess, PROT_EXEC, PROT_READ, PROT_WRITE, type TlbFillResult,
} from '../../accel/tcg/tcg-cpu-ops.js';
import {
  EXCP_INST_ACCESS_FAULT, EXCP_INST_ADDR_MIS, EXCP_INST_PAGE_FAULT, EXCP_LOAD_ACCESS_FAULT,
  EXCP_LOAD_ADDR_MIS, EXCP_LOAD_PAGE_FAULT, EXCP_STORE_AMO_ACCESS_FAULT, EXCP_STORE_AMO_ADDR_MIS,
  EXCP_STORE_PAGE_FAULT, MSTATUS_MXR, PRV_M, PRV_S, PRV_U, SATP_MODE_BARE, SATP_MODE_SV32,
  SATP_MODE_SV39, SATP_MODE_SV48, SATP_MODE_SV57, type Priv, type RiscvHartState,
} from './hart-state.js';
import { pmpCheck } from './pmp.js';
import { LOG_BIT, type Logger } from '../../util/log.js';
import { MMU_IDX_S_SUM, mmuIdxPriv, raiseException } from './priv.js';

/**
 * Physical memory as the page walker sees it (the machine's address space, bypassing the TLB).
 * An implementation signals a bus error (no RAM/device there) by throwing; the walk turns it into an
 * access fault (PTE read) or a page fault (A/D write, as QEMU for PTEs outside RAM).
 */
export interface RiscvPhysMemory {
  readPhys64(addr: bigint): bigint;
  readPhys32(addr: bigint): number;
  writePhys64(addr: bigint, value: bigint): void;
  writePhys32(addr: bigint, value: number): void;
}

// PTE bits
export const PTE_V = 0x01, PTE_R = 0x02, PTE_W = 0x04, PTE_X = 0x08;
export const PTE_U = 0x10, PTE_G = 0x20, PTE_A = 0x40, PTE_D = 0x80;

/** Walk geometry of a satp mode: levels, index bits per level, PTE size (QEMU get_physical_address). */
function geometry(xlen: 32 | 64, mode: number): { levels: number; idxBits: number; pteSize: number } | null {
  if (xlen === 32) return mode === SATP_MODE_SV32 ? { levels: 2, idxBits: 10, pteSize: 4 } : null;
  switch (mode) {
    case SATP_MODE_SV39: return { levels: 3, idxBits: 9, pteSize: 8 };
    case SATP_MODE_SV48: return { levels: 4, idxBits: 9, pteSize: 8 };
    case SATP_MODE_SV57: return { levels: 5, idxBits: 9, pteSize: 8 };
    default: return null;
  }
}

/** satp.MODE of the current satp value. */
export function satpMode(h: RiscvHartState): number {
  return h.xlen === 64 ? Number(h.satp >> 60n) : Number(h.satp >> 31n);
}

/** satp.PPN of the current satp value. */
function satpPpn(h: RiscvHartState): bigint {
  return h.xlen === 64 ? h.satp & ((1n << 44n) - 1n) : h.satp & 0x3f_ffffn;
}

/** Outcome of a translation: the physical address and rights, or the kind of fault. */
export type TranslateOutcome =
  | { readonly ok: true; readonly pa: bigint; readonly prot: number }
  | { readonly ok: false; readonly fault: 'page' | 'access' };

const PAGE_FAULT: TranslateOutcome = { ok: false, fault: 'page' };
const ACCESS_FAULT: TranslateOutcome = { ok: false, fault: 'access' };

/**
 * Translates `vaddr` for an access by MMU index `mmuIdx` without side effects other than A/D updates
 * (QEMU get_physical_address followed by the PMP check of riscv_cpu_tlb_fill). `prot` is the set of
 * PROT_* rights of the 4 KiB page for this MMU index: W only once the page is dirty (or for a store,
 * which sets D), so that the first store after a load still walks and sets D.
 * With `checkPmp` false the PMP check of the final address is skipped (the debug translation); the PTE
 * reads of the walk are still PMP-checked, as in QEMU's get_physical_address.
 */
export function riscvTranslate(
  h: RiscvHartState, mem: RiscvPhysMemory, vaddr: bigint, access: MmuAccess, mmuIdx: number, checkPmp = true,
): TranslateOutcome {
  const mode: Priv = mmuIdxPriv(mmuIdx);
  const va = vaddr & h.xlenMask;
  let pa: bigint;
  let prot: number;
  const geo = mode === PRV_M ? null : geometry(h.xlen, satpMode(h));
  if (geo === null) {
    // M-mode, or satp Bare (an unsupported mode can't be in satp: writes of it are ignored)
    if (mode !== PRV_M && satpMode(h) !== SATP_MODE_BARE) return PAGE_FAULT;
    pa = va;
    prot = PROT_READ | PROT_WRITE | PROT_EXEC;
  } else {
    const walk = walk4k(h, mem, va, access, mode, mmuIdx === MMU_IDX_S_SUM, geo);
    if (!walk.ok) return walk;
    pa = walk.pa;
    prot = walk.prot;
  }
  if (!checkPmp) return { ok: true, pa, prot };
  const pmp = pmpCheck(h, pa, 1, mode);
  const need = access === MmuAccess.FETCH ? PROT_EXEC : access === MmuAccess.STORE ? PROT_WRITE : PROT_READ;
  if ((pmp & need) === 0) return ACCESS_FAULT;
  return { ok: true, pa, prot: prot & pmp };
}

function walk4k(
  h: RiscvHartState, mem: RiscvPhysMemory, va: bigint, access: MmuAccess, mode: Priv, sum: boolean,
  geo: { levels: number; idxBits: number; pteSize: number },
): TranslateOutcome {
  const { levels, idxBits, pteSize } = geo;
  const rv32 = h.xlen === 32;
  if (!rv32) {
    // bits 63..va_bits-1 must all equal bit va_bits-1
    const vaBits = 12 + levels * idxBits;
    const top = va >> BigInt(vaBits - 1);
    if (top !== 0n && top !== (1n << BigInt(64 - vaBits + 1)) - 1n) return PAGE_FAULT;
  }
  const mxr = (h.mstatusLo & MSTATUS_MXR) !== 0;
  const idxMask = (1n << BigInt(idxBits)) - 1n;
  let base = satpPpn(h) << 12n;
  for (let level = 0, ptshift = (levels - 1) * idxBits; level < levels; level++, ptshift -= idxBits) {
    const idx = (va >> BigInt(12 + ptshift)) & idxMask;
    const pteAddr = base + idx * BigInt(pteSize);
    if ((pmpCheck(h, pteAddr, pteSize, PRV_S) & PROT_READ) === 0) return ACCESS_FAULT;
    let pte: bigint;
    try {
      pte = rv32 ? BigInt(mem.readPhys32(pteAddr) >>> 0) : BigInt.asUintN(64, mem.readPhys64(pteAddr));
    } catch {
      return ACCESS_FAULT;
    }
    // no Svnapot/Svpbmt: N, PBMT and the reserved bits 60:54 must be zero
    if (!rv32 && (pte >> 54n) !== 0n) return PAGE_FAULT;
    const ppn = pte >> 10n;
    const flags = Number(pte & 0xffn);
    if ((flags & PTE_V) === 0) return PAGE_FAULT;
    const rwx = flags & (PTE_R | PTE_W | PTE_X);
    if (rwx === 0) {
      // pointer to the next level; D, A, U are reserved here
      if ((flags & (PTE_D | PTE_A | PTE_U)) !== 0) return PAGE_FAULT;
      base = ppn << 12n;
      continue;
    }
    if (rwx === PTE_W || rwx === (PTE_W | PTE_X)) return PAGE_FAULT; // reserved encodings
    if ((flags & PTE_U) !== 0) {
      if (mode !== PRV_U && (!sum || access === MmuAccess.FETCH)) return PAGE_FAULT;
    } else if (mode !== PRV_S) {
      return PAGE_FAULT;
    }
    const superMask = (1n << BigInt(ptshift)) - 1n;
    if ((ppn & superMask) !== 0n) return PAGE_FAULT; // misaligned superpage
    const readable = (flags & PTE_R) !== 0 || ((flags & PTE_X) !== 0 && mxr);
    if (access === MmuAccess.LOAD && !readable) return PAGE_FAULT;
    if (access === MmuAccess.STORE && (flags & PTE_W) === 0) return PAGE_FAULT;
    if (access === MmuAccess.FETCH && (flags & PTE_X) === 0) return PAGE_FAULT;
    // hardware A/D update (QEMU 7.2 always does it)
    const updated = flags | PTE_A | (access === MmuAccess.STORE ? PTE_D : 0);
    if (updated !== flags) {
      try {
        if (rv32) mem.writePhys32(pteAddr, Number((pte | BigInt(updated)) & 0xffff_ffffn) | 0);
        else mem.writePhys64(pteAddr, pte | BigInt(updated));
      } catch {
        return PAGE_FAULT;
      }
    }
    const vpn = va >> 12n;
    const pa = ((ppn | (vpn & superMask)) << 12n) | (va & 0xfffn);
    let prot = 0;
    if (readable) prot |= PROT_READ;
    // a U page reached through SUM is never executable by S (that MMU index is never used to fetch)
    if ((flags & PTE_X) !== 0 && !(mode === PRV_S && (flags & PTE_U) !== 0)) prot |= PROT_EXEC;
    if ((flags & PTE_W) !== 0 && (updated & PTE_D) !== 0) prot |= PROT_WRITE;
    return { ok: true, pa, prot };
  }
  return PAGE_FAULT;
}

/** Exception cause of a fault of `kind` for an access (QEMU raise_mmu_exception). */
export function mmuFaultCause(access: MmuAccess, kind: 'page' | 'access'): number {
  switch (access) {
    case MmuAccess.FETCH: return kind === 'page' ? EXCP_INST_PAGE_FAULT : EXCP_INST_ACCESS_FAULT;
    case MmuAccess.STORE: return kind === 'page' ? EXCP_STORE_PAGE_FAULT : EXCP_STORE_AMO_ACCESS_FAULT;
    default: return kind === 'page' ? EXCP_LOAD_PAGE_FAULT : EXCP_LOAD_ACCESS_FAULT;
  }
}

const LOG_MMU = LOG_BIT.mmu;

/**
 * The `-d mmu` lines of a TLB fill, in QEMU 7.2 riscv_cpu_tlb_fill's words: the request (access type
 * 0 load, 1 store, 2 fetch; the MMU index), the translation (ret 0 success, 1 page fault, 2 access
 * fault) and, on success, the PMP check. The rights printed are those of the page after PMP (QEMU
 * prints the walk's and PMP's separately); a PMP refusal shows as ret 2 on the translation line.
 */
function logTlbFill(log: Logger, vaddr: bigint, access: MmuAccess, mmuIdx: number, r: TranslateOutcome): void {
  const va = vaddr.toString(16);
  const hwaddr = (v: bigint): string => v.toString(16).padStart(16, '0');
  log.log('mmu', `riscv_cpu_tlb_fill ad ${va} rw ${access} mmu_idx ${mmuIdx}`);
  if (!r.ok) {
    log.log('mmu', `riscv_cpu_tlb_fill address=${va} ret ${r.fault === 'page' ? 1 : 2} physical ${hwaddr(0n)} prot 0`);
    return;
  }
  log.log('mmu', `riscv_cpu_tlb_fill address=${va} ret 0 physical ${hwaddr(r.pa)} prot ${r.prot}`);
  log.log('mmu', `riscv_cpu_tlb_fill PMP address=${hwaddr(r.pa)} ret 0 prot ${r.prot} tlb_size 4096`);
}

/**
 * `TcgCpuOps.tlbFill` for RISC-V (QEMU riscv_cpu_tlb_fill): translates and PMP-checks `vaddr`;
 * returns the 4 KiB page and its rights, or on a fault returns null if `probe`, else records the
 * page/access fault with tval = vaddr and throws `CpuLoopExit`. Logs to `log` under `-d mmu`.
 */
export function riscvTlbFill(
  h: RiscvHartState, mem: RiscvPhysMemory, vaddr: bigint, access: MmuAccess, mmuIdx: number, probe: boolean,
  log?: Logger,
): TlbFillResult | null {
  const r = riscvTranslate(h, mem, vaddr, access, mmuIdx);
  if (log !== undefined && (log.mask & LOG_MMU) !== 0) logTlbFill(log, vaddr & h.xlenMask, access, mmuIdx, r);
  if (r.ok) return { physPage: r.pa & ~0xfffn, prot: r.prot, pageBits: 12 };
  if (probe) return null;
  return raiseException(h, mmuFaultCause(access, r.fault), vaddr & h.xlenMask);
}

/** `TcgCpuOps.raiseBusError`: an access fault for the access type, tval = vaddr. */
export function riscvRaiseBusError(h: RiscvHartState, vaddr: bigint, access: MmuAccess): never {
  return raiseException(h, mmuFaultCause(access, 'access'), vaddr & h.xlenMask);
}

/** Address-misaligned exception for the access type (AMO/LR/SC, jumps without C), tval = vaddr. */
export function riscvRaiseAlignmentFault(h: RiscvHartState, vaddr: bigint, access: MmuAccess): never {
  const cause = access === MmuAccess.FETCH ? EXCP_INST_ADDR_MIS
    : access === MmuAccess.STORE ? EXCP_STORE_AMO_ADDR_MIS : EXCP_LOAD_ADDR_MIS;
  return raiseException(h, cause, vaddr & h.xlenMask);
}

/**
 * Debug translation (gdb stub, monitors; QEMU riscv_cpu_get_phys_page_debug): the physical address of
 * `vaddr` as a load by `mmuIdx` would translate it, or null. Never writes A/D bits and never raises.
 * PMP does not restrict the result (a debugger may read memory the current mode may not); the page-table
 * reads of the walk are PMP-checked as QEMU's get_physical_address checks them.
 */
export function riscvGetPhysAddrDebug(h: RiscvHartState, mem: RiscvPhysMemory, vaddr: bigint, mmuIdx: number): bigint | null {
  const ro: RiscvPhysMemory = {
    readPhys32: (a) => mem.readPhys32(a), readPhys64: (a) => mem.readPhys64(a),
    writePhys32: () => {}, writePhys64: () => {},
  };
  const r = riscvTranslate(h, ro, vaddr, MmuAccess.LOAD, mmuIdx, false);
  return r.ok ? r.pa : null;
}
