/**
 * A tiny assembler for tests, driven by the decode tables: `asm('addi', { rd: 10, rs1: 10, imm: 16 })`.
 * Mnemonics are the table's (`fadd.s`, `c.addi`, `c.addi4spn`…); arguments are the format's
 * (32-bit argument names even for compressed instructions: `c.addi` takes rd, rs1 = rd, imm).
 */
import { encodeArgs, type Args, type Pattern } from '../../../src/target/riscv/decodetree.js';
import { INSN16_PATTERNS } from '../../../src/target/riscv/insn16.decode.js';
import { INSN32_PATTERNS } from '../../../src/target/riscv/insn32.decode.js';

/** The pattern of a mnemonic for an XLEN. */
export function patternOf(mnemonic: string, xlen: 32 | 64 = 64): Pattern {
  const all = mnemonic.startsWith('c.') ? INSN16_PATTERNS : INSN32_PATTERNS;
  const p = all.find((q) => q.mnemonic === mnemonic && !q.illegal && (q.xlen === undefined || q.xlen === xlen));
  if (!p) throw new Error(`asm: unknown mnemonic ${mnemonic} for RV${xlen}`);
  return p;
}

/** Encodes one instruction; returns its bits (16- or 32-bit). */
export function asm(mnemonic: string, args: Args = {}, xlen: 32 | 64 = 64): number {
  return encodeArgs(patternOf(mnemonic, xlen), args);
}

/** One assembled instruction: bits and size. */
export interface Insn { bits: number; size: 2 | 4 }

/** Assembles a list of `[mnemonic, args]` into instructions. */
export function program(lines: readonly (readonly [string, Args?])[], xlen: 32 | 64 = 64): Insn[] {
  return lines.map(([m, a]) => ({ bits: asm(m, a ?? {}, xlen), size: m.startsWith('c.') ? 2 : 4 }));
}

/** ABI register numbers, for readable tests. */
export const R = {
  zero: 0, ra: 1, sp: 2, gp: 3, tp: 4, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9, a0: 10, a1: 11, a2: 12, a3: 13,
  a4: 14, a5: 15, a6: 16, a7: 17, s2: 18, s3: 19, t3: 28, t4: 29, t5: 30, t6: 31,
} as const;
