import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { closureBackend } from '../../src/tcg/backend/closure.js';
import { interpreterBackend } from '../../src/tcg/backend/interpreter.js';
import { dumpIr } from '../../src/tcg/dump.js';
import { diffOutcome, ENV_SIZE, MEM_SIZE, randomBytes, runOn } from './fake-rt.js';
import { buildProgram, programArb } from './gen-ir.js';

describe('closure backend', () => {
  for (const addrType of ['i64', 'i32'] as const) {
    it(`matches the reference interpreter on random programs (${addrType} addresses)`, () => {
      fc.assert(
        fc.property(programArb(), fc.integer(), (steps, seed) => {
          const fn = buildProgram(steps, { addrType });
          const ref = interpreterBackend.compile(fn);
          const tb = closureBackend.compile(fn);
          const mem = randomBytes(MEM_SIZE, seed);
          // The same compiled TB runs twice, on two runtimes (frame reuse, rebinding).
          for (const env of [randomBytes(ENV_SIZE, seed + 1), randomBytes(ENV_SIZE, seed + 2)]) {
            const d = diffOutcome(runOn(ref, env, mem), runOn(tb, env, mem));
            if (d) expect.fail(`${d}\n${dumpIr(fn)}`);
          }
        }),
        { numRuns: process.env['SOFTBOARD_FULL'] ? 5000 : 300 },
      );
    });
  }
});
