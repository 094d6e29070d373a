/**
 * Determinism: the same guest with the same inputs executes the same instructions, prints the same
 * output and ends at the same virtual time, state and RAM on every run and on every TCG backend
 * ('closure', 'interp', 'js', 'wasm', 'auto'); a snapshot taken under
 * one backend continues identically under another.
 */
import { describe, expect, it } from 'vitest';
import type { TcgBackendName } from '../../src/hw/core/cpu.js';
import { bootGuest, observe, runSteps, type RunStep } from './helpers.js';

// Every backend the library has, by name; 'auto' is the default (closures, hot TBs recompiled to JS).
const backends: Array<[string, TcgBackendName]> = [
  ['closure', 'closure'], ['interp', 'interp'], ['js', 'js'], ['wasm', 'wasm'], ['auto', 'auto'],
];
const withBackend = (backend: TcgBackendName): { backend: TcgBackendName } => ({ backend });

const steps: RunStep[] = [{ instructions: 31_337 }, { for: 50_000 }, { instructions: 4_321 }, { for: 123_457 }];

describe('determinism', () => {
  it('gives the same instructions, output, time, registers, RAM and device state on every run', () => {
    const runs = [0, 1].map(() => {
      const m = bootGuest();
      const reasons = runSteps(m, steps);
      return { reasons, ...observe(m, 0) };
    });
    expect(runs[1]).toEqual(runs[0]);
    expect((runs[0] as Record<string, unknown>)['output']).toMatch(/!.*#|#.*!/s);
  });

  it.each(backends)('gives the same result with the %s backend as with closure', (_name, backend) => {
    const ref = bootGuest();
    const refReasons = runSteps(ref, steps);
    const m = bootGuest(withBackend(backend));
    expect(runSteps(m, steps)).toEqual(refReasons);
    expect(observe(m, 0)).toEqual(observe(ref, 0));
  });

  it.each(backends)('continues a closure-backend snapshot identically on the %s backend', (_name, backend) => {
    const ref = bootGuest();
    ref.run({ instructions: 17_000 });
    const snap = ref.snapshot();
    const out = ref.serial.output.length;
    runSteps(ref, steps);
    const m = bootGuest(withBackend(backend));
    m.restore(snap);
    runSteps(m, steps);
    expect(observe(m, 0)).toEqual(observe(ref, out));
  });

  it('lists which backends it compared', () => {
    expect(backends.map(([n]) => n)).toEqual(expect.arrayContaining(['closure', 'interp']));
  });
});
