/**
 * Shrinking a failing difftest case with fast-check: the case is replayed from its seed and index
 * (fast-check's `path`), then fast-check shrinks its raw choices while the failure persists.
 */
import fc from 'fast-check';
import { legalize, rawCaseArb, type CaseArbOptions, type RawCase } from './gen.js';
import type { DiffCase } from './layout.js';

/** A shrunk counterexample. */
export interface Shrunk {
  readonly raw: RawCase;
  readonly c: DiffCase;
  /** What `failing` reported for it. */
  readonly diffs: readonly string[];
}

/**
 * Replays case `index` of `fc.sample(rawCaseArb(opts), { seed })` and shrinks it. `failing` returns the
 * mismatch lines of a case (empty = it passes). Returns null if the replayed case does not fail.
 */
export function shrinkCase(
  seed: number, index: number, failing: (c: DiffCase) => readonly string[], opts: CaseArbOptions = {}, timeLimitMs = 60_000,
): Shrunk | null {
  const r = fc.check(fc.property(rawCaseArb(opts), (raw) => failing(legalize(raw, opts)).length === 0), {
    seed, path: String(index), interruptAfterTimeLimit: timeLimitMs, markInterruptAsFailure: false,
  });
  if (!r.failed || !r.counterexample) return null;
  const raw = r.counterexample[0];
  const c = legalize(raw, opts);
  return { raw, c, diffs: failing(c) };
}
