/**
 * Hot-code tiering as a backend wrapper: every TB is first compiled by a cheap "cold" backend (the
 * closure backend: no code generation, no `new Function`), counts its executions, and once it has run
 * `threshold` times is recompiled by the "hot" backend (generated JS) from the same IR. Most TBs of a boot
 * run a handful of times, so they never pay the hot backend's compile cost; the loops that dominate the
 * run time get the faster code. (QEMU has a single tier; this is the JIT-tiering shape of V8/SpiderMonkey
 * applied to QEMU's TB model.)
 *
 * Exactness: both tiers implement the same {@link CompiledTb} contract (exit value, `curInsn` before every
 * op that may throw, globals written back to env at every exit and before helpers that read them), so the
 * switch is invisible to the execution loop. The switch only happens between two calls of the TB, never
 * in the middle of one.
 */
import type { IrFunction } from '../context.js';
import type { Backend, CompileHooks, CompiledTb, TbRuntime } from './backend.js';
import { closureBackend } from './closure.js';
import { createJsBackend, JsBackendUnavailableError, jsBackendAvailable } from './js.js';
import { createWasmTcgMemory } from './wasm/tcg-memory.js';
import { createWasmTier, type TierTlbLayout, type WasmTier } from './wasm/tier.js';

/** Options of {@link createTieredBackend}. */
export interface TieredBackendOptions {
  /** The backend every TB starts with (default: the closure backend). */
  readonly cold?: Backend;
  /**
   * The backend for TBs past the threshold (default: a new JS backend when `new Function` works here,
   * else none). `null` keeps every TB cold.
   */
  readonly hot?: Backend | null;
  /** Executions of a TB in the cold tier before it is recompiled hot (default {@link TIERED_DEFAULT_THRESHOLD}). */
  readonly threshold?: number;
}

/** Statistics of one tiered backend instance. */
export interface TieredBackendStats {
  /** TBs compiled by the cold backend (every TB compiled through this backend). */
  coldCompiles: number;
  /** TBs recompiled by the hot backend after reaching the threshold. */
  promotions: number;
  /** Hot compilations that threw; those TBs stay cold. */
  hotFailures: number;
}

/** A tiered backend (see the file comment). */
export interface TieredBackend extends Backend {
  readonly stats: TieredBackendStats;
  readonly cold: Backend;
  /** The hot backend, or null once it is known to be unusable here (then every TB stays cold). */
  readonly hot: Backend | null;
  readonly threshold: number;
  /** The last error a hot compilation threw (for diagnostics), or null. */
  readonly lastHotError: unknown;
}

/**
 * Default number of cold executions before a TB is promoted. Measured on the boot of OpenSBI + U-Boot to
 * its autoboot prompt (25.6 M instructions): 300 → 2.0-2.1 s, 1000 → 1.6-1.9 s, 3000 → 1.4-1.5 s,
 * 10000 → 1.5-1.6 s; loops that dominate a long run reach any of these within milliseconds.
 */
export const TIERED_DEFAULT_THRESHOLD = 3000;

