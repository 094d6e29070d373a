/**
 * F/D run-time helpers (QEMU target/riscv/fpu_helper.c): wrap the bit-exact softfloat of `src/fpu`
 * with RISC-V register conventions: singles are NaN-boxed in the 64-bit f registers (an input whose
 * upper 32 bits are not all ones reads as the canonical NaN), results of single ops are boxed, and
 * exception flags accumulate into fflags in env. The rounding mode argument is already resolved
 * (static rm, or frm checked valid by the translated code).
 */
import { CALL_NO_READ_GLOBALS, CALL_NO_WRITE_GLOBALS, type HelperInfo, type TcgType } from '../../tcg/ir.js';
import * as sf from '../../fpu/index.js';
import { ENV_FFLAGS, fOffset } from './cpu-state.js';

/**
 * What the FP helpers need from the CPU: env as int32 words (fflags lives there) and, for the
 * register-operand D helpers, as doubles (the f registers are 8-aligned).
 */
export interface RiscvFpuCpu {
  readonly envI32: Int32Array;
  readonly envF64?: Float64Array;
}

const BOX = 0xffffffff00000000n;
const CANON_NAN_S = 0x7fc00000;
const FFLAGS_IDX = ENV_FFLAGS >> 2;

/** Reads a single from a 64-bit f-register value, checking the NaN box (QEMU check_nanbox_s). */
export function unboxS(v: bigint): number {
  return (v & BOX) === BOX ? Number(v & 0xffffffffn) : CANON_NAN_S;
}

/** NaN-boxes a single. */
export function boxS(v: number): bigint {
  return BOX | BigInt(v >>> 0);
}

// One status object per call would allocate; helpers reuse one per CPU-independent call and
// copy the flags out before returning (JS is single-threaded, helpers are not re-entrant).
const st: sf.FloatStatus = { rm: 0, flags: 0 };

function run<T>(cpu: RiscvFpuCpu, rm: number, f: (s: sf.FloatStatus) => T): T {
  st.rm = rm as sf.RoundingMode;
  st.flags = 0;
  const r = f(st);
  accrueFlags(cpu);
  return r;
}

/** Ors the flags the last operation raised into fflags. */
function accrueFlags(cpu: RiscvFpuCpu): void {
  if (st.flags) cpu.envI32[FFLAGS_IDX] = (cpu.envI32[FFLAGS_IDX]! | st.flags) & 0x1f;
}

// FP helpers never touch TCG globals (f registers are passed in and returned); fflags/frm are plain
// env fields. They never throw: invalid rounding modes are rejected before the call.
const FLAGS = CALL_NO_READ_GLOBALS | CALL_NO_WRITE_GLOBALS;

function def(name: string, args: TcgType[], ret: TcgType, fn: HelperInfo['fn']): HelperInfo {
  return { name, fn, args, ret, flags: FLAGS };
}

const I64 = 'i64' as const, I32 = 'i32' as const;
const u32 = (x: bigint): number => Number(x & 0xffffffffn);
const s32 = (x: bigint): number => Number(BigInt.asIntN(32, x));
const sext32 = (x: number): bigint => BigInt(x | 0);
const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

type S2 = (a: number, b: number, s: sf.FloatStatus) => number;
type D2 = (a: bigint, b: bigint, s: sf.FloatStatus) => bigint;

const binS = (n: string, f: S2): HelperInfo =>
  def(n, [I64, I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint, rm: number) =>
    boxS(run(cpu, rm, (s) => f(unboxS(a), unboxS(b), s))));
const binD = (n: string, f: D2): HelperInfo =>
  def(n, [I64, I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint, rm: number) =>
    run(cpu, rm, (s) => f(a, b, s)));

// ---- D operations on register numbers ----------------------------------------------------------
// Passing f registers by value costs two BigInt conversions per operand and one per result, more than the
// operation itself. These helpers take register numbers instead, read the registers from env as doubles
// and, in the common case (round to nearest-even, finite operands, a result the host-double fast path can
// decide: see src/fpu/f64.ts), never touch a BigInt. They read and write TCG globals (the f registers), so
// backends write cached registers back before the call and reload them after (flags 0).

