/**
 * Shared helpers of the snapshot tests: boot the timer guest, observe everything a continuation can
 * change, and run a sequence of run calls.
 */
import { createVirtMachine, type RiscvVirtMachine, type VirtMachineOptions } from '../../src/hw/riscv/virt.js';
import type { BufferChardev } from '../../src/chardev/index.js';
import type { MachineSnapshot } from '../../src/migration/snapshot.js';
import { timerGuest } from './guest.js';

/** The guest on a 16 MiB virt machine with a fixed RTC base (nothing depends on the host clock). */
export function bootGuest(opts: VirtMachineOptions<BufferChardev> = {}): RiscvVirtMachine {
  return createVirtMachine({ bios: 'none', kernel: timerGuest(), memory: '16M', rtc: { clock: 'vm', base: '2020-01-01T00:00:00' }, ...opts });
}

/** One call of a continuation. */
export type RunStep = { instructions: number } | { for: number };

/** Runs the steps; returns the run results' reasons (part of what must be identical). */
export function runSteps(m: RiscvVirtMachine, steps: readonly RunStep[]): string[] {
  return steps.map((s) => m.run(s).reason);
}

/** FNV-1a over 32-bit words (RAM sizes here are multiples of 4). */
export function hashBytes(b: Uint8Array): number {
  const w = new Int32Array(b.buffer, b.byteOffset, b.length >> 2);
  let h = 0x811c9dc5 | 0;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i]!, 0x01000193);
  return h >>> 0;
}

/** Everything observable after a continuation: output since `outFrom`, registers, time, RAM, device state. */
export function observe(m: RiscvVirtMachine, outFrom: number): Record<string, unknown> {
  const regs: Record<string, string> = {};
  for (const r of [...Array.from({ length: 32 }, (_, i) => `x${i}`), 'pc', 'mstatus', 'mip', 'mie', 'mepc', 'mcause', 'stimecmp', 'mtvec']) {
    regs[r] = m.getRegister(r).toString(16);
  }
  return {
    output: m.serial.output.slice(outFrom),
    regs,
    instructions: m.instructions,
    virtualTimeNs: m.virtualTimeNs,
    ram: hashBytes(m.ram.ram!.bytes),
    state: withoutRam(m.snapshot()),
  };
}

/** A snapshot without its RAM part (which {@link observe} hashes). */
export function withoutRam(s: MachineSnapshot): Omit<MachineSnapshot, 'ram'> {
  const { ram: _ram, ...rest } = s;
  return rest;
}
