/**
 * A small RISC-V system for the gdb stub tests: a RiscvCpu, RAM at 0x80000000, a UART-like MMIO at
 * 0x10000000 (LSR always "ready", THR bytes collected) and a test finisher at 0x100000 (as QEMU virt's
 * sifive_test: 0x5555 pass, (code << 16) | 0x3333 fail). An ELF is loaded with the project's loader.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AddressSpace } from '../../src/memory/address-space.js';
import { MemoryRegion } from '../../src/memory/region.js';
import { RiscvCpu } from '../../src/target/riscv/cpu.js';
import { loadElfFile } from '../../src/hw/core/loader.js';
import type { ElfImage } from '../../src/hw/core/elf.js';
import { RiscvGdbTarget, type RiscvGdbTargetOptions } from '../../src/gdbstub/riscv.js';

const here = dirname(fileURLToPath(import.meta.url));
export const fixturePath = (name: string): string => join(here, '../fixtures/riscv', name);

export interface Rig {
  readonly cpu: RiscvCpu;
  readonly as: AddressSpace;
  readonly elf: Uint8Array;
  readonly image: ElfImage;
  readonly target: RiscvGdbTarget;
  /** Bytes the guest wrote to the UART. */
  readonly uart: number[];
  /** Value written to the finisher, or null. */
  finisher: number | null;
}

export function makeRig(elfName = 'hello.elf', isa?: string, targetOptions: RiscvGdbTargetOptions = {}): Rig {
  const root = MemoryRegion.container(null, 'system', 1n << 64n);
  root.addSubregion(0x80000000n, MemoryRegion.ram(null, 'ram', 0x10000));
  const uart: number[] = [];
  root.addSubregion(0x10000000n, MemoryRegion.io(null, 'uart', 0x100, {
    read: (addr) => (addr === 5 ? 0x60 : 0),
    write: (addr, v) => { if (addr === 0) uart.push(Number(v) & 0xff); },
  }));
  const rig = { uart, finisher: null } as { -readonly [K in keyof Rig]: Rig[K] };
  root.addSubregion(0x100000n, MemoryRegion.io(null, 'finisher', 0x1000, {
    read: () => 0,
    write: (_addr, v) => { rig.finisher = Number(v); },
  }));
  const as = new AddressSpace(root, 'cpu-memory');
  const cpu = new RiscvCpu({ resetVector: 0x80000000n, ...(isa !== undefined ? { isa } : {}) });
  cpu.setAddressSpace(as);
  cpu.realize();
  cpu.coldReset();
  const elf = new Uint8Array(readFileSync(fixturePath(elfName)));
  const { image, entry } = loadElfFile(elf, (addr, data) => as.writeBytes(addr, data));
  cpu.pc = entry;
  // A guest that hits the finisher ends: gdb sees it exit with the finisher's status.
  const exitStatus = (): number => (rig.finisher === 0x5555 ? 0 : (rig.finisher ?? 0) >>> 16);
  const run: NonNullable<RiscvGdbTargetOptions['run']> = (n, until) => {
    const r = cpu.run({ instructions: n, until: () => rig.finisher !== null || until() });
    return rig.finisher !== null ? { reason: 'shutdown', exitStatus: exitStatus() } : r;
  };
  rig.cpu = cpu; rig.as = as; rig.elf = elf; rig.image = image;
  rig.target = new RiscvGdbTarget(cpu, { run, ...targetOptions });
  return rig as Rig;
}
