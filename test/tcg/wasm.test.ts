/**
 * The wasm backend against the reference interpreter on random IR programs (test/tcg/gen-ir.ts): the
 * same exit value, env, guest memory, helper call sequence and `curInsn` at a fault, with the IR as
 * generated and after the optimizer, with env copied (a plain ArrayBuffer env) and in place (env in
 * the backend's WebAssembly.Memory), and with backward branches (loops) added to the programs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CompiledTb } from '../../src/tcg/backend/backend.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { createWasmBackend, type WasmEnv, type WasmEnvRuntime } from '../../src/tcg/backend/wasm/backend.js';
import type { IrFunction } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { TcgIrError } from '../../src/tcg/interp.js';
import { Cond, type Label, type Op, type Temp } from '../../src/tcg/ir.js';
import { optimizeIr } from '../../src/tcg/optimize.js';
import { diffOutcome, ENV_SIZE, FakeFault, FakeRuntime, MEM_SIZE, runOn, type FakeCpu, type Outcome } from './fake-rt.js';
import { buildProgram, makeGlobals, programArb } from './gen-ir.js';
import { TcgContext } from '../../src/tcg/context.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const wasm = createWasmBackend({ envPages: 1 });
const RUNS = { numRuns: 100, endOnFailure: true };

function hex(u: Uint8Array): string {
  let s = '';
  for (const b of u) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A runtime whose env lives in the backend's WebAssembly.Memory (the proposed contract). */
class InPlaceRuntime implements WasmEnvRuntime {
  readonly inner: FakeRuntime;
  readonly env: ArrayBuffer;
  readonly envI32: Int32Array;
  readonly envView: DataView;
  readonly envMemory: WebAssembly.Memory;
  readonly envBase: number;
  readonly cpu: FakeCpu;
  loadHi = 0;
  curInsn = -1;

  constructor(block: WasmEnv, envInit: Uint8Array, memInit: Uint8Array) {
    this.inner = new FakeRuntime(envInit, memInit);
    this.env = block.memory.buffer;
    this.envI32 = block.envI32;
    this.envView = block.envView;
    this.envMemory = block.memory;
    this.envBase = block.base;
    new Uint8Array(this.env, block.base, ENV_SIZE).set(envInit.subarray(0, ENV_SIZE));
    this.cpu = { log: [], view: this.envView };
  }
  load(lo: number, hi: number, memop: number, mmu: number): number {
    const r = this.inner.load(lo, hi, memop, mmu);
    this.loadHi = this.inner.loadHi;
    return r;
  }
  store(lo: number, hi: number, vlo: number, vhi: number, memop: number, mmu: number): void {
    this.inner.store(lo, hi, vlo, vhi, memop, mmu);
  }
}

function runInPlace(tb: CompiledTb, block: WasmEnv, envInit: Uint8Array, memInit: Uint8Array): Outcome {
  const rt = new InPlaceRuntime(block, envInit, memInit);
  let exit: number | string;
  let fault: number | null = null;
  try {
    exit = tb(rt);
  } catch (e) {
    if (!(e instanceof FakeFault)) throw e;
    exit = `fault: ${e.what}`;
    fault = rt.curInsn;
  }
  return { exit, curInsnAtFault: fault, env: [...new Uint8Array(rt.env, block.base, ENV_SIZE)], mem: hex(rt.inner.mem), log: rt.cpu.log };
}

/**
 * Adds up to three counted loops to a program: before op `at` a counter is set to 2 and a label
 * placed; after op `back` (≥ at) the counter is decremented and the code branches back while it is
 * positive. Every loop therefore runs a bounded number of times, however the loops overlap.
 */
function withLoops(fn: IrFunction, loops: readonly [number, number][]): IrFunction {
  const temps = [...fn.temps];
  const newTemp = (t: Omit<Temp, 'id'>): Temp => {
    const x = { ...t, id: temps.length };
    temps.push(x);
    return x;
  };
  const two = newTemp({ type: 'i32', kind: 'const', value: 2n, offset: -1, name: '' });
  const one = newTemp({ type: 'i32', kind: 'const', value: 1n, offset: -1, name: '' });
  const zero = newTemp({ type: 'i32', kind: 'const', value: 0n, offset: -1, name: '' });
  let nbLabels = fn.nbLabels;
  const before = new Map<number, Op[]>();
  const after = new Map<number, Op[]>();
  const n = fn.ops.length - 1; // keep the final exit_tb last
  for (const [x, y] of loops) {
    const at = 1 + (x % n), back = at + (y % (n - at + 1));
    const ctr = newTemp({ type: 'i32', kind: 'temp', value: 0n, offset: -1, name: '' });
    const label: Label = { id: nbLabels++ };
    const pre = before.get(at) ?? [];
    pre.push({ opc: 'mov_i32', o: [ctr], i: [two], c: [] }, { opc: 'set_label', o: [], i: [], c: [], label });
    before.set(at, pre);
    const post = after.get(back) ?? [];
    post.unshift({ opc: 'sub_i32', o: [ctr], i: [ctr, one], c: [] },
      { opc: 'brcond_i32', o: [], i: [ctr, zero], c: [Cond.GT], label });
    after.set(back, post);
  }
  const ops: Op[] = [];
  fn.ops.forEach((op, k) => {
    ops.push(...(before.get(k) ?? []), op, ...(after.get(k) ?? []));
  });
  return { ...fn, ops, temps, nbLabels };
}

