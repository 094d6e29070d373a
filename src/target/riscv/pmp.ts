/**
 * RISC-V physical memory protection (privileged spec 3.7; QEMU target/riscv/pmp.c, without ePMP):
 * 16 entries, address matching OFF/TOR/NA4/NAPOT with a 4-byte grain (G = 0), lock bit, M-mode
 * accesses bypass unlocked entries, lowest-numbered matching entry wins, and an S/U access that matches
 * no entry fails once any entry is active.
 */
import { PMP_ENTRIES, PRV_M, type Priv, type RiscvHartState } from './hart-state.js';

export const PMP_R = 0x01, PMP_W = 0x02, PMP_X = 0x04;
/** A field (address matching mode), bits 4:3 of a pmpcfg byte. */
export const PMP_A_SHIFT = 3;
export const PMP_A_OFF = 0, PMP_A_TOR = 1, PMP_A_NA4 = 2, PMP_A_NAPOT = 3;
/** Lock bit. */
export const PMP_L = 0x80;
/** Bits of a pmpcfg byte that exist (bits 6:5 are reserved, read as zero). */
const PMP_CFG_MASK = 0x9f;

/** pmpaddr holds physical address bits 55:2 on RV64 (54 bits) and 33:2 on RV32 (32 bits). */
function pmpaddrMask(h: RiscvHartState): bigint {
  return h.xlen === 64 ? (1n << 54n) - 1n : 0xffff_ffffn;
}

const aField = (cfg: number): number => (cfg >>> PMP_A_SHIFT) & 3;

/** Recomputes every entry's [start, end] range and the number of active rules (QEMU pmp_update_rule). */
export function pmpUpdateRules(h: RiscvHartState): void {
  let rules = 0;
  for (let i = 0; i < PMP_ENTRIES; i++) {
    const cfg = h.pmpcfg[i] ?? 0;
    const addr = h.pmpaddr[i] ?? 0n;
    let start = 1n, end = 0n; // empty
    switch (aField(cfg)) {
      case PMP_A_TOR: {
        const prev = i === 0 ? 0n : (h.pmpaddr[i - 1] ?? 0n);
        // spec: if pmpaddr[i-1] >= pmpaddr[i] the entry matches nothing
        if (prev < addr) { start = prev << 2n; end = (addr << 2n) - 1n; }
        break;
      }
      case PMP_A_NA4:
        start = addr << 2n; end = start + 3n;
        break;
      case PMP_A_NAPOT: {
        // trailing ones of pmpaddr give the size: 2^(ones + 3) bytes (QEMU pmp_decode_napot)
        let ones = 0n;
        while (((addr >> ones) & 1n) === 1n) ones++;
        const size = 1n << (ones + 3n);
        start = (addr & ~((1n << ones) - 1n)) << 2n;
        end = start + size - 1n;
        break;
      }
      default:
        break;
    }
    if (aField(cfg) !== PMP_A_OFF) rules++;
    h.pmpStart[i] = start;
    h.pmpEnd[i] = end;
  }
  h.pmpNumRules = rules;
}

/** True if entry `i` is locked (its cfg and address ignore writes; it also binds M-mode). */
export function pmpIsLocked(h: RiscvHartState, i: number): boolean {
  return ((h.pmpcfg[i] ?? 0) & PMP_L) !== 0;
}

/** Writes one pmpcfg byte (QEMU pmp_write_cfg): ignored if locked, or if it would make R=0 W=1 (reserved). */
export function pmpWriteCfg(h: RiscvHartState, i: number, value: number): void {
  if (i < 0 || i >= PMP_ENTRIES || pmpIsLocked(h, i)) return;
  const v = value & PMP_CFG_MASK;
  if ((v & PMP_W) !== 0 && (v & PMP_R) === 0) return;
  h.pmpcfg[i] = v;
}

/**
 * Reads pmpcfg CSR `reg` (0..3): on RV32 entries 4·reg..4·reg+3, on RV64 (even `reg` only)
 * entries 4·reg..4·reg+7, one byte each.
 */
export function pmpcfgCsrRead(h: RiscvHartState, reg: number): bigint {
  const n = h.xlen === 64 ? 8 : 4;
  let v = 0n;
  for (let k = 0; k < n; k++) v |= BigInt(h.pmpcfg[reg * 4 + k] ?? 0) << BigInt(8 * k);
  return v;
}

/** Writes pmpcfg CSR `reg` (see {@link pmpcfgCsrRead}) and flushes the TLB. */
export function pmpcfgCsrWrite(h: RiscvHartState, reg: number, value: bigint): void {
  const n = h.xlen === 64 ? 8 : 4;
  for (let k = 0; k < n; k++) pmpWriteCfg(h, reg * 4 + k, Number((value >> BigInt(8 * k)) & 0xffn));
  pmpUpdateRules(h);
  h.onTlbFlush('all');
}

/** Reads pmpaddr `i`. */
export function pmpaddrCsrRead(h: RiscvHartState, i: number): bigint {
  return h.pmpaddr[i] ?? 0n;
}

/**
 * Writes pmpaddr `i` (QEMU pmpaddr_csr_write): ignored if entry i is locked, or if entry i+1 is a locked
 * TOR entry (which uses pmpaddr i as its base). Unimplemented high bits read as zero, so writing all
 * ones reads back the implemented width (OpenSBI's probe).
 */
export function pmpaddrCsrWrite(h: RiscvHartState, i: number, value: bigint): void {
  if (i < 0 || i >= PMP_ENTRIES) return;
  if (i + 1 < PMP_ENTRIES) {
    const next = h.pmpcfg[i + 1] ?? 0;
    if ((next & PMP_L) !== 0 && aField(next) === PMP_A_TOR) return;
  }
  if (pmpIsLocked(h, i)) return;
  h.pmpaddr[i] = value & pmpaddrMask(h);
  pmpUpdateRules(h);
  h.onTlbFlush('all');
}

/**
 * The access rights PMP grants to an access of `size` bytes at physical `addr` in privilege `mode`
 * (QEMU pmp_hart_has_privs): a mask of PMP_R/PMP_W/PMP_X (equal to PROT_READ/WRITE/EXEC).
 * Returns 0 if the access straddles an entry's boundary, or matches nothing in S/U while entries are
 * active. With no active entry everything is allowed in M and nothing in S/U (spec 3.7.1).
 */
export function pmpCheck(h: RiscvHartState, addr: bigint, size: number, mode: Priv): number {
  if (h.pmpNumRules === 0) return mode === PRV_M ? 7 : 0;
  const last = addr + BigInt(size - 1);
  for (let i = 0; i < PMP_ENTRIES; i++) {
    const cfg = h.pmpcfg[i] ?? 0;
    if (aField(cfg) === PMP_A_OFF) continue;
    const start = h.pmpStart[i] ?? 1n, end = h.pmpEnd[i] ?? 0n;
    const s = addr >= start && addr <= end;
    const e = last >= start && last <= end;
    if (s !== e) return 0; // partially inside
    if (s) return mode !== PRV_M || (cfg & PMP_L) !== 0 ? cfg & 7 : 7;
  }
  return mode === PRV_M ? 7 : 0;
}
