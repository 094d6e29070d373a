/**
 * RISC-V control and status registers (QEMU 7.2 target/riscv/csr.c, without the hypervisor, vector,
 * AIA and debug extensions): a table of CSR number → name, access predicate, read and write functions.
 *
 * Access rules (QEMU riscv_csrrw_check): a CSR missing from the table, a write to a read-only number
 * (bits 11:10 = 3), an access from a privilege below bits 9:8 of the number, or a failing predicate
 * (counter enables, TVM, FS off, Sstc enables, RV32-only CSR on RV64…) is illegal: {@link csrRead} and
 * {@link csrWrite} throw {@link RiscvIllegalCsr}, which the translator's helper turns into an
 * illegal-instruction exception with xtval = the instruction bits.
 *
 * A debugger's access ({@link csrReadDebug}, {@link csrWriteDebug}, as QEMU riscv_csrrw_debug with
 * env->debugger set) skips the checks that depend on the hart's current state — privilege level, mstatus.FS,
 * counter enables, mstatus.TVM, the Sstc enables — but not those that say the CSR does not exist.
 *
 * Values are XLEN-bit, zero-extended in the bigint (the translator sign-extends for RV32 registers).
 * WARL fields behave as QEMU: unsupported satp modes leave satp unchanged, xtvec modes ≥ 2 leave it
 * unchanged, mstatus/sstatus/mip/mie/mideleg/medeleg keep their read-only bits.
 * Deviations from QEMU 7.2, all toward the spec: xepc[0] reads as zero, medeleg[11] (M-ecall) is not
 * delegable, MPP ignores writes of the reserved value 2, UXL/SXL/VS are read-only.
 */
import {
  M_MODE_INTERRUPTS, MENVCFG_FIOM, MENVCFG_STCE, MIP_SEIP, MIP_SSIP, MIP_STIP,
  MSTATUS32_SD, MSTATUS_FS, MSTATUS_FS_SHIFT, MSTATUS_MIE, MSTATUS_MPIE, MSTATUS_MPP, MSTATUS_MPP_SHIFT,
  MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SIE, MSTATUS_SPIE, MSTATUS_SPP, MSTATUS_SUM, MSTATUS_TSR,
  MSTATUS_TVM, MSTATUS_TW, MSTATUS_UBE, MSTATUS_VS, MSTATUS_XS, PRV_M, PRV_S, PRV_U, PMP_ENTRIES,
  S_MODE_INTERRUPTS, SATP_MODE_BARE, SATP_MODE_SV32, SATP_MODE_SV39, SATP_MODE_SV48, SATP_MODE_SV57,
  type RiscvHartState,
} from './hart-state.js';
import { markFsDirty, updateStimer } from './priv.js';
import { pmpaddrCsrRead, pmpaddrCsrWrite, pmpcfgCsrRead, pmpcfgCsrWrite } from './pmp.js';

// ---- CSR numbers (QEMU cpu_bits.h) -----------------------------------------------------------------
export const CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003;
export const CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02;
export const CSR_CYCLEH = 0xc80, CSR_TIMEH = 0xc81, CSR_INSTRETH = 0xc82;
export const CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106;
export const CSR_SENVCFG = 0x10a, CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142;
export const CSR_STVAL = 0x143, CSR_SIP = 0x144, CSR_STIMECMP = 0x14d, CSR_STIMECMPH = 0x15d;
export const CSR_SATP = 0x180;
export const CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13, CSR_MHARTID = 0xf14;
export const CSR_MCONFIGPTR = 0xf15;
export const CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303;
export const CSR_MIE = 0x304, CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a;
export const CSR_MSTATUSH = 0x310, CSR_MENVCFGH = 0x31a, CSR_MCOUNTINHIBIT = 0x320;
export const CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343, CSR_MIP = 0x344;
export const CSR_PMPCFG0 = 0x3a0, CSR_PMPADDR0 = 0x3b0;
export const CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02, CSR_MCYCLEH = 0xb80, CSR_MINSTRETH = 0xb82;

const PRIV_NAMES: Record<number, string> = { [PRV_U]: 'U-mode', [PRV_S]: 'S-mode', [PRV_M]: 'M-mode' };

