import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { optimizeIr } from '../../src/tcg/optimize.js';
import { diffOutcome, ENV_SIZE, MEM_SIZE, randomBytes, runOn } from './fake-rt.js';
import { buildProgram, programArb } from './gen-ir.js';

const RUNS = process.env['SOFTBOARD_FULL'] ? 5000 : 250;

describe('optimizeIr', () => {
  for (const addrType of ['i64', 'i32'] as const) {
    it(`preserves behaviour on random programs: interp/closure × unoptimized/optimized (${addrType})`, () => {
      fc.assert(
        fc.property(programArb(), fc.integer(), (steps, seed) => {
          const fn = buildProgram(steps, { addrType });
          const before = dumpIr(fn);
          const opt = optimizeIr(fn);
          expect(dumpIr(fn)).toBe(before); // the input is not modified
          const runs = [
            interpreterBackend.compile(fn), interpreterBackend.compile(opt),
            closureBackend.compile(fn), closureBackend.compile(opt),
          ];
          const mem = randomBytes(MEM_SIZE, seed);
          for (const env of [randomBytes(ENV_SIZE, seed + 1), randomBytes(ENV_SIZE, seed + 2)]) {
            const ref = runOn(runs[0]!, env, mem);
            for (const [k, run] of runs.entries()) {
              if (k === 0) continue;
              const d = diffOutcome(ref, runOn(run, env, mem));
              if (d) expect.fail(`variant ${k}: ${d}\n--- before\n${before}--- after\n${dumpIr(opt)}`);
            }
          }
        }),
        { numRuns: RUNS },
      );
    });
  }
});