/** Creates a backend that runs TBs cold first and recompiles the ones that run often with a hot backend. */
export function createTieredBackend(options: TieredBackendOptions = {}): TieredBackend {
  const cold = options.cold ?? closureBackend;
  let hot: Backend | null = options.hot !== undefined ? options.hot : jsBackendAvailable() ? createJsBackend() : null;
  const threshold = options.threshold ?? TIERED_DEFAULT_THRESHOLD;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new RangeError(`tiered backend: threshold must be a non-negative integer, got ${threshold}`);
  }
  const stats: TieredBackendStats = { coldCompiles: 0, promotions: 0, hotFailures: 0 };
  /** The hot backend when it is a wasm tier (batched promotion). */
  const tier: WasmTier | null = hot !== null && 'enqueue' in hot ? (hot as WasmTier) : null;
  /** With a wasm tier: generated JS for the TBs it declines (helper-heavy code), where allowed. */
  let js: Backend | null = tier !== null && jsBackendAvailable() ? createJsBackend() : null;
  let lastHotError: unknown = null;

  /**
   * `fn` compiled by `b`, or null (stay cold) when `b` is absent or fails; `forget` is called when code
   * generation turns out to be forbidden here (CSP), so no TB tries that backend again.
   */
  const compileWith = (b: Backend | null, fn: IrFunction, forget: () => void): CompiledTb | null => {
    if (b === null) return null;
    try {
      const tb = b.compile(fn);
      stats.promotions++;
      return tb;
    } catch (e) {
      stats.hotFailures++;
      lastHotError = e;
      if (e instanceof JsBackendUnavailableError) forget();
      return null;
    }
  };
  const compileHot = (fn: IrFunction): CompiledTb | null => compileWith(hot, fn, () => { hot = null; });
  const compileJs = (fn: IrFunction): CompiledTb | null => compileWith(js, fn, () => { js = null; });

  const backend: TieredBackend = {
    name: hot === null ? cold.name : `tiered(${cold.name}->${hot.name})`,
    stats,
    cold,
    get hot() { return hot; },
    threshold,
    get lastHotError() { return lastHotError; },
    optimizesLazily: true,
    wasmTier: tier,
    compile(fn: IrFunction, hooks?: CompileHooks): CompiledTb {
      const coldTb = cold.compile(fn, hooks);
      stats.coldCompiles++;
      if (hot === null) return coldTb;
      // The IR, kept until the promotion unless the cache can translate the TB again then (most TBs
      // never get hot: their IR would only take memory).
      let ir: IrFunction | null = hooks?.retranslate !== undefined ? null : fn;
      let undecided = true;
      let left = threshold;
      let queued = false;
      /** The IR to promote (optimized), or null: stay cold. */
      const hotIr = (): IrFunction | null => {
        const src = ir ?? hooks?.retranslate?.() ?? null;
        ir = null;
        return src === null ? null : hooks !== undefined ? hooks.optimize(src) : src;
      };
      const countCold: CompiledTb = (rt: TbRuntime): number => {
        if (--left >= 0) return coldTb(rt);
        const opt = undecided ? hotIr() : null;
        if (undecided && opt === null) {
          undecided = false;
          impl = coldTb;
          hooks?.replace(impl);
          return coldTb(rt);
        }
        undecided = false;
        if (opt !== null && tier !== null && tier.accepts(opt)) {
          // The wasm tier compiles hot TBs in batches (one module, direct jumps between its TBs): queue
          // this one and stay cold a little longer, so the rest of its loop can join the batch.
          queued = true;
          left = Math.max(1, threshold >> 2);
          tier.enqueue(opt, hooks, (code) => {
            queued = false;
            if (code !== null) stats.promotions++; else stats.hotFailures++;
            impl = code ?? coldTb;
            hooks?.replace(impl);
          });
          return coldTb(rt);
        }
        if (queued) {
          // Waited long enough: compile the batch now (this TB's code is replaced by it).
          tier!.flush();
          if (queued) return coldTb(rt);
        }
        if (opt !== null) {
          // Past the threshold: choose the code for this call and every later one, before running any of it.
          // The cache hands cold code the IR as translated (optimizesLazily): optimize what gets hot. A TB
          // the wasm tier declines goes to generated JS.
          const hotTb = tier !== null ? compileJs(opt) : compileHot(opt);
          impl = hotTb ?? coldTb;
          // Let the cache call the chosen code directly from now on (one call less per TB run).
          hooks?.replace(impl);
        }
        return impl(rt);
      };
      let impl: CompiledTb = countCold;
      // With a cache to hand the hot code to, the counting code is the TB's code until then; without
      // one, a stable wrapper switches.
      return hooks !== undefined ? countCold : (rt: TbRuntime): number => impl(rt);
    },
  };
  return backend;
}

/** Options of {@link createAutoBackend}. */
export interface AutoBackendOptions {
  /**
   * The soft TLB layout (src/accel/tcg/tlb.ts TIER_TLB_LAYOUT). With it, and where shared WebAssembly
   * memory exists, hot TBs go to a wasm tier with its own machine memory (`wasmTier`); without it, to
   * generated JS.
   */
  readonly tierLayout?: TierTlbLayout;
  /** Cold executions before a TB is promoted (default {@link TIERED_DEFAULT_THRESHOLD}). */
  readonly threshold?: number;
}

/**
 * The backend of `tcgBackend('auto')`: closure code first; hot TBs compiled to the wasm tier where shared
 * WebAssembly memory exists (and a TLB layout is given), else to generated JS where `new Function` is
 * allowed, else they stay closure code (a Content-Security-Policy that forbids both).
 */
export function createAutoBackend(options: AutoBackendOptions = {}): TieredBackend {
  const memory = options.tierLayout !== undefined ? createWasmTcgMemory() : null;
  const t = options.threshold !== undefined ? { threshold: options.threshold } : {};
  if (memory !== null) return createTieredBackend({ hot: createWasmTier(memory, options.tierLayout!), ...t });
  return createTieredBackend(t);
}
