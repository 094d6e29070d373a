/**
 * F extension: single-precision floating point (after QEMU target/riscv/insn_trans/trans_rvf.c.inc),
 * plus the machinery shared with D: FS checks (illegal when mstatus.FS = Off), rounding-mode
 * resolution (static rm 5/6 illegal; dynamic rm reads frm and raises illegal if frm is invalid),
 * FS dirty tracking and NaN boxing.
 */
import { Cond, MO_32, MO_UL, MO_UQ, type HelperInfo, type Temp } from '../../../tcg/ir.js';
import type { Args } from '../decodetree.js';
import { Excp, Fs, type DisasContext, type TransFn } from '../disas-context.js';
import { ENV_FRM } from '../cpu-state.js';
import { helperMarkFsDirty } from '../op-helper.js';
import { FH } from '../fpu-helper.js';

const BOX = 0xffffffff00000000n;
export const RM_DYN = 7;

/** FP instructions are illegal while mstatus.FS is Off (QEMU REQUIRE_FPU). */
export function requireFpu(dc: DisasContext): boolean {
  return dc.fs !== Fs.OFF;
}

/** Marks mstatus.FS dirty once per TB (QEMU mark_fs_dirty). */
export function markFsDirty(dc: DisasContext): void {
  if (dc.fs !== Fs.DIRTY) {
    dc.call(helperMarkFsDirty, null);
    dc.fs = Fs.DIRTY;
  }
}

/** True if a static rounding-mode field is valid (0..4, or 7 = dynamic). */
export function rmValid(rm: number): boolean {
  return rm <= 4 || rm === RM_DYN;
}

/**
 * The rounding mode as an i32 temp (QEMU gen_set_rm): the constant, or frm read from env with a
 * run-time check that it is valid. Call only after all reasons to reject the encoding were checked.
 */
export function genRm(dc: DisasContext, rm: number): Temp {
  const t = dc.tcg;
  if (rm !== RM_DYN) return t.constI32(rm);
  const frm = t.tempI32();
  t.ld(frm, ENV_FRM, MO_32);
  const ok = dc.label();
  t.brcondi(Cond.LTU, frm, 5, ok);
  dc.emitRaise(Excp.ILLEGAL_INST, BigInt(dc.insn >>> 0));
  t.setLabel(ok);
  return frm;
}

/** A single from an f register with the NaN-box check (unboxed → canonical NaN), still boxed. */
export function getFprBoxedS(dc: DisasContext, r: number): Temp {
  const t = dc.tcg;
  const d = t.tempI64();
  t.movcond(Cond.GEU, d, dc.g.f[r]!, t.constI64(BOX), dc.g.f[r]!, t.constI64(BOX | 0x7fc00000n));
  return d;
}

/** f-register ops with a rounding mode: rd = helper(rs1[, rs2], rm). */
export function fpRm(ext: 'F' | 'D', h: HelperInfo, nsrc: 1 | 2): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext) || !rmValid(a.rm!)) return false;
    const rm = genRm(dc, a.rm!);
    const f = dc.g.f;
    const srcs = nsrc === 2 ? [f[a.rs1!]!, f[a.rs2!]!] : [f[a.rs1!]!];
    dc.call(h, f[a.rd!]!, ...srcs, rm);
    markFsDirty(dc);
    return true;
  };
}

/**
 * F/D operations whose helper takes register numbers and reads/writes the f registers itself (see
 * fpu-helper.ts `fadd_d_r`…): no 64-bit values cross the call, so the common case needs no BigInt.
 */
export function fpRmReg(ext: 'F' | 'D', h: HelperInfo, nsrc: 1 | 2): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext) || !rmValid(a.rm!)) return false;
    const rm = genRm(dc, a.rm!);
    const r = (n: number): Temp => dc.tcg.constI32(n);
    if (nsrc === 2) dc.call(h, null, r(a.rd!), r(a.rs1!), r(a.rs2!), rm);
    else dc.call(h, null, r(a.rd!), r(a.rs1!), rm);
    markFsDirty(dc);
    return true;
  };
}

/** Fused multiply-add family on register numbers (see {@link fpRmReg}); `op` bit 0 negates the product, bit 1 the addend. */
export function fmaReg(ext: 'F' | 'D', h: HelperInfo, op: number): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext) || !rmValid(a.rm!)) return false;
    const rm = genRm(dc, a.rm!);
    const r = (n: number): Temp => dc.tcg.constI32(n);
    dc.call(h, null, r(a.rd!), r(a.rs1!), r(a.rs2!), r(a.rs3!), rm, r(op));
    markFsDirty(dc);
    return true;
  };
}

/** fmin/fmax: rd = helper(rs1, rs2) with rm unused. */
export function fpNoRm(ext: 'F' | 'D', h: HelperInfo): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext)) return false;
    const f = dc.g.f;
    dc.call(h, f[a.rd!]!, f[a.rs1!]!, f[a.rs2!]!, dc.tcg.constI32(0));
    markFsDirty(dc);
    return true;
  };
}

/** Comparisons/classification: x[rd] = helper(f[rs1][, f[rs2]]). */
export function fpToGpr(ext: 'F' | 'D', h: HelperInfo, nsrc: 1 | 2): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext)) return false;
    const f = dc.g.f;
    const d = dc.destGpr(a.rd!);
    dc.call(h, d, ...(nsrc === 2 ? [f[a.rs1!]!, f[a.rs2!]!] : [f[a.rs1!]!]));
    dc.setGpr(a.rd!, d);
    if (nsrc === 2) markFsDirty(dc); // comparisons may set NV in fflags
    return true;
  };
}