/** An illegal CSR access; the translator turns it into an illegal-instruction exception. */
export class RiscvIllegalCsr extends Error {
  constructor(
    readonly csrno: number,
    readonly write: boolean,
    readonly priv: number,
    readonly reason: string,
  ) {
    super(`illegal ${write ? 'write to' : 'read of'} CSR ${csrName(csrno)} (0x${csrno.toString(16).padStart(3, '0')}) `
      + `in ${PRIV_NAMES[priv] ?? `priv ${priv}`}: ${reason}`);
    this.name = 'RiscvIllegalCsr';
  }
}

/**
 * One CSR: predicate (returns why the access is illegal, or null; `debug` = a debugger's access, which only
 * existence checks refuse), read, and read-modify-write.
 */
interface CsrDef {
  readonly name: string;
  readonly pred?: (h: RiscvHartState, write: boolean, debug: boolean) => string | null;
  readonly read: (h: RiscvHartState) => bigint;
  /**
   * Writes `value` under `mask` (bits to change). Missing: writes are accepted and ignored (WARL with
   * no writable field). Most CSRs only need the merged value: see {@link plain}.
   */
  readonly rmw?: (h: RiscvHartState, value: bigint, mask: bigint) => void;
}

const TABLE = new Map<number, CsrDef>();

/** A write function of the merged value `(old & ~mask) | (value & mask)`. */
function plain(read: (h: RiscvHartState) => bigint, write: (h: RiscvHartState, v: bigint) => void) {
  return (h: RiscvHartState, value: bigint, mask: bigint): void => {
    write(h, ((read(h) & ~mask) | (value & mask)) & h.xlenMask);
  };
}

function def(no: number, name: string, read: CsrDef['read'],
  write?: (h: RiscvHartState, v: bigint) => void, pred?: CsrDef['pred']): void {
  const d: { -readonly [K in keyof CsrDef]: CsrDef[K] } = { name, read };
  if (write) d.rmw = plain(read, write);
  if (pred) d.pred = pred;
  TABLE.set(no, d);
}

const lo32 = (v: bigint): bigint => v & 0xffff_ffffn;
const hi32 = (v: bigint): bigint => (v >> 32n) & 0xffff_ffffn;

// ---- predicates (QEMU csr.c predicates) ------------------------------------------------------------
const rv32Only = (h: RiscvHartState): string | null => (h.xlen === 32 ? null : 'exists on RV32 only');
const fpPred = (h: RiscvHartState, _write: boolean, debug: boolean): string | null =>
  !h.hasExt('f') && !h.hasExt('d') ? 'no F extension'
    : !debug && ((h.mstatusLo >>> MSTATUS_FS_SHIFT) & 3) === 0 ? 'FPU off (mstatus.FS = 0)' : null;
/** Counter `index` (0 cycle, 1 time, 2 instret, 3..31 hpm) readable from S/U per mcounteren/scounteren. */
function counterPred(index: number, rv32High: boolean) {
  return (h: RiscvHartState, _write: boolean, debug: boolean): string | null => {
    if (rv32High && h.xlen !== 32) return 'exists on RV32 only';
    if (debug) return null;
    if (h.priv < PRV_M && ((h.mcounteren >>> index) & 1) === 0) return `mcounteren bit ${index} clear`;
    if (h.priv === PRV_U && ((h.scounteren >>> index) & 1) === 0) return `scounteren bit ${index} clear`;
    return null;
  };
}
const satpPred = (h: RiscvHartState, _write: boolean, debug: boolean): string | null =>
  !debug && h.priv === PRV_S && (h.mstatusLo & MSTATUS_TVM) !== 0 ? 'mstatus.TVM is set' : null;
/** Sstc (QEMU sstc predicate): M always; S needs mcounteren.TM and menvcfg.STCE. */
function sstcPred(rv32High: boolean) {
  return (h: RiscvHartState, _write: boolean, debug: boolean): string | null => {
    if (rv32High && h.xlen !== 32) return 'exists on RV32 only';
    if (debug || h.priv === PRV_M) return null;
    if ((h.mcounteren & 2) === 0) return 'mcounteren.TM clear';
    if ((h.menvcfg & MENVCFG_STCE) === 0n) return 'menvcfg.STCE clear';
    return null;
  };
}

// ---- mstatus ---------------------------------------------------------------------------------------

