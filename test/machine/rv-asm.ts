/**
 * Just enough RV32I/RV64I encoding (RISC-V unprivileged spec ch. 2 and 34 formats) to write the small
 * guest programs of the machine tests inline, independently of softboard's decoder.
 */

/** ABI register numbers. */
export const X = { zero: 0, ra: 1, sp: 2, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9, a0: 10, a1: 11, a2: 12, a3: 13 } as const;

const I = (op: number, f3: number, rd: number, rs1: number, imm: number): number =>
  (((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op) >>> 0;
const S = (op: number, f3: number, rs1: number, rs2: number, imm: number): number =>
  ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op) >>> 0;
const B = (f3: number, rs1: number, rs2: number, off: number): number =>
  ((((off >> 12) & 1) << 31) | (((off >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((off >> 1) & 0xf) << 8) | (((off >> 11) & 1) << 7) | 0x63) >>> 0;

export const addi = (rd: number, rs1: number, imm: number): number => I(0x13, 0, rd, rs1, imm);
export const lui = (rd: number, imm20: number): number => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x37) >>> 0;
export const lw = (rd: number, rs1: number, imm: number): number => I(0x03, 2, rd, rs1, imm);
export const lbu = (rd: number, rs1: number, imm: number): number => I(0x03, 4, rd, rs1, imm);
export const sw = (rs2: number, rs1: number, imm: number): number => S(0x23, 2, rs1, rs2, imm);
export const sb = (rs2: number, rs1: number, imm: number): number => S(0x23, 0, rs1, rs2, imm);
export const andi = (rd: number, rs1: number, imm: number): number => I(0x13, 7, rd, rs1, imm);
export const beq = (rs1: number, rs2: number, off: number): number => B(0, rs1, rs2, off);
export const bne = (rs1: number, rs2: number, off: number): number => B(1, rs1, rs2, off);
/** jal x0, off (a plain jump). */
export const j = (off: number): number =>
  ((((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20) | (((off >> 12) & 0xff) << 12) | 0x6f) >>> 0;
export const wfi = (): number => 0x10500073;
export const nop = (): number => addi(0, 0, 0);

/** `li rd, v` for a 32-bit v as lui + addi (two instructions). */
export function li(rd: number, v: number): number[] {
  const lo = ((v & 0xfff) << 20) >> 20; // sign-extended low 12 bits
  const hi = ((v - lo) >>> 12) & 0xfffff;
  return [lui(rd, hi), addi(rd, rd, lo)];
}

/** Little-endian bytes of 32-bit instruction words. */
export function code(words: readonly number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return b;
}

/** auipc rd, imm20 (rd = pc + imm20 << 12). */
export const auipc = (rd: number, imm20: number): number => (((imm20 & 0xfffff) << 12) | (rd << 7) | 0x17) >>> 0;
/** csrrs rd, csr, rs1. */
export const csrrs = (rd: number, csr: number, rs1: number): number => I(0x73, 2, rd, rs1, csr);
/** csrrw rd, csr, rs1. */
export const csrrw = (rd: number, csr: number, rs1: number): number => I(0x73, 1, rd, rs1, csr);
export const mret = (): number => 0x30200073;
/** slli rd, rs1, shamt (RV64: shamt 0..63). */
export const slli = (rd: number, rs1: number, shamt: number): number => I(0x13, 1, rd, rs1, shamt & 0x3f);
