/**
 * The per-TB translation state shared by every `trans_*` function (QEMU DisasContext and the gen_*
 * helpers of target/riscv/translate.c): register access with RV32/*W extension rules, addresses,
 * jumps, exceptions.
 */
import type { TcgContext } from '../../tcg/context.js';
import { Cond, MO_SIZE, type HelperInfo, type Label, type Temp } from '../../tcg/ir.js';
import type { Args, DecodeEnv, Ext } from './decodetree.js';
import type { RiscvGlobals } from './cpu-state.js';
import { helperRaiseException } from './op-helper.js';

/** Exception causes used by the translator (RISC-V privileged spec, QEMU cpu_bits.h RISCV_EXCP_*). */
export const enum Excp {
  INST_ADDR_MIS = 0,
  INST_ACCESS_FAULT = 1,
  ILLEGAL_INST = 2,
  BREAKPOINT = 3,
  LOAD_ADDR_MIS = 4,
  LOAD_ACCESS_FAULT = 5,
  STORE_AMO_ADDR_MIS = 6,
  STORE_AMO_ACCESS_FAULT = 7,
  U_ECALL = 8,
  S_ECALL = 9,
  M_ECALL = 11,
}

/** mstatus.FS values. */
export const enum Fs { OFF = 0, INITIAL = 1, CLEAN = 2, DIRTY = 3 }

/** What the translator needs to know about the CPU state a TB is translated for (decoded TB flags). */
export interface DisasFlags {
  /** Privilege level: 0 = U, 1 = S, 3 = M. */
  readonly priv: 0 | 1 | 3;
  /** MMU index for data loads/stores (already accounting for MPRV). */
  readonly memIdx: number;
  /** mstatus.FS. */
  readonly fs: Fs;
  /** Effective XLEN. */
  readonly xlen: 32 | 64;
}

/** How the current instruction ended the TB (QEMU DisasJumpType). */
export const enum DisasJump {
  /** Continue with the next instruction. */
  NEXT = 0,
  /** Stop here; the end of the TB chains to the next pc (budget or page boundary). */
  TOO_MANY = 1,
  /** Stop here; write the next pc and exit to the loop (state that TB flags depend on may have changed). */
  EXIT = 2,
  /** The instruction already emitted its exit (jump, exception). */
  NORETURN = 3,
}

/** Operand extension for {@link DisasContext.getGpr} (QEMU DisasExtend). */
export const enum Ext32 { NONE = 0, SIGN = 1, ZERO = 2 }

/** The CPU-side services the translator needs (implemented by RiscvCpu). */
export interface TranslatorCpu {
  readonly rvGlobals: RiscvGlobals;
  hasExt(e: Ext): boolean;
  decodeTbFlags(flags: number): DisasFlags;
}

/** A trans function: emits IR for one decoded instruction, false if the encoding is not accepted. */
export type TransFn = (dc: DisasContext, a: Args) => boolean;

export const PAGE_SIZE = 0x1000n;
export const PAGE_MASK = ~(PAGE_SIZE - 1n);

/** Per-TB translation state (QEMU DisasContext). */
export class DisasContext implements DecodeEnv {
  readonly g: RiscvGlobals;
  /** Guest pc of the current instruction. */
  pc = 0n;
  /** pc of the following instruction (QEMU pc_succ_insn). */
  pcNext = 0n;
  /** Raw bits of the current instruction (16- or 32-bit). */
  insn = 0;
  insnLen: 2 | 4 = 4;
  isJmp: DisasJump = DisasJump.NEXT;
  readonly xlen: 32 | 64;
  /** Operation length: XLEN, or 32 inside a *W instruction (QEMU ctx->ol). */
  ol: 32 | 64;
  readonly priv: 0 | 1 | 3;
  readonly memIdx: number;
  /** mstatus.FS as known in this TB (becomes DIRTY after the first FP write, QEMU mstatus_fs). */
  fs: Fs;
  /** Number of instructions translated so far. */
  nbInsns = 0;

  constructor(readonly tcg: TcgContext, readonly cpu: TranslatorCpu, readonly pcFirst: bigint, flags: DisasFlags) {
    this.g = cpu.rvGlobals;
    this.xlen = flags.xlen;
    this.ol = flags.xlen;
    this.priv = flags.priv;
    this.memIdx = flags.memIdx;
    this.fs = flags.fs;
  }

  hasExt(e: Ext): boolean {
    return this.cpu.hasExt(e);
  }

  /** Truncates an address to XLEN (RV32 pcs and targets are 32-bit, zero-extended). */
  addrMask(v: bigint): bigint {
    return this.xlen === 32 ? BigInt.asUintN(32, v) : BigInt.asUintN(64, v);
  }

  // ---- integer registers (QEMU get_gpr / dest_gpr / gen_set_gpr) --------------------------------------

