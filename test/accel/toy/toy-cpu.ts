/**
 * The toy CPU: a {@link CpuState} implementing {@link TcgCpuOps} for the toy ISA (see isa.ts), with an
 * identity MMU or a simple page table (a Map, not in guest memory), two MMU modes (TB flags bit 0).
 */
import { CpuLoopExit, CpuLoopExitNoExc, MmuAccess, type TbState, type TcgCpuOps, type TlbFillResult, type TranslateRequest, type TranslateResult } from '../../../src/accel/tcg/tcg-cpu-ops.js';
import { helperIcacheSync, type TcgCpuLike } from '../../../src/accel/tcg/cpu-exec.js';
import { CpuState, TYPE_CPU } from '../../../src/hw/core/cpu.js';
import { defineType } from '../../../src/qom/type.js';
import { GlobalSet, type TcgContext } from '../../../src/tcg/context.js';
import {
  CALL_NO_RETURN, Cond, MO_ALIGN, MO_BE, MO_SB, MO_SL, MO_UB, MO_UL, MO_UQ, MO_UW, type HelperInfo, type Temp,
} from '../../../src/tcg/ir.js';
import {
  CAUSE_FETCH_BUS, CAUSE_FETCH_PF, CAUSE_ILLEGAL, CAUSE_IRQ, CAUSE_LOAD_BUS, CAUSE_LOAD_PF, CAUSE_MISALIGNED_LOAD,
  CAUSE_MISALIGNED_STORE, CAUSE_RAISE, CAUSE_STORE_BUS, CAUSE_STORE_PF, Op,
} from './isa.js';

export const OFF_R = 0, OFF_PC = 64, OFF_EPC = 72, OFF_CAUSE = 80, OFF_TVAL = 88, OFF_TVEC = 96, OFF_MODE = 104, OFF_IE = 108;
export const ENV_SIZE = 112;

/** A page-table entry of the toy MMU: physical page and PROT_* bits. */
export interface ToyPte {
  readonly ppage: bigint;
  readonly prot: number;
}

/** Translation options of the toy frontend (to exercise the loop's corner cases). */
export interface ToyTranslateOptions {
  /** Keep translating onto the next page (up to two pages), instead of stopping at the page end. */
  crossPages?: boolean;
  /** Use goto_tb even for destinations on another page (the loop must refuse to chain those). */
  chainAnyPage?: boolean;
}

const globals = new GlobalSet();
const R: Temp[] = Array.from({ length: 8 }, (_, i) => globals.add('i64', OFF_R + 8 * i, `r${i}`));
const PC = globals.add('i64', OFF_PC, 'pc');

const PAGE = 0xfffn;

function sext16(v: number): number {
  return (v << 16) >> 16;
}

const helperRaise: HelperInfo = {
  name: 'raise', args: ['i32', 'i64'], flags: CALL_NO_RETURN,
  fn: (cpu: ToyCpu, cause: number, tval: bigint) => cpu.raise(cause, tval),
};
const helperHalt: HelperInfo = {
  name: 'halt', args: [], flags: 0,
  fn: (cpu: ToyCpu) => {
    cpu.tcg.halted = true;
    throw new CpuLoopExitNoExc(true, true);
  },
};
const helperEi: HelperInfo = {
  name: 'ei', args: [], flags: 0,
  fn: (cpu: ToyCpu) => { cpu.view.setInt32(OFF_IE, 1, true); },
};

/** The toy CPU. */
export class ToyCpu extends CpuState implements TcgCpuOps, TcgCpuLike {
  env: ArrayBufferLike = new ArrayBuffer(ENV_SIZE);
  view = new DataView(this.env);
  #words = new Int32Array(this.env);

  override get envWords(): Int32Array {
    return this.#words;
  }

