import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IrFunction } from '../../src/tcg/context.js';
import { dumpIr } from '../../src/tcg/dump.js';
import type { Backend, CompiledTb } from '../../src/tcg/backend/backend.js';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { createJsBackend, JsBackendUnavailableError } from '../../src/tcg/backend/js.js';
import { createAutoBackend, createTieredBackend } from '../../src/tcg/backend/tiered.js';
import { diffOutcome, ENV_SIZE, MEM_SIZE, randomBytes, runOn } from './fake-rt.js';
import { buildProgram, programArb } from './gen-ir.js';

/** Wraps a backend so that its compiled TBs count their calls into `calls[name]`. */
function counting(inner: Backend, calls: Record<string, number>, name: string, compiles: IrFunction[] = []): Backend {
  return {
    name: inner.name,
    compile(fn) {
      compiles.push(fn);
      const tb = inner.compile(fn);
      return (rt) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return tb(rt);
      };
    },
  };
}

const THRESHOLD = 3;
const RUNS = 7;

describe('tiered backend', () => {
  for (const addrType of ['i64', 'i32'] as const) {
    it(`matches the interpreter on every call before, at and after promotion (${addrType} addresses)`, () => {
      fc.assert(fc.property(programArb(), fc.array(fc.integer(), { minLength: RUNS, maxLength: RUNS }), fc.integer(),
        (steps, envSeeds, memSeed) => {
          const fn = buildProgram(steps, { addrType });
          const calls: Record<string, number> = {};
          const hotIr: IrFunction[] = [];
          const tiered = createTieredBackend({
            cold: counting(closureBackend, calls, 'cold'),
            hot: counting(createJsBackend(), calls, 'hot', hotIr),
            threshold: THRESHOLD,
          });
          const ref = interpreterBackend.compile(fn);
          const tb = tiered.compile(fn);
          const mem = randomBytes(MEM_SIZE, memSeed);
          envSeeds.forEach((seed, k) => {
            // Each call sees different state, as a TB does when the guest loops through it.
            const env = randomBytes(ENV_SIZE, seed);
            const d = diffOutcome(runOn(ref, env, mem), runOn(tb, env, mem));
            if (d) expect.fail(`call ${k + 1} (${k < THRESHOLD ? 'cold' : 'hot'}): ${d}\n${dumpIr(fn)}`);
          });
          expect(calls).toEqual({ cold: THRESHOLD, hot: RUNS - THRESHOLD });
          expect(tiered.stats).toEqual({ coldCompiles: 1, promotions: 1, hotFailures: 0 });
          expect(hotIr).toEqual([fn]); // the hot tier compiles the very IR the cold tier got
        }), { numRuns: 120 });
    });
  }

  it('hands the hot code to the cache once, at promotion, so the loop can call it directly', () => {
    const fn = buildProgram([], { addrType: 'i64' });
    const calls: Record<string, number> = {};
    const tiered = createTieredBackend({
      cold: counting(closureBackend, calls, 'cold'), hot: counting(createJsBackend(), calls, 'hot'), threshold: THRESHOLD,
    });
    const replaced: CompiledTb[] = [];
    const tb = tiered.compile(fn, { replace: (c) => replaced.push(c), optimize: (f) => f });
    const env = randomBytes(ENV_SIZE, 1), mem = randomBytes(MEM_SIZE, 2);
    for (let k = 0; k < THRESHOLD; k++) runOn(tb, env, mem);
    expect(replaced).toEqual([]);
    runOn(tb, env, mem);
    expect(replaced.length).toBe(1);
    // The code handed over is the hot code itself, not the counting wrapper.
    runOn(replaced[0]!, env, mem);
    expect(calls).toEqual({ cold: THRESHOLD, hot: 2 });
    runOn(tb, env, mem);
    expect(replaced.length).toBe(1);
  });

  it('optimizes lazily: cold code gets the IR as translated, the hot tier the cache optimizer\'s output', () => {
    const raw = buildProgram([], { addrType: 'i64' });
    const optimized = { ...raw, ops: [...raw.ops] };
    const coldIr: IrFunction[] = [], hotIr: IrFunction[] = [], optimizerSaw: IrFunction[] = [];
    const calls: Record<string, number> = {};
    const tiered = createTieredBackend({
      cold: counting(closureBackend, calls, 'cold', coldIr), hot: counting(createJsBackend(), calls, 'hot', hotIr), threshold: THRESHOLD,
    });
    expect(tiered.optimizesLazily).toBe(true);
    const tb = tiered.compile(raw, { replace: () => undefined, optimize: (f) => { optimizerSaw.push(f); return optimized; } });
    const env = randomBytes(ENV_SIZE, 3), mem = randomBytes(MEM_SIZE, 4);
    for (let k = 0; k < THRESHOLD; k++) runOn(tb, env, mem);
    expect(optimizerSaw).toEqual([]); // nothing optimized while cold
    runOn(tb, env, mem);
    expect(coldIr[0]).toBe(raw);
    expect(optimizerSaw.length).toBe(1);
    expect(optimizerSaw[0]).toBe(raw);
    expect(hotIr[0]).toBe(optimized);
  });

  it('stays cold (and right) when the hot backend throws at compile', () => {
    const calls: Record<string, number> = {};
    let hotAttempts = 0;
    const broken: Backend = { name: 'broken', compile() { hotAttempts++; throw new Error('no code for you'); } };
    const tiered = createTieredBackend({ cold: counting(closureBackend, calls, 'cold'), hot: broken, threshold: THRESHOLD });
    fc.assert(fc.property(programArb(30), fc.integer(), (steps, seed) => {
      const fn = buildProgram(steps, { addrType: 'i64' });
      const ref = interpreterBackend.compile(fn);
      const tb = tiered.compile(fn);
      const before = hotAttempts;
      for (let k = 0; k < RUNS; k++) {
        const env = randomBytes(ENV_SIZE, seed + k), mem = randomBytes(MEM_SIZE, seed);
        const d = diffOutcome(runOn(ref, env, mem), runOn(tb, env, mem));
        if (d) expect.fail(`call ${k + 1}: ${d}\n${dumpIr(fn)}`);
      }
      expect(hotAttempts - before).toBe(1); // tried once, then kept the cold code
    }), { numRuns: 40 });
    expect(calls.cold).toBe(40 * RUNS);
    expect(tiered.stats).toEqual({ coldCompiles: 40, promotions: 0, hotFailures: 40 });
    expect(String(tiered.lastHotError)).toContain('no code for you');
    expect(tiered.hot).toBe(broken); // an ordinary failure only keeps that TB cold
  });

  it('gives up the hot tier for good when code generation is forbidden (CSP)', () => {
    let hotAttempts = 0;
    const csp: Backend = {
      name: 'js', compile() { hotAttempts++; throw new JsBackendUnavailableError(new EvalError('unsafe-eval')); },
    };
    const tiered = createTieredBackend({ hot: csp, threshold: 0 });
    const fns = [1, 2, 3].map((n) => buildProgram(fc.sample(programArb(10), { numRuns: 1, seed: n })[0]!, { addrType: 'i64' }));
    const env = randomBytes(ENV_SIZE, 5), mem = randomBytes(MEM_SIZE, 6);
    for (const fn of fns) {
      const tb = tiered.compile(fn);
      for (let k = 0; k < 3; k++) expect(diffOutcome(runOn(interpreterBackend.compile(fn), env, mem), runOn(tb, env, mem))).toBeNull();
    }
    expect(hotAttempts).toBe(1);
    expect(tiered.hot).toBeNull();
    expect(tiered.stats).toMatchObject({ coldCompiles: 3, promotions: 0, hotFailures: 1 });
  });

  it('returns the cold code itself when there is no hot backend', () => {
    const tiered = createTieredBackend({ hot: null });
    expect(tiered.name).toBe('closure');
    const fn = buildProgram(fc.sample(programArb(10), { numRuns: 1, seed: 1 })[0]!, { addrType: 'i64' });
    const tb: CompiledTb = tiered.compile(fn);
    const env = new Uint8Array(ENV_SIZE), mem = new Uint8Array(MEM_SIZE);
    expect(diffOutcome(runOn(interpreterBackend.compile(fn), env, mem), runOn(tb, env, mem))).toBeNull();
    expect(tiered.stats).toEqual({ coldCompiles: 1, promotions: 0, hotFailures: 0 });
  });

  it('rejects a bad threshold and defaults to closure -> js under Node', () => {
    expect(() => createTieredBackend({ threshold: -1 })).toThrow(RangeError);
    expect(() => createTieredBackend({ threshold: 1.5 })).toThrow(/threshold/);
    const auto = createAutoBackend();
    expect(auto.name).toBe('tiered(closure->js)');
  });
});
