/**
 * QEMU's side of the differential test: runs batches of cases through the runner
 * (test/fixtures/difftest/runner.elf) in qemu-riscv64, one process per batch.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeState, encodeCase, IN_RECORD, OUT_RECORD, type DiffCase, type DiffState } from './layout.js';

/** The committed runner ELF (rebuild: test/fixtures/difftest/build.sh). */
export const RUNNER_ELF = fileURLToPath(new URL('../fixtures/difftest/runner.elf', import.meta.url));

/** The qemu-riscv64 binary (override with SOFTBOARD_QEMU_USER). */
export const QEMU_USER = process.env.SOFTBOARD_QEMU_USER ?? 'qemu-riscv64';

/**
 * QEMU 7.2's user-mode `rv64` CPU with the extensions softboard does not implement turned off (the
 * scalar crypto Zbk and Zk families, Zfh, V…), so that their encodings raise SIGILL as on softboard.
 * Zbc is on (explicitly): softboard implements it.
 * Override with SOFTBOARD_QEMU_CPU (other QEMU versions name some properties differently).
 */
export const QEMU_CPU = process.env.SOFTBOARD_QEMU_CPU ?? ['rv64', 'zbc=true', ...[
  'zbkb', 'zbkc', 'zbkx', 'zknd', 'zkne', 'zknh', 'zksed', 'zksh', 'zkr', 'Zfh', 'Zfhmin', 'v', 'Zve32f',
  'Zve64f', 'h', 'zfinx', 'zdinx', 'zhinx', 'zhinxmin', 'zmmul',
].map((e) => `${e}=false`)].join(',');

let version: string | null | undefined;

/** qemu-riscv64's version (e.g. "7.2.22"), or null when it cannot be run. */
export function qemuUserVersion(): string | null {
  if (version === undefined) {
    const r = spawnSync(QEMU_USER, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    version = r.status === 0 ? (/version (\d+\.\d+(?:\.\d+)?)/.exec(r.stdout)?.[1] ?? 'unknown') : null;
  }
  return version;
}

/** What QEMU did with one case: the final state, or why the runner died on it. */
export type QemuOutcome = { readonly ok: true; readonly state: DiffState } | { readonly ok: false; readonly error: string };

/**
 * Runs `cases` in as few qemu-riscv64 processes as possible: one, unless a case kills the runner
 * (a trapping block), in which case that case gets an error and a new process takes the rest.
 */
export function runQemuBatch(cases: readonly DiffCase[]): QemuOutcome[] {
  const out: QemuOutcome[] = [];
  while (out.length < cases.length) {
    const rest = cases.slice(out.length);
    const input = new Uint8Array(rest.length * IN_RECORD);
    rest.forEach((c, i) => encodeCase(c, input, i * IN_RECORD));
    const r = spawnSync(QEMU_USER, ['-cpu', QEMU_CPU, RUNNER_ELF], {
      input, maxBuffer: rest.length * OUT_RECORD + 65536, timeout: 120_000,
    });
    if (r.error) throw new Error(`difftest: cannot run ${QEMU_USER} ${RUNNER_ELF}: ${r.error.message}`);
    const stdout = r.stdout;
    const done = Math.min(rest.length, Math.floor(stdout.length / OUT_RECORD));
    for (let i = 0; i < done; i++) out.push({ ok: true, state: decodeState(stdout, i * OUT_RECORD) });
    if (done === rest.length) break;
    const why = r.signal !== null ? `killed by ${r.signal}` : `exit status ${r.status}`;
    if (r.status === 2 || r.status === 3 || (done === 0 && /can't apply|cpu/i.test(r.stderr.toString()))) {
      throw new Error(`difftest: the runner failed before running cases (${why}): ${r.stderr.toString().trim()}`);
    }
    out.push({ ok: false, error: `qemu-riscv64 runner ${why} on this case ${r.stderr.toString().trim()}`.trim() });
  }
  return out;
}
