/**
 * NS16550A UART, memory-mapped (QEMU 7.2 hw/char/serial.c, hw/char/serial-mm.c).
 *
 * Contract:
 * - One MMIO region of `8 << regShift` bytes (QEMU serial_mm_init): register `n` at offset
 *   `n << regShift`. Accesses of 1..8 bytes reach the device as ONE register access (QEMU serial_mm_ops
 *   has `impl.max_access_size = 8`), and writes keep only the low byte.
 * - Registers: RBR/THR/DLL (0), IER/DLM (1), IIR/FCR (2), LCR (3), MCR (4), LSR (5), MSR (6), SCR (7),
 *   with DLAB (LCR bit 7) selecting the divisor latch at 0 and 1.
 * - 16-byte receive and transmit FIFOs (FCR bit 0), receive trigger levels 1/4/8/14, the character
 *   timeout interrupt (4 character times on the virtual clock after the last receive or RBR read).
 * - One IRQ output ({@link Ns16550a.irqLine}, sysbus IRQ 0) recomputed in one place ({@link update}),
 *   with the priority order of serial_update_irq: line status, character timeout, received data,
 *   THR empty, modem status.
 * - Transmit is immediate (no baud-rate pacing, as QEMU): a THR write goes straight to the chardev
 *   (or back to the receiver in loopback mode, MCR bit 4), and the THR-empty interrupt follows at once.
 * - Receive is flow-controlled: the chardev delivers only as many bytes as `canReceive()` allows
 *   (QEMU serial_can_receive: up to the trigger level with the FIFO on, one byte with it off).
 * - No modem-control backend: MSR reads DCD|DSR|CTS, as QEMU with a chardev that has no TIOCM ioctl.
 * @module
 */
import { IrqLine } from '../core/irq.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType, prop, type ChardevRef } from '../../qom/index.js';
import { MemoryRegion } from '../../memory/index.js';
import type { MainLoop } from '../../util/main-loop.js';
import type { QemuTimer } from '../../util/timer.js';
import type { Logger } from '../../util/log.js';
import { LifecycleError, PropertyError } from '../../util/errors.js';
import { Chardev, type CharBackend, type ChardevEvent, type ChardevRegistry } from '../../chardev/index.js';
import type { VmStateDescription } from '../../migration/vmstate.js';

/** QOM type name (QEMU TYPE_SERIAL_MM is "serial-mm"; softboard names the chip). */
export const TYPE_NS16550A = 'ns16550a';

// Register numbers (offset >> regShift).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;

const LCR_DLAB = 0x80;

const IER_MSI = 0x08;
const IER_RLSI = 0x04;
const IER_THRI = 0x02;
const IER_RDI = 0x01;

const IIR_NO_INT = 0x01;
const IIR_ID = 0x06;
const IIR_MSI = 0x00;
const IIR_THRI = 0x02;
const IIR_RDI = 0x04;
const IIR_RLSI = 0x06;
const IIR_CTI = 0x0c;
const IIR_FE = 0xc0;

const MCR_LOOP = 0x10;
const MCR_OUT2 = 0x08;

const MSR_DCD = 0x80;
const MSR_DSR = 0x20;
const MSR_CTS = 0x10;
const MSR_ANY_DELTA = 0x0f;

const LSR_TEMT = 0x40;
const LSR_THRE = 0x20;
const LSR_BI = 0x10;
const LSR_OE = 0x02;
const LSR_DR = 0x01;
const LSR_INT_ANY = 0x1e;

const FCR_XFR = 0x04;
const FCR_RFR = 0x02;
const FCR_FE = 0x01;

/** UART_FIFO_LENGTH. */
const FIFO_LENGTH = 16;
const NS_PER_SECOND = 1_000_000_000;

/** A byte FIFO of fixed capacity (QEMU util/fifo8.c). */
class Fifo8 {
  /** Snapshot state (QEMU vmstate_fifo8). */
  static readonly vmstate: VmStateDescription<Fifo8> = {
    name: 'fifo8', version: 1,
    fields: [
      { name: 'buf', kind: 'u8', array: true },
      { name: 'head', kind: 'u32' },
      { name: 'num', kind: 'u32' },
    ],
  };
  private readonly buf: Uint8Array;
  private head = 0;
  num = 0;
  constructor(readonly capacity: number) {
    this.buf = new Uint8Array(capacity);
  }
  get full(): boolean {
    return this.num === this.capacity;
  }
  get empty(): boolean {
    return this.num === 0;
  }
  push(b: number): void {
    this.buf[(this.head + this.num) % this.capacity] = b;
    this.num++;
  }
  pop(): number {
    const b = this.buf[this.head]!;
    this.head = (this.head + 1) % this.capacity;
    this.num--;
    return b;
  }
  reset(): void {
    this.head = 0;
    this.num = 0;
  }
}

