/**
 * ACME GPIO: 32 pins, a user-written device for the custom-board example (its own design, not a real
 * part). One MMIO region of 0x20 bytes, 32-bit registers; one IRQ line.
 *
 * | offset | name       | access | meaning                                                         |
 * |--------|------------|--------|-----------------------------------------------------------------|
 * | 0x00   | DIR        | rw     | 1 = pin is an output                                            |
 * | 0x04   | OUT        | rw     | levels driven on output pins                                    |
 * | 0x08   | IN         | r      | levels of all pins (inputs from the outside world, outputs as driven) |
 * | 0x0c   | IRQ_EN     | rw     | 1 = a rising edge on this input pin sets its IRQ_STATUS bit     |
 * | 0x10   | IRQ_STATUS | r/w1c  | pending edges; writing 1 clears                                 |
 *
 * The IRQ line is high while `IRQ_STATUS & IRQ_EN` is non-zero (recomputed in one `update()`).
 * The host side: {@link AcmeGpio.setInput} drives input pins, {@link AcmeGpio.events} `change` reports
 * output changes.
 */
import { EventEmitter } from 'eventemitter3';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../../src/hw/core/sysbus.js';
import { IrqLine } from '../../src/hw/core/irq.js';
import { MemoryRegion } from '../../src/memory/region.js';
import { defineType } from '../../src/qom/type.js';
import { Logger } from '../../src/util/log.js';

export const TYPE_ACME_GPIO = 'acme-gpio';

const DIR = 0x00, OUT = 0x04, IN = 0x08, IRQ_EN = 0x0c, IRQ_STATUS = 0x10;

export interface AcmeGpioEvents {
  /** The levels seen on the output pins changed (bit i = pin i, only output pins). */
  change: [outputs: number];
}

export class AcmeGpio extends SysBusDevice {
  readonly events = new EventEmitter<AcmeGpioEvents>();
  readonly irqLine = new IrqLine(undefined, 'acme-gpio.irq');
  readonly region = MemoryRegion.io(this, TYPE_ACME_GPIO, 0x20, {
    read: (addr) => this.read(addr),
    write: (addr, value) => this.write(addr, Number(value) >>> 0),
    valid: { min: 4, max: 4 },
  });
  #log = new Logger();

  private dir = 0;
  private out = 0;
  /** Levels the outside world drives (kept across resets: the button is still pressed). */
  private external = 0;
  private irqEn = 0;
  private irqStatus = 0;

  protected override onInit(): void {
    this.initMmio(this.region);
    this.initIrq(this.irqLine);
  }

  /** defineBoard hands every device its machine; the GPIO only wants the logger. */
  setMachineContext(ctx: { readonly log?: Logger }): void {
    this.#log = ctx.log ?? new Logger();
  }

  protected override reset(): void {
    this.dir = 0;
    this.out = 0;
    this.irqEn = 0;
    this.irqStatus = 0;
    this.update();
  }

  /** Levels on the output pins. */
  get outputs(): number {
    return (this.out & this.dir) >>> 0;
  }

  /** Drives input pin `pin` from outside (a button, another chip). A rising edge may raise the IRQ. */
  setInput(pin: number, level: boolean): void {
    const bit = 1 << pin;
    const was = (this.external & bit) !== 0;
    this.external = level ? (this.external | bit) >>> 0 : (this.external & ~bit) >>> 0;
    if (level && !was && (this.dir & bit) === 0) this.irqStatus = (this.irqStatus | bit) >>> 0;
    this.update();
  }

  private read(addr: number): number {
    switch (addr) {
      case DIR: return this.dir;
      case OUT: return this.out;
      case IN: return ((this.external & ~this.dir) | (this.out & this.dir)) >>> 0;
      case IRQ_EN: return this.irqEn;
      case IRQ_STATUS: return this.irqStatus;
      default:
        this.#log.guestError(`acme-gpio: read of unknown register 0x${addr.toString(16)}`);
        return 0;
    }
  }

  private write(addr: number, v: number): void {
    const before = this.outputs;
    switch (addr) {
      case DIR: this.dir = v; break;
      case OUT: this.out = v; break;
      case IRQ_EN: this.irqEn = v; break;
      case IRQ_STATUS: this.irqStatus = (this.irqStatus & ~v) >>> 0; break;
      default:
        this.#log.guestError(`acme-gpio: write of 0x${v.toString(16)} to ${addr === IN ? 'read-only IN' : `unknown register 0x${addr.toString(16)}`}`);
    }
    if (this.outputs !== before) this.events.emit('change', this.outputs);
    this.update();
  }

  private update(): void {
    this.irqLine.set((this.irqStatus & this.irqEn) !== 0);
  }
}

defineType({
  name: TYPE_ACME_GPIO, parent: TYPE_SYS_BUS_DEVICE, instance: AcmeGpio,
  description: 'ACME 32-pin GPIO with rising-edge interrupts (custom-board example)',
  classInit: (k) => { k['fdt'] = { name: 'gpio', compatible: ['acme,gpio'] }; },
});
