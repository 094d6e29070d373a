/**
 * Differential test: every F/D operation in every rounding mode against the real instructions run by
 * qemu-riscv64 (test/fixtures/fpu/fpu-oracle.elf), compared bit for bit, result and fflags.
 * Inputs come from fast-check (biased to special values); all cases go through one qemu process.
 * SOFTBOARD_FULL=1 runs 20× more cases; SOFTBOARD_SEED=<n> replays a run.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { OPS, haveQemu, predict, runOracle, type Case } from './oracle.js';
import { cases } from './gen.js';

const FULL = process.env.SOFTBOARD_FULL === '1';
const PER_OP = FULL ? 2000 : 100;
const SEED = process.env.SOFTBOARD_SEED ? Number(process.env.SOFTBOARD_SEED) : Date.now() ^ (Math.random() * 2 ** 31);

const hex = (x: bigint): string => `0x${x.toString(16)}`;

const qemu = haveQemu();
if (!qemu) console.warn('test/fpu/differential: qemu-riscv64 not found on PATH; skipping the oracle comparison');

describe('softfloat against qemu-riscv64 (real RV64 F/D instructions)', () => {
  it.skipIf(!qemu)(`matches bit for bit (${PER_OP} cases per op, seed ${SEED})`, () => {
    const all: Case[] = [];
    OPS.forEach((op, i) => {
      all.push(...fc.sample(cases(op), { numRuns: PER_OP, seed: SEED + i }));
    });
    const got = runOracle(all);
    const bad: string[] = [];
    all.forEach((k, i) => {
      const want = got[i]!;
      const ours = predict(k);
      if (ours.result !== want.result || ours.flags !== want.flags) {
        bad.push(`${k.op.name} rm=${k.rm} a=${hex(k.a)} b=${hex(k.b)} c=${hex(k.c)}: qemu ${hex(want.result)} ` +
          `flags=${want.flags}, ours ${hex(ours.result)} flags=${ours.flags}`);
      }
    });
    expect(bad.slice(0, 25), `${bad.length} mismatches of ${all.length} (SOFTBOARD_SEED=${SEED})`).toEqual([]);
  });
});
