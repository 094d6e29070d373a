/**
 * The toy guest ISA used to test the execution loop (test only).
 *
 * Every instruction is one little-endian 32-bit word: bits 0..7 opcode, 8..10 rd, 12..14 rs,
 * 16..31 a signed 16-bit immediate. Eight 64-bit registers r0..r7 (r0 is an ordinary register), a pc,
 * and trap state epc/cause/tval/tvec/ie.
 *
 * Traps: epc = pc of the faulting instruction, cause, tval set, pc = tvec. Causes: 1/5/7 fetch/load/store
 * bus error, 2 illegal (tval = the word), 4/6 misaligned load/store (LWA/SWA), 12/13/15 fetch/load/store
 * page fault (tval = the address of the access, or the start of its second page when only that faults),
 * 32+n RAISE n, 0x100 interrupt (only when ie; clears ie).
 */
export const enum Op {
  LI = 0x01, // rd = sext(imm)
  ADD = 0x02, // rd = rd + rs + sext(imm)
  XOR = 0x03, // rd = rd ^ rs
  SHL = 0x04, // rd = rd << (imm & 63)
  LUI = 0x05, // rd = sext(imm) << 16
  ADDI = 0x06, // rd = rs + sext(imm)
  LB = 0x10, // rd = sext8(mem[rs + imm])
  LW = 0x11, // rd = sext32(mem32[rs + imm])
  LQ = 0x12, // rd = mem64[rs + imm]
  LWA = 0x13, // as LW, misaligned → cause 4
  LHU = 0x14, // rd = zext16(mem16[rs + imm])
  LWBE = 0x15, // rd = sext32(big-endian mem32[rs + imm])
  SB = 0x18, // mem8[rs + imm] = rd
  SW = 0x19, // mem32[rs + imm] = rd
  SQ = 0x1a, // mem64[rs + imm] = rd
  SH = 0x1b, // mem16[rs + imm] = rd
  SWA = 0x1c, // as SW, misaligned → cause 6
  BNZ = 0x20, // if rd != 0: pc += sext(imm) * 4
  JMP = 0x21, // pc += sext(imm) * 4
  JR = 0x22, // pc = rs
  RAISE = 0x30, // trap with cause 32 + (imm & 0xff)
  HALT = 0x31, // pc += 4, halt until an interrupt is pending
  MFEPC = 0x32, // rd = epc
  MTTVEC = 0x33, // tvec = rs
  FENCEI = 0x34, // ends the TB
  MFCAUSE = 0x35, // rd = cause
  EI = 0x36, // ie = 1 (ends the TB)
  MFTVAL = 0x37, // rd = tval
}

export const CAUSE_FETCH_BUS = 1, CAUSE_ILLEGAL = 2, CAUSE_MISALIGNED_LOAD = 4, CAUSE_LOAD_BUS = 5;
export const CAUSE_MISALIGNED_STORE = 6, CAUSE_STORE_BUS = 7;
export const CAUSE_FETCH_PF = 12, CAUSE_LOAD_PF = 13, CAUSE_STORE_PF = 15, CAUSE_RAISE = 32, CAUSE_IRQ = 0x100;

/** Encodes one toy instruction. */
export function enc(op: Op, rd = 0, rs = 0, imm = 0): number {
  return (op | ((rd & 7) << 8) | ((rs & 7) << 12) | ((imm & 0xffff) << 16)) >>> 0;
}

/** Little-endian bytes of a program. */
export function toBytes(words: readonly number[]): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  const dv = new DataView(b.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return b;
}

/** Loads `value` (any 64-bit) into rd with LI/SHL/ADDI sequences. */
export function loadImm(rd: number, value: bigint): number[] {
  const v = BigInt.asUintN(64, value);
  const s = BigInt.asIntN(64, v);
  if (s >= -32768n && s < 32768n) return [enc(Op.LI, rd, 0, Number(s))];
  // Build from the top 16-bit chunks down.
  const chunks = [48n, 32n, 16n, 0n].map((sh) => Number((v >> sh) & 0xffffn));
  const out = [enc(Op.LI, rd, 0, 0)];
  for (const c of chunks) {
    out.push(enc(Op.SHL, rd, 0, 16));
    // rd += c (unsigned 16 bits) in signed-16 pieces
    for (let left = c; left > 0; left -= Math.min(left, 0x7fff)) out.push(enc(Op.ADDI, rd, rd, Math.min(left, 0x7fff)));
  }
  return out;
}
