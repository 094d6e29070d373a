/**
 * M extension: multiply and divide (after QEMU target/riscv/insn_trans/trans_rvm.c.inc).
 * Division edge cases are produced explicitly with movcond (QEMU gen_div/gen_rem…), so nothing
 * depends on how a backend divides by zero or overflows: x/0 = -1 (all ones unsigned), x%0 = x,
 * MIN/-1 = MIN, MIN%-1 = 0. For 32-bit operations (RV32, *W) the operands are extended to 64 bits
 * first, which makes the 64-bit edge-case handling give the 32-bit results after sign extension.
 */
import { Cond, type Temp } from '../../../tcg/ir.js';
import type { TcgContext } from '../../../tcg/context.js';
import { Ext32, type TransFn } from '../disas-context.js';
import { arith } from './rvi.js';

const MIN64 = 1n << 63n;

/** d = a / b, signed, RISC-V edge cases (QEMU gen_div). */
export function genDiv(t: TcgContext, d: Temp, a: Temp, b: Temp): void {
  const t1 = t.tempI64(), t2 = t.tempI64();
  const zero = t.constI64(0), one = t.constI64(1), mone = t.constI64(-1);
  // Overflow (MIN / -1): divide by 1 instead, giving MIN.
  t.setcond(Cond.EQ, t1, a, t.constI64(MIN64));
  t.setcond(Cond.EQ, t2, b, mone);
  t.and(t1, t1, t2);
  t.movcond(Cond.NE, t2, t1, zero, one, b);
  // Division by zero: compute -1 / 1.
  t.movcond(Cond.EQ, t1, b, zero, mone, a);
  t.movcond(Cond.EQ, t2, b, zero, one, t2);
  t.div(d, t1, t2);
}

/** d = a / b, unsigned (QEMU gen_divu). */
export function genDivu(t: TcgContext, d: Temp, a: Temp, b: Temp): void {
  const t1 = t.tempI64(), t2 = t.tempI64();
  const zero = t.constI64(0), one = t.constI64(1), max = t.constI64(-1);
  t.movcond(Cond.EQ, t1, b, zero, max, a);
  t.movcond(Cond.EQ, t2, b, zero, one, b);
  t.divu(d, t1, t2);
}

/** d = a % b, signed (QEMU gen_rem). */
export function genRem(t: TcgContext, d: Temp, a: Temp, b: Temp): void {
  const t1 = t.tempI64(), t2 = t.tempI64();
  const zero = t.constI64(0), one = t.constI64(1), mone = t.constI64(-1);
  // Overflow (MIN % -1): use 0 % -1 = 0.
  t.setcond(Cond.EQ, t1, a, t.constI64(MIN64));
  t.setcond(Cond.EQ, t2, b, mone);
  t.and(t1, t1, t2);
  t.movcond(Cond.NE, t1, t1, zero, zero, a);
  // Division by zero: divide by 1, then pick the dividend.
  t.movcond(Cond.EQ, t2, b, zero, one, b);
  t.rem(t1, t1, t2);
  t.movcond(Cond.EQ, d, b, zero, a, t1);
}

/** d = a % b, unsigned (QEMU gen_remu). */
export function genRemu(t: TcgContext, d: Temp, a: Temp, b: Temp): void {
  const t1 = t.tempI64();
  const zero = t.constI64(0), one = t.constI64(1);
  t.movcond(Cond.EQ, t1, b, zero, one, b);
  t.remu(t1, a, t1);
  t.movcond(Cond.EQ, d, b, zero, a, t1);
}

function mulh(t: TcgContext, d: Temp, a: Temp, b: Temp): void { const lo = t.tempI64(); t.muls2(lo, d, a, b); }
function mulhu(t: TcgContext, d: Temp, a: Temp, b: Temp): void { const lo = t.tempI64(); t.mulu2(lo, d, a, b); }
function mulhsu(t: TcgContext, d: Temp, a: Temp, b: Temp): void { const lo = t.tempI64(); t.mulsu2(lo, d, a, b); }

/** High-part multiply: 64-bit via a double-width product; 32-bit via a 64-bit product >> 32 (QEMU gen_mulh_w). */
function mulHigh(ext1: Ext32, ext2: Ext32, wide: (t: TcgContext, d: Temp, a: Temp, b: Temp) => void): TransFn {
  return (dc, a) => {
    const t = dc.tcg;
    const d = dc.destGpr(a.rd!);
    if (dc.xlen === 64) {
      wide(t, d, dc.getGpr(a.rs1!), dc.getGpr(a.rs2!));
    } else {
      t.mul(d, dc.getGpr(a.rs1!, ext1), dc.getGpr(a.rs2!, ext2));
      t.sari(d, d, 32);
    }
    dc.setGpr(a.rd!, d);
    return true;
  };
}

export const TRANS_RVM: Record<string, TransFn> = {
  mul: arith(Ext32.NONE, (t, d, a, b) => t.mul(d, a, b)),
  mulh: mulHigh(Ext32.SIGN, Ext32.SIGN, mulh),
  mulhsu: mulHigh(Ext32.SIGN, Ext32.ZERO, mulhsu),
  mulhu: mulHigh(Ext32.ZERO, Ext32.ZERO, mulhu),
  div: arith(Ext32.SIGN, genDiv),
  divu: arith(Ext32.ZERO, genDivu),
  rem: arith(Ext32.SIGN, genRem),
  remu: arith(Ext32.ZERO, genRemu),
  mulw: arith(Ext32.NONE, (t, d, a, b) => t.mul(d, a, b), true),
  divw: arith(Ext32.SIGN, genDiv, true),
  divuw: arith(Ext32.ZERO, genDivu, true),
  remw: arith(Ext32.SIGN, genRem, true),
  remuw: arith(Ext32.ZERO, genRemu, true),
};