/** SD summarizes dirty FS/XS/VS (QEMU add_status_sd). */
function statusDirty(lo: number): boolean {
  return (lo & MSTATUS_FS) === MSTATUS_FS || (lo & MSTATUS_XS) === MSTATUS_XS || (lo & MSTATUS_VS) === MSTATUS_VS;
}

/** mstatus as software reads it (with SD). */
export function readMstatus(h: RiscvHartState): bigint {
  const dirty = statusDirty(h.mstatusLo);
  if (h.xlen === 32) return BigInt(((h.mstatusLo | (dirty ? MSTATUS32_SD : 0)) >>> 0));
  return (BigInt(h.mstatusHi >>> 0) << 32n) | BigInt(h.mstatusLo >>> 0) | (dirty ? 1n << 63n : 0n);
}

/** Bits of the low word writable through mstatus (QEMU write_mstatus, no V/H). */
function mstatusWritable(h: RiscvHartState): number {
  let mask = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPRV
    | MSTATUS_SUM | MSTATUS_MPP | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TSR | MSTATUS_TW;
  if (h.hasExt('f') || h.hasExt('d')) mask |= MSTATUS_FS;
  return mask;
}

function mppLegal(h: RiscvHartState, mpp: number): boolean {
  return mpp === PRV_M || (mpp === PRV_S && h.hasExt('s')) || (mpp === PRV_U && h.hasExt('u'));
}

/** Sets the low word of mstatus, flushing/notifying for the fields that matter. */
function setMstatusLo(h: RiscvHartState, nlo: number): void {
  const old = h.mstatusLo;
  h.mstatusLo = nlo >>> 0;
  const changed = old ^ nlo;
  if ((changed & MSTATUS_MXR) !== 0) h.onTlbFlush('all');
  if ((changed & (MSTATUS_MPRV | MSTATUS_MPP | MSTATUS_SUM | MSTATUS_FS)) !== 0) h.onTbFlagsChange();
}

/** Writes mstatus (QEMU write_mstatus): WARL masks; the high word (UXL/SXL/SBE/MBE) is read-only. */
export function writeMstatus(h: RiscvHartState, v: bigint): void {
  const mask = mstatusWritable(h);
  const old = h.mstatusLo;
  let nlo = (old & ~mask) | (Number(v & 0xffff_ffffn) & mask);
  if (!mppLegal(h, (nlo & MSTATUS_MPP) >>> MSTATUS_MPP_SHIFT)) nlo = (nlo & ~MSTATUS_MPP) | (old & MSTATUS_MPP);
  if (!h.hasExt('s')) nlo &= ~MSTATUS_SPP;
  setMstatusLo(h, nlo >>> 0);
}

/** Bits of mstatus visible in sstatus (low word). */
const SSTATUS_LO = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_UBE | MSTATUS_SPP | MSTATUS_VS | MSTATUS_FS
  | MSTATUS_XS | MSTATUS_SUM | MSTATUS_MXR;

/** sstatus: the S-mode view of mstatus (UXL and SD included on RV64). */
export function readSstatus(h: RiscvHartState): bigint {
  const dirty = statusDirty(h.mstatusLo);
  const lo = h.mstatusLo & SSTATUS_LO;
  if (h.xlen === 32) return BigInt((lo | (dirty ? MSTATUS32_SD : 0)) >>> 0);
  return (BigInt(h.mstatusHi & 3) << 32n) | BigInt(lo >>> 0) | (dirty ? 1n << 63n : 0n);
}

function writeSstatus(h: RiscvHartState, v: bigint): void {
  const lo = (h.mstatusLo & ~SSTATUS_LO) | (Number(v & 0xffff_ffffn) & SSTATUS_LO);
  writeMstatus(h, BigInt(lo >>> 0));
}

// ---- interrupt registers -----------------------------------------------------------------------------

/** mip bits software can write (QEMU rmw_mip64: delegable_ints; STIP is read-only under Sstc). */
function mipWritable(h: RiscvHartState): number {
  let mask = S_MODE_INTERRUPTS;
  if ((h.menvcfg & MENVCFG_STCE) !== 0n) mask &= ~MIP_STIP;
  return mask;
}

