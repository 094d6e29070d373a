/**
 * TCG intermediate representation: temps, labels, ops and the memory-op/condition encodings.
 *
 * Modelled on QEMU's tcg/tcg.h and include/tcg/tcg-opc.h: every op has output temps, input temps and
 * constant arguments; constants are temps of kind `const` (as modern QEMU does), so any input may be a
 * constant and the optimizer can fold it. Globals are temps bound to a byte offset in the CPU state
 * (`env`); backends may cache them in host locals inside a TB but must write them back at TB exits,
 * at helper calls (unless the helper's flags say it neither reads nor writes globals) and before any
 * guest memory access that can fault.
 */

/** Value type of a temp. */
export type TcgType = 'i32' | 'i64';

/** Lifetime class of a temp (QEMU TEMP_CONST / TEMP_TB / TEMP_GLOBAL). */
export type TempKind = 'const' | 'temp' | 'global';

/** A TCG temp. Identity matters: ops refer to temp objects. */
export interface Temp {
  readonly id: number;
  readonly type: TcgType;
  readonly kind: TempKind;
  /** For `const`: the value, zero-extended to the type's width (0 ≤ value < 2^32 or 2^64). */
  readonly value: bigint;
  /** For `global`: the byte offset of the value in the CPU state. i64 globals are 8-byte aligned, little-endian. */
  readonly offset: number;
  /** For `global`: a name used in dumps ("x5", "pc"). */
  readonly name: string;
}

/** A branch target inside one TB. Labels only ever go forwards or backwards within the TB's op list. */
export interface Label {
  readonly id: number;
}

/** Comparison conditions (QEMU TCGCond). Values match QEMU's encoding so `cond ^ 1` inverts. */
export const enum Cond {
  NEVER = 0, ALWAYS = 1,
  EQ = 8, NE = 9,
  LT = 10, GE = 11, LE = 12, GT = 13,
  LTU = 4, GEU = 5, LEU = 6, GTU = 7,
}

/** Inverse of a condition (QEMU tcg_invert_cond). */
export function invertCond(c: Cond): Cond {
  return (c ^ 1) as Cond;
}

/** Condition with its operands swapped (QEMU tcg_swap_cond). */
export function swapCond(c: Cond): Cond {
  switch (c) {
    case Cond.LT: return Cond.GT;
    case Cond.GT: return Cond.LT;
    case Cond.LE: return Cond.GE;
    case Cond.GE: return Cond.LE;
    case Cond.LTU: return Cond.GTU;
    case Cond.GTU: return Cond.LTU;
    case Cond.LEU: return Cond.GEU;
    case Cond.GEU: return Cond.LEU;
    default: return c;
  }
}

export const COND_NAMES: Readonly<Record<number, string>> = {
  0: 'never', 1: 'always', 8: 'eq', 9: 'ne', 10: 'lt', 11: 'ge', 12: 'le', 13: 'gt',
  4: 'ltu', 5: 'geu', 6: 'leu', 7: 'gtu',
};

/**
 * Memory operation descriptor (QEMU MemOp): size, sign, endianness, alignment.
 * `MO_8..MO_64` is log2 of the access size in bytes.
 */
export const MO_8 = 0, MO_16 = 1, MO_32 = 2, MO_64 = 3, MO_SIZE = 3;
export const MO_SIGN = 4;
/** Big-endian access; the default (flag clear) is little-endian. */
export const MO_BE = 8;
/** Require natural alignment: a misaligned access raises an alignment fault instead of being split. */
export const MO_ALIGN = 16;

export const MO_UB = MO_8, MO_SB = MO_8 | MO_SIGN;
export const MO_UW = MO_16, MO_SW = MO_16 | MO_SIGN;
export const MO_UL = MO_32, MO_SL = MO_32 | MO_SIGN;
export const MO_UQ = MO_64;

/** Helper call flags (QEMU TCG_CALL_*). */
export const CALL_NO_READ_GLOBALS = 1;
export const CALL_NO_WRITE_GLOBALS = 2;
export const CALL_NO_SIDE_EFFECTS = 4;
/** A helper that never returns normally (it always throws a CPU exit, e.g. raise_exception). */
export const CALL_NO_RETURN = 8;

/**
 * A helper function callable from generated code (QEMU DEF_HELPER).
 * Calling convention, for every backend: the first argument is the runtime's `cpu` object
 * (opaque to TCG), then one argument per input temp: i32 temps are passed as JS numbers holding the
 * value as a signed int32 (`x | 0`), i64 temps as BigInt in [0, 2^64). The result, if `ret` is set,
 * is returned the same way (an i32 result may be any number; it is truncated with `| 0`; an i64
 * result may be any BigInt; it is truncated with `BigInt.asUintN(64, r)`).
 * A helper may throw (e.g. a guest exception); the backend then must have written back globals
 * and recorded the current guest instruction (see `TbRuntime.curInsn`).
 */
export interface HelperInfo {
  readonly name: string;
  readonly fn: (cpu: any, ...args: any[]) => any;
  readonly args: readonly TcgType[];
  readonly ret?: TcgType;
  readonly flags: number;
}

