/**
 * RV32I/RV64I base integer instructions and Zifencei (after QEMU target/riscv/insn_trans/trans_rvi.c.inc).
 */
import { Cond, MO_SB, MO_SL, MO_SW, MO_UB, MO_UL, MO_UQ, MO_UW, type Temp } from '../../../tcg/ir.js';
import type { Args } from '../decodetree.js';
import { DisasJump, Excp, Ext32, type DisasContext, type TransFn } from '../disas-context.js';
import { helperEcall, helperFenceI } from '../op-helper.js';
import type { TcgContext } from '../../../tcg/context.js';

// ---- jumps and branches ----------------------------------------------------------------------------------

function transJal(dc: DisasContext, a: Args): boolean {
  const target = dc.addrMask(dc.pc + BigInt(a.imm!));
  if (dc.needAlign4 && (target & 3n) !== 0n) {
    dc.genException(Excp.INST_ADDR_MIS, target);
    return true;
  }
  dc.setGprImm(a.rd!, dc.pcNext);
  dc.gotoTb(0, target);
  dc.isJmp = DisasJump.NORETURN;
  return true;
}

function transJalr(dc: DisasContext, a: Args): boolean {
  const t = dc.tcg;
  const target = t.tempI64();
  t.addi(target, dc.getGpr(a.rs1!), a.imm!);
  t.andi(target, target, -2);
  if (dc.xlen === 32) t.ext32u(target, target);
  if (dc.needAlign4) {
    const ok = dc.label();
    const low = t.tempI64();
    t.andi(low, target, 2);
    t.brcondi(Cond.EQ, low, 0, ok);
    dc.emitRaise(Excp.INST_ADDR_MIS, target);
    t.setLabel(ok);
  }
  dc.setGprImm(a.rd!, dc.pcNext);
  t.mov(dc.g.pc, target);
  t.lookupAndGotoPtr();
  dc.isJmp = DisasJump.NORETURN;
  return true;
}

function branch(cond: Cond): TransFn {
  return (dc, a) => {
    const t = dc.tcg;
    const taken = dc.label();
    t.brcond(cond, dc.getGpr(a.rs1!), dc.getGpr(a.rs2!), taken);
    dc.gotoTb(1, dc.pcNext);
    t.setLabel(taken);
    const target = dc.addrMask(dc.pc + BigInt(a.imm!));
    if (dc.needAlign4 && (target & 3n) !== 0n) dc.genException(Excp.INST_ADDR_MIS, target);
    else dc.gotoTb(0, target);
    dc.isJmp = DisasJump.NORETURN;
    return true;
  };
}

// ---- loads and stores -------------------------------------------------------------------------------------

function load(memop: number): TransFn {
  return (dc, a) => {
    const addr = dc.getAddress(a.rs1!, a.imm!);
    const d = dc.destGpr(a.rd!);
    dc.load(d, addr, memop);
    dc.setGpr(a.rd!, d);
    return true;
  };
}

function store(memop: number): TransFn {
  return (dc, a) => {
    const addr = dc.getAddress(a.rs1!, a.imm!);
    dc.store(dc.getGpr(a.rs2!), addr, memop);
    return true;
  };
}

// ---- ALU -------------------------------------------------------------------------------------------------

type Bin = (t: TcgContext, d: Temp, a: Temp, b: Temp) => void;

/** rd = rs1 op imm (QEMU gen_arith_imm_fn / gen_arith_imm_tl). */
export function arithImm(ext: Ext32, fn: Bin, w = false): TransFn {
  return (dc, a) => {
    if (w) dc.ol = 32;
    const d = dc.destGpr(a.rd!);
    fn(dc.tcg, d, dc.getGpr(a.rs1!, ext), dc.tcg.constI64(a.imm!));
    dc.setGpr(a.rd!, d);
    return true;
  };
}

/** rd = rs1 op rs2 (QEMU gen_arith). */
export function arith(ext: Ext32, fn: Bin, w = false): TransFn {
  return (dc, a) => {
    if (w) dc.ol = 32;
    const d = dc.destGpr(a.rd!);
    fn(dc.tcg, d, dc.getGpr(a.rs1!, ext), dc.getGpr(a.rs2!, ext));
    dc.setGpr(a.rd!, d);
    return true;
  };
}

/**
 * rd = rs1 shifted by an immediate (QEMU gen_shift_imm_fn): rejects shamt ≥ operation length, which
 * makes RV32's shamt[5]=1 encodings illegal.
 */
export function shiftImm(ext: Ext32, fn: (t: TcgContext, d: Temp, a: Temp, sh: number) => void, w = false): TransFn {
  return (dc, a) => {
    const ol = w ? 32 : dc.xlen;
    if (a.shamt! >= ol) return false;
    dc.ol = ol;
    const d = dc.destGpr(a.rd!);
    fn(dc.tcg, d, dc.getGpr(a.rs1!, ext), a.shamt!);
    dc.setGpr(a.rd!, d);
    return true;
  };
}

