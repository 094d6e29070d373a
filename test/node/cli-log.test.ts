/**
 * `-d int,mmu -D file` through the CLI: each trap of test/fixtures/riscv/traps.elf is in the file once,
 * as the CPU logs it to the machine's Logger (the same lines a Machine with a Logger sink receives, and
 * QEMU 7.2's, see test/hw/riscv/trap-log.test.ts), and TLB fills appear as QEMU's riscv_cpu_tlb_fill
 * lines. Without `-D` the log goes to stderr.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type CliIo } from '../../src/node/cli.js';
import { createVirtMachine } from '../../src/hw/riscv/virt.js';

const TRAPS = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/riscv/traps.elf');
const tmp = mkdtempSync(join(tmpdir(), 'softboard-cli-log-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough(), stderr = new PassThrough();
  let out = '', err = '';
  stdout.on('data', (b: Buffer) => { out += b.toString('latin1'); });
  stderr.on('data', (b: Buffer) => { err += b.toString('utf8'); });
  const io: CliIo = { stdin: new PassThrough(), stdout, stderr, rawTerminal: false };
  const status = await main(argv, io);
  return { status, stdout: out, stderr: err };
}

/** The trap lines a Machine with a Logger sink gets for traps.elf. */
function machineIntLines(): string[] {
  const lines: string[] = [];
  const m = createVirtMachine({
    bios: 'none', kernel: new Uint8Array(readFileSync(TRAPS)), log: { mask: 'int', sink: (_c, t) => lines.push(t) },
  });
  m.run({ instructions: 20_000_000 });
  return lines;
}

describe('CLI -d int / -d mmu', () => {
  it('writes each trap once to the -D file, with the TLB fills', async () => {
    const logfile = join(tmp, 'int.log');
    const r = await cli(['-M', 'virt', '-bios', 'none', '-kernel', TRAPS, '-d', 'int,mmu', '-D', logfile]);
    expect(r).toMatchObject({ status: 0, stdout: 'PASS traps\n', stderr: '' });
    const lines = readFileSync(logfile, 'utf8').trim().split('\n');
    const ints = lines.filter((l) => l.startsWith('riscv_cpu_do_interrupt: '));
    const expected = machineIntLines();
    expect(expected.length).toBeGreaterThan(10);
    // both runs are deterministic (virtual time): even the timer interrupt's epc is the same
    expect(ints).toEqual(expected);
    expect(lines.slice(0, 3)).toEqual([
      'riscv_cpu_tlb_fill ad 1000 rw 2 mmu_idx 3',
      'riscv_cpu_tlb_fill address=1000 ret 0 physical 0000000000001000 prot 7',
      'riscv_cpu_tlb_fill PMP address=0000000000001000 ret 0 prot 7 tlb_size 4096',
    ]);
    expect(lines.every((l) => l.startsWith('riscv_cpu_do_interrupt: ') || l.startsWith('riscv_cpu_tlb_fill '))).toBe(true);
  });

  it('logs to stderr without -D', async () => {
    const r = await cli(['-M', 'virt', '-bios', 'none', '-kernel', TRAPS, '-d', 'int']);
    expect(r.status).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual(machineIntLines());
  });
});
