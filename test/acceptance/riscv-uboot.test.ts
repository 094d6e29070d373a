/**
 * Acceptance (issue: RISC-V guest and virt board): Debian's OpenSBI 1.1 + U-Boot 2023.01 boot on
 * softboard, and U-Boot's own commands give the same answers QEMU 7.2 gives for the same memory.
 * Needs Debian's `opensbi` and `u-boot-qemu` packages (.ci/run installs them); skipped with a message
 * otherwise. QEMU's answers are taken live from `qemu-system-riscv64` in the same run when it is installed,
 * else from the values recorded from QEMU 7.2 below.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createVirtMachine, type RiscvVirtMachine } from '../../src/hw/riscv/virt.js';
import type { BufferChardev } from '../../src/chardev/index.js';
import { startQemuSession } from '../helpers/qemu-session.js';
import { qemuAvailable } from '../helpers/qemu.js';

const FW_JUMP = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf';
const FW_DYNAMIC = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf';
const UBOOT_S = '/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin';
const UBOOT_M = '/usr/lib/u-boot/qemu-riscv64/u-boot.bin';
const haveS = existsSync(FW_JUMP) && existsSync(UBOOT_S);
const haveM = existsSync(UBOOT_M);
if (!haveS || !haveM) console.warn('Debian opensbi/u-boot-qemu not installed: U-Boot acceptance tests skipped');

/** Recorded from qemu-system-riscv64 7.2 (Debian 1:7.2+dfsg-7+deb12u18) with the same images. */
const QEMU_CRC_SMODE_80200000 = 'ae406f4a';

const PROMPT = '\r\n=> ';

/** Types a command at U-Boot's prompt and returns what it printed up to the next prompt. */
async function command(m: RiscvVirtMachine<BufferChardev>, cmd: string): Promise<string> {
  m.serial.clearOutput();
  m.serial.feed(`${cmd}\r`);
  return m.runUntilOutput(PROMPT, { timeoutMs: 120_000 });
}

/** The same U-Boot command on QEMU, for the reference answer. */
async function qemuAnswer(args: string[], cmd: string): Promise<string> {
  const s = startQemuSession('qemu-system-riscv64', ['-M', 'virt', '-nographic', '-monitor', 'none', '-serial', 'stdio', ...args]);
  try {
    // QEMU's U-Boot counts its autoboot delay on a fast clock: keep typing until the prompt shows.
    const poke = setInterval(() => s.type(' ').catch(() => undefined), 20);
    await s.waitFor(PROMPT, 60_000);
    clearInterval(poke);
    await new Promise((r) => setTimeout(r, 200));
    const from = s.output().length;
    await s.type(`${cmd}\r`);
    await s.waitFor(PROMPT, 60_000, from + cmd.length);
    return s.output().slice(from);
  } finally {
    s.kill();
  }
}

const crcOf = (text: string): string => /==> ([0-9a-f]{8})/.exec(text)?.[1] ?? `(no crc in ${JSON.stringify(text)})`;