/** rd = rs1 shifted by rs2 (QEMU gen_shift): the count is masked to the operation length. */
export function shiftReg(ext: Ext32, fn: Bin, w = false): TransFn {
  return (dc, a) => {
    if (w) dc.ol = 32;
    const t = dc.tcg;
    const sh = t.tempI64();
    t.andi(sh, dc.getGpr(a.rs2!), dc.ol - 1);
    const d = dc.destGpr(a.rd!);
    fn(t, d, dc.getGpr(a.rs1!, ext), sh);
    dc.setGpr(a.rd!, d);
    return true;
  };
}

const add: Bin = (t, d, a, b) => t.add(d, a, b);
const sub: Bin = (t, d, a, b) => t.sub(d, a, b);
const and: Bin = (t, d, a, b) => t.and(d, a, b);
const or: Bin = (t, d, a, b) => t.or(d, a, b);
const xor: Bin = (t, d, a, b) => t.xor(d, a, b);
const slt: Bin = (t, d, a, b) => t.setcond(Cond.LT, d, a, b);
const sltu: Bin = (t, d, a, b) => t.setcond(Cond.LTU, d, a, b);
const shl: Bin = (t, d, a, b) => t.shl(d, a, b);
const shr: Bin = (t, d, a, b) => t.shr(d, a, b);
const sar: Bin = (t, d, a, b) => t.sar(d, a, b);

// RV32 logical right shifts need zero-extended inputs (registers hold sign-extended values).
const srliFn = (t: TcgContext, d: Temp, a: Temp, sh: number): void => t.shri(d, a, sh);
const sraiFn = (t: TcgContext, d: Temp, a: Temp, sh: number): void => t.sari(d, a, sh);
const slliFn = (t: TcgContext, d: Temp, a: Temp, sh: number): void => t.shli(d, a, sh);

export const TRANS_RVI: Record<string, TransFn> = {
  lui: (dc, a) => { dc.setGprImm(a.rd!, BigInt(a.imm!)); return true; },
  auipc: (dc, a) => { dc.setGprImm(a.rd!, dc.pc + BigInt(a.imm!)); return true; },
  jal: transJal,
  jalr: transJalr,
  beq: branch(Cond.EQ),
  bne: branch(Cond.NE),
  blt: branch(Cond.LT),
  bge: branch(Cond.GE),
  bltu: branch(Cond.LTU),
  bgeu: branch(Cond.GEU),
  lb: load(MO_SB),
  lh: load(MO_SW),
  lw: load(MO_SL),
  ld: load(MO_UQ),
  lbu: load(MO_UB),
  lhu: load(MO_UW),
  lwu: load(MO_UL),
  sb: store(MO_UB),
  sh: store(MO_UW),
  sw: store(MO_UL),
  sd: store(MO_UQ),
  addi: arithImm(Ext32.NONE, add),
  slti: arithImm(Ext32.SIGN, slt),
  sltiu: arithImm(Ext32.SIGN, sltu),
  xori: arithImm(Ext32.NONE, xor),
  ori: arithImm(Ext32.NONE, or),
  andi: arithImm(Ext32.NONE, and),
  slli: shiftImm(Ext32.NONE, slliFn),
  srli: shiftImm(Ext32.ZERO, srliFn),
  srai: shiftImm(Ext32.SIGN, sraiFn),
  add: arith(Ext32.NONE, add),
  sub: arith(Ext32.NONE, sub),
  sll: shiftReg(Ext32.NONE, shl),
  slt: arith(Ext32.SIGN, slt),
  sltu: arith(Ext32.SIGN, sltu),
  xor: arith(Ext32.NONE, xor),
  srl: shiftReg(Ext32.ZERO, shr),
  sra: shiftReg(Ext32.SIGN, sar),
  or: arith(Ext32.NONE, or),
  and: arith(Ext32.NONE, and),
  addiw: arithImm(Ext32.NONE, add, true),
  slliw: shiftImm(Ext32.NONE, slliFn, true),
  srliw: shiftImm(Ext32.ZERO, srliFn, true),
  sraiw: shiftImm(Ext32.SIGN, sraiFn, true),
  addw: arith(Ext32.NONE, add, true),
  subw: arith(Ext32.NONE, sub, true),
  sllw: shiftReg(Ext32.NONE, shl, true),
  srlw: shiftReg(Ext32.ZERO, shr, true),
  sraw: shiftReg(Ext32.SIGN, sar, true),

  fence: (dc) => { dc.tcg.mb(); return true; },
  ecall: (dc) => {
    dc.call(helperEcall, null);
    dc.isJmp = DisasJump.NORETURN;
    return true;
  },
  ebreak: (dc) => {
    // xtval = 0, as QEMU 7.2 (riscv_cpu_do_interrupt only sets it for a watchpoint hit); the spec allows 0 or pc
    dc.genException(Excp.BREAKPOINT, 0n);
    return true;
  },
  // Zifencei: flush translated code, then leave the TB so the next fetch sees the new code.
  fence_i: (dc) => {
    dc.call(helperFenceI, null);
    dc.isJmp = DisasJump.EXIT;
    return true;
  },
};