const F0 = fOffset(0) >> 3;
const RNE = sf.RoundingMode.RNE;
const M32 = 0xffffffffn;

function fbits(I: Int32Array, r: number): bigint {
  const w = (F0 + r) << 1;
  return (BigInt(I[w + 1]! >>> 0) << 32n) | BigInt(I[w]! >>> 0);
}

function setFbits(I: Int32Array, r: number, v: bigint): void {
  const w = (F0 + r) << 1;
  I[w] = Number(v & M32) | 0;
  I[w + 1] = Number((v >> 32n) & M32) | 0;
}

/** The fast path's result written to f[rd] with its flags; false (nothing changed) if it declined. */
function fastDone(cpu: RiscvFpuCpu, F: Float64Array, rd: number, r: number | undefined): boolean {
  if (r === undefined) return false;
  F[F0 + rd] = r;
  accrueFlags(cpu);
  return true;
}

type DFast2 = (x: number, y: number, s: sf.FloatStatus) => number | undefined;

const regBinD = (n: string, fast: DFast2, negY: boolean, exact: D2): HelperInfo =>
  ({ name: n, args: [I32, I32, I32, I32], flags: 0, fn: (cpu: RiscvFpuCpu, rd: number, rs1: number, rs2: number, rm: number): void => {
    const F = cpu.envF64;
    if (F !== undefined && rm === RNE) {
      const x = F[F0 + rs1]!, y = F[F0 + rs2]!;
      // x - x is 0 exactly for finite x (NaN and ±∞ give NaN).
      if (x - x === 0 && y - y === 0) {
        st.flags = 0;
        if (fastDone(cpu, F, rd, fast(x, negY ? -y : y, st))) return;
      }
    }
    const I = cpu.envI32;
    setFbits(I, rd, run(cpu, rm, (s) => exact(fbits(I, rs1), fbits(I, rs2), s)));
  } });

// Singles on register numbers: the low word of the f register when the high word is all ones (the NaN
// box), else the canonical NaN (QEMU check_nanbox_s); results are boxed. src/fpu's binary32 operations
// already work on number bit patterns, so no BigInt is involved at all.
function fS(I: Int32Array, r: number): number {
  const w = (F0 + r) << 1;
  return I[w + 1] === -1 ? I[w]! >>> 0 : CANON_NAN_S;
}

function setFS(I: Int32Array, r: number, v: number): void {
  const w = (F0 + r) << 1;
  I[w] = v | 0;
  I[w + 1] = -1;
}

const regBinS = (n: string, f: S2): HelperInfo =>
  ({ name: n, args: [I32, I32, I32, I32], flags: 0, fn: (cpu: RiscvFpuCpu, rd: number, rs1: number, rs2: number, rm: number): void => {
    const I = cpu.envI32;
    setFS(I, rd, run(cpu, rm, (s) => f(fS(I, rs1), fS(I, rs2), s)));
  } });

