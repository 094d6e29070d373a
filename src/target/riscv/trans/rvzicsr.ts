/**
 * Zicsr: CSR access instructions (after QEMU target/riscv/insn_trans/trans_rvzicsr.c.inc).
 * As the spec requires, csrrw/csrrwi with rd = x0 do not read the CSR, and csrrs/csrrc(i) with a
 * zero source do not write it. Any write ends the TB (the CSR may change what translation depends on:
 * privilege, FS, MPRV, satp…); pure reads continue.
 */
import type { Temp } from '../../../tcg/ir.js';
import type { Args } from '../decodetree.js';
import { DisasJump, type DisasContext, type TransFn } from '../disas-context.js';
import { helperCsrr, helperCsrrw, helperCsrw } from '../op-helper.js';

function doCsrr(dc: DisasContext, rd: number, csr: number): boolean {
  const d = dc.destGpr(rd);
  dc.call(helperCsrr, d, dc.tcg.constI32(csr), dc.tcg.constI32(dc.insn));
  dc.setGpr(rd, d);
  return true;
}

function doCsrw(dc: DisasContext, csr: number, src: Temp): boolean {
  dc.call(helperCsrw, null, dc.tcg.constI32(csr), src, dc.tcg.constI32(dc.insn));
  dc.isJmp = DisasJump.EXIT;
  return true;
}

function doCsrrw(dc: DisasContext, rd: number, csr: number, src: Temp, mask: Temp): boolean {
  const d = dc.destGpr(rd);
  dc.call(helperCsrrw, d, dc.tcg.constI32(csr), src, mask, dc.tcg.constI32(dc.insn));
  dc.setGpr(rd, d);
  dc.isJmp = DisasJump.EXIT;
  return true;
}

type Src = (dc: DisasContext, a: Args) => Temp;
const reg: Src = (dc, a) => dc.getGpr(a.rs1!);
const imm: Src = (dc, a) => dc.tcg.constI64(a.rs1!);

const csrrw = (src: Src): TransFn => (dc, a) => {
  const s = src(dc, a);
  if (a.rd === 0) return doCsrw(dc, a.csr!, s);
  return doCsrrw(dc, a.rd!, a.csr!, s, dc.tcg.constI64(-1));
};
const csrrs = (src: Src): TransFn => (dc, a) => {
  if (a.rs1 === 0) return doCsrr(dc, a.rd!, a.csr!);
  return doCsrrw(dc, a.rd!, a.csr!, dc.tcg.constI64(-1), src(dc, a));
};
const csrrc = (src: Src): TransFn => (dc, a) => {
  if (a.rs1 === 0) return doCsrr(dc, a.rd!, a.csr!);
  return doCsrrw(dc, a.rd!, a.csr!, dc.tcg.constI64(0), src(dc, a));
};

export const TRANS_RVZICSR: Record<string, TransFn> = {
  csrrw: csrrw(reg),
  csrrs: csrrs(reg),
  csrrc: csrrc(reg),
  csrrwi: csrrw(imm),
  csrrsi: csrrs(imm),
  csrrci: csrrc(imm),
};
