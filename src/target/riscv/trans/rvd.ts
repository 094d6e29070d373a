/**
 * D extension: double-precision floating point (after QEMU target/riscv/insn_trans/trans_rvd.c.inc).
 * Shares the FS/rounding-mode/dirty machinery of rvf.ts.
 */
import type { TransFn } from '../disas-context.js';
import { FH } from '../fpu-helper.js';
import {
  fcvtFromInt, fcvtToInt, fload, fmaReg, fpNoRm, fpRm, fpRmReg, fpToGpr, fsgnj, fstore, requireFpu, markFsDirty,
} from './rvf.js';

export const TRANS_RVD: Record<string, TransFn> = {
  fld: fload('D', false),
  fsd: fstore('D', false),
  fmadd_d: fmaReg('D', FH.fmadd_d_r, 0),
  fmsub_d: fmaReg('D', FH.fmadd_d_r, 2),
  fnmsub_d: fmaReg('D', FH.fmadd_d_r, 1),
  fnmadd_d: fmaReg('D', FH.fmadd_d_r, 3),
  fadd_d: fpRmReg('D', FH.fadd_d_r, 2),
  fsub_d: fpRmReg('D', FH.fsub_d_r, 2),
  fmul_d: fpRmReg('D', FH.fmul_d_r, 2),
  fdiv_d: fpRmReg('D', FH.fdiv_d_r, 2),
  fsqrt_d: fpRmReg('D', FH.fsqrt_d_r, 1),
  fsgnj_d: fsgnj('D', false, 0),
  fsgnjn_d: fsgnj('D', false, 1),
  fsgnjx_d: fsgnj('D', false, 2),
  fmin_d: fpNoRm('D', FH.fmin_d),
  fmax_d: fpNoRm('D', FH.fmax_d),
  fcvt_w_d: fcvtToInt('D', FH.fcvt_w_d),
  fcvt_wu_d: fcvtToInt('D', FH.fcvt_wu_d),
  fcvt_l_d: fcvtToInt('D', FH.fcvt_l_d),
  fcvt_lu_d: fcvtToInt('D', FH.fcvt_lu_d),
  feq_d: fpToGpr('D', FH.feq_d, 2),
  flt_d: fpToGpr('D', FH.flt_d, 2),
  fle_d: fpToGpr('D', FH.fle_d, 2),
  fclass_d: fpToGpr('D', FH.fclass_d, 1),
  fcvt_d_w: fcvtFromInt('D', FH.fcvt_d_w),
  fcvt_d_wu: fcvtFromInt('D', FH.fcvt_d_wu),
  fcvt_d_l: fcvtFromInt('D', FH.fcvt_d_l),
  fcvt_d_lu: fcvtFromInt('D', FH.fcvt_d_lu),
  fcvt_s_d: fpRm('D', FH.fcvt_s_d, 1),
  fcvt_d_s: fpRm('D', FH.fcvt_d_s, 1),
  fmv_x_d: (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt('D')) return false;
    dc.setGpr(a.rd!, dc.g.f[a.rs1!]!);
    return true;
  },
  fmv_d_x: (dc, a) => {
    if (!requireFpu(dc) || !dc.hasExt('D')) return false;
    dc.tcg.mov(dc.g.f[a.rd!]!, dc.getGpr(a.rs1!));
    markFsDirty(dc);
    return true;
  },
};
