/**
 * The CLI's gdb flags (`-s`, `-gdb`, `-S`): their parsing, and end to end with Debian's gdb-multiarch in
 * batch mode against `main` running test/fixtures/riscv/hello.elf: with -S the guest waits for gdb,
 * which breaks at `main`, continues to the guest's power-off (the CLI then exits 0), or detaches
 * (the guest runs on) or kills (the CLI exits 0 without running the guest); without -S gdb attaches to
 * a running guest and the CLI's own loop stays paused while it is connected. The gdb part is skipped
 * when gdb-multiarch is not installed.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { commandRuns } from '../helpers/tools.js';
import { helpText, main, parseArgs, type CliIo } from '../../src/node/cli.js';
import { parseElf } from '../../src/hw/core/elf.js';
import { addi, code, j, X } from '../machine/rv-asm.js';

const here = dirname(fileURLToPath(import.meta.url));
const hello = join(here, '../fixtures/riscv/hello.elf');

const haveGdb = commandRuns('gdb-multiarch');
if (!haveGdb) console.warn('test/node/cli-gdb.test.ts: gdb-multiarch not found, end-to-end gdb tests skipped (apt-get install gdb-multiarch)');

describe('CLI gdb flags', () => {
  const base = ['-M', 'virt'];
  it('-s is -gdb tcp::1234 on localhost; -S needs a gdb server', () => {
    expect(parseArgs(base).gdb).toBeNull();
    expect(parseArgs(base).startStopped).toBe(false);
    expect(parseArgs([...base, '-s'])).toMatchObject({ gdb: { host: '127.0.0.1', port: 1234 }, startStopped: false });
    expect(parseArgs([...base, '-s', '-S'])).toMatchObject({ gdb: { host: '127.0.0.1', port: 1234 }, startStopped: true });
    expect(() => parseArgs([...base, '-S'])).toThrow(/-S: .*-s or -gdb/);
  });

  it('-gdb tcp::PORT, tcp:HOST:PORT, tcp:[v6]:PORT', () => {
    expect(parseArgs([...base, '-gdb', 'tcp::4321']).gdb).toEqual({ host: '127.0.0.1', port: 4321 });
    expect(parseArgs([...base, '--gdb', 'tcp:0.0.0.0:0']).gdb).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseArgs([...base, '-gdb', 'tcp:localhost:1']).gdb).toEqual({ host: 'localhost', port: 1 });
    expect(parseArgs([...base, '-gdb', 'tcp:[::1]:65535']).gdb).toEqual({ host: '::1', port: 65535 });
  });

  it('bad -gdb forms are usage errors naming the value, and main exits 1', async () => {
    for (const bad of ['tcp:1234', '1234', 'udp::1234', 'tcp::', 'tcp::65536', 'tcp::-1', 'tcp::12a', 'unix:/tmp/x']) {
      expect(() => parseArgs([...base, '-gdb', bad]), bad).toThrow(`-gdb ${bad}: expected tcp::PORT or tcp:HOST:PORT`);
    }
    expect(() => parseArgs([...base, '-gdb'])).toThrow(/-gdb needs an argument/);
    const err = new PassThrough();
    let text = '';
    err.on('data', (b: Buffer) => { text += b.toString(); });
    const io: CliIo = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: err, rawTerminal: false };
    expect(await main([...base, '-gdb', 'tcp:x'], io)).toBe(1);
    expect(text).toContain('-gdb tcp:x: expected');
  });

  it('the help and the unknown-option message list -s, -gdb and -S', () => {
    expect(helpText()).toMatch(/^ {2}-s +gdb server on tcp::1234/m);
    expect(helpText()).toMatch(/^ {2}-gdb dev +/m);
    expect(helpText()).toMatch(/^ {2}-S +do not start the CPU/m);
    expect(() => parseArgs([...base, '-gdbx'])).toThrow(/supported: .*-s, -gdb, -S/);
  });
});

/** Runs `main` with a gdb server on a free port; resolves the port once the CLI says it listens. */
function startCli(extra: string[], image = ['-kernel', hello]): { port: Promise<number>; status: Promise<number>; stdout: () => string; stderr: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '', err = '';
  let gotPort: (p: number) => void = () => {};
  const port = new Promise<number>((resolve) => { gotPort = resolve; });
  stdout.on('data', (b: Buffer) => { out += b.toString('latin1'); });
  stderr.on('data', (b: Buffer) => {
    err += b.toString();
    const m = /gdb server listening on tcp:127\.0\.0\.1:(\d+)/.exec(err);
    if (m) gotPort(Number(m[1]));
  });
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, rawTerminal: false };
  const status = main(['-M', 'virt', '-bios', 'none', '-nographic', '-gdb', 'tcp::0', ...extra, ...image], io);
  void status.then(() => gotPort(-1));
  return { port, status, stdout: () => out, stderr: () => err };
}

