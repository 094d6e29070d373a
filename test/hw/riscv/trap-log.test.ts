/**
 * `-d int` and `-d mmu` on the virt board, through the machine's Logger: test/fixtures/riscv/traps.elf
 * takes ecalls from M/S/U, illegal instructions, a breakpoint, misaligned loads and a timer interrupt,
 * and each trap must be logged as QEMU 7.2's riscv_cpu_do_interrupt logs it. The reference lines come
 * from `qemu-system-riscv64 -d int` on the same program (live when QEMU is installed, else the lines
 * recorded from QEMU 7.2 below).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createVirtMachine } from '../../../src/hw/riscv/virt.js';
import { Logger, type LogCategory } from '../../../src/util/log.js';
import { qemuAvailable, runQemu } from '../../helpers/qemu.js';

const TRAPS = fileURLToPath(new URL('../../fixtures/riscv/traps.elf', import.meta.url));

/** qemu-system-riscv64 7.2 (Debian 1:7.2+dfsg-7+deb12u18) `-M virt -bios none -kernel traps.elf -d int`. */
const QEMU_7_2_INT = `\
riscv_cpu_do_interrupt: hart:0, async:0, cause:000000000000000b, epc:0x00000000800001f2, tval:0x0000000000000000, desc=machine_ecall
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000002, epc:0x0000000080000238, tval:0x00000000c0001073, desc=illegal_instruction
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000003, epc:0x000000008000029a, tval:0x0000000000000000, desc=breakpoint
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000004, epc:0x00000000800002e6, tval:0x0000000080000902, desc=misaligned_load
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000009, epc:0x0000000080000368, tval:0x0000000000000000, desc=supervisor_ecall
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000002, epc:0x00000000800003f0, tval:0x0000000034002573, desc=illegal_instruction
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000008, epc:0x0000000080000456, tval:0x0000000000000000, desc=user_ecall
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000002, epc:0x00000000800004d6, tval:0x0000000010002573, desc=illegal_instruction
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000008, epc:0x0000000080000550, tval:0x0000000000000000, desc=user_ecall
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000009, epc:0x0000000080000874, tval:0x0000000000000000, desc=supervisor_ecall
riscv_cpu_do_interrupt: hart:0, async:1, cause:0000000000000007, epc:0x0000000080000686, tval:0x0000000000000000, desc=m_timer
riscv_cpu_do_interrupt: hart:0, async:0, cause:0000000000000004, epc:0x00000000800006ea, tval:0x0000000080000901, desc=misaligned_load
`;

async function qemuIntLog(): Promise<string[]> {
  if (!qemuAvailable(64)) return QEMU_7_2_INT.trim().split('\n');
  const dir = mkdtempSync(join(tmpdir(), 'softboard-dint-'));
  try {
    const file = join(dir, 'int.log');
    // -icount shift=2: QEMU counts time in instructions (4 ns each) as softboard does, so its timer
    // interrupt lands at a reproducible place instead of wherever the host clock says.
    await runQemu(TRAPS, { extraArgs: ['-icount', 'shift=2', '-d', 'int', '-D', file] });
    return readFileSync(file, 'utf8').trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runTraps(mask: string): { lines: [LogCategory, string][]; output: string } {
  const lines: [LogCategory, string][] = [];
  const m = createVirtMachine({
    bios: 'none', kernel: new Uint8Array(readFileSync(TRAPS)), log: { mask, sink: (c, t) => lines.push([c, t]) },
  });
  expect(m.run({ instructions: 20_000_000 }).reason).toBe('shutdown');
  return { lines, output: m.serial.output };
}

describe('-d int', () => {
  it('logs every trap as QEMU 7.2 does', async () => {
    const { lines, output } = runTraps('int');
    expect(output).toBe('PASS traps\n');
    expect(lines.every(([c]) => c === 'int')).toBe(true);
    // QEMU runs with -icount shift=2 (4 ns an instruction, softboard's default), so even the timer
    // interrupt is taken at the same instruction: every line, epc included, must be equal.
    const ours = lines.map(([, t]) => t);
    const qemu = await qemuIntLog();
    expect(ours.length).toBe(qemu.length);
    // The last trap is the misaligned AMO, where QEMU < 8.1 raises cause 4 instead of the spec's 6
    // (test/fixtures/riscv/README.md): same pc and tval, the store/AMO cause.
    expect(ours.slice(0, -1)).toEqual(qemu.slice(0, -1));
    expect(ours.at(-1)).toBe(qemu.at(-1)!.replace('cause:0000000000000004', 'cause:0000000000000006')
      .replace('desc=misaligned_load', 'desc=misaligned_store'));
  });

  it('says nothing when the category is off, and is enabled per machine', () => {
    const { lines } = runTraps('guest_errors,unimp');
    expect(lines.filter(([c]) => c === 'int' || c === 'mmu')).toEqual([]);
    // two machines, one logger each: only the one with `int` logs
    const a: string[] = [], b: string[] = [];
    const la = new Logger({ mask: 'int', sink: (_c, t) => a.push(t) });
    const lb = new Logger({ mask: 0, sink: (_c, t) => b.push(t) });
    for (const log of [la, lb]) {
      const m = createVirtMachine({ bios: 'none', kernel: new Uint8Array(readFileSync(TRAPS)), log });
      expect(m.harts[0]!.log).toBe(log);
      m.run({ instructions: 20_000_000 });
    }
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual([]);
  });

  it('names the hart and uses 8-digit values on RV32', () => {
    const lines: string[] = [];
    const m = createVirtMachine({
      arch: 'riscv32', bios: 'none', cpus: 2,
      kernel: new Uint8Array(readFileSync(TRAPS.replace('traps.elf', 'traps-rv32.elf'))),
      log: { mask: 'int', sink: (_c, t) => lines.push(t) },
    });
    m.run({ instructions: 20_000_000 });
    expect(lines.length).toBeGreaterThan(5);
    for (const l of lines) {
      expect(l).toMatch(/^riscv_cpu_do_interrupt: hart:[01], async:[01], cause:[0-9a-f]{8}, epc:0x[0-9a-f]{8}, tval:0x[0-9a-f]{8}, desc=[a-z_]+$/);
    }
    expect(lines[0]).toMatch(/cause:0000000b, .*desc=machine_ecall$/);
  });
});

describe('-d mmu', () => {
  it('logs TLB fills as QEMU 7.2 riscv_cpu_tlb_fill does', () => {
    const { lines } = runTraps('mmu');
    const text = lines.map(([, t]) => t);
    // the first fetches: the reset stub in the mrom, then the kernel entry, M-mode (mmu_idx 3), bare
    expect(text.slice(0, 6)).toEqual([
      'riscv_cpu_tlb_fill ad 1000 rw 2 mmu_idx 3',
      'riscv_cpu_tlb_fill address=1000 ret 0 physical 0000000000001000 prot 7',
      'riscv_cpu_tlb_fill PMP address=0000000000001000 ret 0 prot 7 tlb_size 4096',
      'riscv_cpu_tlb_fill ad 80000000 rw 2 mmu_idx 3',
      'riscv_cpu_tlb_fill address=80000000 ret 0 physical 0000000080000000 prot 7',
      'riscv_cpu_tlb_fill PMP address=0000000080000000 ret 0 prot 7 tlb_size 4096',
    ]);
    expect(text.some((t) => / rw 0 /.test(t))).toBe(true);
    expect(text.some((t) => / rw 1 /.test(t))).toBe(true);
  });
});
