/**
 * The virt board is data: RISCV_VIRT_BOARD / virtBoardSpec list QEMU 7.2's devices at QEMU's addresses
 * (hw/riscv/virt.c virt_memmap, UART0_IRQ 10, RTC_IRQ 11, VIRTIO_IRQ 1..8), createVirtMachine is the
 * machine of that data, and changed copies of it given to defineBoard build working machines whose
 * device trees follow the change. Also the generic BoardSpec features virt needs (QOM path, PLIC size,
 * a replacing fdt hook, a boot hook), for user boards.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  createVirtMachine, RISCV_VIRT_BOARD, virtBoardSpec, VirtMachineError,
} from '../../../src/hw/riscv/virt.js';
import { BoardError, defineBoard, type BoardSpec } from '../../../src/hw/core/board.js';
import { defineIrqRegister } from '../../helpers/irq-register.js';
import { Fdt, parseFdt } from '../../../src/hw/core/fdt.js';
import type { IrqEvent } from '../../../src/machine/machine.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../fixtures/riscv/${name}`, import.meta.url)));
const GREETING = 'Hello from softboard\n';

/** A user device: one register whose bit 0 is its IRQ level. */
const TYPE_GPIO = defineIrqRegister('test-virt-board-gpio', {
  size: 0x100, region: 'acme-gpio',
  classData: { fdt: { name: 'gpio', compatible: ['acme,gpio'], props: { 'gpio-controller': [], '#gpio-cells': 2 } } },
});

describe('the virt board as data', () => {
  it("lists QEMU's devices at QEMU's addresses and IRQs", () => {
    const s = RISCV_VIRT_BOARD;
    const at = (id: string): unknown => s.devices!.find((d) => d.id === id);
    // QEMU 7.2 hw/riscv/virt.c virt_memmap and the IRQ numbers of include/hw/riscv/virt.h.
    expect(s.cpu).toMatchObject({ arch: 'riscv64', count: 1, resetVector: 0x1000n, timebaseFreq: 10_000_000 });
    expect(s.memory.map((m) => [m.name, m.kind, BigInt(m.base), BigInt(m.size)])).toEqual([
      ['ram', 'ram', 0x8000_0000n, 128n << 20n],
      ['mrom', 'rom', 0x1000n, 0xf000n],
    ]);
    expect(s.clint).toEqual({ base: 0x200_0000n });
    expect(s.interruptController).toMatchObject({ base: 0xc00_0000n, size: 0x60_0000n });
    expect(at('test')).toMatchObject({ type: 'riscv.sifive.test', at: 0x10_0000n });
    expect(at('rtc')).toMatchObject({ type: 'goldfish_rtc', at: 0x10_1000n, irq: 11 });
    expect(at('uart0')).toMatchObject({ type: 'ns16550a', at: 0x1000_0000n, irq: 10, props: { chardev: 'serial0' } });
    for (let i = 0; i < 8; i++) {
      expect(at(`virtio${i}`)).toMatchObject({ type: 'virtio-mmio', at: 0x1000_1000n + BigInt(i) * 0x1000n, irq: 1 + i });
    }
    expect(at('flash0')).toMatchObject({ type: 'cfi.pflash01', at: 0x2000_0000n, path: '/machine/virt.flash0' });
    expect(at('flash1')).toMatchObject({ type: 'cfi.pflash01', at: 0x2200_0000n, path: '/machine/virt.flash1' });
    expect(s.devices).toHaveLength(13);
  });

  it('varies with the machine options', () => {
    const s = virtBoardSpec({ arch: 'riscv32', memory: '256M', cpus: 4 });
    expect(s.cpu).toMatchObject({ arch: 'riscv32', count: 4 });
    expect(BigInt(s.memory[0]!.size)).toBe(256n << 20n);
    expect(() => virtBoardSpec({ cpus: 0 })).toThrow(VirtMachineError);
  });

  it('is what createVirtMachine builds: defineBoard(RISCV_VIRT_BOARD) gives the same machine', () => {
    const virt = createVirtMachine({ bios: fixture('hello.elf') });
    const plain = defineBoard(RISCV_VIRT_BOARD)({ firmware: fixture('hello.elf') });
    expect(plain.fdtBlob).toEqual(virt.fdtBlob);
    expect(plain.fdtAddr).toBe(virt.bootInfo.fdtAddr);
    expect(plain.memoryMapText()).toBe(virt.memoryMapText());
    const paths = (m: typeof plain): string[] => [...m.devices.values()].map((d) => d.path!);
    expect(paths(plain)).toEqual(paths(virt));
    expect(paths(virt)).toContain('/machine/virt.flash0');
    expect(virt.device('/machine/soc/uart0')).toBe(virt.uart);
    // Both boot the firmware at 0x80000000 through the reset ROM.
    for (const m of [virt, plain]) {
      expect(m.getRegister('pc')).toBe(0x1000n);
      expect(m.run({ instructions: 1_000_000 }).reason).toBe('shutdown');
      expect(m.serial.output).toBe(GREETING);
    }
  });

  it('builds a changed copy, without the RTC and with a user device, whose device tree follows', () => {
    const spec = virtBoardSpec();
    const changed: BoardSpec = {
      ...spec,
      name: 'my-virt',
      devices: [...spec.devices!.filter((d) => d.id !== 'rtc'), { type: TYPE_GPIO, id: 'gpio0', at: 0x1006_0000, irq: 12 }],
    };
    const m = defineBoard(changed)({ firmware: fixture('hello.elf') });
    expect(m.describeAddress(0x10_1000n)).toBe('unmapped');
    expect(m.describeAddress(0x1006_0000n)).toBe("I/O 'acme-gpio'");

    const fdt = parseFdt(m.readMemory(m.fdtAddr, m.fdtBlob!.length));
    expect(fdt.node('/soc/rtc@101000')).toBeUndefined();
    const gpio = fdt.node('/soc/gpio@10060000')!;
    expect(gpio.getPropStringList('compatible')).toEqual(['acme,gpio']);
    expect(gpio.getPropCells('reg')).toEqual([0, 0x1006_0000, 0, 0x100]);
    expect(gpio.getPropU32('interrupts')).toBe(12);
    expect(gpio.getPropU32('interrupt-parent')).toBe(fdt.node('/soc/plic@c000000')!.getPropU32('phandle'));
    expect(gpio.getPropU32('#gpio-cells')).toBe(2);
    // The rest is QEMU's tree: compare with the unchanged board's, node by node.
    const ref = parseFdt(createVirtMachine().fdtBlob);
    const names = (f: Fdt): string[] => f.node('/soc')!.children.map((c) => c.name);
    expect(names(fdt)).toEqual([...names(ref).filter((n) => n !== 'rtc@101000'), 'gpio@10060000']);
    expect(fdt.node('/chosen')!.getPropString('stdout-path')).toBe('/soc/serial@10000000');

    // The machine runs, and the user device's line reaches PLIC source 12.
    const irqs: IrqEvent[] = [];
    m.on('irq', (e) => irqs.push(e));
    m.writeMemory(0x1006_0000n, new Uint8Array([1, 0, 0, 0]));
    expect(m.plic!.irqIn(12).level).toBe(true);
    expect(irqs).toEqual([{ kind: 'device', device: 'gpio0', output: 0, source: 12, level: true }]);
    m.writeMemory(0x1006_0000n, new Uint8Array([0, 0, 0, 0]));
    expect(m.run({ instructions: 1_000_000 }).reason).toBe('shutdown');
    expect(m.serial.output).toBe(GREETING);
  });

  it('drops the UART, test and virtio nodes of devices the copy does not have', () => {
    const spec = virtBoardSpec();
    const m = defineBoard({ ...spec, devices: spec.devices!.filter((d) => !/^(uart0|test|virtio[1-7])$/.test(d.id)) })();
    const fdt = parseFdt(m.fdtBlob!);
    expect(fdt.node('/soc')!.children.map((c) => c.name).filter((n) => !/^(rtc|plic|clint)@/.test(n))).toEqual(['virtio_mmio@10001000']);
    expect(fdt.node('/poweroff')).toBeUndefined();
    expect(fdt.node('/chosen')!.getPropString('stdout-path')).toBeUndefined();
    expect(fdt.node('/flash@20000000')).toBeDefined();
  });
});

