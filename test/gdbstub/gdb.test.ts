/**
 * End to end with Debian's gdb-multiarch in batch mode: gdb connects over TCP to the node gdb server,
 * which drives a RiscvCpu running test/fixtures/riscv/hello.elf. gdb's output must show the breakpoint
 * hit, the pc after stepi, memory equal to the ELF bytes, registers equal to the CPU's, a watchpoint
 * and the guest's exit. Skipped when gdb-multiarch is not installed (CI installs it).
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { commandRuns } from '../helpers/tools.js';
import { startGdbServer } from '../../src/node/gdbserver.js';
import { makeRig, type Rig } from './rig.js';

const haveGdb = commandRuns('gdb-multiarch');
if (!haveGdb) console.warn('test/gdbstub/gdb.test.ts: gdb-multiarch not found, end-to-end gdb tests skipped (apt-get install gdb-multiarch)');

/** Runs gdb-multiarch in batch mode against `port` (asynchronously: the server lives in this process). */
function gdb(arch: string, port: number, commands: readonly string[]): Promise<string> {
  const args = ['-nx', '-batch', '-ex', `set architecture ${arch}`, '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push('-ex', c);
  return new Promise((resolve, reject) => {
    execFile('gdb-multiarch', args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`gdb failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** The 32-bit words at `addr` in the ELF file's loadable segments. */
function elfWords(rig: Rig, addr: bigint, n: number): string[] {
  const seg = rig.image.segments.find((s) => addr >= s.paddr && addr + BigInt(4 * n) <= s.paddr + BigInt(s.data.length))!;
  const dv = new DataView(seg.data.buffer, seg.data.byteOffset, seg.data.byteLength);
  const o = Number(addr - seg.paddr);
  return Array.from({ length: n }, (_, i) => `0x${dv.getUint32(o + 4 * i, true).toString(16).padStart(8, '0')}`);
}

/** `name 0xvalue …` lines of `info registers` → map. */
function parseInfoRegisters(out: string): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const line of out.split('\n')) {
    const r = /^(\w+)\s+(0x[0-9a-f]+)\s/.exec(line);
    if (r) m.set(r[1]!, BigInt(r[2]!));
  }
  return m;
}

describe.skipIf(!haveGdb)('gdb-multiarch against the stub', () => {
  it('rv64: breakpoint, stepi, memory, registers, watchpoint, then the guest runs to its exit', async () => {
    const rig = makeRig();
    rig.cpu.setRegister('a0', 0x1234567890abcdefn);
    rig.cpu.setRegister('a1', 0x1122n);
    const mstatus0 = rig.cpu.getRegister('mstatus');
    const bootA0 = rig.image.symbols.get('boot_a0')!.value;
    const bootA1 = rig.image.symbols.get('boot_a1')!.value;
    const server = await startGdbServer({ target: rig.target, port: 0 });
    try {
      const out = await gdb('riscv:rv64', server.port, [
        'info registers pc',
        'break *0x80000010',
        'continue',
        'stepi',
        'info registers pc',
        'x/4wx 0x80000000',
        'p/x $a0',
        'p/x $t0',
        'p/x $mstatus',
        'delete',
        `watch *(long *)0x${bootA1.toString(16)}`,
        'continue',
        'delete',
        'info registers',
        'detach',
      ]);
      const lines = out.split('\n');
      expect(lines).toContainEqual(expect.stringMatching(/^pc\s+0x80000000\s/));
      expect(out).toMatch(/Breakpoint 1, 0x0*80000010 in/);
      // stepi over the 4-byte `sd a0,0(t0)` at the breakpoint
      expect(lines.filter((l) => /^pc\s/.test(l))[1]).toMatch(/^pc\s+0x80000014\s/);
      expect(out).toContain(`0x80000000:\t${elfWords(rig, 0x80000000n, 4).join('\t')}`);
      expect(out).toContain('$1 = 0x1234567890abcdef');
      expect(out).toContain(`$2 = 0x${bootA0.toString(16)}`);
      expect(out).toContain(`$3 = 0x${mstatus0.toString(16)}`);
      expect(out).toMatch(/Hardware watchpoint 2: \*\(long \*\)0x80000228/);
      expect(out).toMatch(/Old value = 0\s+New value = 4386/); // 0x1122
      // After detach the CPU is stopped where gdb left it: its registers are what gdb printed.
      const regs = parseInfoRegisters(out.slice(out.lastIndexOf('New value')));
      expect(regs.size).toBe(32); // ra..t6 and pc: gdb does not list zero
      for (const [name, v] of regs) {
        expect(v, name).toBe(rig.cpu.getRegister(name));
      }
      expect(rig.cpu.breakpoints.size).toBe(0);

      // A second session continues to the end: gdb sees the exit, the UART the greeting.
      const out2 = await gdb('riscv:rv64', server.port, ['continue']);
      expect(out2).toContain('exited normally');
      expect(String.fromCharCode(...rig.uart)).toBe('Hello from softboard\n');
    } finally {
      await server.close();
    }
  }, 60_000);

  it('rv32: 32-bit registers and a breakpoint on a compressed instruction', async () => {
    const rig = makeRig('hello-rv32.elf', 'rv32imafdc_zicsr_zifencei');
    const main = rig.image.symbols.get('main')!.value;
    const server = await startGdbServer({ target: rig.target, port: 0 });
    try {
      const out = await gdb('riscv:rv32', server.port, [
        `break *0x${main.toString(16)}`,
        'continue',
        'p/x $pc',
        'p/x $ra',
        'p/x $sp',
        'detach',
      ]);
      expect(out).toMatch(new RegExp(`Breakpoint 1, 0x${main.toString(16)} in`));
      expect(out).toContain(`$1 = 0x${main.toString(16)}`);
      expect(out).toContain(`$2 = 0x${rig.cpu.getRegister('ra').toString(16)}`);
      expect(out).toContain(`$3 = 0x${rig.cpu.getRegister('sp').toString(16)}`);
      expect(rig.cpu.pc).toBe(main);
    } finally {
      await server.close();
    }
  }, 60_000);
});