function gdb(port: number, commands: readonly string[]): Promise<string> {
  const args = ['-nx', '-batch', '-ex', 'set architecture riscv:rv64', '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push('-ex', c);
  return new Promise((resolve, reject) => {
    execFile('gdb-multiarch', args, { timeout: 20_000 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`gdb failed: ${e.message}\n${stdout}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!haveGdb)('softboard -S -gdb with gdb-multiarch', () => {
  const mainAddr = parseElf(new Uint8Array(readFileSync(hello))).symbols.get('main')!.value;
  const hex = `0x${mainAddr.toString(16)}`;
  /** gdb may print the address zero-padded. */
  const hex0 = `0x0*${mainAddr.toString(16)}`;

  it('the guest waits for gdb, which breaks at main and continues to the power-off; the CLI exits 0', async () => {
    const cli = startCli(['-S']);
    const port = await cli.port;
    expect(port).toBeGreaterThan(0);
    await sleep(100);
    expect(cli.stdout()).toBe(''); // -S: nothing ran before gdb
    const out = await gdb(port, [`break *${hex}`, 'continue', 'info registers pc', 'continue']);
    expect(out).toMatch(new RegExp(`Breakpoint 1, ${hex0} in`));
    expect(out).toMatch(new RegExp(`^pc +${hex0}\\s`, 'm'));
    expect(out).toMatch(/\[Inferior 1 \(Remote target\) exited normally\]/);
    expect(await cli.status).toBe(0);
    expect(cli.stdout()).toBe('Hello from softboard\n');
  });

  it('after gdb detaches the guest runs on by itself', async () => {
    const cli = startCli(['-S']);
    const out = await gdb(await cli.port, [`break *${hex}`, 'continue', 'detach']);
    expect(out).toMatch(new RegExp(`Breakpoint 1, ${hex0} in`));
    expect(out).toMatch(/\[Inferior 1 \(Remote target\) detached\]/);
    expect(await cli.status).toBe(0);
    expect(cli.stdout()).toBe('Hello from softboard\n');
  });

  it("gdb's kill ends the CLI with status 0 without running the guest further", async () => {
    const cli = startCli(['-S']);
    await gdb(await cli.port, ['kill']);
    expect(await cli.status).toBe(0);
    expect(cli.stdout()).toBe('');
  });
});

describe.skipIf(!haveGdb)('softboard -gdb (without -S) with gdb-multiarch', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'softboard-cli-gdb-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('the guest runs at once; gdb attaches to the running guest, stops it, and kill ends the CLI', async () => {
    // An endless counter loop: t0 += 1 at 0x80000000, jump back.
    const spin = join(tmp, 'spin.bin');
    writeFileSync(spin, code([addi(X.t0, X.t0, 1), j(-4)]));
    const cli = startCli([], ['-bios', spin]);
    const port = await cli.port;
    await sleep(100);
    const out = await gdb(port, ['info registers pc', 'p $t0', 'stepi', 'stepi', 'p $t0', 'kill']);
    expect(out).toMatch(/^pc +0x8000000[04]\s/m);
    const t0 = [...out.matchAll(/^\$\d+ = (\d+)$/gm)].map((m) => BigInt(m[1]!));
    expect(t0).toHaveLength(2);
    expect(t0[0]).toBeGreaterThan(0n); // the CLI ran the guest before gdb came
    expect(t0[1]! - t0[0]!).toBe(1n); // two stepi: one addi, one jump, and nothing else ran
    expect(await cli.status).toBe(0);
  });
});