/** Read-modify-write of mip under `mask` (QEMU rmw_mip64, SEIP = software bit OR external line). */
function rmwMip(h: RiscvHartState, value: bigint, writeMask: bigint): void {
  const mask = Number(writeMask & 0xffff_ffffn) & mipWritable(h);
  if (mask === 0) return;
  let v = Number(value & 0xffff_ffffn);
  if ((mask & MIP_SEIP) !== 0) {
    h.softwareSeip = (v & MIP_SEIP) !== 0;
    if (h.externalSeip) v |= MIP_SEIP;
  }
  h.mip = ((h.mip & ~mask) | (v & mask)) >>> 0;
}

const ALL_INTS = M_MODE_INTERRUPTS | S_MODE_INTERRUPTS;
/** Exceptions medeleg may delegate: 0-9, 12, 13, 15 (not M-ecall 11, nor reserved/H-only codes). */
export const DELEGABLE_EXCPS = 0x3ff | (1 << 12) | (1 << 13) | (1 << 15);

// ---- counters ----------------------------------------------------------------------------------------

const mcycle = (h: RiscvHartState): bigint => BigInt.asUintN(64, h.getInstret() + h.mcycleOffset);
const minstret = (h: RiscvHartState): bigint => BigInt.asUintN(64, h.getInstret() + h.minstretOffset);
function setMcycle(h: RiscvHartState, v: bigint): void { h.mcycleOffset = v - h.getInstret(); }
function setMinstret(h: RiscvHartState, v: bigint): void { h.minstretOffset = v - h.getInstret(); }

/** RV64: the full value; RV32: the low half (the `h` CSRs give the high half). */
const xlenPart = (h: RiscvHartState, v: bigint): bigint => (h.xlen === 32 ? lo32(v) : v);
const setLow = (h: RiscvHartState, old: bigint, v: bigint): bigint => (h.xlen === 32 ? (old & ~0xffff_ffffn) | lo32(v) : v);
const setHigh = (old: bigint, v: bigint): bigint => lo32(old) | (lo32(v) << 32n);

// ---- the table ---------------------------------------------------------------------------------------

// floating point (QEMU read_fflags/write_fcsr …: writes mark FS dirty)
def(CSR_FFLAGS, 'fflags', (h) => BigInt(h.readFcsr() & 0x1f), (h, v) => {
  markFsDirty(h); h.writeFcsr((h.readFcsr() & ~0x1f) | Number(v & 0x1fn));
}, fpPred);
def(CSR_FRM, 'frm', (h) => BigInt((h.readFcsr() >>> 5) & 7), (h, v) => {
  markFsDirty(h); h.writeFcsr((h.readFcsr() & 0x1f) | (Number(v & 7n) << 5));
}, fpPred);
def(CSR_FCSR, 'fcsr', (h) => BigInt(h.readFcsr() & 0xff), (h, v) => {
  markFsDirty(h); h.writeFcsr(Number(v & 0xffn));
}, fpPred);

// unprivileged counters
def(CSR_CYCLE, 'cycle', (h) => xlenPart(h, mcycle(h)), undefined, counterPred(0, false));
def(CSR_TIME, 'time', (h) => xlenPart(h, BigInt.asUintN(64, h.getTime())), undefined, counterPred(1, false));
def(CSR_INSTRET, 'instret', (h) => xlenPart(h, minstret(h)), undefined, counterPred(2, false));
def(CSR_CYCLEH, 'cycleh', (h) => hi32(mcycle(h)), undefined, counterPred(0, true));
def(CSR_TIMEH, 'timeh', (h) => hi32(BigInt.asUintN(64, h.getTime())), undefined, counterPred(1, true));
def(CSR_INSTRETH, 'instreth', (h) => hi32(minstret(h)), undefined, counterPred(2, true));
for (let n = 3; n < 32; n++) {
  // no hardware performance counters: they read as zero
  def(CSR_CYCLE + n, `hpmcounter${n}`, () => 0n, undefined, counterPred(n, false));
  def(CSR_CYCLEH + n, `hpmcounter${n}h`, () => 0n, undefined, counterPred(n, true));
}

