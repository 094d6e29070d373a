/**
 * The `softboard` CLI through its `main(argv, io)` with fake stdio: QEMU's flags, the guest's exit
 * status, Ctrl-A X, and clear errors for bad flags and files.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { helpText, main, parseArgs, type CliIo } from '../../src/node/cli.js';
import { addi, code, j, lbu, li, lui, sw, X } from '../machine/rv-asm.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '../fixtures/riscv');
const tmp = mkdtempSync(join(tmpdir(), 'softboard-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with fake stdio; `input` is typed once the guest has printed `after` (or at once). */
async function cli(argv: string[], input?: { text: string; after?: string }): Promise<Run> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '', err = '';
  let typed = false;
  const type = (): void => {
    if (input && !typed) { typed = true; stdin.write(input.text); }
  };
  stdout.on('data', (b: Buffer) => {
    out += b.toString('latin1');
    if (input?.after !== undefined && out.includes(input.after)) type();
  });
  stderr.on('data', (b: Buffer) => { err += b.toString('utf8'); });
  if (input && input.after === undefined) type();
  const io: CliIo = { stdin, stdout, stderr, rawTerminal: false };
  const status = await main(argv, io);
  return { status, stdout: out, stderr: err };
}

describe('softboard CLI', () => {
  it('runs a bare-metal ELF as qemu-system-riscv64 -M virt -bios none -nographic -kernel does', async () => {
    const r = await cli(['-M', 'virt', '-bios', 'none', '-nographic', '-kernel', join(fixtures, 'hello.elf')]);
    expect(r).toEqual({ status: 0, stdout: 'Hello from softboard\n', stderr: '' });
  });

  it('runs RV32 with -cpu rv32', async () => {
    const r = await cli(['-M', 'virt', '-cpu', 'rv32', '-bios', 'none', '-kernel', join(fixtures, 'hello-rv32.elf')]);
    expect(r.stdout).toBe('Hello from softboard\n');
    expect(r.status).toBe(0);
  });

  it("exits with the guest's failure code", async () => {
    const k = file('fail.bin', code([lui(X.t0, 0x100), ...li(X.a0, (7 << 16) | 0x3333), sw(X.a0, X.t0, 0), j(0)]));
    const r = await cli(['-M', 'virt', '-m', '64M', '-bios', 'none', '-kernel', k]);
    expect(r.status).toBe(7);
  });

  it('quits on Ctrl-A X with status 0', async () => {
    // Prints '>' then waits for a key (polling LSR.DR), forever.
    const k = file('wait.bin', code([
      lui(X.t0, 0x10000), addi(X.t1, X.zero, 0x3e), sw(X.t1, X.t0, 0),
      lbu(X.t1, X.t0, 5), j(-4),
    ]));
    const r = await cli(['-M', 'virt', '-bios', 'none', '-kernel', k], { text: '\x01x', after: '>' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('>');
    expect(r.stdout).toContain('Terminated');
  });

  it('exits on a guest reset request with -no-reboot', async () => {
    const k = file('reset.bin', code([lui(X.t0, 0x100), ...li(X.a0, 0x7777), sw(X.a0, X.t0, 0), j(0)]));
    expect((await cli(['-M', 'virt', '-bios', 'none', '-no-reboot', '-kernel', k])).status).toBe(0);
  });

  it('logs -d guest_errors to -D file', async () => {
    // A store of 0x1234 to sifive_test is not a finisher value: a guest error; then pass.
    const k = file('guest-error.bin', code([
      lui(X.t0, 0x100), ...li(X.a0, 0x1234), sw(X.a0, X.t0, 0), ...li(X.a0, 0x5555), sw(X.a0, X.t0, 0), j(0),
    ]));
    const logfile = join(tmp, 'log.txt');
    const r = await cli(['-M', 'virt', '-bios', 'none', '-kernel', k, '-d', 'guest_errors', '-D', logfile]);
    expect(r.status).toBe(0);
    expect(readFileSync(logfile, 'utf8')).toMatch(/sifive_test.*0x0*1234/);
  });

  it('rejects unknown flags, listing the supported ones', async () => {
    const r = await cli(['-M', 'virt', '-frobnicate', '1']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^softboard: -frobnicate: unknown option; supported: -M, -machine, -cpu, -m, -smp, -bios, -kernel/);
  });

  it('explains other usage and file errors', async () => {
    expect((await cli(['-M', 'sifive_u'])).stderr).toMatch(/unsupported machine 'sifive_u'; supported: virt/);
    expect((await cli(['-kernel', 'x'])).stderr).toMatch(/no machine given: use -M virt/);
    expect((await cli(['-M', 'virt', '-kernel'])).stderr).toMatch(/-kernel needs an argument \(file\)/);
    expect((await cli(['-M', 'virt', '-cpu', 'cortex-a57'])).stderr).toMatch(/unsupported CPU model; supported: rv64, rv32/);
    expect((await cli(['-M', 'virt', '-d', 'nonsense'])).stderr).toMatch(/unknown log item 'nonsense'/);
    const missing = await cli(['-M', 'virt', '-bios', 'none', '-kernel', join(tmp, 'nope.elf')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/could not read kernel image '.*nope\.elf': no such file/);
    const big = await cli(['-M', 'virt', '-m', '16M', '-bios', 'none', '-kernel', file('big.bin', new Uint8Array(20 << 20))]);
    expect(big.stderr).toMatch(/big\.bin at 0x80000000 \(0x1400000 bytes\) does not fit in memory/);
  });

  it('prints help and version', async () => {
    const h = await cli(['-help']);
    expect(h.status).toBe(0);
    expect(h.stdout).toBe(helpText());
    expect(h.stdout).toContain('-kernel file');
    expect((await cli(['--version'])).stdout).toMatch(/^softboard \d+\.\d+\.\d+/);
  });

  it("parses QEMU's option syntax", () => {
    const o = parseArgs(['-machine', 'virt', '-m', 'size=256M', '-smp', 'cpus=2', '-icount', 'shift=0', '-cpu', 'rv32',
      '-append', 'console=ttyS0', '-serial', 'mon:stdio', '-monitor', 'none', '--bios', 'none']);
    expect(o.machine).toEqual({
      memory: '256M', cpus: 2, icountShift: 0, arch: 'riscv32', append: 'console=ttyS0', bios: 'none', rtc: { clock: 'host', base: 'utc' },
    });
    expect(parseArgs(['-M', 'virt', '-rtc', 'base=2020-01-02T03:04:05,clock=vm']).machine.rtc).toEqual({ clock: 'vm', base: '2020-01-02T03:04:05' });
    expect(() => parseArgs(['-M', 'virt', '-rtc', 'driftfix=slew'])).toThrow(/-rtc driftfix=slew: unsupported 'driftfix=slew'/);
    expect(o.serial).toBe('stdio');
    expect(parseArgs(['-M', 'virt', '-smp', '4', '-serial', 'null']).machine.cpus).toBe(4);
    expect(parseArgs(['-M', 'virt', '-serial', 'null']).serial).toBe('null');
  });
});
