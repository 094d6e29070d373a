/**
 * Proves the benchmark programs (bench/riscv) right before anyone times them: the small variant of each,
 * run on QEMU's virt board, prints `<name>: checksum 0x… OK` and passes, with the very checksum the same
 * C computes when built for the host; a guest given a wrong expected value reports FAIL (the self-check
 * can fail); and build.sh reproduces the committed binaries byte for byte.
 * Skips what needs QEMU, the host compiler or the RISC-V toolchain when they are missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { qemuAvailable, qemuSkipReason, runQemu, type RiscvXlen } from '../helpers/qemu.js';
import { commandRuns } from '../helpers/tools.js';
import { BENCH_PROGRAMS } from '../../bench/programs.js';

const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'riscv');
const CROSS_CC = 'riscv64-unknown-elf-gcc';
const HOST_CC = process.env['HOSTCC'] ?? 'cc';

const haveHostCc = commandRuns(HOST_CC);
const haveCrossCc = commandRuns(CROSS_CC);


const work = mkdtempSync(join(tmpdir(), 'sb-bench-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The checksum the host build of `program` prints, with build.sh's flags. */
function nativeChecksum(program: string, xlen: RiscvXlen): string {
  const exe = join(work, `${program}-${xlen}`);
  execFileSync(HOST_CC, ['-O2', '-Wall', '-Werror', '-ffp-contract=off', '-fno-math-errno', '-DBENCH_HOST', '-DSMALL',
    ...(xlen === 32 ? ['-DBENCH_RV32'] : []), join(benchDir, `${program}.c`), '-o', exe]);
  const out = execFileSync(exe, { encoding: 'utf8' });
  const m = new RegExp(`^${program}: checksum (0x[0-9a-f]{8}) native\\n$`).exec(out);
  if (!m) throw new Error(`host ${program} printed ${JSON.stringify(out)}`);
  return m[1]!;
}

for (const xlen of [64, 32] as const) {
  const skip = !qemuAvailable(xlen);
  if (skip) console.warn(qemuSkipReason(xlen));
  describe.skipIf(skip)(`benchmark programs on QEMU (rv${xlen}, small variants)`, () => {
    for (const p of BENCH_PROGRAMS.filter((q) => xlen === 64 || q.rv32)) {
      const elf = join(benchDir, `${p.name}-small${xlen === 32 ? '-rv32' : ''}.elf`);
      it(`${p.name} checks itself and passes`, async () => {
        const r = await runQemu(elf, { xlen });
        expect(r.output).toMatch(new RegExp(`^${p.name}: checksum 0x[0-9a-f]{8} OK\\n$`));
        expect(r.exitCode).toBe(0);
      });
      it.skipIf(!haveHostCc)(`${p.name} computes what the same C computes on the host`, async () => {
        const r = await runQemu(elf, { xlen });
        expect(r.output).toBe(`${p.name}: checksum ${nativeChecksum(p.name, xlen)} OK\n`);
      });
    }
    it('empty passes (the start-up baseline)', async () => {
      const r = await runQemu(join(benchDir, xlen === 32 ? 'empty-rv32.elf' : 'empty.elf'), { xlen });
      expect(r.output).toBe('empty: OK\n');
      expect(r.exitCode).toBe(0);
    });
  });
}

describe.skipIf(!haveCrossCc || !qemuAvailable(64))('the self-check', () => {
  it('reports FAIL and exits with status 1 when the checksum is not the expected one', async () => {
    const dir = join(work, 'wrong');
    execFileSync('mkdir', ['-p', dir]);
    const rv64 = ['-march=rv64gc', '-mabi=lp64d'];
    const flags = ['-nostdlib', '-nostartfiles', '-static', '-mcmodel=medany', '-Wl,--no-warn-rwx-segments',
      `-Wl,-T,${join(benchDir, 'link.ld')}`, '-ffreestanding', '-O2', ...rv64];
    const cc = (args: string[]): void => { execFileSync(CROSS_CC, [...flags, ...args], { cwd: dir }); };
    cc(['-c', join(benchDir, 'crt.S'), '-o', 'crt.o']);
    cc(['-fno-tree-loop-distribute-patterns', '-c', join(benchDir, 'bench-rt.c'), '-o', 'rt.o']);
    cc(['-DSMALL', '-DEXPECTED=0x12345678', '-c', join(benchDir, 'muldiv64.c'), '-o', 'p.o']);
    cc(['crt.o', 'rt.o', 'p.o', '-o', 'wrong.elf']);
    const r = await runQemu(join(dir, 'wrong.elf'), { xlen: 64 });
    expect(r.output).toMatch(/^muldiv64: checksum 0x[0-9a-f]{8} FAIL expected 0x12345678\n$/);
    expect(r.exitCode).toBe(1);
  });
});

describe.skipIf(!haveCrossCc || !haveHostCc)('build.sh', () => {
  it('reproduces every committed ELF byte for byte', () => {
    const out = join(work, 'rebuild');
    execFileSync('bash', [join(benchDir, 'build.sh')], { env: { ...process.env, OUT: out }, stdio: 'ignore' });
    const built = readdirSync(out).sort();
    expect(built).toEqual(readdirSync(benchDir).filter((f) => f.endsWith('.elf')).sort());
    for (const f of built) {
      expect(existsSync(join(benchDir, f))).toBe(true);
      expect(Buffer.compare(readFileSync(join(out, f)), readFileSync(join(benchDir, f))), f).toBe(0);
    }
  }, 120_000);
});
