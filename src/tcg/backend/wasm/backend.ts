/**
 * The WebAssembly TCG backend: each TB becomes one small wasm module (see ./codegen.ts), compiled
 * synchronously with `new WebAssembly.Module` and instantiated once per `WebAssembly.Memory` it runs
 * against.
 *
 * Where env lives:
 * - If the runtime says its env sits inside a `WebAssembly.Memory` ({@link WasmEnvRuntime}: `envMemory`,
 *   `envBase`, with `envI32`/`envView` viewing that memory at `envBase`), the TB reads and writes env in
 *   place: nothing is copied.
 * - Otherwise (env is a plain `ArrayBuffer`, as today's executor allocates it) the backend mirrors env
 *   in a scratch memory of its own: the TB's *footprint* (the env words of its globals and env ld/st
 *   ops; nothing else is ever touched by the TB) is copied in before the TB and back after it, and out
 *   and in again around every call out of the TB (guest memory slow path, helpers), so helpers and the
 *   loop always see exact state. Correct, but it costs a few word copies per TB and per call;
 *   {@link WasmBackend.allocateEnv} (env in wasm memory) removes them.
 *
 * Calls out of wasm go through JS trampolines that receive the runtime as an `externref`, set
 * `rt.curInsn` (so a throw leaves it exact), convert i64 arguments (wasm hands JS a signed BigInt; the
 * helper convention of src/tcg/ir.ts wants [0, 2^64)) and call `rt.load`/`rt.store`/the helper.
 *
 * In a browser, `new WebAssembly.Module` on the main thread is limited to small modules (4 KiB in
 * Chromium); run the emulator in a Worker (as v86 does) or use a future async/multi-TB path.
 */
import type { IrFunction } from '../../context.js';
import type { HelperInfo } from '../../ir.js';
import { TcgIrError } from '../../interp.js';
import type { Backend, CompiledTb, TbRuntime } from '../backend.js';
import { generateTb, IMPORT_MODULE, type TbImports } from './codegen.js';

/**
 * A {@link TbRuntime} whose env lives inside a `WebAssembly.Memory` (the proposed extension of the
 * TbRuntime contract): `envI32`/`envView` view `envMemory.buffer` at byte `envBase`, and the memory is
 * never grown while TBs run (growing detaches those views).
 */
export interface WasmEnvRuntime extends TbRuntime {
  readonly envMemory?: WebAssembly.Memory | undefined;
  /** Byte offset of env in {@link envMemory}; 8-aligned. */
  readonly envBase?: number | undefined;
}

/** An env block allocated inside a backend's memory by {@link WasmBackend.allocateEnv}. */
export interface WasmEnv {
  readonly memory: WebAssembly.Memory;
  /** Byte offset of the block in `memory.buffer`. */
  readonly base: number;
  readonly size: number;
  readonly envI32: Int32Array;
  readonly envView: DataView;
}

/** Statistics of one wasm backend. */
export interface WasmBackendStats {
  /** TBs compiled. */
  tbs: number;
  /** Bytes of wasm generated. */
  bytes: number;
  /** Milliseconds spent generating wasm bytes. */
  genMs: number;
  /** Milliseconds spent in `new WebAssembly.Module`. */
  compileMs: number;
  /** Instances created (one per TB and memory it ran against). */
  instances: number;
  /** Milliseconds spent in `new WebAssembly.Instance`. */
  instantiateMs: number;
}

/** The wasm backend; {@link createWasmBackend} makes one. */
export interface WasmBackend extends Backend {
  readonly name: 'wasm';
  /** The wasm bytes of a TB (for dumps and tests). */
  generate(fn: IrFunction): Uint8Array;
  /**
   * Allocates a zeroed, 8-aligned env block of `size` bytes inside this backend's env memory, so TBs
   * run against it without copies (see {@link WasmEnvRuntime}). The memory is reserved up front
   * (`envPages` option) and never grows, so the returned views stay valid.
   */
  allocateEnv(size: number): WasmEnv;
  readonly stats: WasmBackendStats;
}

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /** 64 KiB pages reserved for {@link WasmBackend.allocateEnv} (default 1: room for ~100 RISC-V harts). */
  readonly envPages?: number;
}

