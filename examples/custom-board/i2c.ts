/**
 * ACME I2C controller and a TMP102-style temperature sensor behind it (custom-board example).
 *
 * The controller (one MMIO region of 0x20 bytes, 32-bit registers, no IRQ used) does one bus operation
 * per CMD write, at once (there is no busy state to poll):
 *
 * | offset | name   | meaning                                                                   |
 * |--------|--------|---------------------------------------------------------------------------|
 * | 0x00   | ADDR   | 7-bit target address                                                      |
 * | 0x04   | DATA   | byte to send (CMD WRITE) / byte received (CMD READ)                       |
 * | 0x08   | CMD    | 1 START+address+W, 2 START+address+R (repeated start allowed), 4 WRITE DATA, 8 READ into DATA, 16 STOP |
 * | 0x0c   | STATUS | bit 0 NACK (the last address or byte was not acknowledged), bit 1 BUS_ACTIVE |
 *
 * The sensor (TI TMP102 datasheet, simplified): register pointer set by the first byte written after
 * START+W; register 0 is the temperature, 12 bits left-justified in 16, 0.0625 °C per LSB, two's
 * complement, sent MSB first; register 1 the configuration (kept, not interpreted). Reads continue
 * from the pointer.
 */
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../../src/hw/core/sysbus.js';
import { MemoryRegion } from '../../src/memory/region.js';
import { defineType } from '../../src/qom/type.js';
import { Logger } from '../../src/util/log.js';

/** A device on the I2C bus (QEMU's I2CSlaveClass: event + send + recv, reduced). */
export interface I2cTarget {
  readonly address: number;
  /** START (or repeated START) addressed to this target; `read` is the R/W bit. Returns ACK. */
  start(read: boolean): boolean;
  /** A byte written by the controller. Returns ACK. */
  write(byte: number): boolean;
  /** A byte the controller reads. */
  read(): number;
  /** STOP. */
  stop(): void;
}

export const TYPE_ACME_I2C = 'acme-i2c';
const ADDR = 0x00, DATA = 0x04, CMD = 0x08, STATUS = 0x0c;
const CMD_START_W = 1, CMD_START_R = 2, CMD_WRITE = 4, CMD_READ = 8, CMD_STOP = 16;
const ST_NACK = 1, ST_ACTIVE = 2;

export class AcmeI2c extends SysBusDevice {
  readonly region = MemoryRegion.io(this, TYPE_ACME_I2C, 0x20, {
    read: (addr) => this.read(addr),
    write: (addr, value) => this.write(addr, Number(value) >>> 0),
    valid: { min: 4, max: 4 },
  });
  readonly #targets = new Map<number, I2cTarget>();
  #log = new Logger();
  private addr = 0;
  private data = 0;
  private status = 0;
  #current: I2cTarget | null = null;

  protected override onInit(): void {
    this.initMmio(this.region);
  }

  setMachineContext(ctx: { readonly log?: Logger }): void {
    this.#log = ctx.log ?? new Logger();
  }

  /** Puts a target on the bus. */
  attach(target: I2cTarget): void {
    if (this.#targets.has(target.address)) throw new Error(`acme-i2c: address 0x${target.address.toString(16)} is taken`);
    this.#targets.set(target.address, target);
  }

  protected override reset(): void {
    this.#current?.stop();
    this.#current = null;
    this.addr = 0;
    this.data = 0;
    this.status = 0;
  }

  private read(addr: number): number {
    switch (addr) {
      case ADDR: return this.addr;
      case DATA: return this.data;
      case STATUS: return this.status;
      case CMD: return 0;
      default:
        this.#log.guestError(`acme-i2c: read of unknown register 0x${addr.toString(16)}`);
        return 0;
    }
  }

  private write(addr: number, v: number): void {
    switch (addr) {
      case ADDR: this.addr = v & 0x7f; return;
      case DATA: this.data = v & 0xff; return;
      case CMD: this.command(v); return;
      default:
        this.#log.guestError(`acme-i2c: write to ${addr === STATUS ? 'read-only STATUS' : `unknown register 0x${addr.toString(16)}`}`);
    }
  }

  private command(cmd: number): void {
    const ack = (ok: boolean): void => { this.status = ok ? this.status & ~ST_NACK : this.status | ST_NACK; };
    switch (cmd) {
      case CMD_START_W: case CMD_START_R: {
        const t = this.#targets.get(this.addr) ?? null;
        this.#current = t;
        this.status |= ST_ACTIVE;
        ack(t !== null && t.start(cmd === CMD_START_R));
        return;
      }
      case CMD_WRITE:
        ack(this.#current !== null && this.#current.write(this.data));
        return;
      case CMD_READ:
        this.data = this.#current ? this.#current.read() & 0xff : 0xff; // an idle bus reads as all ones
        return;
      case CMD_STOP:
        this.#current?.stop();
        this.#current = null;
        this.status &= ~ST_ACTIVE;
        return;
      default:
        this.#log.guestError(`acme-i2c: unknown command 0x${cmd.toString(16)}`);
    }
  }
}

defineType({
  name: TYPE_ACME_I2C, parent: TYPE_SYS_BUS_DEVICE, instance: AcmeI2c,
  description: 'ACME byte-at-a-time I2C controller (custom-board example)',
  classInit: (k) => { k['fdt'] = { name: 'i2c', compatible: ['acme,i2c'] }; },
});

/** A TMP102-style temperature sensor. */
export class Tmp102 implements I2cTarget {
  /** The temperature it measures, in °C (set by the host: the "weather"). */
  temperatureC = 25;
  private pointer = 0;
  private config = 0x60a0;
  private expectPointer = false;
  private readIndex = 0;
  private writeBytes: number[] = [];

  constructor(readonly address = 0x48) {}

  start(read: boolean): boolean {
    this.expectPointer = !read;
    this.readIndex = 0;
    this.writeBytes = [];
    return true;
  }

  write(byte: number): boolean {
    if (this.expectPointer) {
      this.pointer = byte & 3;
      this.expectPointer = false;
      return true;
    }
    this.writeBytes.push(byte);
    if (this.pointer === 1 && this.writeBytes.length === 2) this.config = (this.writeBytes[0]! << 8) | this.writeBytes[1]!;
    return true;
  }

  read(): number {
    const reg = this.register(this.pointer);
    const byte = this.readIndex % 2 === 0 ? reg >> 8 : reg & 0xff;
    this.readIndex++;
    return byte;
  }

  stop(): void {
    this.expectPointer = false;
  }

  /** 16-bit register value. */
  private register(p: number): number {
    if (p === 1) return this.config;
    if (p !== 0) return 0;
    const counts = Math.max(-2048, Math.min(2047, Math.round(this.temperatureC * 16)));
    return ((counts & 0xfff) << 4) & 0xffff;
  }
}