/**
 * What an NS16550A needs from its machine. The board passes its machine context (any object with
 * these fields) through {@link Ns16550a.setMachineContext} before realizing the device.
 */
export interface SerialMachineContext {
  /** Owner of the virtual clock (the FIFO character-timeout timer runs on it). */
  readonly mainLoop: MainLoop;
  /** Where guest errors go (default: discarded). */
  readonly log?: Logger;
  /** Resolves `chardev: '<id>'` properties; not needed when the property holds a Chardev object. */
  readonly chardevs?: ChardevRegistry;
}

/**
 * NS16550A UART (QEMU serial-mm). Properties: `chardev` (an id or a Chardev; none: output is dropped),
 * `regShift` (0..3, register stride `1 << regShift`), `baudbase` (input clock / 16, used for the
 * character time; QEMU's RISC-V virt board uses 399193).
 */
export class Ns16550a extends SysBusDevice {
  /** Snapshot state (QEMU vmstate_serial, with the FIFOs and the timeout timer of its subsections). */
  static readonly vmstate: VmStateDescription<Ns16550a> = {
    name: TYPE_NS16550A, version: 1,
    fields: [
      { name: 'divider', kind: 'u16' },
      { name: 'rbr', kind: 'u8' },
      { name: 'thr', kind: 'u8' },
      { name: 'tsr', kind: 'u8' },
      { name: 'ier', kind: 'u8' },
      { name: 'iir', kind: 'u8' },
      { name: 'lcr', kind: 'u8' },
      { name: 'mcr', kind: 'u8' },
      { name: 'lsr', kind: 'u8' },
      { name: 'msr', kind: 'u8' },
      { name: 'scr', kind: 'u8' },
      { name: 'fcr', kind: 'u8' },
      { name: 'thrIpending', kind: 'bool' },
      { name: 'timeoutIpending', kind: 'bool' },
      { name: 'recvFifoItl', kind: 'u8' },
      { name: 'charTransmitTime', kind: 'int' },
      { name: 'recvFifo', kind: 'struct', desc: Fifo8.vmstate },
      { name: 'xmitFifo', kind: 'struct', desc: Fifo8.vmstate },
      { name: 'fifoTimeout', kind: 'timer', get: (s) => s.#fifoTimeout },
    ],
    // The IRQ line is derived from the registers: re-drive it (QEMU serial_post_load + update).
    postLoad: (s) => s.update(),
  };

  /** Chardev id or object (QOM property `chardev`). */
  declare readonly chardev: ChardevRef | null;
  /** Register stride is `1 << regShift` bytes (QOM property `reg-shift`). */
  declare readonly regShift: number;
  /** Baud base: the divisor-1 baud rate (QOM property `baudbase`). */
  declare readonly baudbase: number;

  /** The interrupt output (sysbus IRQ 0). */
  readonly irqLine = new IrqLine(undefined, 'ns16550a.irq');

  #ctx: SerialMachineContext | null = null;
  #region: MemoryRegion | null = null;
  #be: CharBackend | null = null;
  #fifoTimeout: QemuTimer<null> | null = null;

  // Registers and internal state (QEMU SerialState).
  private divider = 0;
  private rbr = 0;
  private thr = 0;
  private tsr = 0;
  private ier = 0;
  private iir = IIR_NO_INT;
  private lcr = 0;
  private mcr = 0;
  private lsr = 0;
  private msr = 0;
  private scr = 0;
  private fcr = 0;
  private thrIpending = false;
  private timeoutIpending = false;
  private recvFifoItl = 1;
  private charTransmitTime = 0;
  private readonly recvFifo = new Fifo8(FIFO_LENGTH);
  private readonly xmitFifo = new Fifo8(FIFO_LENGTH);

  protected override onInit(): void {
    this.initIrq(this.irqLine);
  }

  /**
   * Gives the device its machine's clocks, log and chardev registry. Call before {@link realize}.
   */
  setMachineContext(ctx: SerialMachineContext): void {
    this.assertLive('setting the machine context');
    if (this.realized) throw new LifecycleError(`${this.toString()}: the machine context must be set before realize`);
    this.#ctx = ctx;
  }

  /** The MMIO region (`8 << regShift` bytes); exists once the device is realized. */
  get region(): MemoryRegion {
    if (!this.#region) throw new LifecycleError(`${this.toString()} has no MMIO region before it is realized`);
    return this.#region;
  }

  protected override onRealize(): void {
    const ctx = this.#ctx;
    if (!ctx) {
      throw new LifecycleError(`${this.toString()}: no machine context; call setMachineContext({ mainLoop, log, chardevs }) before realize`);
    }
    if (this.regShift > 3) throw new PropertyError(`${this.typeName}.regShift must be 0..3, got ${this.regShift}`, this.typeName, 'regShift');
    const chr = this.resolveChardev(ctx);
    const size = 8 << this.regShift;
    if (!this.#region) {
      this.#region = MemoryRegion.io(this, 'serial', size, {
        read: (addr) => this.mmRead(addr),
        write: (addr, value) => this.mmWrite(addr, value),
        endianness: 'little',
        valid: { min: 1, max: 8 },
        impl: { min: 1, max: 8 },
      });
      this.initMmio(this.#region);
    } else {
      this.#region.setSize(size);
    }
    this.#fifoTimeout = ctx.mainLoop.timerNew('virtual', () => this.fifoTimeoutInt(), null);
    this.#be = chr?.attach({
      canReceive: () => this.canReceive(),
      receive: (bytes) => this.receive(bytes),
      event: (ev) => this.chrEvent(ev),
    }) ?? null;
    this.reset();
  }

  protected override onUnrealize(): void {
    this.#fifoTimeout?.del();
    this.#fifoTimeout = null;
    this.#be?.detach();
    this.#be = null;
  }

  private resolveChardev(ctx: SerialMachineContext): Chardev | null {
    const ref = this.chardev;
    if (ref === null) return null;
    if (typeof ref === 'string') {
      if (!ctx.chardevs) {
        throw new PropertyError(`${this.typeName}.chardev is '${ref}' but the machine context has no chardev registry`, this.typeName, 'chardev');
      }
      return ctx.chardevs.get(ref);
    }
    if (ref instanceof Chardev) return ref;
    throw new PropertyError(`${this.typeName}.chardev must be a chardev id or a Chardev object`, this.typeName, 'chardev');
  }

  // ---- reset and IRQ -------------------------------------------------------------------------------

  /** QEMU serial_reset (plus FCR cleared, as the hardware does at reset). */
  protected override reset(): void {
    this.rbr = 0;
    this.ier = 0;
    this.iir = IIR_NO_INT;
    this.lcr = 0;
    this.lsr = LSR_TEMT | LSR_THRE;
    this.msr = MSR_DCD | MSR_DSR | MSR_CTS;
    this.divider = 0x0c; // 9600 baud 8N1 by default
    this.mcr = MCR_OUT2;
    this.scr = 0;
    this.fcr = 0;
    this.recvFifoItl = 1;
    this.charTransmitTime = Math.floor(NS_PER_SECOND / 9600) * 10;
    this.timeoutIpending = false;
    this.#fifoTimeout?.del();
    this.recvFifo.reset();
    this.xmitFifo.reset();
    this.thrIpending = false;
    this.update();
  }

  /** Recomputes IIR and the IRQ line from the state (QEMU serial_update_irq). */
  private update(): void {
    let id = IIR_NO_INT;
    if (this.ier & IER_RLSI && this.lsr & LSR_INT_ANY) {
      id = IIR_RLSI;
    } else if (this.ier & IER_RDI && this.timeoutIpending) {
      // IER.RDI masks the timeout interrupt too, as observed on hardware (serial.c).
      id = IIR_CTI;
    } else if (this.ier & IER_RDI && this.lsr & LSR_DR && (!(this.fcr & FCR_FE) || this.recvFifo.num >= this.recvFifoItl)) {
      id = IIR_RDI;
    } else if (this.ier & IER_THRI && this.thrIpending) {
      id = IIR_THRI;
    } else if (this.ier & IER_MSI && this.msr & MSR_ANY_DELTA) {
      id = IIR_MSI;
    }
    this.iir = id | (this.iir & 0xf0);
    this.irqLine.set(id !== IIR_NO_INT);
  }

  // ---- MMIO ----------------------------------------------------------------------------------------

  private mmRead(addr: number): number {
    return this.ioRead(addr >> this.regShift);
  }

  private mmWrite(addr: number, value: number | bigint): void {
    // serial-mm.c: `value &= 255`, one register write whatever the access size.
    const v = typeof value === 'bigint' ? Number(value & 0xffn) : value & 0xff;
    this.ioWrite(addr >> this.regShift, v);
  }

  /** QEMU serial_ioport_read. */
  private ioRead(reg: number): number {
    switch (reg & 7) {
      case RBR_THR_DLL: {
        if (this.lcr & LCR_DLAB) return this.divider & 0xff;
        let ret: number;
        if (this.fcr & FCR_FE) {
          ret = this.recvFifo.empty ? 0 : this.recvFifo.pop();
          if (this.recvFifo.num === 0) {
            this.lsr &= ~(LSR_DR | LSR_BI);
          } else {
            this.armFifoTimeout();
          }
          this.timeoutIpending = false;
        } else {
          ret = this.rbr;
          this.lsr &= ~(LSR_DR | LSR_BI);
        }
        this.update();
        // In loopback mode the UART does not take input from outside.
        if (!(this.mcr & MCR_LOOP)) this.#be?.acceptInput();
        return ret;
      }
      case IER_DLM:
        return this.lcr & LCR_DLAB ? (this.divider >> 8) & 0xff : this.ier;
      case IIR_FCR: {
        const ret = this.iir;
        if ((ret & IIR_ID) === IIR_THRI) {
          this.thrIpending = false;
          this.update();
        }
        return ret;
      }
      case LCR:
        return this.lcr;
      case MCR:
        return this.mcr;
      case LSR: {
        const ret = this.lsr;
        // Reading LSR clears break and overrun.
        if (this.lsr & (LSR_BI | LSR_OE)) {
          this.lsr &= ~(LSR_BI | LSR_OE);
          this.update();
        }
        return ret;
      }
      case MSR: {
        if (this.mcr & MCR_LOOP) {
          // Loopback: the modem outputs (OUT2, OUT1, RTS, DTR) feed the inputs (DCD, RI, CTS, DSR).
          return ((this.mcr & 0x0c) << 4) | ((this.mcr & 0x02) << 3) | ((this.mcr & 0x01) << 5);
        }
        const ret = this.msr;
        if (this.msr & MSR_ANY_DELTA) {
          this.msr &= 0xf0;
          this.update();
        }
        return ret;
      }
      default: // SCR
        return this.scr;
    }
  }

  /** QEMU serial_ioport_write. */
  private ioWrite(reg: number, val: number): void {
    switch (reg & 7) {
      case RBR_THR_DLL:
        if (this.lcr & LCR_DLAB) {
          this.divider = (this.divider & 0xff00) | val;
          this.updateParameters();
          return;
        }
        this.thr = val;
        if (this.fcr & FCR_FE) {
          // Transmit overruns overwrite the oldest byte.
          if (this.xmitFifo.full) this.xmitFifo.pop();
          this.xmitFifo.push(val);
        }
        this.thrIpending = false;
        this.lsr &= ~(LSR_THRE | LSR_TEMT);
        this.update();
        this.xmit();
        return;
      case IER_DLM: {
        if (this.lcr & LCR_DLAB) {
          this.divider = (this.divider & 0x00ff) | (val << 8);
          this.updateParameters();
          return;
        }
        const changed = (this.ier ^ val) & 0x0f;
        this.ier = val & 0x0f;
        // Turning IER.THRI on re-samples THRE, even if reading IIR masked it before (serial.c; Windows relies on it).
        if (changed & IER_THRI) this.thrIpending = (this.ier & IER_THRI) !== 0 && (this.lsr & LSR_THRE) !== 0;
        if (changed) this.update();
        return;
      }
      case IIR_FCR: {
        let v = val;
        // Toggling the FIFO enable flushes both FIFOs.
        if ((v ^ this.fcr) & FCR_FE) v |= FCR_XFR | FCR_RFR;
        if (v & FCR_RFR) {
          this.lsr &= ~(LSR_DR | LSR_BI);
          this.#fifoTimeout?.del();
          this.timeoutIpending = false;
          this.recvFifo.reset();
        }
        if (v & FCR_XFR) {
          this.lsr |= LSR_THRE;
          this.thrIpending = true;
          this.xmitFifo.reset();
        }
        this.writeFcr(v & 0xc9);
        this.update();
        // The receive window may have changed; QEMU's main loop re-polls can_read, softboard asks at once.
        if (!(this.mcr & MCR_LOOP)) this.#be?.acceptInput();
        return;
      }
      case LCR:
        this.lcr = val;
        this.updateParameters();
        return;
      case MCR:
        this.mcr = val & 0x1f;
        return;
      case LSR:
      case MSR:
        return; // read-only; ignored as QEMU
      default: // SCR
        this.scr = val;
    }
  }

  /** QEMU serial_write_fcr: the sticky FCR bits, the IIR FIFO flag and the receive trigger level. */
  private writeFcr(val: number): void {
    this.fcr = val;
    if (val & FCR_FE) {
      this.iir |= IIR_FE;
      this.recvFifoItl = [1, 4, 8, 14][(val >> 6) & 3]!;
    } else {
      this.iir &= ~IIR_FE;
    }
  }

  /** QEMU serial_update_parameters: only the character time matters here (FIFO timeout). */
  private updateParameters(): void {
    if (this.divider === 0 || this.divider > this.baudbase) return;
    let frameSize = 1; // start bit
    if (this.lcr & 0x08) frameSize++; // parity
    const stopBits = this.lcr & 0x04 ? 2 : 1;
    const dataBits = (this.lcr & 0x03) + 5;
    frameSize += dataBits + stopBits;
    const speed = Math.floor(this.baudbase / this.divider);
    this.charTransmitTime = Math.floor(NS_PER_SECOND / speed) * frameSize;
  }

  /** QEMU serial_xmit, with a backend that always takes the byte (a failed write drops it). */
  private xmit(): void {
    do {
      if (this.fcr & FCR_FE) {
        this.tsr = this.xmitFifo.pop();
        if (this.xmitFifo.num === 0) this.lsr |= LSR_THRE;
      } else {
        this.tsr = this.thr;
        this.lsr |= LSR_THRE;
      }
      if (this.lsr & LSR_THRE && !this.thrIpending) {
        this.thrIpending = true;
        this.update();
      }
      if (this.mcr & MCR_LOOP) {
        this.receive(Uint8Array.of(this.tsr));
      } else {
        this.#be?.writeByte(this.tsr);
      }
    } while (!(this.lsr & LSR_THRE));
    this.lsr |= LSR_TEMT;
  }

  // ---- receive -------------------------------------------------------------------------------------

  /** QEMU serial_can_receive: up to the trigger level (then 1) with the FIFO on, else one byte. */
  private canReceive(): number {
    if (this.fcr & FCR_FE) {
      const n = this.recvFifo.num;
      if (n >= FIFO_LENGTH) return 0;
      return n <= this.recvFifoItl ? this.recvFifoItl - n : 1;
    }
    return this.lsr & LSR_DR ? 0 : 1;
  }

  /** QEMU serial_receive1. */
  private receive(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    if (this.fcr & FCR_FE) {
      for (const b of bytes) this.recvFifoPut(b);
      this.lsr |= LSR_DR;
      this.armFifoTimeout();
    } else {
      if (this.lsr & LSR_DR) this.lsr |= LSR_OE;
      this.rbr = bytes[0]!;
      this.lsr |= LSR_DR;
    }
    this.update();
  }

  /** QEMU recv_fifo_put: an overrun keeps the FIFO contents and sets OE. */
  private recvFifoPut(b: number): void {
    if (!this.recvFifo.full) this.recvFifo.push(b);
    else this.lsr |= LSR_OE;
  }

  private chrEvent(ev: ChardevEvent): void {
    if (ev !== 'break') return;
    // QEMU serial_receive_break: a NUL byte with BI.
    this.rbr = 0;
    this.recvFifoPut(0);
    this.lsr |= LSR_BI | LSR_DR;
    this.update();
  }

  private armFifoTimeout(): void {
    const t = this.#fifoTimeout;
    if (t) t.modNs(t.clock.now() + this.charTransmitTime * 4);
  }

  /** QEMU fifo_timeout_int: data has waited 4 character times in the FIFO. */
  private fifoTimeoutInt(): void {
    if (this.recvFifo.num > 0) {
      this.timeoutIpending = true;
      this.update();
    }
  }
}

defineType({
  name: TYPE_NS16550A,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: Ns16550a,
  description: 'NS16550A UART (memory-mapped 16550 with FIFOs)',
  properties: {
    chardev: prop.chardev({ description: 'character backend (id or object)' }),
    regShift: prop.u8(0, { description: 'register stride is 1 << regShift bytes (0..3)' }),
    baudbase: prop.u32(115200, { description: 'baud rate at divisor 1 (the input clock / 16)' }),
  },
});
