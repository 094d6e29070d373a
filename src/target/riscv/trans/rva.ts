/**
 * A extension: LR/SC and AMOs (after QEMU target/riscv/insn_trans/trans_rva.c.inc).
 *
 * A machine runs one vCPU at a time on the JS thread, so an AMO is a load, an operation and a store
 * inside one TB with nothing in between. LR records the address and the loaded value in env
 * (load_res/load_val); SC succeeds iff the address matches the reservation and memory still holds the
 * loaded value (QEMU's cmpxchg approach), and always clears the reservation.
 * Misaligned LR raises load-address-misaligned, misaligned SC/AMO store/AMO-address-misaligned
 * (QEMU: MO_ALIGN on these accesses, riscv_cpu_do_unaligned_access).
 */
import { Cond, MO_SL, MO_UQ, type Temp } from '../../../tcg/ir.js';
import type { TcgContext } from '../../../tcg/context.js';
import { Excp, Ext32, memopBytes, type DisasContext, type TransFn } from '../disas-context.js';
import type { Args } from '../decodetree.js';

function transLr(memop: number): TransFn {
  return (dc: DisasContext, a: Args) => {
    const t = dc.tcg;
    const addr = dc.getAddress(a.rs1!, 0);
    dc.genAlignCheck(addr, memopBytes(memop), Excp.LOAD_ADDR_MIS);
    const v = t.tempI64();
    dc.load(v, addr, memop);
    t.mov(dc.g.loadRes, dc.getGpr(a.rs1!));
    t.mov(dc.g.loadVal, v);
    dc.setGpr(a.rd!, v);
    return true;
  };
}

function transSc(memop: number): TransFn {
  return (dc: DisasContext, a: Args) => {
    const t = dc.tcg;
    const addr = dc.getAddress(a.rs1!, 0);
    dc.genAlignCheck(addr, memopBytes(memop), Excp.STORE_AMO_ADDR_MIS);
    const fail = dc.label(), done = dc.label();
    const result = t.tempI64();
    t.brcond(Cond.NE, dc.g.loadRes, dc.getGpr(a.rs1!), fail);
    // cmpxchg(addr, load_val → rs2): store only if memory still holds the value LR saw.
    const cur = t.tempI64();
    dc.load(cur, addr, memop);
    t.brcond(Cond.NE, cur, dc.g.loadVal, fail);
    dc.store(dc.getGpr(a.rs2!), addr, memop);
    t.movi(result, 0);
    t.br(done);
    t.setLabel(fail);
    t.movi(result, 1);
    t.setLabel(done);
    t.movi(dc.g.loadRes, -1);
    dc.setGpr(a.rd!, result);
    return true;
  };
}

type AmoOp = (t: TcgContext, d: Temp, old: Temp, src: Temp, w: boolean) => void;

function minmax(cond: Cond, unsigned: boolean): AmoOp {
  return (t, d, old, src, w) => {
    let a = old, b = src;
    if (w) {
      a = t.tempI64(); b = t.tempI64();
      if (unsigned) { t.ext32u(a, old); t.ext32u(b, src); } else { t.ext32s(a, old); t.ext32s(b, src); }
    }
    t.movcond(cond, d, a, b, old, src);
  };
}

function amo(memop: number, op: AmoOp): TransFn {
  return (dc: DisasContext, a: Args) => {
    const t = dc.tcg;
    const w = memop === MO_SL;
    const addr = dc.getAddress(a.rs1!, 0);
    dc.genAlignCheck(addr, memopBytes(memop), Excp.STORE_AMO_ADDR_MIS);
    const old = t.tempI64();
    const src = dc.getGpr(a.rs2!, Ext32.NONE);
    dc.load(old, addr, memop);
    const nv = t.tempI64();
    op(t, nv, old, src, w);
    dc.store(nv, addr, memop);
    dc.setGpr(a.rd!, old);
    return true;
  };
}

const swap: AmoOp = (t, d, _old, src) => t.mov(d, src);
const add: AmoOp = (t, d, old, src) => t.add(d, old, src);
const xor: AmoOp = (t, d, old, src) => t.xor(d, old, src);
const and: AmoOp = (t, d, old, src) => t.and(d, old, src);
const or: AmoOp = (t, d, old, src) => t.or(d, old, src);

function amoSet(suffix: 'w' | 'd', memop: number): Record<string, TransFn> {
  return {
    [`lr_${suffix}`]: transLr(memop),
    [`sc_${suffix}`]: transSc(memop),
    [`amoswap_${suffix}`]: amo(memop, swap),
    [`amoadd_${suffix}`]: amo(memop, add),
    [`amoxor_${suffix}`]: amo(memop, xor),
    [`amoand_${suffix}`]: amo(memop, and),
    [`amoor_${suffix}`]: amo(memop, or),
    [`amomin_${suffix}`]: amo(memop, minmax(Cond.LT, false)),
    [`amomax_${suffix}`]: amo(memop, minmax(Cond.GT, false)),
    [`amominu_${suffix}`]: amo(memop, minmax(Cond.LTU, true)),
    [`amomaxu_${suffix}`]: amo(memop, minmax(Cond.GTU, true)),
  };
}

export const TRANS_RVA: Record<string, TransFn> = {
  ...amoSet('w', MO_SL),
  ...amoSet('d', MO_UQ),
};