/** Thrown when {@link WasmBackend.allocateEnv} runs out of its reserved memory. */
export class WasmEnvAllocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmEnvAllocationError';
  }
}

/** A JS function wasm code calls out to. */
export type Tramp = (...args: any[]) => unknown;

/** The trampolines of one "mode": direct (env in the memory) or copy (env copied around calls). */
interface Mode {
  readonly memory: WebAssembly.Memory;
  readonly ld: Tramp;
  readonly ldq: Tramp;
  readonly st: Tramp;
  readonly helper: (h: HelperInfo) => Tramp;
}

const err = (label: number): never => {
  throw new TcgIrError(`branch to unset label ${label}`);
};

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);

/**
 * Makes a helper trampoline: (rt, insn, ...args) → helper(rt.cpu, ...args), with i64 args made unsigned.
 * `before`/`after` run around the call (the env copies of copy mode).
 */
export function makeHelperTramp(h: HelperInfo, before: ((rt: TbRuntime) => void) | null, after: ((rt: TbRuntime) => void) | null): Tramp {
  const f = h.fn;
  const wide = h.args.map((t) => t === 'i64');
  const id = (x: any): any => x;
  const [c0 = id, c1 = id, c2 = id, c3 = id] = wide.map((w) => (w ? u64 : id));
  // One closure shape per arity (no rest/spread on the common paths).
  let call: Tramp;
  switch (h.args.length) {
    case 0: call = (rt: TbRuntime) => f(rt.cpu); break;
    case 1: call = (rt: TbRuntime, x: any) => f(rt.cpu, c0(x)); break;
    case 2: call = (rt: TbRuntime, x: any, y: any) => f(rt.cpu, c0(x), c1(y)); break;
    case 3: call = (rt: TbRuntime, x: any, y: any, z: any) => f(rt.cpu, c0(x), c1(y), c2(z)); break;
    case 4: call = (rt: TbRuntime, x: any, y: any, z: any, v: any) => f(rt.cpu, c0(x), c1(y), c2(z), c3(v)); break;
    default: call = (rt: TbRuntime, ...xs: any[]) => f(rt.cpu, ...xs.map((x, k) => (wide[k] ? u64(x as bigint) : x)));
  }
  if (h.args.length > 4) {
    return (rt: TbRuntime, insn: number, ...xs: any[]) => {
      if (insn >= 0) rt.curInsn = insn;
      before?.(rt);
      const r = call(rt, ...xs);
      after?.(rt);
      return r;
    };
  }
  if (before === null || after === null) {
    return (rt: TbRuntime, insn: number, x?: any, y?: any, z?: any, v?: any) => {
      if (insn >= 0) rt.curInsn = insn;
      return call(rt, x, y, z, v);
    };
  }
  return (rt: TbRuntime, insn: number, x?: any, y?: any, z?: any, v?: any) => {
    if (insn >= 0) rt.curInsn = insn;
    before(rt);
    const r = call(rt, x, y, z, v);
    after(rt);
    return r;
  };
}

/** The calls out of wasm code whose env is in place: guest memory slow path and helpers (no env copies). */
export interface DirectTrampolines {
  /** Where `ldq` leaves the high 32 bits (imported by modules as `hi`). */
  readonly hi: WebAssembly.Global;
  readonly ld: Tramp;
  readonly ldq: Tramp;
  readonly st: Tramp;
  /** The trampoline of a helper (one per helper, cached). */
  helper(h: HelperInfo): Tramp;
}

/** Makes a set of {@link DirectTrampolines} (one per backend: `hi` is theirs). */
export function createDirectTrampolines(): DirectTrampolines {
  const hi = new WebAssembly.Global({ value: 'i32', mutable: true }, 0);
  const helpers = new WeakMap<HelperInfo, Tramp>();
  return {
    hi,
    ld: (rt: TbRuntime, insn: number, lo: number, ah: number, memop: number, mmu: number) => {
      if (insn >= 0) rt.curInsn = insn;
      return rt.load(lo, ah, memop, mmu);
    },
    ldq: (rt: TbRuntime, insn: number, lo: number, ah: number, memop: number, mmu: number) => {
      if (insn >= 0) rt.curInsn = insn;
      const r = rt.load(lo, ah, memop, mmu);
      hi.value = rt.loadHi;
      return r;
    },
    st: (rt: TbRuntime, insn: number, lo: number, ah: number, vlo: number, vhi: number, memop: number, mmu: number) => {
      if (insn >= 0) rt.curInsn = insn;
      rt.store(lo, ah, vlo, vhi, memop, mmu);
    },
    helper: (h: HelperInfo): Tramp => {
      let t = helpers.get(h);
      if (!t) { t = makeHelperTramp(h, null, null); helpers.set(h, t); }
      return t;
    },
  };
}

