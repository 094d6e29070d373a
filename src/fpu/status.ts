/**
 * Rounding modes, exception flags and the status word every softfloat operation takes.
 * Encodings are RISC-V's (the `rm` field and the `fflags` bits), so the CPU helpers pass them through.
 */

/** IEEE 754 rounding-direction attribute, in the RISC-V `rm`/`frm` encoding. */
export const RoundingMode = {
  /** Round to nearest, ties to even. */
  RNE: 0,
  /** Round towards zero. */
  RTZ: 1,
  /** Round down (towards −∞). */
  RDN: 2,
  /** Round up (towards +∞). */
  RUP: 3,
  /** Round to nearest, ties to max magnitude (away from zero). */
  RMM: 4,
} as const;
/** One of the five valid RISC-V rounding modes (0..4). */
export type RoundingMode = (typeof RoundingMode)[keyof typeof RoundingMode];

/** Exception flag bits, as RISC-V `fflags`. */
export const FloatFlag = {
  /** Inexact. */
  NX: 1,
  /** Underflow (tiny after rounding and inexact). */
  UF: 2,
  /** Overflow. */
  OF: 4,
  /** Division by zero. */
  DZ: 8,
  /** Invalid operation. */
  NV: 16,
} as const;

/**
 * Per-operation floating-point environment: the rounding mode to use and the sticky exception flags,
 * which every operation ORs into (never clears). A caller may reuse one object across calls.
 * A rounding mode outside 0..4 behaves as RNE; the RISC-V helpers reject reserved modes before calling.
 */
export interface FloatStatus {
  rm: RoundingMode;
  flags: number;
}

/** Creates a status word (RNE, no flags raised by default). */
export function makeFloatStatus(rm: RoundingMode = RoundingMode.RNE, flags = 0): FloatStatus {
  return { rm, flags };
}
