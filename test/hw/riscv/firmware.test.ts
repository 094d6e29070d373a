/**
 * Real firmware from Debian on the virt board (the acceptance runs of /work/shared/reference/acceptance.md):
 * OpenSBI's banner, and U-Boot (M-mode) to its prompt. About 15 s of host time, so only with
 * SOFTBOARD_FULL=1 and when the packages `opensbi` and `u-boot-qemu` are installed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createVirtMachine } from '../../../src/hw/riscv/virt.js';

const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.elf';
const UBOOT_M = '/usr/lib/u-boot/qemu-riscv64/u-boot.bin';
const full = process.env['SOFTBOARD_FULL'] === '1';

describe.skipIf(!full)('Debian firmware (SOFTBOARD_FULL=1)', () => {
  it.skipIf(!existsSync(OPENSBI))('OpenSBI 1.1 (fw_dynamic) prints its banner with the virt platform', async () => {
    const m = createVirtMachine({ bios: new Uint8Array(readFileSync(OPENSBI)) });
    const out = await m.runUntilOutput('Boot HART MEDELEG', { timeoutMs: 120_000 });
    expect(out).toContain('OpenSBI v1.1');
    expect(out).toMatch(/Platform Name\s+: riscv-virtio,qemu/);
    expect(out).toMatch(/Platform Timer Device\s+: aclint-mtimer @ 10000000Hz/);
    expect(out).toMatch(/Platform Console Device\s+: uart8250/);
    expect(out).toMatch(/Domain0 Next Arg1\s+: 0x0000000087e00000/); // the FDT address
  }, 180_000);

  it.skipIf(!existsSync(UBOOT_M))('U-Boot 2023.01 (M-mode) reaches its prompt and answers `version`', async () => {
    const m = createVirtMachine({ bios: new Uint8Array(readFileSync(UBOOT_M)) });
    const serial = m.serial;
    await m.runUntilOutput('Hit any key to stop autoboot', { timeoutMs: 300_000 });
    serial.feed(' ');
    await m.runUntilOutput('=> ', { timeoutMs: 120_000 });
    expect(serial.output).toContain('U-Boot 2023.01');
    expect(serial.output).toContain('Model: riscv-virtio,qemu');
    serial.clearOutput();
    serial.feed('version\r');
    const out = await m.runUntilOutput('=> ', { timeoutMs: 120_000 });
    expect(out).toMatch(/U-Boot 2023\.01/);
  }, 600_000);
});