// supervisor
def(CSR_SSTATUS, 'sstatus', readSstatus, writeSstatus);
TABLE.set(CSR_SIE, {
  name: 'sie',
  read: (h) => BigInt(h.mie & h.mideleg & S_MODE_INTERRUPTS),
  rmw: (h, v, m) => {
    const mask = Number(m & 0xffff_ffffn) & h.mideleg & S_MODE_INTERRUPTS;
    h.mie = ((h.mie & ~mask) | (Number(v & 0xffff_ffffn) & mask)) >>> 0;
  },
});
def(CSR_STVEC, 'stvec', (h) => h.stvec, (h, v) => { if ((v & 3n) < 2n) h.stvec = v; });
def(CSR_SCOUNTEREN, 'scounteren', (h) => BigInt(h.scounteren >>> 0), (h, v) => { h.scounteren = Number(lo32(v)) >>> 0; });
def(CSR_SENVCFG, 'senvcfg', (h) => h.senvcfg, (h, v) => { h.senvcfg = v & MENVCFG_FIOM; });
def(CSR_SSCRATCH, 'sscratch', (h) => h.sscratch, (h, v) => { h.sscratch = v; });
def(CSR_SEPC, 'sepc', (h) => h.sepc, (h, v) => { h.sepc = v & ~1n; });
def(CSR_SCAUSE, 'scause', (h) => h.scause, (h, v) => { h.scause = v; });
def(CSR_STVAL, 'stval', (h) => h.stval, (h, v) => { h.stval = v; });
TABLE.set(CSR_SIP, {
  name: 'sip',
  read: (h) => BigInt(h.mip & h.mideleg & S_MODE_INTERRUPTS),
  // only SSIP is writable from S-mode, and only when delegated (QEMU rmw_sip64)
  rmw: (h, v, m) => rmwMip(h, v, m & BigInt(h.mideleg & MIP_SSIP)),
});
def(CSR_STIMECMP, 'stimecmp', (h) => xlenPart(h, h.stimecmp), (h, v) => {
  h.stimecmp = setLow(h, h.stimecmp, v); updateStimer(h);
}, sstcPred(false));
def(CSR_STIMECMPH, 'stimecmph', (h) => hi32(h.stimecmp), (h, v) => {
  h.stimecmp = setHigh(h.stimecmp, v); updateStimer(h);
}, sstcPred(true));
def(CSR_SATP, 'satp', (h) => h.satp, writeSatp, satpPred);

/** satp (QEMU write_satp): a write naming an unsupported mode is ignored entirely. */
function writeSatp(h: RiscvHartState, v: bigint): void {
  const mode = h.xlen === 64 ? Number(v >> 60n) : Number(v >> 31n);
  const legal = h.xlen === 64
    ? mode === SATP_MODE_BARE || mode === SATP_MODE_SV39 || mode === SATP_MODE_SV48 || mode === SATP_MODE_SV57
    : mode === SATP_MODE_BARE || mode === SATP_MODE_SV32;
  if (!legal || v === h.satp) return;
  h.satp = v;
  // QEMU flushes on ASID changes only; a full flush on any change is always correct and rare
  h.onTlbFlush('all');
}

// machine information
def(CSR_MVENDORID, 'mvendorid', (h) => h.mvendorid);
def(CSR_MARCHID, 'marchid', (h) => h.marchid);
def(CSR_MIMPID, 'mimpid', (h) => h.mimpid);
def(CSR_MHARTID, 'mhartid', (h) => h.mhartid);
def(CSR_MCONFIGPTR, 'mconfigptr', () => 0n);

