/**
 * Snapshot files (src/node/snapshot-file.ts): written, then loaded into a brand-new machine, in this
 * process and in a child Node process, continuing exactly as the machine that saved it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSnapshotFile, readSnapshotFile, saveSnapshotFile } from '../../src/node/snapshot-file.js';
import { SnapshotError } from '../../src/migration/snapshot.js';
import { bootGuest, observe, runSteps, type RunStep } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'softboard-snap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const steps: RunStep[] = [{ instructions: 25_000 }, { for: 80_000 }];

/** A machine after some running, its snapshot file, and its own continuation from there. */
function original(file: string): { expected: Record<string, unknown>; reasons: string[]; bytes: number } {
  const m = bootGuest();
  m.run({ instructions: 12_345 });
  const bytes = saveSnapshotFile(m, file);
  const out = m.serial.output.length;
  const reasons = runSteps(m, steps);
  return { expected: observe(m, out), reasons, bytes };
}

/** esbuild comes with tsup (a dev dependency); without it the child-process test is skipped. */
let esbuild: typeof import('esbuild') | null = null;
try {
  esbuild = await import('esbuild');
} catch {
  esbuild = null;
}

describe('snapshot files', () => {
  it('load into a new machine and continue identically', () => {
    const file = join(dir, 'a.snap');
    const { expected, reasons, bytes } = original(file);
    expect(statSync(file).size).toBe(bytes);
    expect(bytes).toBeLessThan(64 * 1024); // 80 MiB of RAM/ROM/flash, nearly all zero pages
    const m = bootGuest();
    loadSnapshotFile(m, file);
    expect(runSteps(m, steps)).toEqual(reasons);
    expect(observe(m, 0)).toEqual(expected);
  });

  it.skipIf(esbuild === null)('load in another process and continue identically', async () => {
    const file = join(dir, 'b.snap');
    const { expected, reasons } = original(file);
    const script = join(dir, 'child.mjs');
    await esbuild!.build({
      entryPoints: [join(here, 'child-restore.ts')], bundle: true, platform: 'node', format: 'esm',
      target: 'node20', outfile: script, logLevel: 'silent',
    });
    const out = execFileSync(process.execPath, [script, file, JSON.stringify(steps)], { encoding: 'utf8', timeout: 60_000 });
    expect(JSON.parse(out)).toEqual({ reasons, ...JSON.parse(JSON.stringify(expected)) as object });
  }, 60_000);

  it('report unreadable and foreign files with the path', () => {
    expect(() => readSnapshotFile(join(dir, 'missing.snap'))).toThrow(/could not read snapshot file '.*missing.snap': no such file/);
    const junk = join(dir, 'junk.snap');
    writeFileSync(junk, 'not a snapshot at all');
    expect(() => readSnapshotFile(junk)).toThrow(SnapshotError);
    expect(() => readSnapshotFile(junk)).toThrow(/junk.snap: not a softboard snapshot/);
    expect(() => saveSnapshotFile(bootGuest(), join(dir, 'no-such-dir', 'x.snap'))).toThrow(/could not write snapshot file/);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);
    expect(readFileSync(junk, 'utf8')).toBe('not a snapshot at all');
  });
});
