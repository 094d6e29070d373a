/**
 * The contract between compiled TBs and the execution loop, and the interface every backend implements
 * (QEMU: tcg/<host>/tcg-target.c.inc generates code against CPUArchState and the soft TLB; here a
 * backend compiles an {@link IrFunction} into a {@link CompiledTb} that runs against a {@link TbRuntime}).
 */
import type { IrFunction } from '../context.js';
import type { WasmTier } from './wasm/tier.js';

/**
 * What a compiled TB sees at run time. One per CPU; the execution loop (src/accel/tcg) implements it.
 * 64-bit guest values and addresses cross this boundary as two int32 halves (lo, hi), so that no
 * backend is forced into BigInt on the hot path.
 */
export interface TbRuntime {
  /** The CPU object, passed as the first argument of every helper. */
  readonly cpu: unknown;
  /** The buffer holding CPU state (globals at their byte offsets from `envI32`'s start, little-endian). */
  readonly env: ArrayBufferLike;
  readonly envI32: Int32Array;
  readonly envView: DataView;
  /**
   * Guest memory load through the soft TLB. Returns the low 32 bits as an int32, already sign- or
   * zero-extended per the memop for sizes below 32; for 64-bit loads (and for sign-extended loads into
   * i64, the backend extends from the low half) the high 32 bits are left in {@link loadHi}.
   * Throws (a guest fault) for unmapped or faulting accesses.
   */
  load(addrLo: number, addrHi: number, memop: number, mmuIdx: number): number;
  /** High 32 bits of the last 64-bit {@link load}. */
  loadHi: number;
  /** Guest memory store through the soft TLB; (valLo, valHi) truncated to the memop size. */
  store(addrLo: number, addrHi: number, valLo: number, valHi: number, memop: number, mmuIdx: number): void;
  /**
   * Index (0-based, in `insn_start` order) of the guest instruction executing when something throws.
   * A backend must make this exact before any op that may throw (qemu_ld/st, call), so the loop can
   * restore the guest state of the faulting instruction (QEMU cpu_restore_state).
   */
  curInsn: number;
}

/**
 * A TB compiled by a backend. Returns the `exit_tb` value (0 = plain exit, 1/2 = chain slot 0/1), or
 * `EXIT_LOOKUP` (3) for `lookup_and_goto_ptr`.
 */
export type CompiledTb = (rt: TbRuntime) => number;

/** What the code cache offers a backend for one compiled TB (all optional to use). */
export interface CompileHooks {
  /**
   * Replaces the TB's code from now on (a tiering backend hands over the hot code this way, so the loop
   * calls it directly instead of through a dispatching wrapper). Only between two runs of the TB.
   */
  replace(code: CompiledTb): void;
  /** The cache's IR optimizer (for a backend that {@link Backend.optimizesLazily | optimizes lazily}). */
  optimize(fn: IrFunction): IrFunction;
  /** The cache's object for this TB (its TranslationBlock), to match chain targets against. */
  owner?(): unknown;
  /** The object chain slot `slot` of this TB is linked to now, or null. */
  chain?(slot: number): unknown;
  /**
   * The TB's IR again, translated anew from the guest code it was made from (which has not changed, or
   * the TB would be invalid), or null if that cannot be done. A backend that has it need not keep the IR
   * of a TB it may want again later (binding to another CPU, promotion).
   */
  retranslate?(): IrFunction | null;
}

/** A TCG backend: turns optimized IR into host code. */
export interface Backend {
  readonly name: string;
  compile(fn: IrFunction, hooks?: CompileHooks): CompiledTb;
  /**
   * True if the backend wants the IR as translated and runs `hooks.optimize` itself when it pays: a
   * tiering backend runs cold code unoptimized (most TBs of a boot run a few times; the optimizer costs
   * more than it saves them) and optimizes only what it recompiles hot.
   */
  readonly optimizesLazily?: boolean;
  /**
   * The wasm tier whose TBs this backend may produce (src/tcg/backend/wasm/tier.ts): the execution loop
   * then places the CPU's TLB and control block in the tier's memory and links TBs inside wasm.
   */
  readonly wasmTier?: WasmTier | null;
}