describe.skipIf(!haveS)('OpenSBI fw_jump + U-Boot S-mode (qemu-riscv64_smode)', () => {
  it('boots to the prompt, answers version and crc32 like QEMU, faults like QEMU, powers off', async () => {
    const m = createVirtMachine({
      bios: new Uint8Array(readFileSync(FW_JUMP)),
      kernel: new Uint8Array(readFileSync(UBOOT_S)),
      names: { bios: FW_JUMP, kernel: UBOOT_S },
    });
    const t0 = performance.now();
    await m.runUntilOutput('Hit any key to stop autoboot', { timeoutMs: 240_000 });
    const bootMs = performance.now() - t0;
    const boot = m.serial.output;
    expect(boot).toContain('OpenSBI v1.1');
    expect(boot).toMatch(/Platform Name\s+: riscv-virtio,qemu/);
    expect(boot).toMatch(/Domain0 Next Address\s+: 0x0000000080200000/);
    expect(boot).toMatch(/Domain0 Next Mode\s+: S-mode/);
    expect(boot).toContain('U-Boot 2023.01');
    expect(boot).toContain('DRAM:  128 MiB');
    expect(boot).toContain('Flash: 32 MiB'); // U-Boot's CFI driver probes the pflash banks as under QEMU
    expect(boot).toContain('In:    serial@10000000');

    // A key stops autoboot: the prompt comes without U-Boot trying its boot devices.
    m.serial.clearOutput();
    m.serial.feed(' ');
    const stopped = await m.runUntilOutput('=> ', { timeoutMs: 60_000 });
    expect(stopped).not.toContain('scanning bus');

    expect(await command(m, 'version')).toMatch(/U-Boot 2023\.01/);

    const crc = crcOf(await command(m, 'crc32 80200000 100000'));
    const reference = qemuAvailable(64)
      ? crcOf(await qemuAnswer(['-bios', FW_JUMP, '-kernel', UBOOT_S], 'crc32 80200000 100000'))
      : QEMU_CRC_SMODE_80200000;
    expect(crc).toBe(reference);

    // OpenSBI's PMP keeps S-mode out of its own memory: QEMU's U-Boot takes a load access fault with
    // tval 0x80000000 there, and so must ours (then U-Boot resets the machine through SBI → sifive_test).
    m.rebootAction = 'shutdown';
    m.serial.clearOutput();
    m.serial.feed('crc32 80000000 100000\r');
    const r = await m.run({ until: 'shutdown', timeoutMs: 60_000 });
    expect(m.serial.output).toContain('Unhandled exception: Load access fault');
    expect(m.serial.output).toMatch(/TVAL: 0000000080000000/);
    expect(r.reason).toBe('shutdown');

    console.log(`softboard: OpenSBI + U-Boot S-mode to the autoboot prompt in ${(bootMs / 1000).toFixed(2)} s`);
  }, 600_000);
});

describe.skipIf(!existsSync(FW_DYNAMIC))('OpenSBI fw_dynamic alone', () => {
  it('prints its banner with the virt platform and the FDT address the boot ROM passed', async () => {
    const m = createVirtMachine({ bios: new Uint8Array(readFileSync(FW_DYNAMIC)), names: { bios: FW_DYNAMIC } });
    const out = await m.runUntilOutput('Boot HART MEDELEG', { timeoutMs: 120_000 });
    expect(out).toContain('OpenSBI v1.1');
    expect(out).toMatch(/Platform Name\s+: riscv-virtio,qemu/);
    expect(out).toMatch(/Platform Timer Device\s+: aclint-mtimer @ 10000000Hz/);
    expect(out).toMatch(/Platform Console Device\s+: uart8250/);
    expect(out).toMatch(/Domain0 Next Arg1\s+: 0x0000000087e00000/); // the FDT address
  }, 180_000);
});

describe.skipIf(!haveM)('U-Boot M-mode (qemu-riscv64) as -bios', () => {
  it('reaches its prompt, answers version, and poweroff ends the run through sifive_test', async () => {
    const m = createVirtMachine({ bios: new Uint8Array(readFileSync(UBOOT_M)), names: { bios: UBOOT_M } });
    await m.runUntilOutput('Hit any key to stop autoboot', { timeoutMs: 240_000 });
    expect(m.serial.output).toContain('U-Boot 2023.01');
    expect(m.serial.output).toContain('Model: riscv-virtio,qemu');
    expect(m.serial.output).toContain('Flash: 32 MiB');
    m.serial.feed(' ');
    await m.runUntilOutput('=> ', { timeoutMs: 60_000 });
    expect(await command(m, 'version')).toMatch(/U-Boot 2023\.01/);

    // U-Boot's view of the CFI flash (geometry, IDs, timeouts, sector map) is the one it has under QEMU.
    const flinfo = await command(m, 'flinfo');
    expect(flinfo).toContain('Bank # 1: CFI conformant flash (16 x 16)  Size: 16 MB in 128 Sectors');
    expect(flinfo).toContain('Manufacturer ID: 0x89, Device ID: 0x0018');
    if (qemuAvailable(64)) expect(flinfo).toBe(await qemuAnswer(['-bios', UBOOT_M], 'flinfo'));

    m.serial.clearOutput();
    m.serial.feed('poweroff\r');
    const r = await m.run({ until: 'shutdown', timeoutMs: 60_000 });
    expect(r.reason).toBe('shutdown');
  }, 600_000);
});
