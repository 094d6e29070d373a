/**
 * A small RV64 guest for the snapshot tests, assembled here (encodings from the RISC-V spec, as
 * test/machine/rv-asm.ts): a main loop that updates a pseudo-random value, stores it into a RAM ring
 * and prints a character every 32 iterations, interrupted by two timers — the ACLINT mtimer (MTI,
 * prints '!') and the Sstc stimecmp timer (STI taken in M mode, prints '#') — so a run has device
 * timers, a board timer, UART output, RAM writes and interrupts at exact instructions.
 */
import {
  addi, andi, auipc, bne, code, csrrs, csrrw, j, lui, mret, sb, slli, X,
} from '../machine/rv-asm.js';

const R = (f7: number, rs2: number, rs1: number, f3: number, rd: number): number =>
  ((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | 0x33) >>> 0;
const add = (rd: number, rs1: number, rs2: number): number => R(0, rs2, rs1, 0, rd);
const ld = (rd: number, rs1: number, imm: number): number => (((imm & 0xfff) << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x03) >>> 0;
const sd = (rs2: number, rs1: number, imm: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (3 << 12) | ((imm & 0x1f) << 7) | 0x23) >>> 0;

const S2 = 18, S3 = 19, A4 = 14;
const CSR_MTVEC = 0x305, CSR_MIE = 0x304, CSR_MSTATUS = 0x300, CSR_MCAUSE = 0x342, CSR_MENVCFG = 0x30a;
const CSR_TIME = 0xc01, CSR_STIMECMP = 0x14d;

/** Ticks (10 MHz, 25 instructions each at the default icount shift) between timer interrupts. */
export const MTIMER_INTERVAL = 97;
export const STIMER_INTERVAL = 131;

type Item = number | ((pc: number) => number);

/** The guest image (raw, loaded at 0x8000_0000 with `bios: 'none'`). */
export function timerGuest(): Uint8Array {
  const handlerAt = 4 * 40;
  const items: Item[] = [
    // mtvec = handler
    auipc(X.t0, 0), (pc) => addi(X.t0, X.t0, handlerAt - (pc - 4)), csrrw(X.zero, CSR_MTVEC, X.t0),
    lui(X.s0, 0x10000), // s0 = UART
    lui(X.s1, 0x2004), // s1 = mtimecmp[0]
    auipc(X.a3, 0x10), andi(X.a3, X.a3, -8), // a3 = data ring (8-aligned)
    lui(X.t2, 0x200c), ld(X.t0, X.t2, -8), addi(X.t0, X.t0, MTIMER_INTERVAL), sd(X.t0, X.s1, 0),
    // Sstc on (menvcfg.STCE), stimecmp = time + interval
    addi(X.t0, X.zero, 1), slli(X.t0, X.t0, 63), csrrs(X.zero, CSR_MENVCFG, X.t0),
    csrrs(X.t0, CSR_TIME, X.zero), addi(X.t0, X.t0, STIMER_INTERVAL), csrrw(X.zero, CSR_STIMECMP, X.t0),
    addi(X.t0, X.zero, 0xa0), csrrs(X.zero, CSR_MIE, X.t0), // MTIE | STIE
    addi(X.t0, X.zero, 8), csrrs(X.zero, CSR_MSTATUS, X.t0), // MIE
    addi(X.a0, X.zero, 1),
    // main: a0 = a0 * 5 + 1; ring[a1 & 0x7f8] = a0; a1 += 8; every 32 iterations print 'a' + (a0 & 15)
    slli(X.t0, X.a0, 2), add(X.a0, X.a0, X.t0), addi(X.a0, X.a0, 1),
    andi(X.t1, X.a1, 0x7f8), add(X.t1, X.t1, X.a3), sd(X.a0, X.t1, 0),
    addi(X.a1, X.a1, 8),
    andi(X.t1, X.a1, 0xf8), bne(X.t1, X.zero, -32),
    andi(X.t1, X.a0, 15), addi(X.t1, X.t1, 0x61), sb(X.t1, X.s0, 0),
    j(-48),
  ];
  while (items.length < handlerAt / 4) items.push(addi(0, 0, 0));
  items.push(
    // handler (uses s2, s3, a2, a4 only: the main loop may be interrupted anywhere)
    csrrs(S2, CSR_MCAUSE, X.zero), andi(S2, S2, 0xff), addi(S3, X.zero, 7), bne(S2, S3, 32),
    ld(S3, X.s1, 0), addi(S3, S3, MTIMER_INTERVAL), sd(S3, X.s1, 0),
    addi(S3, X.zero, 0x21), sb(S3, X.s0, 0), addi(X.a2, X.a2, 1), mret(),
    csrrs(S3, CSR_STIMECMP, X.zero), addi(S3, S3, STIMER_INTERVAL), csrrw(X.zero, CSR_STIMECMP, S3),
    addi(S3, X.zero, 0x23), sb(S3, X.s0, 0), addi(A4, A4, 1), mret(),
  );
  return code(items.map((it, i) => (typeof it === 'number' ? it : it(i * 4))));
}
