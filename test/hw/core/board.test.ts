/**
 * defineBoard: validation errors that name what and where, boards that build and run guest code
 * (raw firmware in ROM, the Debian-built hello.elf), user device types dropped on a board, IRQ wiring
 * through a PLIC or straight to the harts (shared inputs ORed), the generated device tree, isolation.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BoardError, defineBoard, type BoardSpec } from '../../../src/hw/core/board.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../../../src/hw/core/sysbus.js';
import { IrqLine } from '../../../src/hw/core/irq.js';
import { parseFdt } from '../../../src/hw/core/fdt.js';
import { MemoryRegion } from '../../../src/memory/region.js';
import { defineType, prop } from '../../../src/qom/index.js';
import { PropertyError } from '../../../src/util/errors.js';
import { MIP_MEIP } from '../../../src/target/riscv/hart-state.js';
import { addi, code, j, lui, sb, sw, X } from '../../machine/rv-asm.js';

const here = dirname(fileURLToPath(import.meta.url));
const hello = new Uint8Array(readFileSync(join(here, '../../fixtures/riscv/hello.elf')));

/** A user device: a register whose bit 0 is its IRQ output level. */
class IrqPoker extends SysBusDevice {
  declare readonly width: number;
  readonly line = new IrqLine(undefined, 'poker.irq');
  level = 0;
  readonly region = MemoryRegion.io(this, 'poker', 0x10, {
    read: () => this.level,
    write: (_a, v) => { this.level = Number(v) & 1; this.line.set(this.level); },
  });
  protected override onInit(): void {
    this.initMmio(this.region);
    this.initIrq(this.line);
  }
  protected override reset(): void {
    this.level = 0;
    this.line.set(0);
  }
}
const TYPE_POKER = 'test-board-irq-poker';
defineType({
  name: TYPE_POKER, parent: TYPE_SYS_BUS_DEVICE, instance: IrqPoker, properties: { width: prop.u8(4) },
  classInit: (k) => { k['fdt'] = { name: 'poker', compatible: ['acme,poker'] }; },
});

const base: BoardSpec = {
  name: 'tiny',
  cpu: { arch: 'riscv64' },
  memory: [
    { name: 'flash', kind: 'rom', base: 0x2000_0000, size: '64K' },
    { name: 'ram', kind: 'ram', base: 0x8000_0000, size: '1M' },
  ],
  devices: [
    { type: 'ns16550a', id: 'uart0', at: 0x1000_0000, props: { chardev: 'serial0' } },
    { type: 'riscv.sifive.test', id: 'test', at: 0x10_0000 },
  ],
};

