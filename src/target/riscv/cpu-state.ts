/**
 * Layout of the RISC-V CPU state in `env` (QEMU target/riscv/cpu.h CPURISCVState, the part that
 * translated code reads and writes), and the TCG globals bound to it.
 *
 * | offset    | contents                                                                  |
 * |-----------|---------------------------------------------------------------------------|
 * | 0..255    | x0..x31, 8 bytes each, little-endian (x0 always reads 0)                  |
 * | 256       | pc (8 bytes)                                                              |
 * | 264..519  | f0..f31, 8 bytes each; singles are NaN-boxed (upper 32 bits all ones)     |
 * | 520       | frm (i32, 0..7)                                                           |
 * | 524       | fflags (i32, accrued exception flags NX=1 UF=2 OF=4 DZ=8 NV=16)           |
 * | 528       | load_res: LR reservation address, -1 (all ones) = none (8 bytes)          |
 * | 536       | load_val: value loaded by LR (8 bytes)                                    |
 *
 * RV32: x registers hold their 32-bit values **sign-extended to 64 bits** (as QEMU's riscv64 build
 * does for MXL=32, see gen_set_gpr), so comparisons and branches work unchanged on the 64-bit values;
 * the pc holds the **zero-extended** 32-bit address (the TB address type is i32).
 */
import { GlobalSet } from '../../tcg/context.js';
import type { Temp } from '../../tcg/ir.js';

export const ENV_X = 0;
export const ENV_PC = 256;
export const ENV_F = 264;
export const ENV_FRM = 520;
export const ENV_FFLAGS = 524;
export const ENV_LOAD_RES = 528;
export const ENV_LOAD_VAL = 536;
/** Bytes of env used by the RISC-V CPU state (a multiple of 64). */
export const RISCV_ENV_SIZE = 576;

/** Byte offset of x register `n`. */
export const xOffset = (n: number): number => ENV_X + 8 * n;
/** Byte offset of f register `n`. */
export const fOffset = (n: number): number => ENV_F + 8 * n;

/** The TCG globals of a RISC-V CPU. `x[0]` is undefined: x0 is never a global. */
export interface RiscvGlobals {
  readonly set: GlobalSet;
  readonly x: readonly (Temp | undefined)[];
  readonly pc: Temp;
  readonly f: readonly Temp[];
  readonly loadRes: Temp;
  readonly loadVal: Temp;
}

/** Registers the globals (x1..x31, pc, f0..f31, load_res, load_val) in a new {@link GlobalSet}. */
export function createRiscvGlobals(): RiscvGlobals {
  const set = new GlobalSet();
  const x: (Temp | undefined)[] = [undefined];
  for (let n = 1; n < 32; n++) x.push(set.add('i64', xOffset(n), `x${n}`));
  const pc = set.add('i64', ENV_PC, 'pc');
  const f: Temp[] = [];
  for (let n = 0; n < 32; n++) f.push(set.add('i64', fOffset(n), `f${n}`));
  const loadRes = set.add('i64', ENV_LOAD_RES, 'load_res');
  const loadVal = set.add('i64', ENV_LOAD_VAL, 'load_val');
  return { set, x, pc, f, loadRes, loadVal };
}

/** ABI names of x0..x31, as objdump prints them. */
export const XREG_ABI_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

/** ABI names of f0..f31. */
export const FREG_ABI_NAMES: readonly string[] = [
  'ft0', 'ft1', 'ft2', 'ft3', 'ft4', 'ft5', 'ft6', 'ft7', 'fs0', 'fs1', 'fa0', 'fa1', 'fa2', 'fa3', 'fa4', 'fa5',
  'fa6', 'fa7', 'fs2', 'fs3', 'fs4', 'fs5', 'fs6', 'fs7', 'fs8', 'fs9', 'fs10', 'fs11', 'ft8', 'ft9', 'ft10', 'ft11',
];
