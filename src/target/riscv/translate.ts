/**
 * RISC-V translator: guest instructions → TCG IR, one TB at a time
 * (after QEMU target/riscv/translate.c and accel/tcg/translator.c).
 *
 * The decode tables ({@link INSN32}, {@link INSN16}) select a pattern; the pattern's `trans_<name>`
 * function (one file per extension under `trans/`) emits IR and returns false to reject an encoding,
 * which becomes an illegal-instruction exception with mtval = the instruction bits.
 */
import type { TcgContext } from '../../tcg/context.js';
import type { TranslateRequest, TranslateResult } from '../../accel/tcg/tcg-cpu-ops.js';
import { extractArgs, patternEnabled, type Pattern } from './decodetree.js';
import { INSN16 } from './insn16.decode.js';
import { INSN32 } from './insn32.decode.js';
import {
  DisasContext, DisasJump, PAGE_MASK, PAGE_SIZE, type TransFn, type TranslatorCpu,
} from './disas-context.js';
import { TRANS_RVI } from './trans/rvi.js';
import { TRANS_RVM } from './trans/rvm.js';
import { TRANS_RVA } from './trans/rva.js';
import { TRANS_RVF } from './trans/rvf.js';
import { TRANS_RVD } from './trans/rvd.js';
import { TRANS_RVZB } from './trans/rvzb.js';
import { TRANS_PRIVILEGED } from './trans/privileged.js';
import { TRANS_RVZICSR } from './trans/rvzicsr.js';

export * from './disas-context.js';

/** Every trans function by pattern name. */
export const TRANS: Readonly<Record<string, TransFn>> = {
  ...TRANS_RVI, ...TRANS_RVM, ...TRANS_RVA, ...TRANS_RVF, ...TRANS_RVD, ...TRANS_RVZB,
  ...TRANS_PRIVILEGED, ...TRANS_RVZICSR,
};

/** Finds the pattern for `insn` and runs its trans function; returns false if none accepted it. */
export function decodeAndTranslate(dc: DisasContext, insn: number, size: 2 | 4): boolean {
  const table = size === 2 ? INSN16 : INSN32;
  for (const p of table.candidates(insn)) {
    if (!patternEnabled(p, dc)) continue;
    if (p.illegal) return false;
    if (runTrans(dc, p, insn)) return true;
  }
  return false;
}

function runTrans(dc: DisasContext, p: Pattern, insn: number): boolean {
  const fn = TRANS[p.name];
  if (!fn) return false;
  dc.ol = dc.xlen;
  const ops = dc.tcg.ops.length;
  const ok = fn(dc, extractArgs(p, insn));
  dc.ol = dc.xlen;
  if (!ok && dc.tcg.ops.length !== ops) {
    // A trans function must reject before emitting anything (as decodetree's trans_* do).
    throw new Error(`riscv translate: trans_${p.name} emitted IR and then rejected 0x${(insn >>> 0).toString(16)}`);
  }
  return ok;
}

/**
 * Translates one TB starting at `req.pc` (QEMU translator_loop with riscv_tr_* hooks).
 * Stops at control flow, exceptions, state-changing instructions, `req.maxInsns`, and before an
 * instruction that would start on (or spill onto) another page.
 */
export function translateTb(tcg: TcgContext, cpu: TranslatorCpu, req: TranslateRequest): TranslateResult {
  const flags = cpu.decodeTbFlags(req.flags);
  const dc = new DisasContext(tcg, cpu, req.pc, flags);
  const pageStart = req.pc & PAGE_MASK;
  let pc = req.pc;
  for (;;) {
    dc.pc = pc;
    // insn_start comes before the fetch (the loop's contract): a fetch fault on a later instruction
    // makes the loop retranslate a shorter TB, so the fault belongs to the instruction it starts.
    tcg.insnStart(pc);
    dc.nbInsns++;
    const lo = req.fetch16(pc);
    let insn: number;
    let len: 2 | 4;
    if ((lo & 3) !== 3) {
      insn = lo & 0xffff;
      len = 2;
    } else {
      // Only the first instruction of a TB may straddle a page (checked below for the others).
      const hi = req.fetch16(dc.addrMask(pc + 2n));
      insn = ((hi << 16) | (lo & 0xffff)) >>> 0;
      len = 4;
    }
    dc.insn = insn;
    dc.insnLen = len;
    dc.pcNext = dc.addrMask(pc + BigInt(len));
    if (!decodeAndTranslate(dc, insn, len)) dc.genIllegal();
    pc = dc.pcNext;
    if (dc.isJmp !== DisasJump.NEXT) break;
    if (dc.nbInsns >= req.maxInsns) { dc.isJmp = DisasJump.TOO_MANY; break; }
    // Stop before the next instruction if it starts on another page, or if it is a 32-bit
    // instruction starting in the last halfword of this page (QEMU riscv_tr_translate_insn).
    if ((pc & PAGE_MASK) !== pageStart) { dc.isJmp = DisasJump.TOO_MANY; break; }
    if ((pc & (PAGE_SIZE - 1n)) === PAGE_SIZE - 2n) {
      const next = req.fetch16(pc, true);
      if (next < 0 || (next & 3) === 3) { dc.isJmp = DisasJump.TOO_MANY; break; }
    }
  }
  switch (dc.isJmp) {
    case DisasJump.TOO_MANY:
      dc.gotoTb(0, pc);
      break;
    case DisasJump.EXIT:
      dc.setPcImm(pc);
      tcg.exitTb(0);
      break;
    default:
      break;
  }
  return { size: Number(BigInt.asUintN(64, pc - req.pc)), nbInsns: dc.nbInsns };
}