  /** Moves env into the wasm tier's memory (keeping its contents), so hot TBs run there. */
  protected override placeEnv(allocate: (bytes: number) => Int32Array): void {
    const w = allocate(ENV_SIZE);
    w.set(this.#words);
    this.#words = w;
    this.env = w.buffer;
    this.view = new DataView(w.buffer, w.byteOffset, ENV_SIZE);
  }
  readonly globals = globals;
  readonly addrType = 'i64' as const;
  readonly nbMmuModes = 2;
  pageTable: Map<bigint, ToyPte> | null = null;
  /** Per MMU index page tables; when set, they replace {@link pageTable}. */
  pageTables: (Map<bigint, ToyPte> | null)[] | null = null;
  /** Level of the toy's one interrupt line. */
  irqLevel = false;
  translateOptions: ToyTranslateOptions = {};
  /** Number of translate() calls (to see retranslations). */
  translations = 0;
  pcEnvOffset?: number = OFF_PC;

  protected tcgOps(): TcgCpuOps {
    return this;
  }

  /** Disables the optional fast TB-state path (pcEnvOffset/getTbFlags) to test the generic one. */
  useSlowState(): void {
    delete this.pcEnvOffset;
    (this as { getTbFlags?: unknown }).getTbFlags = undefined;
  }

  // ---- registers ---------------------------------------------------------------------------------

  reg(i: number): bigint { return this.view.getBigUint64(OFF_R + 8 * i, true); }
  setReg(i: number, v: bigint): void { this.view.setBigUint64(OFF_R + 8 * i, BigInt.asUintN(64, v), true); }
  get mode(): number { return this.view.getInt32(OFF_MODE, true); }
  set mode(m: number) { this.view.setInt32(OFF_MODE, m, true); }

  override registerNames(): readonly string[] {
    return ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'pc', 'epc', 'cause', 'tval', 'tvec', 'ie', 'mode'];
  }
  getRegister(name: string): bigint {
    const m = /^r([0-7])$/.exec(name);
    if (m) return this.reg(Number(m[1]));
    switch (name) {
      case 'pc': return this.view.getBigUint64(OFF_PC, true);
      case 'epc': return this.view.getBigUint64(OFF_EPC, true);
      case 'cause': return this.view.getBigUint64(OFF_CAUSE, true);
      case 'tval': return this.view.getBigUint64(OFF_TVAL, true);
      case 'tvec': return this.view.getBigUint64(OFF_TVEC, true);
      case 'ie': return BigInt(this.view.getInt32(OFF_IE, true));
      case 'mode': return BigInt(this.mode);
    }
    throw new Error(`toy: no register ${name}`);
  }
  setRegister(name: string, value: bigint): void {
    const m = /^r([0-7])$/.exec(name);
    if (m) { this.setReg(Number(m[1]), value); return; }
    const v = BigInt.asUintN(64, value);
    switch (name) {
      case 'pc': this.view.setBigUint64(OFF_PC, v, true); return;
      case 'epc': this.view.setBigUint64(OFF_EPC, v, true); return;
      case 'cause': this.view.setBigUint64(OFF_CAUSE, v, true); return;
      case 'tval': this.view.setBigUint64(OFF_TVAL, v, true); return;
      case 'tvec': this.view.setBigUint64(OFF_TVEC, v, true); return;
      case 'ie': this.view.setInt32(OFF_IE, Number(v), true); return;
      case 'mode': this.mode = Number(v); return;
    }
    throw new Error(`toy: no register ${name}`);
  }

  protected override reset(): void {
    this.#words.fill(0);
    super.reset();
  }

  // ---- TcgCpuOps ---------------------------------------------------------------------------------

  getTbState(): TbState {
    return { pc: this.view.getBigUint64(OFF_PC, true), flags: this.mode & 1 };
  }
  getTbFlags?(): number {
    return this.mode & 1;
  }
  setPc(pc: bigint): void {
    this.view.setBigUint64(OFF_PC, BigInt.asUintN(64, pc), true);
  }
  mmuIndexForFetch(): number {
    return this.mode & 1;
  }
  restoreStateToOpc(data: readonly number[]): void {
    this.setPc((BigInt(data[1]! >>> 0) << 32n) | BigInt(data[0]! >>> 0));
  }

  /** Records a trap and leaves the TB (the loop restores pc, then calls doInterrupt). */
  raise(cause: number, tval: bigint, restored = false): never {
    this.view.setBigUint64(OFF_CAUSE, BigInt(cause), true);
    this.view.setBigUint64(OFF_TVAL, BigInt.asUintN(64, tval), true);
    throw new CpuLoopExit(restored);
  }