/** fcvt float → integer: x[rd] = helper(f[rs1], rm). */
export function fcvtToInt(ext: 'F' | 'D', h: HelperInfo): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext) || !rmValid(a.rm!)) return false;
    const rm = genRm(dc, a.rm!);
    const d = dc.destGpr(a.rd!);
    dc.call(h, d, dc.g.f[a.rs1!]!, rm);
    dc.setGpr(a.rd!, d);
    markFsDirty(dc);
    return true;
  };
}

/** fcvt integer → float: f[rd] = helper(x[rs1], rm). */
export function fcvtFromInt(ext: 'F' | 'D', h: HelperInfo): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext) || !rmValid(a.rm!)) return false;
    const rm = genRm(dc, a.rm!);
    dc.call(h, dc.g.f[a.rd!]!, dc.getGpr(a.rs1!), rm);
    markFsDirty(dc);
    return true;
  };
}

/** FP load (boxing singles) and store. */
export function fload(ext: 'F' | 'D', single: boolean): TransFn {
  return (dc, a: Args) => {
    if (!requireFpu(dc) || !dc.hasExt(ext)) return false;
    const t = dc.tcg;
    const addr = dc.getAddress(a.rs1!, a.imm!);
    const fd = dc.g.f[a.rd!]!;
    if (single) {
      const v = t.tempI64();
      dc.load(v, addr, MO_UL);
      t.ori(fd, v, BOX);
    } else {
      dc.load(fd, addr, MO_UQ);
    }
    markFsDirty(dc);
    return true;
  };
}

export function fstore(ext: 'F' | 'D', single: boolean): TransFn {
  return (dc, a: Args) => {
    if (!requireFpu(dc) || !dc.hasExt(ext)) return false;
    const addr = dc.getAddress(a.rs1!, a.imm!);
    dc.store(dc.g.f[a.rs2!]!, addr, single ? MO_UL : MO_UQ);
    return true;
  };
}

/** Sign injection: kind 0 = fsgnj, 1 = fsgnjn, 2 = fsgnjx (QEMU trans_fsgnj*_s/_d). */
export function fsgnj(ext: 'F' | 'D', single: boolean, kind: 0 | 1 | 2): TransFn {
  return (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt(ext)) return false;
    const t = dc.tcg;
    const signBit = single ? 31 : 63;
    const sign = 1n << BigInt(signBit);
    const a1 = single ? getFprBoxedS(dc, a.rs1!) : dc.g.f[a.rs1!]!;
    const b1 = single ? getFprBoxedS(dc, a.rs2!) : dc.g.f[a.rs2!]!;
    const d = t.tempI64();
    if (kind === 2) {
      const s = t.tempI64();
      t.andi(s, b1, sign);
      t.xor(d, a1, s);
    } else {
      let b = b1;
      if (kind === 1) { b = t.tempI64(); t.not(b, b1); }
      // d = (b & sign) | (a & ~sign)
      t.deposit(d, b, a1, 0, signBit);
    }
    if (single) t.ori(dc.g.f[a.rd!]!, d, BOX);
    else t.mov(dc.g.f[a.rd!]!, d);
    markFsDirty(dc);
    return true;
  };
}

export const TRANS_RVF: Record<string, TransFn> = {
  flw: fload('F', true),
  fsw: fstore('F', true),
  fmadd_s: fmaReg('F', FH.fmadd_s_r, 0),
  fmsub_s: fmaReg('F', FH.fmadd_s_r, 2),
  fnmsub_s: fmaReg('F', FH.fmadd_s_r, 1),
  fnmadd_s: fmaReg('F', FH.fmadd_s_r, 3),
  fadd_s: fpRmReg('F', FH.fadd_s_r, 2),
  fsub_s: fpRmReg('F', FH.fsub_s_r, 2),
  fmul_s: fpRmReg('F', FH.fmul_s_r, 2),
  fdiv_s: fpRmReg('F', FH.fdiv_s_r, 2),
  fsqrt_s: fpRmReg('F', FH.fsqrt_s_r, 1),
  fsgnj_s: fsgnj('F', true, 0),
  fsgnjn_s: fsgnj('F', true, 1),
  fsgnjx_s: fsgnj('F', true, 2),
  fmin_s: fpNoRm('F', FH.fmin_s),
  fmax_s: fpNoRm('F', FH.fmax_s),
  fcvt_w_s: fcvtToInt('F', FH.fcvt_w_s),
  fcvt_wu_s: fcvtToInt('F', FH.fcvt_wu_s),
  fcvt_l_s: fcvtToInt('F', FH.fcvt_l_s),
  fcvt_lu_s: fcvtToInt('F', FH.fcvt_lu_s),
  feq_s: fpToGpr('F', FH.feq_s, 2),
  flt_s: fpToGpr('F', FH.flt_s, 2),
  fle_s: fpToGpr('F', FH.fle_s, 2),
  fclass_s: fpToGpr('F', FH.fclass_s, 1),
  fcvt_s_w: fcvtFromInt('F', FH.fcvt_s_w),
  fcvt_s_wu: fcvtFromInt('F', FH.fcvt_s_wu),
  fcvt_s_l: fcvtFromInt('F', FH.fcvt_s_l),
  fcvt_s_lu: fcvtFromInt('F', FH.fcvt_s_lu),
  fmv_x_w: (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt('F')) return false;
    const d = dc.destGpr(a.rd!);
    dc.tcg.ext32s(d, dc.g.f[a.rs1!]!);
    dc.setGpr(a.rd!, d);
    return true;
  },
  fmv_w_x: (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt('F')) return false;
    dc.tcg.ori(dc.g.f[a.rd!]!, dc.getGpr(a.rs1!), BOX);
    markFsDirty(dc);
    return true;
  },
};