describe('BoardSpec features for full boards', () => {
  const base: BoardSpec = {
    name: 'full',
    cpu: { arch: 'riscv64' },
    memory: [{ name: 'ram', kind: 'ram', base: 0x8000_0000, size: '1M' }],
    interruptController: { base: 0xc00_0000, size: '6M' },
    devices: [{ type: 'ns16550a', id: 'uart0', path: '/machine/my-uart', at: 0x1000_0000, irq: 3, props: { chardev: 'serial0' } }],
  };

  it('places a device at its QOM path and maps the PLIC with the given size', () => {
    const m = defineBoard(base)();
    expect(m.device('/machine/my-uart')).toBe(m.dev('uart0'));
    expect(m.describeAddress(0xc5f_fffcn)).toBe("I/O 'riscv.sifive.plic'");
    expect(m.describeAddress(0xc60_0000n)).toBe('unmapped');
  });

  it('checks the path and the PLIC size', () => {
    expect(() => defineBoard({ ...base, devices: [{ ...base.devices![0]!, path: 'soc/uart' }] })).toThrow(/device 'uart0': path 'soc\/uart' must be a QOM path under \/machine\//);
    expect(() => defineBoard({ ...base, interruptController: { base: 0xc00_0000, size: 0x1000 } }))
      .toThrow(/interruptController\.size 0x1000 is too small for the contexts of 1 hart\(s\) \(needs 0x202000\)/);
  });

  it('uses the tree an fdt hook returns, and a boot hook that places it', () => {
    const mine = new Fdt();
    mine.root.setPropString('model', 'hand-made');
    const m = defineBoard({
      ...base,
      cpu: { arch: 'riscv64', resetVector: 0x8000_0000 },
      fdt: () => mine,
      boot: (machine, options) => {
        expect(machine.fdt).toBe(mine);
        const blob = machine.fdt!.toBlob();
        machine.addRom('fw', 0x8000_0000n, options.firmware!);
        machine.addRom('dtb', 0x8008_0000n, blob);
        return { fdtAddr: 0x8008_0000n, fdtBlob: blob, details: 'booted' };
      },
    })({ firmware: new Uint8Array([0x6f, 0, 0, 0]) }); // j .
    expect(parseFdt(m.readMemory(0x8008_0000n, m.fdtBlob!.length)).root.getPropString('model')).toBe('hand-made');
    expect(m.fdtAddr).toBe(0x8008_0000n);
    expect(m.bootResult?.details).toBe('booted');
    // The hook did not ask for the a0/a1 convention.
    expect(m.getRegister('a1')).toBe(0n);
    expect(() => defineBoard({ ...RISCV_VIRT_BOARD, fdt: false })()).toThrow(BoardError);
  });
});
