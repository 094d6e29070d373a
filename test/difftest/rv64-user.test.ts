/**
 * Differential test of softboard's RV64 CPU against qemu-riscv64 (user mode): random straight-line
 * blocks (gen.ts: I, M, A, F, D, C, Zba, Zbb, Zbc, Zbs, fcsr CSRs, wild encodings, planned faults) run from
 * random initial registers, fcsr and data memory, through the runner (test/fixtures/difftest/runner.S)
 * in ONE qemu-riscv64 process, and on softboard's RiscvCpu with the closure backend (every third case
 * also with the IR interpreter backend). Every x and f register, fcsr, the data area and the trap (signal
 * and pc) must be equal. A mismatch is shrunk with fast-check and printed: disassembly, inputs, and
 * both sides' values.
 *
 * SOFTBOARD_FULL=1 runs 5000 cases instead of 300; SOFTBOARD_DIFFTEST_RUNS=<n> any number;
 * SOFTBOARD_SEED=<n> replays a run (the seed is in the test name).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { legalize, rawCaseArb } from './gen.js';
import { runQemuBatch, qemuUserVersion, QEMU_USER, RUNNER_ELF } from './qemu-user.js';
import { SoftboardRunner } from './softboard.js';
import { compareOutcomes, describeMismatch } from './report.js';
import { shrinkCase } from './shrink.js';
import type { DiffCase } from './layout.js';

const FULL = process.env.SOFTBOARD_FULL === '1';
const RUNS = Number(process.env.SOFTBOARD_DIFFTEST_RUNS ?? (FULL ? 5000 : 300));
const SEED = process.env.SOFTBOARD_SEED !== undefined ? Number(process.env.SOFTBOARD_SEED) : (Date.now() ^ (Math.random() * 2 ** 31)) | 0;
const INTERP_EVERY = 3;

const version = qemuUserVersion();
if (!version) {
  console.warn(`test/difftest: ${QEMU_USER} is not installed (Debian: apt-get install qemu-user); differential tests skipped`);
}

describe(`RV64 CPU against ${QEMU_USER} ${version ?? '(missing)'}`, () => {
  it.skipIf(!version)(`${RUNS} random blocks give the same registers, fcsr, memory and traps (SOFTBOARD_SEED=${SEED})`, () => {
    const cases = fc.sample(rawCaseArb(), { numRuns: RUNS, seed: SEED }).map((r) => legalize(r));
    const qemu = runQemuBatch(cases);
    const runners = { closure: new SoftboardRunner('closure'), interp: new SoftboardRunner('interp') };
    const failures: { index: number; backend: 'closure' | 'interp'; diffs: string[] }[] = [];
    let completed = 0, trapped = 0;
    cases.forEach((c, index) => {
      const q = qemu[index]!;
      if (q.ok && q.state.trap) trapped++;
      else if (q.ok) completed++;
      for (const backend of index % INTERP_EVERY === 0 ? ['closure', 'interp'] as const : ['closure'] as const) {
        const diffs = compareOutcomes(c, q, runners[backend].run(c));
        if (diffs.length > 0) failures.push({ index, backend, diffs });
      }
    });

    if (failures.length > 0) {
      const f = failures[0]!;
      const runner = runners[f.backend];
      const check = (c: DiffCase): string[] => compareOutcomes(c, runQemuBatch([c])[0]!, runner.run(c));
      const shrunk = shrinkCase(SEED, f.index, check, {}, 30_000); // one qemu process per step: bounded
      const reports = [
        describeMismatch(`difftest: ${failures.length} mismatching runs of ${RUNS} cases; first: case ${f.index}, ${f.backend} backend`, cases[f.index]!, f.diffs),
        ...(shrunk ? [describeMismatch(`shrunk (${f.backend} backend):`, shrunk.c, shrunk.diffs)] : []),
        `replay: SOFTBOARD_SEED=${SEED} SOFTBOARD_DIFFTEST_RUNS=${RUNS}; runner ${RUNNER_ELF}`,
      ];
      console.error(reports.join('\n\n'));
    }
    expect(failures.map((f) => `case ${f.index} (${f.backend}): ${f.diffs[0]}`).slice(0, 20)).toEqual([]);
    // the generator must keep most blocks running to their end, and exercise traps
    expect(completed).toBeGreaterThan(RUNS / 2);
    if (RUNS >= 100) expect(trapped).toBeGreaterThan(0);
  }, 300_000);
});