  /** The value of x[reg] as an i64 temp (constant 0 for x0), extended per the operation length. */
  getGpr(reg: number, ext: Ext32 = Ext32.NONE): Temp {
    const t = this.tcg;
    if (reg === 0) return t.constI64(0);
    const x = this.g.x[reg]!;
    if (this.ol === 32 && ext !== Ext32.NONE) {
      const r = t.tempI64();
      if (ext === Ext32.SIGN) t.ext32s(r, x); else t.ext32u(r, x);
      return r;
    }
    return x;
  }

  /** A temp to compute a result for x[reg] into (a fresh temp: rd may also be a source). */
  destGpr(_reg: number): Temp {
    return this.tcg.tempI64();
  }

  /** x[reg] = v (dropped for x0; sign-extended from 32 bits when the operation length is 32). */
  setGpr(reg: number, v: Temp): void {
    if (reg === 0) return;
    const x = this.g.x[reg]!;
    if (this.ol === 32) this.tcg.ext32s(x, v);
    else if (x !== v) this.tcg.mov(x, v);
  }

  /** x[reg] = constant. */
  setGprImm(reg: number, v: bigint): void {
    if (reg === 0) return;
    const x = this.g.x[reg]!;
    const val = this.ol === 32 ? BigInt.asIntN(32, v) : v;
    this.tcg.movi(x, val);
  }

  /** A guest virtual address temp of the TB's address type from rs1 + imm. */
  getAddress(rs1: number, imm: number): Temp {
    const t = this.tcg;
    let a64: Temp;
    if (imm === 0) a64 = this.getGpr(rs1);
    else {
      a64 = t.tempI64();
      t.addi(a64, this.getGpr(rs1), imm);
    }
    if (this.xlen === 32) {
      const a32 = t.tempI32();
      t.extrlI64I32(a32, a64);
      return a32;
    }
    return a64;
  }

  /** Guest load into an i64 temp. */
  load(dst: Temp, addr: Temp, memop: number): void {
    this.tcg.qemuLd(dst, addr, this.memIdx, memop);
  }

  /** Guest store of an i64 temp. */
  store(val: Temp, addr: Temp, memop: number): void {
    this.tcg.qemuSt(val, addr, this.memIdx, memop);
  }

  // ---- control flow ---------------------------------------------------------------------------------

  /** Sets the pc global to a constant (QEMU gen_set_pc_imm). */
  setPcImm(dest: bigint): void {
    this.tcg.movi(this.g.pc, this.addrMask(dest));
  }

  /**
   * Jumps to a constant target (QEMU gen_goto_tb): chained through slot `n` if the target is on the
   * TB's first page (page mappings may change, so cross-page jumps look the target up), else
   * through lookup_and_goto_ptr.
   */
  gotoTb(n: 0 | 1, dest: bigint): void {
    const target = this.addrMask(dest);
    if ((target & PAGE_MASK) === (this.pcFirst & PAGE_MASK)) {
      this.tcg.gotoTb(n);
      this.tcg.movi(this.g.pc, target);
      this.tcg.exitTb(n + 1);
    } else {
      this.tcg.movi(this.g.pc, target);
      this.tcg.lookupAndGotoPtr();
    }
  }

  /** Emits a call that raises `cause` with `tval`, ending the TB (the instruction always traps). */
  genException(cause: number, tval: bigint | Temp): void {
    this.emitRaise(cause, tval);
    this.isJmp = DisasJump.NORETURN;
  }

  /** Emits a raise of `cause` on a conditional path (does not end the TB). */
  emitRaise(cause: number, tval: bigint | Temp): void {
    const t = this.tcg;
    const tv = typeof tval === 'bigint' ? t.constI64(tval) : tval;
    t.call(helperRaiseException, null, t.constI32(cause), tv);
  }

  /** Illegal instruction, mtval = the instruction bits (QEMU gen_exception_illegal). */
  genIllegal(): void {
    this.genException(Excp.ILLEGAL_INST, BigInt(this.insn >>> 0));
  }

  /** True if jump targets must be 4-byte aligned (no C extension). */
  get needAlign4(): boolean {
    return !this.hasExt('C');
  }

  /** Emits a runtime check that `addr & (size-1) == 0`, raising `cause` with tval = addr otherwise. */
  genAlignCheck(addr: Temp, size: number, cause: number): void {
    if (size <= 1) return;
    const t = this.tcg;
    const ok = t.newLabel();
    const low = t.temp(addr.type);
    t.andi(low, addr, size - 1);
    t.brcondi(Cond.EQ, low, 0, ok);
    let tv: Temp;
    if (addr.type === 'i32') {
      tv = t.tempI64();
      t.extuI32I64(tv, addr);
    } else tv = addr;
    this.emitRaise(cause, tv);
    t.setLabel(ok);
  }

  /** Calls a helper (shorthand). */
  call(h: HelperInfo, ret: Temp | null, ...args: Temp[]): void {
    this.tcg.call(h, ret, ...args);
  }

  /** A new forward label. */
  label(): Label {
    return this.tcg.newLabel();
  }
}

/** Size in bytes of a memop. */
export function memopBytes(memop: number): number {
  return 1 << (memop & MO_SIZE);
}