describe('wasm backend: random programs', () => {
  const loopsArb = fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 });
  const variants: { name: string; make: (fn: IrFunction) => IrFunction }[] = [
    { name: 'as generated', make: (fn) => fn },
    { name: 'optimized', make: (fn) => optimizeIr(fn) },
  ];
  for (const addrType of ['i64', 'i32'] as const) {
    for (const v of variants) {
      it(`matches the interpreter, env copied (${addrType} addresses, ${v.name})`, () => {
        fc.assert(
          fc.property(programArb(), bytes(ENV_SIZE), bytes(MEM_SIZE), bytes(ENV_SIZE), (steps, env, mem, env2) => {
            const fn = v.make(buildProgram(steps, { addrType }));
            const ref = interpreterBackend.compile(fn);
            const tb = wasm.compile(fn);
            for (const e of [env, env2]) {
              const d = diffOutcome(runOn(ref, e, mem), runOn(tb, e, mem));
              if (d) expect.fail(`${d}\n${dumpIr(fn)}`);
            }
          }),
          RUNS,
        );
      });
    }
  }

  it('matches the interpreter with env in the backend memory, at two env addresses', () => {
    const blocks = [wasm.allocateEnv(ENV_SIZE), wasm.allocateEnv(ENV_SIZE)];
    expect(blocks[1]!.base).not.toBe(blocks[0]!.base);
    fc.assert(
      fc.property(programArb(), bytes(ENV_SIZE), bytes(MEM_SIZE), bytes(ENV_SIZE), fc.boolean(), (steps, env, mem, env2, opt) => {
        const fn0 = buildProgram(steps, { addrType: 'i64' });
        const fn = opt ? optimizeIr(fn0) : fn0;
        const ref = interpreterBackend.compile(fn);
        const tb = wasm.compile(fn);
        for (const [k, e] of [env, env2].entries()) {
          const d = diffOutcome(runOn(ref, e, mem), runInPlace(tb, blocks[k]!, e, mem));
          if (d) expect.fail(`${d}\n${dumpIr(fn)}`);
        }
        // and the same TB once more in copy mode (one module, two instances)
        const d = diffOutcome(runOn(ref, env, mem), runOn(tb, env, mem));
        if (d) expect.fail(`copy mode after in-place: ${d}\n${dumpIr(fn)}`);
      }),
      RUNS,
    );
  });

  it('matches the interpreter on programs with loops (backward branches)', () => {
    fc.assert(
      fc.property(programArb(), loopsArb, bytes(ENV_SIZE), bytes(MEM_SIZE), fc.boolean(), (steps, loops, env, mem, opt) => {
        const fn0 = withLoops(buildProgram(steps, { addrType: 'i64' }), loops);
        const fn = opt ? optimizeIr(fn0) : fn0;
        const d = diffOutcome(runOn(interpreterBackend.compile(fn), env, mem), runOn(wasm.compile(fn), env, mem));
        if (d) expect.fail(`${d}\n${dumpIr(fn)}`);
      }),
      RUNS,
    );
  });
});

describe('wasm backend: control flow and errors', () => {
  it('runs nested loops inside one TB (sum of i*j for i < 5, j < 7 into x1)', () => {
    const { set, i64 } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    const x1 = i64[0]!;
    const i = ctx.tempI64(), j = ctx.tempI64(), p = ctx.tempI64();
    const outer = ctx.newLabel(), inner = ctx.newLabel();
    ctx.insnStart(0);
    ctx.movi(x1, 0);
    ctx.movi(i, 0);
    ctx.setLabel(outer);
    ctx.movi(j, 0);
    ctx.setLabel(inner);
    ctx.mul(p, i, j);
    ctx.add(x1, x1, p);
    ctx.addi(j, j, 1);
    ctx.brcondi(Cond.LTU, j, 7, inner);
    ctx.addi(i, i, 1);
    ctx.brcondi(Cond.LTU, i, 5, outer);
    ctx.exitTb(2);
    const fn = ctx.finish();
    let want = 0n;
    for (let a = 0n; a < 5n; a++) for (let b = 0n; b < 7n; b++) want += a * b;
    const rt = new FakeRuntime(new Uint8Array(ENV_SIZE), new Uint8Array(0));
    expect(wasm.compile(fn)(rt)).toBe(2);
    expect(rt.envView.getBigUint64(0, true)).toBe(want);
  });

  it('reports a branch to a label that is never set as the interpreter does (TcgIrError)', () => {
    const { set, i64 } = makeGlobals();
    const ctx = new TcgContext(set, 'i64');
    ctx.insnStart(0);
    ctx.brcondi(Cond.EQ, i64[0]!, 0, ctx.newLabel());
    ctx.exitTb(0);
    const fn = ctx.finish();
    const tb = wasm.compile(fn);
    const rt = () => new FakeRuntime(new Uint8Array(ENV_SIZE), new Uint8Array(0));
    expect(() => interpreterBackend.compile(fn)(rt())).toThrow(TcgIrError);
    expect(() => tb(rt())).toThrow(TcgIrError);
    const nonZero = new Uint8Array(ENV_SIZE).fill(1);
    expect(tb(new FakeRuntime(nonZero, new Uint8Array(0)))).toBe(0);
  });

  it('refuses env blocks it cannot place, naming the size', () => {
    const b = createWasmBackend({ envPages: 1 });
    expect(() => b.allocateEnv(12)).toThrow(/multiple of 8, got 12/);
    b.allocateEnv(65536 - 64);
    expect(() => b.allocateEnv(128)).toThrow(/128 bytes does not fit: 64 bytes left/);
  });
});