// machine trap setup and handling
def(CSR_MSTATUS, 'mstatus', (h) => (h.xlen === 32 ? lo32(readMstatus(h)) : readMstatus(h)), writeMstatus);
def(CSR_MSTATUSH, 'mstatush', (h) => BigInt(h.mstatusHi >>> 0), () => {}, rv32Only);
def(CSR_MISA, 'misa', (h) => h.misa & h.xlenMask, () => {});
def(CSR_MEDELEG, 'medeleg', (h) => BigInt(h.medeleg >>> 0), (h, v) => {
  h.medeleg = Number(v & BigInt(DELEGABLE_EXCPS)) >>> 0;
});
def(CSR_MIDELEG, 'mideleg', (h) => BigInt(h.mideleg >>> 0), (h, v) => {
  h.mideleg = Number(v & BigInt(S_MODE_INTERRUPTS)) >>> 0;
});
def(CSR_MIE, 'mie', (h) => BigInt(h.mie >>> 0), (h, v) => { h.mie = Number(v & BigInt(ALL_INTS)) >>> 0; });
def(CSR_MTVEC, 'mtvec', (h) => h.mtvec, (h, v) => { if ((v & 3n) < 2n) h.mtvec = v; });
def(CSR_MCOUNTEREN, 'mcounteren', (h) => BigInt(h.mcounteren >>> 0), (h, v) => { h.mcounteren = Number(lo32(v)) >>> 0; });
def(CSR_MENVCFG, 'menvcfg', (h) => xlenPart(h, h.menvcfg), (h, v) => {
  const mask = h.xlen === 64 ? MENVCFG_FIOM | MENVCFG_STCE : MENVCFG_FIOM;
  h.menvcfg = (h.menvcfg & ~mask) | (v & mask);
});
def(CSR_MENVCFGH, 'menvcfgh', (h) => hi32(h.menvcfg), (h, v) => {
  h.menvcfg = (h.menvcfg & ~MENVCFG_STCE) | ((lo32(v) << 32n) & MENVCFG_STCE);
}, rv32Only);
def(CSR_MCOUNTINHIBIT, 'mcountinhibit', (h) => BigInt(h.mcountinhibit >>> 0), (h, v) => {
  h.mcountinhibit = Number(v & 0xffff_fffdn) >>> 0;
});
for (let n = 3; n < 32; n++) def(CSR_MCOUNTINHIBIT + n, `mhpmevent${n}`, () => 0n, () => {});
def(CSR_MSCRATCH, 'mscratch', (h) => h.mscratch, (h, v) => { h.mscratch = v; });
def(CSR_MEPC, 'mepc', (h) => h.mepc, (h, v) => { h.mepc = v & ~1n; });
def(CSR_MCAUSE, 'mcause', (h) => h.mcause, (h, v) => { h.mcause = v; });
def(CSR_MTVAL, 'mtval', (h) => h.mtval, (h, v) => { h.mtval = v; });
TABLE.set(CSR_MIP, { name: 'mip', read: (h) => BigInt(h.mip >>> 0), rmw: rmwMip });

// PMP: 16 entries (pmpcfg0..3, odd ones RV32 only; pmpaddr0..15), as QEMU 7.2
for (let r = 0; r < PMP_ENTRIES / 4; r++) {
  def(CSR_PMPCFG0 + r, `pmpcfg${r}`, (h) => pmpcfgCsrRead(h, r), (h, v) => pmpcfgCsrWrite(h, r, v),
    (h) => (h.xlen === 64 && (r & 1) !== 0 ? 'odd pmpcfg registers exist on RV32 only' : null));
}
for (let i = 0; i < PMP_ENTRIES; i++) {
  def(CSR_PMPADDR0 + i, `pmpaddr${i}`, (h) => pmpaddrCsrRead(h, i), (h, v) => pmpaddrCsrWrite(h, i, v));
}

// machine counters (cycle = instret: one instruction a cycle)
def(CSR_MCYCLE, 'mcycle', (h) => xlenPart(h, mcycle(h)), (h, v) => setMcycle(h, setLow(h, mcycle(h), v)));
def(CSR_MINSTRET, 'minstret', (h) => xlenPart(h, minstret(h)), (h, v) => setMinstret(h, setLow(h, minstret(h), v)));
def(CSR_MCYCLEH, 'mcycleh', (h) => hi32(mcycle(h)), (h, v) => setMcycle(h, setHigh(mcycle(h), v)), rv32Only);
def(CSR_MINSTRETH, 'minstreth', (h) => hi32(minstret(h)), (h, v) => setMinstret(h, setHigh(minstret(h), v)), rv32Only);
for (let n = 3; n < 32; n++) {
  def(CSR_MCYCLE + n, `mhpmcounter${n}`, () => 0n, () => {});
  def(CSR_MCYCLEH + n, `mhpmcounter${n}h`, () => 0n, () => {}, rv32Only);
}

// ---- names -------------------------------------------------------------------------------------------

