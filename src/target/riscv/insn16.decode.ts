/**
 * RISC-V compressed (16-bit) encodings as data (after QEMU target/riscv/insn16.decode).
 * Each pattern expands to a 32-bit instruction: `name` is the `trans_` function of the 32-bit
 * equivalent and the format produces the 32-bit argument set; `mnemonic` is the `c.*` name.
 * RV32/RV64 differences (C.JAL vs C.ADDIW, C.FLW vs C.LD, …) are XLEN guards.
 */
import { DecodeTable, field, format, pat, type Pattern } from './decodetree.js';

// ---- fields -----------------------------------------------------------------------------------------
const rd = field('7:5');
const rs2 = field('2:5');
/** The 3-bit register fields name x8..x15. */
const rs1_3 = field('7:3', 0, (v) => v + 8, (v) => v - 8);
const rs2_3 = field('2:3', 0, (v) => v + 8, (v) => v - 8);

const immCi = field('12:s1 2:5');
const nzuimmCiw = field('7:4 11:2 5:1 6:1', 2);
const uimmClD = field('5:2 10:3', 3);
const uimmClW = field('5:1 10:3 6:1', 2);
const immCb = field('12:s1 5:2 2:1 10:2 3:2', 1);
const immCj = field('12:s1 8:1 9:2 6:1 7:1 2:1 11:1 3:3', 1);
const nzuimm6 = field('12:1 2:5');
const immAddi16sp = field('12:s1 3:2 5:1 2:1 6:1', 4);
const immLui = field('12:s1 2:5', 12);
const uimmLwsp = field('2:2 12:1 4:3', 2);
const uimmLdsp = field('2:3 12:1 5:2', 3);
const uimmSwsp = field('7:2 9:4', 2);
const uimmSdsp = field('7:3 10:3', 3);

// ---- formats: 32-bit argument sets ------------------------------------------------------------------
const cAddi4spn = format('i', { rd: rs2_3, rs1: 2, imm: nzuimmCiw });
const clD = format('i', { rd: rs2_3, rs1: rs1_3, imm: uimmClD });
const clW = format('i', { rd: rs2_3, rs1: rs1_3, imm: uimmClW });
const csD = format('s', { rs1: rs1_3, rs2: rs2_3, imm: uimmClD });
const csW = format('s', { rs1: rs1_3, rs2: rs2_3, imm: uimmClW });
const ci = format('i', { rd, rs1: rd, imm: immCi });
const cLi = format('i', { rd, rs1: 0, imm: immCi });
const cAddi16sp = format('i', { rd, rs1: rd, imm: immAddi16sp });
const cLui = format('u', { rd, imm: immLui });
const cShift = format('shift', { rd: rs1_3, rs1: rs1_3, shamt: nzuimm6 });
const cShift2 = format('shift', { rd, rs1: rd, shamt: nzuimm6 });
const cAndi = format('i', { rd: rs1_3, rs1: rs1_3, imm: immCi });
const cs2 = format('r', { rd: rs1_3, rs1: rs1_3, rs2: rs2_3 });
const cjLink = format('j', { rd: 1, imm: immCj });
const cj = format('j', { rd: 0, imm: immCj });
const cbZ = format('b', { rs1: rs1_3, rs2: 0, imm: immCb });
const cLwsp = format('i', { rd, rs1: 2, imm: uimmLwsp });
const cLdsp = format('i', { rd, rs1: 2, imm: uimmLdsp });
const cSwsp = format('s', { rs1: 2, rs2, imm: uimmSwsp });
const cSdsp = format('s', { rs1: 2, rs2, imm: uimmSdsp });
const cJr = format('i', { rd: 0, rs1: rd, imm: 0 });
const cJalr = format('i', { rd: 1, rs1: rd, imm: 0 });
const cMv = format('i', { rd, rs1: rs2, imm: 0 });
const cr = format('r', { rd, rs1: rd, rs2 });
const empty = format('empty', {});

const C = 'C' as const;
const CF = ['C', 'F'] as const;
const CD = ['C', 'D'] as const;