/** The F/D helpers: arithmetic on register numbers, the rest on register values. */
export const FH = {
  /** F operations on register numbers (rd, rs1, rs2[, rs3], rm[, op]); see above. */
  fadd_s_r: regBinS('fadd_s_r', sf.f32Add),
  fsub_s_r: regBinS('fsub_s_r', sf.f32Sub),
  fmul_s_r: regBinS('fmul_s_r', sf.f32Mul),
  fdiv_s_r: regBinS('fdiv_s_r', sf.f32Div),
  fsqrt_s_r: { name: 'fsqrt_s_r', args: [I32, I32, I32], flags: 0,
    fn: (cpu: RiscvFpuCpu, rd: number, rs1: number, rm: number): void => {
      const I = cpu.envI32;
      setFS(I, rd, run(cpu, rm, (s) => sf.f32Sqrt(fS(I, rs1), s)));
    } } satisfies HelperInfo,
  fmadd_s_r: { name: 'fmadd_s_r', args: [I32, I32, I32, I32, I32, I32], flags: 0,
    fn: (cpu: RiscvFpuCpu, rd: number, rs1: number, rs2: number, rs3: number, rm: number, op: number): void => {
      const I = cpu.envI32;
      setFS(I, rd, run(cpu, rm, (s) => sf.f32MulAdd(fS(I, rs1), fS(I, rs2), fS(I, rs3), (op & 1) !== 0, (op & 2) !== 0, s)));
    } } satisfies HelperInfo,

  /** D operations on register numbers (rd, rs1, rs2[, rs3], rm[, op]); see above. */
  fadd_d_r: regBinD('fadd_d_r', sf.f64AddFast, false, sf.f64Add),
  fsub_d_r: regBinD('fsub_d_r', sf.f64AddFast, true, sf.f64Sub),
  fmul_d_r: regBinD('fmul_d_r', sf.f64MulFast, false, sf.f64Mul),
  fdiv_d_r: regBinD('fdiv_d_r', sf.f64DivFast, false, sf.f64Div),
  fsqrt_d_r: { name: 'fsqrt_d_r', args: [I32, I32, I32], flags: 0,
    fn: (cpu: RiscvFpuCpu, rd: number, rs1: number, rm: number): void => {
      const F = cpu.envF64;
      if (F !== undefined && rm === RNE) {
        const x = F[F0 + rs1]!;
        if (x - x === 0) {
          st.flags = 0;
          if (fastDone(cpu, F, rd, sf.f64SqrtFast(x, st))) return;
        }
      }
      const I = cpu.envI32;
      setFbits(I, rd, run(cpu, rm, (s) => sf.f64Sqrt(fbits(I, rs1), s)));
    } } satisfies HelperInfo,
  fmadd_d_r: { name: 'fmadd_d_r', args: [I32, I32, I32, I32, I32, I32], flags: 0,
    fn: (cpu: RiscvFpuCpu, rd: number, rs1: number, rs2: number, rs3: number, rm: number, op: number): void => {
      const F = cpu.envF64;
      const negP = (op & 1) !== 0, negA = (op & 2) !== 0;
      if (F !== undefined && rm === RNE) {
        const x = F[F0 + rs1]!, y = F[F0 + rs2]!, z = F[F0 + rs3]!;
        if (x - x === 0 && y - y === 0 && z - z === 0) {
          st.flags = 0;
          if (fastDone(cpu, F, rd, sf.f64MulAddFast(x, y, negA ? -z : z, negP, st))) return;
        }
      }
      const I = cpu.envI32;
      setFbits(I, rd, run(cpu, rm, (s) => sf.f64MulAdd(fbits(I, rs1), fbits(I, rs2), fbits(I, rs3), negP, negA, s)));
    } } satisfies HelperInfo,

  // min/max by value (rm unused)
  fmin_s: binS('fmin_s', sf.f32Min), fmax_s: binS('fmax_s', sf.f32Max),
  fmin_d: binD('fmin_d', sf.f64Min), fmax_d: binD('fmax_d', sf.f64Max),

  // comparisons and classification → integer results
  feq_s: def('feq_s', [I64, I64], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint) =>
    run(cpu, 0, (s) => (sf.f32Eq(unboxS(a), unboxS(b), s) ? 1n : 0n))),
  flt_s: def('flt_s', [I64, I64], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint) =>
    run(cpu, 0, (s) => (sf.f32Lt(unboxS(a), unboxS(b), s) ? 1n : 0n))),
  fle_s: def('fle_s', [I64, I64], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint) =>
    run(cpu, 0, (s) => (sf.f32Le(unboxS(a), unboxS(b), s) ? 1n : 0n))),
  feq_d: def('feq_d', [I64, I64], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint) =>
    run(cpu, 0, (s) => (sf.f64Eq(a, b, s) ? 1n : 0n))),
  flt_d: def('flt_d', [I64, I64], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint) =>
    run(cpu, 0, (s) => (sf.f64Lt(a, b, s) ? 1n : 0n))),
  fle_d: def('fle_d', [I64, I64], I64, (cpu: RiscvFpuCpu, a: bigint, b: bigint) =>
    run(cpu, 0, (s) => (sf.f64Le(a, b, s) ? 1n : 0n))),
  fclass_s: def('fclass_s', [I64], I64, (_cpu: RiscvFpuCpu, a: bigint) => BigInt(sf.f32Classify(unboxS(a)))),
  fclass_d: def('fclass_d', [I64], I64, (_cpu: RiscvFpuCpu, a: bigint) => BigInt(sf.f64Classify(a))),

  // float → integer (results sign-extended to 64 bits, as the spec requires for 32-bit results)
  fcvt_w_s: def('fcvt_w_s', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    sext32(run(cpu, rm, (s) => sf.f32ToI32(unboxS(a), s)))),
  fcvt_wu_s: def('fcvt_wu_s', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    sext32(run(cpu, rm, (s) => sf.f32ToU32(unboxS(a), s)))),
  fcvt_l_s: def('fcvt_l_s', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    u64(run(cpu, rm, (s) => sf.f32ToI64(unboxS(a), s)))),
  fcvt_lu_s: def('fcvt_lu_s', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    u64(run(cpu, rm, (s) => sf.f32ToU64(unboxS(a), s)))),
  fcvt_w_d: def('fcvt_w_d', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    sext32(run(cpu, rm, (s) => sf.f64ToI32(a, s)))),
  fcvt_wu_d: def('fcvt_wu_d', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    sext32(run(cpu, rm, (s) => sf.f64ToU32(a, s)))),
  fcvt_l_d: def('fcvt_l_d', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    u64(run(cpu, rm, (s) => sf.f64ToI64(a, s)))),
  fcvt_lu_d: def('fcvt_lu_d', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    u64(run(cpu, rm, (s) => sf.f64ToU64(a, s)))),

  // integer → float (the integer register value is passed whole; 32-bit sources use its low word)
  fcvt_s_w: def('fcvt_s_w', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    boxS(run(cpu, rm, (s) => sf.i32ToF32(s32(x), s)))),
  fcvt_s_wu: def('fcvt_s_wu', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    boxS(run(cpu, rm, (s) => sf.u32ToF32(u32(x), s)))),
  fcvt_s_l: def('fcvt_s_l', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    boxS(run(cpu, rm, (s) => sf.i64ToF32(BigInt.asIntN(64, x), s)))),
  fcvt_s_lu: def('fcvt_s_lu', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    boxS(run(cpu, rm, (s) => sf.u64ToF32(x, s)))),
  fcvt_d_w: def('fcvt_d_w', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    run(cpu, rm, (s) => sf.i32ToF64(s32(x), s))),
  fcvt_d_wu: def('fcvt_d_wu', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    run(cpu, rm, (s) => sf.u32ToF64(u32(x), s))),
  fcvt_d_l: def('fcvt_d_l', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    run(cpu, rm, (s) => sf.i64ToF64(BigInt.asIntN(64, x), s))),
  fcvt_d_lu: def('fcvt_d_lu', [I64, I32], I64, (cpu: RiscvFpuCpu, x: bigint, rm: number) =>
    run(cpu, rm, (s) => sf.u64ToF64(x, s))),

  // float ↔ float
  fcvt_s_d: def('fcvt_s_d', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    boxS(run(cpu, rm, (s) => sf.f64ToF32(a, s)))),
  fcvt_d_s: def('fcvt_d_s', [I64, I32], I64, (cpu: RiscvFpuCpu, a: bigint, rm: number) =>
    run(cpu, rm, (s) => sf.f32ToF64(unboxS(a), s))),
} as const satisfies Record<string, HelperInfo>;