/** All op codes. `_i32`/`_i64` suffix gives the type of the temps (QEMU tcg-opc.h). */
export type Opcode =
  // moves and conversions
  | 'mov_i32' | 'mov_i64'
  | 'ext_i32_i64' | 'extu_i32_i64' | 'extrl_i64_i32' | 'extrh_i64_i32'
  // arithmetic
  | 'add_i32' | 'add_i64' | 'sub_i32' | 'sub_i64' | 'neg_i32' | 'neg_i64'
  | 'mul_i32' | 'mul_i64'
  | 'mulu2_i32' | 'mulu2_i64' | 'muls2_i32' | 'muls2_i64' | 'mulsu2_i64'
  | 'div_i32' | 'div_i64' | 'divu_i32' | 'divu_i64'
  | 'rem_i32' | 'rem_i64' | 'remu_i32' | 'remu_i64'
  // logic
  | 'and_i32' | 'and_i64' | 'or_i32' | 'or_i64' | 'xor_i32' | 'xor_i64' | 'not_i32' | 'not_i64'
  | 'andc_i32' | 'andc_i64' | 'orc_i32' | 'orc_i64' | 'eqv_i32' | 'eqv_i64'
  // shifts (count taken modulo width, as the hosts do; frontends mask when the guest differs)
  | 'shl_i32' | 'shl_i64' | 'shr_i32' | 'shr_i64' | 'sar_i32' | 'sar_i64'
  | 'rotl_i32' | 'rotl_i64' | 'rotr_i32' | 'rotr_i64'
  // extensions within a type
  | 'ext8s_i32' | 'ext8s_i64' | 'ext8u_i32' | 'ext8u_i64'
  | 'ext16s_i32' | 'ext16s_i64' | 'ext16u_i32' | 'ext16u_i64'
  | 'ext32s_i64' | 'ext32u_i64'
  // bit fields: c = [ofs, len]
  | 'extract_i32' | 'extract_i64' | 'sextract_i32' | 'sextract_i64' | 'deposit_i32' | 'deposit_i64'
  | 'bswap16_i32' | 'bswap16_i64' | 'bswap32_i32' | 'bswap32_i64' | 'bswap64_i64'
  // clz/ctz: i = [x, valueIfZero]; ctpop: i = [x]
  | 'clz_i32' | 'clz_i64' | 'ctz_i32' | 'ctz_i64' | 'ctpop_i32' | 'ctpop_i64'
  // comparisons: c = [cond]
  | 'setcond_i32' | 'setcond_i64' | 'movcond_i32' | 'movcond_i64'
  // control flow inside a TB
  | 'brcond_i32' | 'brcond_i64' | 'br' | 'set_label'
  // CPU state (env) access: c = [byteOffset, memop (size/sign only)]
  | 'ld_i32' | 'ld_i64' | 'st_i32' | 'st_i64'
  // guest memory: c = [memop, mmuIdx]; address temp has the TB's address type
  | 'qemu_ld_i32' | 'qemu_ld_i64' | 'qemu_st_i32' | 'qemu_st_i64'
  // calls and TB exits
  | 'call' | 'goto_tb' | 'exit_tb' | 'lookup_and_goto_ptr'
  // markers
  | 'insn_start' | 'discard' | 'mb' | 'nop';

/**
 * What compiled code returns for `lookup_and_goto_ptr`: "the pc in env is set, find the next TB and go on"
 * (QEMU's helper_lookup_tb_ptr), as opposed to a plain `exit_tb 0`, which sends control back to the loop's
 * checks (the TB changed state they depend on, e.g. after a CSR write).
 */
export const EXIT_LOOKUP = 3;

/**
 * One IR op. `o` are output temps, `i` input temps, `c` constant arguments; see {@link Opcode} for
 * what each op carries.
 * - setcond: o=[d], i=[a,b], c=[cond]; movcond: o=[d], i=[c1,c2,v1,v2], c=[cond] (d = c1 cond c2 ? v1 : v2)
 * - brcond: i=[a,b], c=[cond], label; br: label; set_label: label
 * - mulu2/muls2/mulsu2: o=[lo,hi], i=[a,b] (mulsu2: a signed, b unsigned)
 * - extract/sextract: o=[d], i=[a], c=[ofs,len]; deposit: o=[d], i=[a,b], c=[ofs,len] (insert low len bits of b at ofs in a)
 * - bswap16/32: i=[a], c=[flags] with 0 = input high bits are zero, output high bits zero.
 * - ld/st: ld o=[d] c=[offset, memop]; st i=[v] c=[offset, memop]
 * - qemu_ld: o=[d], i=[addr], c=[memop, mmuIdx]; qemu_st: i=[val, addr], c=[memop, mmuIdx]
 * - call: o=[] or [ret], i=args, helper
 * - goto_tb: c=[slot 0|1]; must be immediately followed by `exit_tb` with c=[slot+1].
 * - exit_tb: c=[value]: 0 = plain exit (the loop looks up the next TB from the pc in env);
 *   1 or 2 = exit through chain slot 0 or 1 (the TB set the pc before; the loop may patch the slot).
 * - lookup_and_goto_ptr: the pc in env is already set; look up the next TB and continue, or exit
 *   (compiled code returns {@link EXIT_LOOKUP}).
 * - insn_start: c=[pcLo, pcHi, ...target words]: marks the start of one guest instruction.
 * - discard: o=[t]: t's value is dead (liveness hint).
 */
export interface Op {
  opc: Opcode;
  o: Temp[];
  i: Temp[];
  c: number[];
  label?: Label;
  helper?: HelperInfo;
}