describe('defineBoard validation', () => {
  it('names both regions of an overlap', () => {
    const spec: BoardSpec = { ...base, memory: [...base.memory, { name: 'sram', kind: 'ram', base: 0x8008_0000, size: '1M' }] };
    expect(() => defineBoard(spec)).toThrow(BoardError);
    expect(() => defineBoard(spec)).toThrow(/RAM 'sram' at 0x80080000-0x8017ffff overlaps RAM 'ram' at 0x80000000-0x800fffff/);
  });

  it('suggests the device type closest to an unknown one', () => {
    const spec: BoardSpec = { ...base, devices: [{ type: 'ns16550', id: 'uart0', at: 0x1000_0000 }] };
    expect(() => defineBoard(spec)).toThrow(/device 'uart0': unknown device type 'ns16550' \(did you mean 'ns16550a'\?\)/);
  });

  it('rejects IRQ numbers outside the controller', () => {
    const withPlic: BoardSpec = { ...base, interruptController: { base: 0xc00_0000, sources: 32 }, devices: [{ type: TYPE_POKER, id: 'p', at: 0x1002_0000, irq: 32 }] };
    expect(() => defineBoard(withPlic)).toThrow(/device 'p': irq 32 is out of range: the PLIC has sources 1\.\.31/);
    const zero: BoardSpec = { ...withPlic, devices: [{ type: TYPE_POKER, id: 'p', at: 0x1002_0000, irq: 0 }] };
    expect(() => defineBoard(zero)).toThrow(/irq 0 is out of range/);
    const direct: BoardSpec = { ...base, cpu: { arch: 'riscv64', count: 2 }, devices: [{ type: TYPE_POKER, id: 'p', at: 0x1002_0000, irq: 2 }] };
    expect(() => defineBoard(direct)).toThrow(/irq 2 is out of range: without an interruptController, irq n is hart n's external interrupt \(0\.\.1\)/);
  });

  it('reports a bad property value as the QOM PropertyError, naming the device', () => {
    const spec: BoardSpec = { ...base, devices: [{ type: TYPE_POKER, id: 'p', at: 0x1002_0000, props: { width: 300 } }] };
    let err: unknown;
    try { defineBoard(spec); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(PropertyError);
    expect((err as PropertyError).message).toMatch(/device 'p': test-board-irq-poker\.width must be 0\.\.255, got 300/);
    expect((err as PropertyError).property).toBe('width');
    const unknown: BoardSpec = { ...base, devices: [{ type: TYPE_POKER, id: 'p', at: 0x1002_0000, props: { widht: 3 } }] };
    expect(() => defineBoard(unknown)).toThrow(/widht/);
  });

  it('rejects addresses outside the physical address space', () => {
    const spec: BoardSpec = { ...base, cpu: { arch: 'riscv32' }, memory: [{ name: 'ram', kind: 'ram', base: 0x4_0000_0000n, size: '1M' }] };
    expect(() => defineBoard(spec)).toThrow(/RAM 'ram' at 0x400000000-0x4000fffff is outside the 34-bit physical address space of riscv32/);
    const dev: BoardSpec = { ...base, devices: [{ type: TYPE_POKER, id: 'p', at: 1n << 57n }] };
    expect(() => defineBoard(dev)).toThrow(/device 'p': address 0x200000000000000 is outside/);
  });

  it('finds device overlaps when building, naming both', () => {
    const create = defineBoard({ ...base, devices: [...base.devices!, { type: TYPE_POKER, id: 'p', at: 0x1000_0004 }] });
    expect(() => create()).toThrow(/device 'p' at 0x10000004-0x10000013 overlaps device 'uart0' at 0x10000000-0x10000007/);
    const twice = defineBoard({ ...base, devices: [{ type: TYPE_POKER, id: 'p', at: [0x1000_0000, 0x1000_1000] }] });
    expect(() => twice()).toThrow(/has 1 MMIO region\(s\) but 'at' lists 2/);
  });

  it('rejects duplicate and reserved ids', () => {
    expect(() => defineBoard({ ...base, devices: [base.devices![0]!, { ...base.devices![0]!, at: 0x1100_0000 }] })).toThrow(/used twice/);
    expect(() => defineBoard({ ...base, devices: [{ type: TYPE_POKER, id: 'plic', at: 0x1100_0000 }] })).toThrow(/reserved/);
  });
});

describe('a board built by defineBoard', () => {
  const create = defineBoard(base);

  it('runs raw firmware from its ROM: harts start there with a0 = hart id, a1 = the FDT', () => {
    // Print "ok" on the UART, then power off through sifive_test (0x5555).
    const fw = code([
      lui(X.t0, 0x10000), addi(X.t1, X.zero, 0x6f), sb(X.t1, X.t0, 0), addi(X.t1, X.zero, 0x6b), sb(X.t1, X.t0, 0),
      lui(X.t0, 0x100), lui(X.t1, 0x5), addi(X.t1, X.t1, 0x555), sw(X.t1, X.t0, 0), j(0),
    ]);
    const m = create({ firmware: fw });
    expect(m.harts[0]!.pc).toBe(0x2000_0000n);
    expect(m.getRegister('a0')).toBe(0n);
    expect(m.getRegister('a1')).toBe(m.fdtAddr);
    expect(m.fdtAddr).toBeGreaterThanOrEqual(0x8000_0000n);
    const r = m.run({ instructions: 1000 });
    expect(r.reason).toBe('shutdown');
    expect(m.shutdownInfo).toEqual({ kind: 'pass', status: 0 });
    expect(m.serial.output).toBe('ok');
    expect(m.dev('uart0').typeName).toBe('ns16550a');
    expect(() => m.dev('uart1')).toThrow(/no device 'uart1' \(devices: uart0, test\)/);
  });

  it('runs a Debian-built ELF at its entry and keeps its symbols', () => {
    const m = create({ firmware: hello });
    expect(m.entry).toBe(0x8000_0000n);
    expect(m.lookupSymbol('main')).toBe(0x8000_01c4n);
    m.run({ instructions: 200_000 });
    expect(m.serial.output).toBe('Hello from softboard\n');
    expect(m.shutdownInfo?.kind).toBe('pass');
  });

  it('generates a device tree describing its memory, harts and devices', () => {
    const m = create();
    const fdt = parseFdt(m.readMemory(m.fdtAddr, m.fdtBlob!.length));
    expect(fdt.root.getPropString('model')).toBe('tiny');
    expect(fdt.node('/memory@80000000')?.getPropCells('reg')).toEqual([0, 0x8000_0000, 0, 0x10_0000]);
    expect(fdt.node('/cpus/cpu@0')?.getPropString('riscv,isa')).toMatch(/^rv64/);
    expect(fdt.node('/soc/serial@10000000')?.getPropStringList('compatible')).toEqual(['ns16550a']);
    expect(fdt.node('/soc/serial@10000000')?.getPropCells('reg')).toEqual([0, 0x1000_0000, 0, 8]);
    expect(fdt.node('/soc/test@100000')?.getPropStringList('compatible')).toContain('syscon');
    expect(fdt.node('/chosen')?.getPropString('stdout-path')).toBe('/soc/serial@10000000');
  });

  it('keeps two machines of one board apart', () => {
    const a = create(), b = create();
    a.writeMemory(0x8000_0000n, new Uint8Array([1, 2, 3]));
    expect([...b.readMemory(0x8000_0000n, 3)]).toEqual([0, 0, 0]);
    expect(a.dev('uart0')).not.toBe(b.dev('uart0'));
  });
});

describe('IRQ wiring', () => {
  const meip = (m: { harts: { hart: { mip: number } }[] }, h = 0): boolean => (m.harts[h]!.hart.mip & MIP_MEIP) !== 0;

  it('without a PLIC, irq n drives hart n\'s MEIP; outputs sharing an input are ORed', () => {
    const create = defineBoard({
      ...base, cpu: { arch: 'riscv64', count: 2 },
      devices: [
        { type: TYPE_POKER, id: 'a', at: 0x1002_0000, irq: 1 },
        { type: TYPE_POKER, id: 'b', at: 0x1002_1000, irq: 1 },
        { type: TYPE_POKER, id: 'c', at: 0x1002_2000, irq: 0 },
      ],
    });
    const m = create();
    const poke = (addr: bigint, v: number): void => m.writeMemory(addr, new Uint8Array([v, 0, 0, 0]));
    expect([meip(m, 0), meip(m, 1)]).toEqual([false, false]);
    poke(0x1002_0000n, 1);
    expect([meip(m, 0), meip(m, 1)]).toEqual([false, true]);
    poke(0x1002_1000n, 1);
    poke(0x1002_0000n, 0);
    expect(meip(m, 1)).toBe(true); // b still holds it
    poke(0x1002_1000n, 0);
    expect(meip(m, 1)).toBe(false);
    poke(0x1002_2000n, 1);
    expect([meip(m, 0), meip(m, 1)]).toEqual([true, false]);
    const fdt = parseFdt(m.fdtBlob!);
    expect(fdt.node('/soc/poker@10020000')?.getPropStringList('compatible')).toEqual(['acme,poker']);
  });

  it('with a PLIC, irq n is PLIC source n: pending, then MEIP once enabled above threshold', () => {
    const create = defineBoard({
      ...base, interruptController: { base: 0xc00_0000, sources: 32 },
      devices: [{ type: TYPE_POKER, id: 'p', at: 0x1002_0000, irq: 5 }],
    });
    const m = create();
    const w32 = (addr: bigint, v: number): void => m.writeMemory(addr, new Uint8Array(new Uint32Array([v]).buffer));
    const r32 = (addr: bigint): number => new DataView(m.readMemory(addr, 4).buffer).getUint32(0, true);
    m.writeMemory(0x1002_0000n, new Uint8Array([1, 0, 0, 0]));
    expect(r32(0xc00_1000n) & (1 << 5)).toBe(1 << 5); // pending bit of source 5
    expect(meip(m)).toBe(false);
    w32(0xc00_0000n + 5n * 4n, 1); // priority 1
    w32(0xc00_2000n, 1 << 5); // enable for context 0 (hart 0 M)
    expect(meip(m)).toBe(true);
    expect(r32(0xc20_0004n)).toBe(5); // claim
    const fdt = parseFdt(m.fdtBlob!);
    expect(fdt.node('/soc/poker@10020000')?.getPropCells('interrupts')).toEqual([5]);
    expect(fdt.node('/soc/plic@c000000')?.getPropCells('riscv,ndev')).toEqual([31]);
  });
});
