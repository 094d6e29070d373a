/**
 * Host memory of a 128 MiB guest (issue #5's target: under 300 MiB RSS): boots Debian's OpenSBI + U-Boot
 * to the autoboot prompt on the RISC-V `virt` board, then writes 112 MiB of guest RAM through the address
 * space (what a guest using its memory would touch), and prints the process RSS and V8 heap after a GC.
 *
 *   npm run bench:rss [-- <backend>]      (backend: auto, the default, closure, js, wasm)
 *
 * Needs Debian's opensbi and u-boot-qemu packages (the paths below).
 */
import { readFileSync } from 'node:fs';
import { createVirtMachine } from '../src/hw/riscv/virt.js';
import type { TcgBackendName } from '../src/hw/core/cpu.js';

const FW = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin';
const UBOOT = '/usr/lib/u-boot/qemu-riscv64_smode/u-boot.bin';
const MiB = 2 ** 20;

const backend = (process.argv[2] ?? 'auto') as TcgBackendName;
const m = createVirtMachine({
  bios: new Uint8Array(readFileSync(FW)), kernel: new Uint8Array(readFileSync(UBOOT)), memory: '128M', backend,
});
await m.runUntilOutput('Hit any key to stop autoboot', { timeoutMs: 240_000 });
const report = (when: string): void => {
  (globalThis as { gc?: () => void }).gc?.();
  const u = process.memoryUsage();
  console.log(`${backend}, ${when}: RSS ${(u.rss / MiB).toFixed(0)} MiB (V8 heap ${(u.heapUsed / MiB).toFixed(0)} MiB used)`);
};
report('after the boot');
// Guest RAM 8..120 MiB: above OpenSBI and U-Boot's load address, below U-Boot's relocated copy.
const chunk = new Uint8Array(MiB).fill(0x5a);
for (let off = 8 * MiB; off < 120 * MiB; off += MiB) m.addressSpace.writeBytes(0x80000000n + BigInt(off), chunk);
report('after writing 112 MiB of guest RAM');
