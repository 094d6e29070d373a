/**
 * Privileged instructions: mret, sret, wfi, sfence.vma (after QEMU
 * target/riscv/insn_trans/trans_privileged.c.inc). The checks (TSR, TW, TVM, privilege) are done at
 * run time by the helpers, which raise illegal-instruction with mtval = the instruction bits.
 */
import { DisasJump, type TransFn } from '../disas-context.js';
import { helperMret, helperSfenceVma, helperSret, helperWfi } from '../op-helper.js';

const xret = (h: typeof helperMret): TransFn => (dc) => {
  const t = dc.tcg;
  const npc = t.tempI64();
  dc.call(h, npc, t.constI32(dc.insn));
  t.mov(dc.g.pc, npc);
  t.exitTb(0);
  dc.isJmp = DisasJump.NORETURN;
  return true;
};

export const TRANS_PRIVILEGED: Record<string, TransFn> = {
  mret: xret(helperMret),
  sret: xret(helperSret),
  wfi: (dc) => {
    // The pc of the next instruction is set first: a WFI that halts resumes after itself.
    dc.setPcImm(dc.pcNext);
    dc.call(helperWfi, null, dc.tcg.constI32(dc.insn));
    dc.isJmp = DisasJump.EXIT;
    return true;
  },
  sfence_vma: (dc) => {
    dc.call(helperSfenceVma, null, dc.tcg.constI32(dc.insn));
    dc.isJmp = DisasJump.EXIT;
    return true;
  },
};
