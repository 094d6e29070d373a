/**
 * System-bus devices (QEMU hw/core/sysbus.c SysBusDevice): devices with MMIO regions at fixed
 * guest-physical addresses and numbered IRQ outputs.
 *
 * A device declares its regions with {@link SysBusDevice.initMmio} and its IRQ outputs with
 * {@link SysBusDevice.initIrq}. The board maps regions (`mmioMap` records the address and tells
 * the `onMap` listeners; the board itself adds the region to its AddressSpace with the memory API)
 * and connects IRQs with `connectIrq`. Regions are held as opaque `{ size }` objects so this layer
 * does not depend on the memory API; boards know they are MemoryRegions.
 * @module
 */
import { WiringError } from '../../util/errors.js';
import { registerType } from '../../qom/type.js';
import { Device, TYPE_DEVICE } from './device.js';
import type { IrqLevelHandler, IrqLine } from './irq.js';

/** Name of the abstract sysbus device type (QEMU TYPE_SYS_BUS_DEVICE). */
export const TYPE_SYS_BUS_DEVICE = 'sys-bus-device';

/** GPIO output group holding a sysbus device's IRQs (QEMU SYSBUS_DEVICE_GPIO_IRQ). */
export const SYSBUS_DEVICE_GPIO_IRQ = 'sysbus-irq';

/** What a sysbus device knows of an MMIO region (a MemoryRegion satisfies it). */
export interface MmioRegionLike {
  readonly size: bigint;
}

/** Called when region `n` of a device is mapped at `addr`. */
export type MmioMapListener = (n: number, addr: bigint, region: MmioRegionLike) => void;

interface MmioSlot {
  readonly region: MmioRegionLike;
  addr: bigint | null;
}

/** Base class of devices on the system bus (QEMU SysBusDevice). */
export abstract class SysBusDevice extends Device {
  readonly #mmio: MmioSlot[] = [];
  readonly #mapListeners: MmioMapListener[] = [];

  /**
   * Declares an MMIO region (QEMU sysbus_init_mmio), usually in the constructor or `onInit`.
   * @returns its index.
   */
  initMmio(region: MmioRegionLike): number {
    this.assertLive('declaring an MMIO region');
    this.#mmio.push({ region, addr: null });
    return this.#mmio.length - 1;
  }

  /** Number of declared MMIO regions. */
  get mmioCount(): number {
    return this.#mmio.length;
  }

  /** MMIO region `n` (QEMU sysbus_mmio_get_region); boards cast it to their region type. */
  mmio<R extends MmioRegionLike = MmioRegionLike>(n: number): R {
    return this.#slot(n).region as R;
  }

  /** Address region `n` is mapped at, or null if unmapped (QEMU sysbus_mmio_get_addr). */
  mmioAddress(n: number): bigint | null {
    return this.#slot(n).addr;
  }

  /**
   * Records that region `n` is mapped at `addr` (QEMU sysbus_mmio_map) and calls the `onMap`
   * listeners, which do the actual mapping into an address space. Mapping again moves it.
   */
  mmioMap(n: number, addr: bigint): void {
    this.assertLive('mapping MMIO');
    const slot = this.#slot(n);
    if (addr < 0n) throw new WiringError(`${this.toString()}: cannot map MMIO region ${n} at negative address ${addr}`);
    slot.addr = addr;
    for (const l of this.#mapListeners) l(n, addr, slot.region);
  }

  /** Adds a listener for {@link mmioMap}. @returns a function removing it. */
  onMap(listener: MmioMapListener): () => void {
    this.#mapListeners.push(listener);
    return () => {
      const i = this.#mapListeners.indexOf(listener);
      if (i >= 0) this.#mapListeners.splice(i, 1);
    };
  }

  /** Declares an IRQ output the device drives (QEMU sysbus_init_irq). @returns its index. */
  initIrq(line: IrqLine): number {
    this.gpioOut([line], SYSBUS_DEVICE_GPIO_IRQ);
    return this.gpioOutCount(SYSBUS_DEVICE_GPIO_IRQ) - 1;
  }

  /** IRQ output `n`. */
  irq(n: number): IrqLine {
    return this.gpioOutLine(n, SYSBUS_DEVICE_GPIO_IRQ);
  }

  /** Number of declared IRQ outputs. */
  get irqCount(): number {
    return this.gpioOutCount(SYSBUS_DEVICE_GPIO_IRQ);
  }

  /** Connects IRQ output `n` to a receiver, e.g. an interrupt controller input (QEMU sysbus_connect_irq). */
  connectIrq(n: number, target: IrqLine | IrqLevelHandler): void {
    this.irq(n).connect(target);
  }

  #slot(n: number): MmioSlot {
    const s = this.#mmio[n];
    if (!s || !Number.isInteger(n)) {
      throw new WiringError(`${this.toString()} has no MMIO region ${n} (it has ${this.#mmio.length})`);
    }
    return s;
  }
}

registerType({ name: TYPE_SYS_BUS_DEVICE, parent: TYPE_DEVICE, abstract: true, instance: SysBusDevice, description: 'base of system-bus devices' });

/** Board helper, as QEMU sysbus_mmio_map: `dev.mmioMap(n, addr)`. */
export function sysbusMmioMap(dev: SysBusDevice, n: number, addr: bigint): void {
  dev.mmioMap(n, addr);
}

/** Board helper, as QEMU sysbus_connect_irq: `dev.connectIrq(n, target)`. */
export function sysbusConnectIrq(dev: SysBusDevice, n: number, target: IrqLine | IrqLevelHandler): void {
  dev.connectIrq(n, target);
}
