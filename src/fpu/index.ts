/**
 * Bit-exact IEEE 754 binary32/binary64 arithmetic with RISC-V semantics (QEMU fpu/softfloat.c with the
 * RISC-V specialisation): default NaN results, tininess after rounding, RISC-V fmin/fmax, fcvt
 * saturation and fclass. Values are raw bit patterns: binary32 as a uint32 `number`, binary64 as a
 * uint64 `bigint`; 32-bit integers are numbers, 64-bit integers bigints. Every operation takes a
 * {@link FloatStatus} whose rounding mode it uses and whose `flags` it ORs exception bits into.
 * @module
 */
export { RoundingMode, FloatFlag, makeFloatStatus, type FloatStatus } from './status.js';
export {
  f32Add, f32Sub, f32Mul, f32Div, f32Sqrt, f32MulAdd, f32Min, f32Max, f32Eq, f32Lt, f32Le, f32Classify,
  f32ToI32, f32ToU32, f32ToI64, f32ToU64, i32ToF32, u32ToF32, i64ToF32, u64ToF32,
} from './f32.js';
export {
  f64Add, f64Sub, f64Mul, f64Div, f64Sqrt, f64MulAdd, f64Min, f64Max, f64Eq, f64Lt, f64Le, f64Classify,
  f64ToI32, f64ToU32, f64ToI64, f64ToU64, i32ToF64, u32ToF64, i64ToF64, u64ToF64, f32ToF64, f64ToF32,
  f64AddFast, f64MulFast, f64DivFast, f64SqrtFast, f64MulAddFast,
} from './f64.js';