  tlbFill(vaddr: bigint, access: MmuAccess, mmuIdx: number, probe: boolean): TlbFillResult | null {
    const page = vaddr & ~PAGE;
    const table = this.pageTables ? this.pageTables[mmuIdx] ?? null : this.pageTable;
    if (table === null) return { physPage: page, prot: 7, pageBits: 12 };
    const pte = table.get(page);
    if (pte && (pte.prot & (1 << access)) !== 0) return { physPage: pte.ppage, prot: pte.prot, pageBits: 12 };
    if (probe) return null;
    return this.raise(access === MmuAccess.FETCH ? CAUSE_FETCH_PF : access === MmuAccess.LOAD ? CAUSE_LOAD_PF : CAUSE_STORE_PF, vaddr);
  }
  raiseBusError(vaddr: bigint, access: MmuAccess): never {
    return this.raise(access === MmuAccess.FETCH ? CAUSE_FETCH_BUS : access === MmuAccess.LOAD ? CAUSE_LOAD_BUS : CAUSE_STORE_BUS, vaddr);
  }
  raiseAlignmentFault(vaddr: bigint, access: MmuAccess): never {
    return this.raise(access === MmuAccess.STORE ? CAUSE_MISALIGNED_STORE : CAUSE_MISALIGNED_LOAD, vaddr);
  }

  doInterrupt(): void {
    this.view.setBigUint64(OFF_EPC, this.view.getBigUint64(OFF_PC, true), true);
    this.setPc(this.view.getBigUint64(OFF_TVEC, true));
  }
  execInterrupt(): boolean {
    if (!this.irqLevel || this.view.getInt32(OFF_IE, true) === 0) return false;
    this.view.setBigUint64(OFF_CAUSE, BigInt(CAUSE_IRQ), true);
    this.view.setInt32(OFF_IE, 0, true);
    this.doInterrupt();
    return true;
  }
  hasWork(): boolean {
    return this.irqLevel;
  }

  // ---- the translator ----------------------------------------------------------------------------

  translate(ctx: TcgContext, req: TranslateRequest): TranslateResult {
    this.translations++;
    const opts = this.translateOptions;
    const first = req.pc & ~PAGE;
    const mmuIdx = req.flags & 1;
    let pc = req.pc;
    let n = 0;
    const sameTbPage = (a: bigint): boolean => (BigInt.asUintN(64, a) & ~PAGE) === first;
    const gotoOrLookup = (slot: 0 | 1, dest: bigint): void => {
      dest = BigInt.asUintN(64, dest);
      if (sameTbPage(dest) || opts.chainAnyPage) {
        ctx.gotoTb(slot);
        ctx.movi(PC, dest);
        ctx.exitTb(slot + 1);
      } else {
        ctx.movi(PC, dest);
        ctx.lookupAndGotoPtr();
      }
    };
    for (;;) {
      ctx.insnStart(pc);
      const w = req.fetch32(pc);
      n++;
      const next = BigInt.asUintN(64, pc + 4n);
      if (this.translateInsn(ctx, w, pc, next, mmuIdx, gotoOrLookup)) { pc = next; break; }
      pc = next;
      if (n >= req.maxInsns) { gotoOrLookup(0, pc); break; }
      // Stop when the next instruction is not entirely on the TB's page (or, crossing, on the next one).
      const lastByte = BigInt.asUintN(64, pc + 3n);
      const ok = opts.crossPages
        ? (lastByte & ~PAGE) === first || (lastByte & ~PAGE) === BigInt.asUintN(64, first + 0x1000n)
        : sameTbPage(pc) && sameTbPage(lastByte);
      if (!ok) { gotoOrLookup(0, pc); break; }
    }
    return { size: Number(BigInt.asUintN(64, pc - req.pc)), nbInsns: n };
  }

