/**
 * Zba, Zbb, Zbc, Zbs bit-manipulation instructions (after QEMU target/riscv/insn_trans/trans_rvzb.c.inc).
 * 32-bit forms (RV32 and the *W instructions) work on the low word and sign-extend the result.
 * The carry-less multiplications (Zbc) call helpers (bitmanip-helper.ts), as QEMU does.
 */
import type { TcgContext } from '../../../tcg/context.js';
import { Cond, type HelperInfo, type Temp } from '../../../tcg/ir.js';
import type { Args } from '../decodetree.js';
import { Ext32, type DisasContext, type TransFn } from '../disas-context.js';
import { arith } from './rvi.js';
import { helperClmul, helperClmulh, helperClmulr } from '../bitmanip-helper.js';

type Un = (dc: DisasContext, d: Temp, a: Temp) => void;

/** rd = f(rs1) with the given operand extension; `w` forces a 32-bit operation. */
function unary(ext: Ext32, fn: Un, w = false): TransFn {
  return (dc: DisasContext, a: Args) => {
    if (w) dc.ol = 32;
    const d = dc.destGpr(a.rd!);
    fn(dc, d, dc.getGpr(a.rs1!, ext));
    dc.setGpr(a.rd!, d);
    return true;
  };
}

const clz: Un = (dc, d, a) => {
  const t = dc.tcg;
  if (dc.ol === 32) {
    // a is zero-extended: count in 64 bits, minus the 32 leading zeros of the upper half (QEMU gen_clzw).
    t.clz(d, a, t.constI64(64));
    t.subi(d, d, 32);
  } else t.clz(d, a, t.constI64(64));
};
const ctz: Un = (dc, d, a) => {
  const t = dc.tcg;
  if (dc.ol === 32) {
    // Set the upper half so a zero low word counts 32 (QEMU gen_ctzw).
    const x = t.tempI64();
    t.ori(x, a, 0xffffffff00000000n);
    t.ctz(d, x, t.constI64(64));
  } else t.ctz(d, a, t.constI64(64));
};
const cpop: Un = (dc, d, a) => dc.tcg.ctpop(d, a);

/** Rotate; 32-bit rotations are done on i32 temps. */
function rotate(dc: DisasContext, d: Temp, a: Temp, sh: Temp, left: boolean): void {
  const t = dc.tcg;
  if (dc.ol === 32) {
    const a32 = t.tempI32(), s32 = t.tempI32();
    t.extrlI64I32(a32, a);
    t.extrlI64I32(s32, sh);
    t.andi(s32, s32, 31);
    if (left) t.rotl(a32, a32, s32); else t.rotr(a32, a32, s32);
    t.extI32I64(d, a32);
  } else {
    const s = t.tempI64();
    t.andi(s, sh, 63);
    if (left) t.rotl(d, a, s); else t.rotr(d, a, s);
  }
}

function rot(left: boolean, w = false): TransFn {
  return (dc, a) => {
    if (w) dc.ol = 32;
    const d = dc.destGpr(a.rd!);
    rotate(dc, d, dc.getGpr(a.rs1!), dc.getGpr(a.rs2!), left);
    dc.setGpr(a.rd!, d);
    return true;
  };
}

function rori(w = false): TransFn {
  return (dc, a) => {
    const ol = w ? 32 : dc.xlen;
    if (a.shamt! >= ol) return false;
    dc.ol = ol;
    const d = dc.destGpr(a.rd!);
    rotate(dc, d, dc.getGpr(a.rs1!), dc.tcg.constI64(a.shamt!), false);
    dc.setGpr(a.rd!, d);
    return true;
  };
}

const orcB: Un = (dc, d, a) => {
  // QEMU gen_orc_b: set each byte's msb if the byte is non-zero, then smear it over the byte.
  const t = dc.tcg;
  const low7 = t.constI64(0x7f7f7f7f7f7f7f7fn);
  const x = t.tempI64();
  t.and(x, a, low7);
  t.add(x, x, low7);
  t.or(x, x, a);
  t.andc(x, x, low7);
  t.shri(x, x, 7);
  t.muli(d, x, 0xff);
};

const rev8: Un = (dc, d, a) => {
  const t = dc.tcg;
  if (dc.xlen === 32) {
    const x = t.tempI64();
    t.ext32u(x, a);
    t.bswap32(d, x);
  } else t.bswap64(d, a);
};

function shadd(n: number, uw: boolean): TransFn {
  return (dc, a) => {
    const t = dc.tcg;
    const d = dc.destGpr(a.rd!);
    let s = dc.getGpr(a.rs1!);
    if (uw) { const z = t.tempI64(); t.ext32u(z, s); s = z; }
    if (n) { const sh = t.tempI64(); t.shli(sh, s, n); s = sh; }
    t.add(d, s, dc.getGpr(a.rs2!));
    dc.setGpr(a.rd!, d);
    return true;
  };
}