/** Creates a wasm backend (its own env memory, scratch memory and trampoline caches). */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  const stats: WasmBackendStats = { tbs: 0, bytes: 0, genMs: 0, compileMs: 0, instances: 0, instantiateMs: 0 };

  // -- direct mode: trampolines without copies (one set for every memory) --
  const direct = createDirectTrampolines();
  const hi = direct.hi;

  // -- copy mode: a scratch memory mirroring env at address 0, kept equal to env on each TB's footprint --
  const scratch = new WebAssembly.Memory({ initial: 1 });
  const sc = { i32: new Int32Array(scratch.buffer) };
  const fitWords = (words: number): void => {
    const need = words * 4 - scratch.buffer.byteLength;
    if (need > 0) {
      scratch.grow(Math.ceil(need / 65536));
      sc.i32 = new Int32Array(scratch.buffer);
    }
  };
  /** The copy mode of one TB: its footprint copied env → scratch (`cin`) and back (`cout`). */
  const copyModeFor = (fp: Int32Array): { mode: Mode; cin: (rt: TbRuntime) => void; cout: (rt: TbRuntime) => void } => {
    fitWords(fp.length > 0 ? fp[fp.length - 1]! : 0);
    let cin: (rt: TbRuntime) => void, cout: (rt: TbRuntime) => void;
    if (fp.length === 0) {
      cin = cout = () => undefined;
    } else if (fp.length === 2) {
      const a = fp[0]!, b = fp[1]!;
      cin = (rt) => { const S = sc.i32, E = rt.envI32; for (let k = a; k < b; k++) S[k] = E[k]!; };
      cout = (rt) => { const S = sc.i32, E = rt.envI32; for (let k = a; k < b; k++) E[k] = S[k]!; };
    } else {
      cin = (rt) => {
        const S = sc.i32, E = rt.envI32;
        for (let r = 0; r < fp.length; r += 2) for (let k = fp[r]!, b = fp[r + 1]!; k < b; k++) S[k] = E[k]!;
      };
      cout = (rt) => {
        const S = sc.i32, E = rt.envI32;
        for (let r = 0; r < fp.length; r += 2) for (let k = fp[r]!, b = fp[r + 1]!; k < b; k++) E[k] = S[k]!;
      };
    }
    const mode: Mode = {
      memory: scratch,
      ld: (rt: TbRuntime, insn: number, lo: number, ah: number, memop: number, mmu: number) => {
        if (insn >= 0) rt.curInsn = insn;
        cout(rt);
        const r = rt.load(lo, ah, memop, mmu);
        cin(rt);
        return r;
      },
      ldq: (rt: TbRuntime, insn: number, lo: number, ah: number, memop: number, mmu: number) => {
        if (insn >= 0) rt.curInsn = insn;
        cout(rt);
        const r = rt.load(lo, ah, memop, mmu);
        cin(rt);
        hi.value = rt.loadHi;
        return r;
      },
      st: (rt: TbRuntime, insn: number, lo: number, ah: number, vlo: number, vhi: number, memop: number, mmu: number) => {
        if (insn >= 0) rt.curInsn = insn;
        cout(rt);
        rt.store(lo, ah, vlo, vhi, memop, mmu);
        cin(rt);
      },
      helper: (h: HelperInfo): Tramp => makeHelperTramp(h, cout, cin),
    };
    return { mode, cin, cout };
  };

  // -- env allocation in a reserved, never-growing memory --
  const envPages = options.envPages ?? 1;
  let envMemory: WebAssembly.Memory | null = null;
  let envNext = 0;

  type Run = (rt: TbRuntime, env: number) => number;

  const instantiate = (module: WebAssembly.Module, imports: TbImports, mode: Mode): Run => {
    const t: Record<string, WebAssembly.ImportValue> = { mem: mode.memory };
    if (imports.ld) t['ld'] = mode.ld as WebAssembly.ImportValue;
    if (imports.ldq) { t['ldq'] = mode.ldq as WebAssembly.ImportValue; t['hi'] = hi; }
    if (imports.st) t['st'] = mode.st as WebAssembly.ImportValue;
    if (imports.err) t['err'] = err as WebAssembly.ImportValue;
    imports.helpers.forEach((h, k) => { t[`h${k}`] = mode.helper(h) as WebAssembly.ImportValue; });
    const t0 = performance.now();
    const inst = new WebAssembly.Instance(module, { [IMPORT_MODULE]: t });
    stats.instantiateMs += performance.now() - t0;
    stats.instances++;
    return inst.exports['tb'] as unknown as Run;
  };

  const backend: WasmBackend = {
    name: 'wasm',
    stats,
    generate(fn: IrFunction): Uint8Array {
      return generateTb(fn).bytes;
    },
    allocateEnv(size: number): WasmEnv {
      if (!(Number.isInteger(size) && size > 0 && size % 8 === 0)) {
        throw new WasmEnvAllocationError(`wasm env size must be a positive multiple of 8, got ${size}`);
      }
      envMemory ??= new WebAssembly.Memory({ initial: envPages, maximum: envPages });
      const base = envNext;
      if (base + size > envMemory.buffer.byteLength) {
        throw new WasmEnvAllocationError(
          `wasm env of ${size} bytes does not fit: ${envMemory.buffer.byteLength - base} bytes left of ${envPages} page(s) (raise the envPages option)`,
        );
      }
      envNext = base + size;
      return {
        memory: envMemory, base, size,
        envI32: new Int32Array(envMemory.buffer, base, size >> 2),
        envView: new DataView(envMemory.buffer, base, size),
      };
    },
    compile(fn: IrFunction): CompiledTb {
      const t0 = performance.now();
      const gen = generateTb(fn);
      const t1 = performance.now();
      const module = new WebAssembly.Module(gen.bytes);
      const t2 = performance.now();
      stats.tbs++;
      stats.bytes += gen.bytes.length;
      stats.genMs += t1 - t0;
      stats.compileMs += t2 - t1;

      let copyRun: Run | null = null;
      let cin: (rt: TbRuntime) => void = () => undefined;
      let cout: (rt: TbRuntime) => void = () => undefined;
      let lastMem: WebAssembly.Memory | null = null;
      let lastRun: Run | null = null;
      let others: Map<WebAssembly.Memory, Run> | null = null;

      const runDirect = (rt: TbRuntime, mem: WebAssembly.Memory, base: number): number => {
        if (mem !== lastMem) {
          let r = others?.get(mem);
          if (!r) {
            r = instantiate(module, gen.imports, { ...direct, memory: mem });
            (others ??= new Map()).set(mem, r);
          }
          lastMem = mem;
          lastRun = r;
        }
        return lastRun!(rt, base);
      };

      return (rt: TbRuntime): number => {
        const w = rt as WasmEnvRuntime;
        const mem = w.envMemory;
        if (mem !== undefined) return runDirect(rt, mem, w.envBase ?? 0);
        if (copyRun === null) {
          const cm = copyModeFor(gen.footprint);
          copyRun = instantiate(module, gen.imports, cm.mode);
          cin = cm.cin;
          cout = cm.cout;
        }
        cin(rt);
        const exit = copyRun(rt, 0);
        // Only on a normal exit: a throw happened in a trampoline, after the footprint was copied out.
        cout(rt);
        return exit;
      };
    },
  };
  return backend;
}

/**
 * The default wasm backend. Its scratch memory only holds a copy of env while a TB runs (nothing
 * carries over between runs), so sharing it between machines is safe; machines that want env in
 * wasm memory should create their own backend with {@link createWasmBackend} and use
 * {@link WasmBackend.allocateEnv}.
 */
export const wasmBackend: WasmBackend = createWasmBackend();