/** CSR number → name, for every implemented CSR (disassembly, register access by name). */
export const CSR_NAMES: ReadonlyMap<number, string> = new Map([...TABLE].map(([no, d]) => [no, d.name]));
const CSR_BY_NAME: ReadonlyMap<string, number> = new Map([...TABLE].map(([no, d]) => [d.name, no]));

/** Name of a CSR number (`csr0x7c0` style for unknown numbers, as objdump prints them as numbers). */
export function csrName(csrno: number): string {
  return CSR_NAMES.get(csrno) ?? `0x${csrno.toString(16)}`;
}

/** CSR number of a name (`mstatus`, `pmpaddr3`…), or undefined. */
export function csrNumber(name: string): number | undefined {
  return CSR_BY_NAME.get(name.toLowerCase());
}

// ---- access ------------------------------------------------------------------------------------------

/**
 * Why an access is illegal, or null if allowed (QEMU riscv_csrrw_check). With `debug` (a debugger's
 * access, QEMU env->debugger) only the checks that say the CSR does not exist or is read-only apply.
 */
export function csrCheck(h: RiscvHartState, csrno: number, write: boolean, debug = false): string | null {
  const d = TABLE.get(csrno);
  if (d === undefined) return 'not implemented';
  if (write && ((csrno >>> 10) & 3) === 3) return 'read-only CSR';
  const need = (csrno >>> 8) & 3;
  if (!debug && h.priv < need) return `needs ${PRIV_NAMES[need] ?? `priv ${need}`}`;
  return d.pred ? d.pred(h, write, debug) : null;
}

/** True if the access is allowed (no exception). */
export function csrAccessAllowed(h: RiscvHartState, csrno: number, write: boolean): boolean {
  return csrCheck(h, csrno, write) === null;
}

function lookup(h: RiscvHartState, csrno: number, write: boolean, debug = false): CsrDef {
  const why = csrCheck(h, csrno, write, debug);
  if (why !== null) throw new RiscvIllegalCsr(csrno, write, h.priv, why);
  return TABLE.get(csrno) as CsrDef;
}

/** Reads a CSR (XLEN bits, zero-extended). Throws {@link RiscvIllegalCsr} if not allowed. */
export function csrRead(h: RiscvHartState, csrno: number): bigint {
  return lookup(h, csrno, false).read(h) & h.xlenMask;
}

/** Writes a CSR. Throws {@link RiscvIllegalCsr} if not allowed. */
export function csrWrite(h: RiscvHartState, csrno: number, value: bigint): void {
  lookup(h, csrno, true).rmw?.(h, value & h.xlenMask, h.xlenMask);
}

/**
 * A debugger's read (gdb, `getRegister`; QEMU riscv_csrrw_debug): whatever the current privilege,
 * mstatus.FS, counter enables or TVM. Throws {@link RiscvIllegalCsr} only for a CSR this hart does not have.
 */
export function csrReadDebug(h: RiscvHartState, csrno: number): bigint {
  return lookup(h, csrno, false, true).read(h) & h.xlenMask;
}

/**
 * A debugger's write (see {@link csrReadDebug}); the CSR's WARL rules and side effects apply as for a
 * guest write. Throws {@link RiscvIllegalCsr} for a CSR this hart does not have or a read-only one.
 */
export function csrWriteDebug(h: RiscvHartState, csrno: number, value: bigint): void {
  lookup(h, csrno, true, true).rmw?.(h, value & h.xlenMask, h.xlenMask);
}

/**
 * The Zicsr access (QEMU riscv_csrrw): returns the old value and, if `writeMask` is not zero, writes
 * `(old & ~writeMask) | (value & writeMask)`. CSRRW: mask all ones; CSRRS: value = mask = rs1;
 * CSRRC: value 0, mask = rs1; a zero mask (rs1 = x0 / uimm 0 for S/C) is a pure read and is legal
 * on read-only CSRs. Throws {@link RiscvIllegalCsr} if not allowed.
 */
export function csrReadModifyWrite(h: RiscvHartState, csrno: number, value: bigint, writeMask: bigint): bigint {
  const mask = writeMask & h.xlenMask;
  const d = lookup(h, csrno, mask !== 0n);
  const old = d.read(h) & h.xlenMask;
  if (mask !== 0n) d.rmw?.(h, value & h.xlenMask, mask);
  return old;
}