/** Every 16-bit pattern, in match priority order (earlier wins, as decodetree groups). */
export const INSN16_PATTERNS: readonly Pattern[] = [
  // ---- quadrant 0
  pat('illegal', '000 000 000 00 --- 00', empty, { ext: C, illegal: true, mnemonic: 'c.illegal' }),
  pat('addi', '000 ... ... .. ... 00', cAddi4spn, { ext: C, mnemonic: 'c.addi4spn' }),
  pat('fld', '001 ... ... .. ... 00', clD, { ext: CD, mnemonic: 'c.fld' }),
  pat('lw', '010 ... ... .. ... 00', clW, { ext: C, mnemonic: 'c.lw' }),
  pat('ld', '011 ... ... .. ... 00', clD, { ext: C, xlen: 64, mnemonic: 'c.ld' }),
  pat('flw', '011 ... ... .. ... 00', clW, { ext: CF, xlen: 32, mnemonic: 'c.flw' }),
  pat('fsd', '101 ... ... .. ... 00', csD, { ext: CD, mnemonic: 'c.fsd' }),
  pat('sw', '110 ... ... .. ... 00', csW, { ext: C, mnemonic: 'c.sw' }),
  pat('sd', '111 ... ... .. ... 00', csD, { ext: C, xlen: 64, mnemonic: 'c.sd' }),
  pat('fsw', '111 ... ... .. ... 00', csW, { ext: CF, xlen: 32, mnemonic: 'c.fsw' }),

  // ---- quadrant 1
  pat('addi', '000 . ..... ..... 01', ci, { ext: C, mnemonic: 'c.addi' }),
  pat('jal', '001 ........... 01', cjLink, { ext: C, xlen: 32, mnemonic: 'c.jal' }),
  pat('illegal', '001 - 00000 ----- 01', empty, { ext: C, xlen: 64, illegal: true, mnemonic: 'c.illegal' }),
  pat('addiw', '001 . ..... ..... 01', ci, { ext: C, xlen: 64, mnemonic: 'c.addiw' }),
  pat('addi', '010 . ..... ..... 01', cLi, { ext: C, mnemonic: 'c.li' }),
  pat('illegal', '011 0 ----- 00000 01', empty, { ext: C, illegal: true, mnemonic: 'c.illegal' }),
  pat('addi', '011 . 00010 ..... 01', cAddi16sp, { ext: C, mnemonic: 'c.addi16sp' }),
  pat('lui', '011 . ..... ..... 01', cLui, { ext: C, mnemonic: 'c.lui' }),
  pat('srli', '100 . 00 ... ..... 01', cShift, { ext: C, mnemonic: 'c.srli' }),
  pat('srai', '100 . 01 ... ..... 01', cShift, { ext: C, mnemonic: 'c.srai' }),
  pat('andi', '100 . 10 ... ..... 01', cAndi, { ext: C, mnemonic: 'c.andi' }),
  pat('sub', '100 0 11 ... 00 ... 01', cs2, { ext: C, mnemonic: 'c.sub' }),
  pat('xor', '100 0 11 ... 01 ... 01', cs2, { ext: C, mnemonic: 'c.xor' }),
  pat('or', '100 0 11 ... 10 ... 01', cs2, { ext: C, mnemonic: 'c.or' }),
  pat('and', '100 0 11 ... 11 ... 01', cs2, { ext: C, mnemonic: 'c.and' }),
  pat('subw', '100 1 11 ... 00 ... 01', cs2, { ext: C, xlen: 64, mnemonic: 'c.subw' }),
  pat('addw', '100 1 11 ... 01 ... 01', cs2, { ext: C, xlen: 64, mnemonic: 'c.addw' }),
  pat('jal', '101 ........... 01', cj, { ext: C, mnemonic: 'c.j' }),
  pat('beq', '110 ... ... ..... 01', cbZ, { ext: C, mnemonic: 'c.beqz' }),
  pat('bne', '111 ... ... ..... 01', cbZ, { ext: C, mnemonic: 'c.bnez' }),

  // ---- quadrant 2
  pat('slli', '000 . ..... ..... 10', cShift2, { ext: C, mnemonic: 'c.slli' }),
  pat('fld', '001 . ..... ..... 10', cLdsp, { ext: CD, mnemonic: 'c.fldsp' }),
  pat('illegal', '010 - 00000 ----- 10', empty, { ext: C, illegal: true, mnemonic: 'c.illegal' }),
  pat('lw', '010 . ..... ..... 10', cLwsp, { ext: C, mnemonic: 'c.lwsp' }),
  pat('illegal', '011 - 00000 ----- 10', empty, { ext: C, xlen: 64, illegal: true, mnemonic: 'c.illegal' }),
  pat('ld', '011 . ..... ..... 10', cLdsp, { ext: C, xlen: 64, mnemonic: 'c.ldsp' }),
  pat('flw', '011 . ..... ..... 10', cLwsp, { ext: CF, xlen: 32, mnemonic: 'c.flwsp' }),
  pat('illegal', '100 0 00000 00000 10', empty, { ext: C, illegal: true, mnemonic: 'c.illegal' }),
  pat('jalr', '100 0 ..... 00000 10', cJr, { ext: C, mnemonic: 'c.jr' }),
  pat('addi', '100 0 ..... ..... 10', cMv, { ext: C, mnemonic: 'c.mv' }),
  pat('ebreak', '100 1 00000 00000 10', empty, { ext: C, mnemonic: 'c.ebreak' }),
  pat('jalr', '100 1 ..... 00000 10', cJalr, { ext: C, mnemonic: 'c.jalr' }),
  pat('add', '100 1 ..... ..... 10', cr, { ext: C, mnemonic: 'c.add' }),
  pat('fsd', '101 . ..... ..... 10', cSdsp, { ext: CD, mnemonic: 'c.fsdsp' }),
  pat('sw', '110 . ..... ..... 10', cSwsp, { ext: C, mnemonic: 'c.swsp' }),
  pat('sd', '111 . ..... ..... 10', cSdsp, { ext: C, xlen: 64, mnemonic: 'c.sdsp' }),
  pat('fsw', '111 . ..... ..... 10', cSwsp, { ext: CF, xlen: 32, mnemonic: 'c.fswsp' }),
];

/** The 16-bit decode table, bucketed by funct3 (bits 15:13) and quadrant (bits 1:0). */
export const INSN16 = new DecodeTable(INSN16_PATTERNS, 0xe003);