  /** Emits one instruction; returns true if it ends the TB. */
  private translateInsn(ctx: TcgContext, w: number, pc: bigint, next: bigint, mmuIdx: number,
    gotoOrLookup: (slot: 0 | 1, dest: bigint) => void): boolean {
    const op = w & 0xff, rd = R[(w >>> 8) & 7]!, rs = R[(w >>> 12) & 7]!, imm = sext16(w >>> 16);
    const addr = (): Temp => { const a = ctx.tempI64(); ctx.addi(a, rs, imm); return a; };
    const load = (memop: number): boolean => {
      const a = addr();
      if ((memop & 3) === 3) { ctx.qemuLd(rd, a, mmuIdx, memop); return false; }
      const t = ctx.tempI32();
      ctx.qemuLd(t, a, mmuIdx, memop);
      if (memop & 4) ctx.extI32I64(rd, t); else ctx.extuI32I64(rd, t);
      return false;
    };
    const store = (memop: number): boolean => {
      const a = addr();
      if ((memop & 3) === 3) { ctx.qemuSt(rd, a, mmuIdx, memop); return false; }
      const t = ctx.tempI32();
      ctx.extrlI64I32(t, rd);
      ctx.qemuSt(t, a, mmuIdx, memop);
      return false;
    };
    const raise = (cause: number, tval: bigint): boolean => {
      ctx.call(helperRaise, null, ctx.constI32(cause), ctx.constI64(tval));
      ctx.exitTb(0);
      return true;
    };
    switch (op as Op) {
      case Op.LI: ctx.movi(rd, imm); return false;
      case Op.ADD: { const t = ctx.tempI64(); ctx.add(t, rd, rs); ctx.addi(rd, t, imm); return false; }
      case Op.XOR: ctx.xor(rd, rd, rs); return false;
      case Op.SHL: ctx.shli(rd, rd, imm & 63); return false;
      case Op.LUI: ctx.movi(rd, BigInt(imm) << 16n); return false;
      case Op.ADDI: ctx.addi(rd, rs, imm); return false;
      case Op.LB: return load(MO_SB);
      case Op.LW: return load(MO_SL);
      case Op.LQ: return load(MO_UQ);
      case Op.LWA: return load(MO_SL | MO_ALIGN);
      case Op.LHU: return load(MO_UW);
      case Op.LWBE: return load(MO_SL | MO_BE);
      case Op.SB: return store(MO_UB);
      case Op.SW: return store(MO_UL);
      case Op.SQ: return store(MO_UQ);
      case Op.SH: return store(MO_UW);
      case Op.SWA: return store(MO_UL | MO_ALIGN);
      case Op.BNZ: {
        const l = ctx.newLabel();
        ctx.brcondi(Cond.EQ, rd, 0, l);
        gotoOrLookup(0, pc + BigInt(imm) * 4n);
        ctx.setLabel(l);
        gotoOrLookup(1, next);
        return true;
      }
      case Op.JMP: gotoOrLookup(0, pc + BigInt(imm) * 4n); return true;
      case Op.JR: ctx.mov(PC, rs); ctx.lookupAndGotoPtr(); return true;
      case Op.RAISE: return raise(CAUSE_RAISE + (imm & 0xff), 0n);
      case Op.HALT: ctx.movi(PC, next); ctx.call(helperHalt, null); ctx.exitTb(0); return true;
      case Op.MFEPC: ctx.ld(rd, OFF_EPC, MO_UQ); return false;
      case Op.MTTVEC: ctx.st(rs, OFF_TVEC, MO_UQ); return false;
      case Op.FENCEI: ctx.call(helperIcacheSync, null); ctx.movi(PC, next); ctx.exitTb(0); return true;
      case Op.MFCAUSE: ctx.ld(rd, OFF_CAUSE, MO_UQ); return false;
      case Op.EI: ctx.call(helperEi, null); ctx.movi(PC, next); ctx.exitTb(0); return true;
      case Op.MFTVAL: ctx.ld(rd, OFF_TVAL, MO_UQ); return false;
      default: return raise(CAUSE_ILLEGAL, BigInt(w >>> 0));
    }
  }
}

defineType({ name: 'toy-cpu', parent: TYPE_CPU, instance: ToyCpu });
