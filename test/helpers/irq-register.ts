/**
 * A test device for IRQ wiring: one MMIO register whose bit 0 is the level of the device's one IRQ
 * output (write 1 raises it, 0 lowers it; reads give the level). `defineIrqRegister` registers it under
 * a type name of the test's choosing, with optional QOM class data (e.g. an `fdt` node).
 */
import { IrqLine } from '../../src/hw/core/irq.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../../src/hw/core/sysbus.js';
import { MemoryRegion } from '../../src/memory/region.js';
import { defineType } from '../../src/qom/index.js';

/** Options of {@link defineIrqRegister}. */
export interface IrqRegisterOptions {
  /** Bytes of the MMIO region. */
  readonly size: number;
  /** Name of the MMIO region (default: the type name). */
  readonly region?: string;
  /** QOM class data of the type (e.g. its `fdt` node). */
  readonly classData?: Record<string, unknown>;
}

/** Registers an IRQ-register device type named `type`; returns the type name. */
export function defineIrqRegister(type: string, { size, region, classData }: IrqRegisterOptions): string {
  class IrqRegister extends SysBusDevice {
    readonly line = new IrqLine(undefined, `${type}.irq`);
    readonly region = MemoryRegion.io(this, region ?? type, size, {
      read: () => +this.line.level,
      write: (_a, v) => this.line.set(Number(v) & 1),
    });
    protected override onInit(): void {
      this.initMmio(this.region);
      this.initIrq(this.line);
    }
  }
  defineType({
    name: type, parent: TYPE_SYS_BUS_DEVICE, instance: IrqRegister,
    ...(classData !== undefined ? { classInit: (k: Record<string, unknown>) => { Object.assign(k, classData); } } : {}),
  });
  return type;
}
