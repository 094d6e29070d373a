/**
 * Determinism: the same guest with the same inputs executes the same instructions, prints the same
 * output and ends at the same virtual time, state and RAM on every run and on every TCG backend
 * available ('closure', 'interp', and the JS / WASM backends when present); a snapshot taken under
 * one backend continues identically under another.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { TcgBackendName } from '../../src/hw/core/cpu.js';
import type { Backend } from '../../src/tcg/backend/backend.js';
import { bootGuest, observe, runSteps, type RunStep } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Optional backends: their files may not exist in every checkout. */
async function optionalBackend(file: string, exportName: string): Promise<Backend | null> {
  const path = join(here, '../../src/tcg/backend', file);
  if (!existsSync(path.replace(/\.js$/, '.ts'))) return null;
  const mod = (await import(/* @vite-ignore */ path.replace(/\.js$/, '.ts'))) as Record<string, unknown>;
  const b = mod[exportName];
  return b !== null && typeof b === 'object' && typeof (b as Backend).compile === 'function' ? (b as Backend) : null;
}

const backends: Array<[string, TcgBackendName | Backend]> = [['closure', 'closure'], ['interp', 'interp']];
for (const [file, name, exp] of [['js.js', 'js', 'jsBackend'], ['wasm/backend.js', 'wasm', 'wasmBackend']] as const) {
  const b = await optionalBackend(file, exp);
  if (b) backends.push([name, b]);
}

// The virt options type names only the built-in backends; Machine itself accepts a Backend object.
const withBackend = (b: TcgBackendName | Backend): { backend: TcgBackendName } => ({ backend: b as TcgBackendName });

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