/** Single-bit ops: mask = 1 << (index & (XLEN-1)). */
type BitOp = (t: TcgContext, d: Temp, a: Temp, mask: Temp, index: Temp) => void;
const bclr: BitOp = (t, d, a, m) => t.andc(d, a, m);
const bset: BitOp = (t, d, a, m) => t.or(d, a, m);
const binv: BitOp = (t, d, a, m) => t.xor(d, a, m);
const bext: BitOp = (t, d, a, _m, i) => { t.shr(d, a, i); t.andi(d, d, 1); };

function bitReg(op: BitOp): TransFn {
  return (dc, a) => {
    const t = dc.tcg;
    const i = t.tempI64(), m = t.tempI64();
    t.andi(i, dc.getGpr(a.rs2!), dc.xlen - 1);
    t.shl(m, t.constI64(1), i);
    const d = dc.destGpr(a.rd!);
    op(t, d, dc.getGpr(a.rs1!), m, i);
    dc.setGpr(a.rd!, d);
    return true;
  };
}

function bitImm(op: BitOp): TransFn {
  return (dc, a) => {
    if (a.shamt! >= dc.xlen) return false;
    const t = dc.tcg;
    const d = dc.destGpr(a.rd!);
    op(t, d, dc.getGpr(a.rs1!), t.constI64(1n << BigInt(a.shamt!)), t.constI64(a.shamt!));
    dc.setGpr(a.rd!, d);
    return true;
  };
}

/** rd = helper(rs1, rs2, XLEN) on zero-extended operands (QEMU trans_clmul*: gen_arith with EXT_NONE, XLEN-wide helper). */
function clmulOp(h: HelperInfo): TransFn {
  return (dc, a) => {
    const t = dc.tcg;
    const d = dc.destGpr(a.rd!);
    dc.call(h, d, dc.getGpr(a.rs1!, Ext32.ZERO), dc.getGpr(a.rs2!, Ext32.ZERO), t.constI32(dc.xlen));
    dc.setGpr(a.rd!, d);
    return true;
  };
}

export const TRANS_RVZB: Record<string, TransFn> = {
  // Zba
  sh1add: shadd(1, false),
  sh2add: shadd(2, false),
  sh3add: shadd(3, false),
  add_uw: shadd(0, true),
  sh1add_uw: shadd(1, true),
  sh2add_uw: shadd(2, true),
  sh3add_uw: shadd(3, true),
  slli_uw: (dc, a) => {
    if (a.shamt! >= 64) return false;
    const t = dc.tcg;
    const d = dc.destGpr(a.rd!);
    t.ext32u(d, dc.getGpr(a.rs1!));
    t.shli(d, d, a.shamt!);
    dc.setGpr(a.rd!, d);
    return true;
  },
  // Zbb
  andn: arith(Ext32.NONE, (t, d, a, b) => t.andc(d, a, b)),
  orn: arith(Ext32.NONE, (t, d, a, b) => t.orc(d, a, b)),
  xnor: arith(Ext32.NONE, (t, d, a, b) => t.eqv(d, a, b)),
  clz: unary(Ext32.ZERO, clz),
  ctz: unary(Ext32.NONE, ctz),
  cpop: unary(Ext32.ZERO, cpop),
  clzw: unary(Ext32.ZERO, clz, true),
  ctzw: unary(Ext32.NONE, ctz, true),
  cpopw: unary(Ext32.ZERO, cpop, true),
  sext_b: unary(Ext32.NONE, (dc, d, a) => dc.tcg.ext8s(d, a)),
  sext_h: unary(Ext32.NONE, (dc, d, a) => dc.tcg.ext16s(d, a)),
  zext_h: unary(Ext32.NONE, (dc, d, a) => dc.tcg.ext16u(d, a)),
  max: arith(Ext32.SIGN, (t, d, a, b) => t.movcond(Cond.GT, d, a, b, a, b)),
  maxu: arith(Ext32.SIGN, (t, d, a, b) => t.movcond(Cond.GTU, d, a, b, a, b)),
  min: arith(Ext32.SIGN, (t, d, a, b) => t.movcond(Cond.LT, d, a, b, a, b)),
  minu: arith(Ext32.SIGN, (t, d, a, b) => t.movcond(Cond.LTU, d, a, b, a, b)),
  rol: rot(true),
  ror: rot(false),
  rori: rori(),
  rolw: rot(true, true),
  rorw: rot(false, true),
  roriw: rori(true),
  orc_b: unary(Ext32.NONE, orcB),
  rev8: unary(Ext32.NONE, rev8),
  // Zbc
  clmul: clmulOp(helperClmul),
  clmulh: clmulOp(helperClmulh),
  clmulr: clmulOp(helperClmulr),
  // Zbs
  bclr: bitReg(bclr),
  bset: bitReg(bset),
  binv: bitReg(binv),
  bext: bitReg(bext),
  bclri: bitImm(bclr),
  bseti: bitImm(bset),
  binvi: bitImm(binv),
  bexti: bitImm(bext),
};
