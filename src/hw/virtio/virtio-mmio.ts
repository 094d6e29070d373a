/**
 * virtio-mmio transport (QEMU 7.2 hw/virtio/virtio-mmio.c), the RISC-V virt board's eight virtio slots.
 *
 * Contract:
 * - One MMIO region of 0x200 bytes (registers below 0x100, device config space from 0x100), any access
 *   size as QEMU (registers answer 4-byte accesses; others log a guest error and read 0), and one IRQ
 *   output (sysbus IRQ 0, {@link VirtioMmio.irqLine}) high while InterruptStatus is non-zero.
 * - Without a backend (an empty slot) every register reads 0 except MagicValue 0x74726976 ("virt"),
 *   Version and VendorID 0x554d4551 ("QEMU"), and writes are ignored: Linux and U-Boot see a valid
 *   transport with DeviceID 0 and skip it.
 * - `forceLegacy` (QEMU `force-legacy`) picks the layout: true is the legacy (Version 1) layout with
 *   GuestPageSize/QueuePFN/QueueAlign; false the virtio 1.x layout (Version 2) with QueueReady and
 *   64-bit queue addresses, and VIRTIO_F_VERSION_1 offered. QEMU 7.2's `virtio-mmio` defaults to
 *   true and its virt board does not change it (`-M virt` reads Version 1); the default here follows.
 * - A backend plugs in with {@link VirtioMmio.plug}: a {@link VirtioDevice} gives its id, features,
 *   queue sizes and config space, and receives status, features, queue notifications and resets; it
 *   raises interrupts with {@link VirtioMmio.notify}.
 * @module
 */
import { IrqLine } from '../core/irq.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType, prop } from '../../qom/index.js';
import { MemoryRegion, type AccessSize } from '../../memory/index.js';
import { Logger } from '../../util/log.js';
import { LifecycleError } from '../../util/errors.js';
import { loadVmState, saveVmState, vmStateOf, VmStateError, type VmJson, type VmStateDescription } from '../../migration/vmstate.js';

/** QOM type name (QEMU TYPE_VIRTIO_MMIO). */
export const TYPE_VIRTIO_MMIO = 'virtio-mmio';

// Register offsets (QEMU include/standard-headers/linux/virtio_mmio.h).
export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
export const VIRTIO_MMIO_VERSION = 0x004;
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
export const VIRTIO_MMIO_GUEST_PAGE_SIZE = 0x028;
export const VIRTIO_MMIO_QUEUE_SEL = 0x030;
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
export const VIRTIO_MMIO_QUEUE_NUM = 0x038;
export const VIRTIO_MMIO_QUEUE_ALIGN = 0x03c;
export const VIRTIO_MMIO_QUEUE_PFN = 0x040;
export const VIRTIO_MMIO_QUEUE_READY = 0x044;
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
export const VIRTIO_MMIO_STATUS = 0x070;
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
export const VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090;
export const VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094;
export const VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0;
export const VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4;
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
export const VIRTIO_MMIO_CONFIG = 0x100;

/** "virt", little-endian. */
export const VIRT_MAGIC = 0x74726976;
/** "QEMU", little-endian. */
export const VIRT_VENDOR = 0x554d4551;
/** Size of the transport's region (QEMU virtio_mmio_realizefn). */
export const VIRTIO_MMIO_SIZE = 0x200;
/** Most queues a device can have (QEMU VIRTIO_QUEUE_MAX). */
export const VIRTIO_QUEUE_MAX = 1024;

/** Device status bits (virtio spec 2.1). */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
/** Feature bit 32: the device is a virtio 1.x (non-legacy) device. */
export const VIRTIO_F_VERSION_1 = 32n;

/** Interrupt status bits. */
export const VIRTIO_MMIO_INT_VRING = 1;
export const VIRTIO_MMIO_INT_CONFIG = 2;

/** One virtqueue as the driver configured it through the transport. */
export interface VirtqueueConfig {
  /** Queue size the driver chose (QueueNum). */
  num: number;
  /** Modern: QueueReady. Legacy: true once QueuePFN is non-zero. */
  ready: boolean;
  /** Guest-physical addresses of the descriptor table, available (driver) and used (device) rings. */
  desc: bigint;
  avail: bigint;
  used: bigint;
  /** Legacy: QueueAlign and QueuePFN (the rings follow the descriptor table, aligned). */
  align: number;
  pfn: number;
}

/**
 * A virtio device backend behind a transport (the VirtIODevice side of QEMU's virtio bus). A console,
 * block or net device implements this and is plugged into a {@link VirtioMmio}.
 */
export interface VirtioDevice {
  /** Virtio device id (1 net, 2 block, 3 console, …). */
  readonly deviceId: number;
  /** Feature bits the device offers (the transport adds VIRTIO_F_VERSION_1 in modern mode). */
  readonly hostFeatures: bigint;
  /** Largest size of queue `n`, or 0 if the queue does not exist. */
  queueMaxSize(n: number): number;
  /** Reads `size` bytes of config space at `offset` (little-endian in modern mode). */
  configRead(offset: number, size: AccessSize): number;
  /** Writes config space. */
  configWrite(offset: number, value: number, size: AccessSize): void;
  /** Config generation counter (modern ConfigGeneration); 0 if the config never changes. */
  readonly configGeneration?: number;
  /** The driver accepted these features. */
  setFeatures(features: bigint): void;
  /** The driver wrote the status register (after the transport stored it). */
  setStatus?(status: number): void;
  /** The driver notified queue `n` (QueueNotify). */
  queueNotify(n: number): void;
  /** The device is reset (status 0 or machine reset). */
  reset(): void;
  /** Called once when plugged, with the transport to read queues from and raise interrupts on. */
  plugged?(transport: VirtioMmio): void;
}

/** What the transport needs from its machine (only a logger). */
export interface VirtioMmioMachineContext {
  /** Where guest errors go (default: discarded). */
  readonly log?: Logger;
}

function newQueue(): VirtqueueConfig {
  return { num: 0, ready: false, desc: 0n, avail: 0n, used: 0n, align: 0, pfn: 0 };
}

/** Snapshot state of one queue (QEMU vmstate_virtio_mmio_queue_state), `n` its index. */
const VIRTQUEUE_VMSTATE: VmStateDescription<VirtqueueConfig & { n: number }> = {
  name: 'virtqueue', version: 1,
  fields: [
    { name: 'n', kind: 'u32' },
    { name: 'num', kind: 'u32' },
    { name: 'ready', kind: 'bool' },
    { name: 'desc', kind: 'u64' },
    { name: 'avail', kind: 'u64' },
    { name: 'used', kind: 'u64' },
    { name: 'align', kind: 'u32' },
    { name: 'pfn', kind: 'u32' },
  ],
};

const LO32 = 0xffff_ffffn;

/** virtio-mmio transport; an empty slot until a {@link VirtioDevice} is plugged. */
export class VirtioMmio extends SysBusDevice {
  /**
   * Snapshot state (QEMU vmstate_virtio_mmio + the VirtIODevice fields the transport holds). A plugged
   * backend's own state is carried if its class declares `static readonly vmstate`.
   */
  static readonly vmstate: VmStateDescription<VirtioMmio> = {
    name: TYPE_VIRTIO_MMIO, version: 1,
    fields: [
      { name: 'hostFeaturesSel', kind: 'u32' },
      { name: 'guestFeaturesSel', kind: 'u32' },
      { name: 'guestFeatures', kind: 'u32', array: 2 },
      { name: 'guestPageShift', kind: 'u32' },
      { name: 'queueSel', kind: 'u32' },
      { name: 'status', kind: 'u32' },
      { name: 'isr', kind: 'u32' },
      {
        name: 'queues', kind: 'custom',
        save: (s) => [...s.queues].sort((a, b) => a[0] - b[0]).map(([n, q]) => saveVmState({ n, ...q }, VIRTQUEUE_VMSTATE) as unknown as VmJson),
        load: (s, v) => {
          if (!Array.isArray(v)) throw new VmStateError(`virtio-mmio.queues: expected an array, got ${JSON.stringify(v)}`);
          s.queues.clear();
          for (const item of v) {
            const q = { n: 0, ...newQueue() };
            loadVmState(q, VIRTQUEUE_VMSTATE, item, 'virtio-mmio.queues');
            const { n, ...config } = q;
            if (n >= VIRTIO_QUEUE_MAX) throw new VmStateError(`virtio-mmio.queues: queue ${n} is beyond ${VIRTIO_QUEUE_MAX - 1}`);
            s.queues.set(n, config);
          }
        },
      },
      {
        name: 'backend', kind: 'custom',
        save: (s) => {
          const d = s.#vdev ? vmStateOf(s.#vdev) : null;
          return d && s.#vdev ? saveVmState(s.#vdev, d) as unknown as VmJson : null;
        },
        load: (s, v) => {
          if (v === null) return;
          const d = s.#vdev ? vmStateOf(s.#vdev) : null;
          if (!d || !s.#vdev) throw new VmStateError(`virtio-mmio: the saved state has a backend state but this slot's backend declares none`);
          loadVmState(s.#vdev, d, v, 'virtio-mmio.backend');
        },
      },
    ],
    postLoad: (s) => s.update(),
  };

  /** Legacy (Version 1) layout; QEMU's default (QOM property `force-legacy`). */
  declare readonly forceLegacy: boolean;

  /** The interrupt output (sysbus IRQ 0). */
  readonly irqLine = new IrqLine(undefined, 'virtio-mmio.irq');
  /** The MMIO region (0x200 bytes, sysbus region 0). */
  readonly region: MemoryRegion;

  #log = new Logger();
  #vdev: VirtioDevice | null = null;

  // Transport and common device state (QEMU VirtIOMMIOProxy + the VirtIODevice fields it touches).
  private hostFeaturesSel = 0;
  private guestFeaturesSel = 0;
  private guestFeatures = [0, 0];
  private guestPageShift = 0;
  private queueSel = 0;
  private queues = new Map<number, VirtqueueConfig>();
  private status = 0;
  private isr = 0;

  constructor() {
    super();
    this.region = MemoryRegion.io(this, TYPE_VIRTIO_MMIO, VIRTIO_MMIO_SIZE, {
      read: (addr, size) => this.read(addr, size),
      write: (addr, value, size) => this.write(addr, Number(BigInt.asUintN(32, BigInt(value))), size),
      endianness: 'little',
    });
  }

  protected override onInit(): void {
    this.initMmio(this.region);
    this.initIrq(this.irqLine);
  }

  /** Gives the device its machine's logger. */
  setMachineContext(ctx: VirtioMmioMachineContext): void {
    this.#log = ctx.log ?? new Logger();
  }

  /** The plugged backend, or null for an empty slot. */
  get device(): VirtioDevice | null {
    return this.#vdev;
  }

  /** The features the transport offers: the device's, plus VIRTIO_F_VERSION_1 in modern mode. */
  get hostFeatures(): bigint {
    const f = this.#vdev?.hostFeatures ?? 0n;
    return this.forceLegacy ? f : f | (1n << VIRTIO_F_VERSION_1);
  }

  /** The device status register. */
  get deviceStatus(): number {
    return this.status;
  }

  /** Plugs a backend into the slot (QEMU virtio_mmio_device_plugged); one at most. */
  plug(vdev: VirtioDevice): void {
    this.assertLive('plugging a virtio device');
    if (this.#vdev) throw new LifecycleError(`${this.toString()} already has a virtio device (id ${this.#vdev.deviceId})`);
    this.#vdev = vdev;
    vdev.plugged?.(this);
  }

  /** The configuration of queue `n` as the driver set it. */
  queue(n: number): VirtqueueConfig {
    let q = this.queues.get(n);
    if (!q) {
      q = newQueue();
      this.queues.set(n, q);
    }
    return q;
  }

  /** For a backend: sets interrupt status bits (VIRTIO_MMIO_INT_VRING/CONFIG) and updates the IRQ. */
  notify(bits: number): void {
    this.isr |= bits;
    this.update();
  }

  private update(): void {
    // QEMU virtio_mmio_update_irq: no backend, no interrupt.
    this.irqLine.set(this.#vdev !== null && this.isr !== 0);
  }

  /** QEMU virtio_mmio_reset + virtio_reset: transport selectors and the device's state. */
  protected override reset(): void {
    this.resetDevice();
    this.hostFeaturesSel = 0;
    this.guestFeaturesSel = 0;
    this.guestPageShift = 0;
  }

  /** QEMU virtio_reset (+ virtio_mmio_soft_reset for the queue enables). */
  private resetDevice(): void {
    this.#vdev?.reset();
    this.status = 0;
    this.isr = 0;
    this.queueSel = 0;
    this.queues.clear();
    this.guestFeatures = [0, 0];
    this.update();
  }

  private legacyOnly(what: string, isWrite: boolean): void {
    this.#log.guestError(`virtio_mmio_${isWrite ? 'write' : 'read'}: ${isWrite ? 'write to' : 'read from'} legacy register (${what}) in non-legacy mode`);
  }

  private modernOnly(what: string, isWrite: boolean): void {
    this.#log.guestError(`virtio_mmio_${isWrite ? 'write' : 'read'}: ${isWrite ? 'write to' : 'read from'} non-legacy register (${what}) in legacy mode`);
  }

  /** QEMU virtio_mmio_read. */
  private read(offset: number, size: AccessSize): number {
    const vdev = this.#vdev;
    if (!vdev) {
      // No backend: read-as-zero except the identification registers (virtio-mmio.c), so a driver
      // probes a valid transport whose DeviceID 0 no driver claims.
      switch (offset) {
        case VIRTIO_MMIO_MAGIC_VALUE: return VIRT_MAGIC;
        case VIRTIO_MMIO_VERSION: return this.forceLegacy ? 1 : 2;
        case VIRTIO_MMIO_VENDOR_ID: return VIRT_VENDOR;
        default: return 0;
      }
    }
    if (offset >= VIRTIO_MMIO_CONFIG) return vdev.configRead(offset - VIRTIO_MMIO_CONFIG, size);
    if (size !== 4) {
      this.#log.guestError(`virtio_mmio_read: wrong size access to register!`);
      return 0;
    }
    const legacy = this.forceLegacy;
    switch (offset) {
      case VIRTIO_MMIO_MAGIC_VALUE: return VIRT_MAGIC;
      case VIRTIO_MMIO_VERSION: return legacy ? 1 : 2;
      case VIRTIO_MMIO_DEVICE_ID: return vdev.deviceId;
      case VIRTIO_MMIO_VENDOR_ID: return VIRT_VENDOR;
      case VIRTIO_MMIO_DEVICE_FEATURES: {
        const sel = this.hostFeaturesSel;
        if (legacy) return sel !== 0 ? 0 : Number(this.hostFeatures & LO32);
        return sel > 1 ? 0 : Number((this.hostFeatures >> BigInt(32 * sel)) & LO32);
      }
      case VIRTIO_MMIO_QUEUE_NUM_MAX:
        return vdev.queueMaxSize(this.queueSel);
      case VIRTIO_MMIO_QUEUE_PFN:
        if (!legacy) {
          this.legacyOnly('QueuePFN', false);
          return 0;
        }
        return this.queue(this.queueSel).pfn;
      case VIRTIO_MMIO_QUEUE_READY:
        if (legacy) {
          this.modernOnly('QueueReady', false);
          return 0;
        }
        return this.queue(this.queueSel).ready ? 1 : 0;
      case VIRTIO_MMIO_INTERRUPT_STATUS: return this.isr;
      case VIRTIO_MMIO_STATUS: return this.status;
      case VIRTIO_MMIO_CONFIG_GENERATION:
        if (legacy) {
          this.modernOnly('ConfigGeneration', false);
          return 0;
        }
        return vdev.configGeneration ?? 0;
      case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
      case VIRTIO_MMIO_DRIVER_FEATURES:
      case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
      case VIRTIO_MMIO_GUEST_PAGE_SIZE:
      case VIRTIO_MMIO_QUEUE_SEL:
      case VIRTIO_MMIO_QUEUE_NUM:
      case VIRTIO_MMIO_QUEUE_ALIGN:
      case VIRTIO_MMIO_QUEUE_NOTIFY:
      case VIRTIO_MMIO_INTERRUPT_ACK:
      case VIRTIO_MMIO_QUEUE_DESC_LOW:
      case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      case VIRTIO_MMIO_QUEUE_USED_LOW:
      case VIRTIO_MMIO_QUEUE_USED_HIGH:
        this.#log.guestError(`virtio_mmio_read: read of write-only register (0x${offset.toString(16)})`);
        return 0;
      default:
        this.#log.guestError(`virtio_mmio_read: bad register offset (0x${offset.toString(16)})`);
        return 0;
    }
  }

  /** QEMU virtio_mmio_write. */
  private write(offset: number, value: number, size: AccessSize): void {
    const vdev = this.#vdev;
    if (!vdev) return; // no backend: every register is write-ignored
    if (offset >= VIRTIO_MMIO_CONFIG) {
      vdev.configWrite(offset - VIRTIO_MMIO_CONFIG, value, size);
      return;
    }
    if (size !== 4) {
      this.#log.guestError(`virtio_mmio_write: wrong size access to register!`);
      return;
    }
    const legacy = this.forceLegacy;
    const q = (): VirtqueueConfig => this.queue(this.queueSel);
    const setLo = (old: bigint): bigint => (old & ~LO32) | BigInt(value);
    const setHi = (old: bigint): bigint => (BigInt(value) << 32n) | (old & LO32);
    switch (offset) {
      case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
        this.hostFeaturesSel = value;
        return;
      case VIRTIO_MMIO_DRIVER_FEATURES:
        if (legacy) {
          if (this.guestFeaturesSel === 0) vdev.setFeatures(BigInt(value));
        } else if (this.guestFeaturesSel < 2) {
          this.guestFeatures[this.guestFeaturesSel] = value;
        }
        return;
      case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
        this.guestFeaturesSel = value;
        return;
      case VIRTIO_MMIO_GUEST_PAGE_SIZE:
        if (!legacy) return this.legacyOnly('GuestPageSize', true);
        this.guestPageShift = value === 0 ? 0 : 31 - Math.clz32(value & -value);
        return;
      case VIRTIO_MMIO_QUEUE_SEL:
        if (value < VIRTIO_QUEUE_MAX) this.queueSel = value;
        return;
      case VIRTIO_MMIO_QUEUE_NUM:
        q().num = value;
        return;
      case VIRTIO_MMIO_QUEUE_ALIGN:
        if (!legacy) return this.legacyOnly('QueueAlign', true);
        q().align = value;
        return;
      case VIRTIO_MMIO_QUEUE_PFN:
        if (!legacy) return this.legacyOnly('QueuePFN', true);
        if (value === 0) {
          this.resetDevice();
        } else {
          const queue = q();
          queue.pfn = value;
          queue.desc = BigInt(value) << BigInt(this.guestPageShift);
          queue.ready = true;
        }
        return;
      case VIRTIO_MMIO_QUEUE_READY:
        if (legacy) return this.modernOnly('QueueReady', true);
        q().ready = value !== 0;
        return;
      case VIRTIO_MMIO_QUEUE_NOTIFY:
        if (value < VIRTIO_QUEUE_MAX) vdev.queueNotify(value);
        return;
      case VIRTIO_MMIO_INTERRUPT_ACK:
        this.isr &= ~value;
        this.update();
        return;
      case VIRTIO_MMIO_STATUS:
        if (!legacy && value & VIRTIO_CONFIG_S_FEATURES_OK) {
          vdev.setFeatures((BigInt(this.guestFeatures[1]!) << 32n) | BigInt(this.guestFeatures[0]!));
        }
        this.status = value & 0xff;
        vdev.setStatus?.(this.status);
        if (this.status === 0) this.resetDevice();
        return;
      case VIRTIO_MMIO_QUEUE_DESC_LOW:
      case VIRTIO_MMIO_QUEUE_DESC_HIGH:
      case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
      case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
      case VIRTIO_MMIO_QUEUE_USED_LOW:
      case VIRTIO_MMIO_QUEUE_USED_HIGH: {
        if (legacy) return this.modernOnly(`0x${offset.toString(16)}`, true);
        const queue = q();
        const high = (offset & 4) !== 0;
        if (offset < VIRTIO_MMIO_QUEUE_AVAIL_LOW) queue.desc = high ? setHi(queue.desc) : setLo(queue.desc);
        else if (offset < VIRTIO_MMIO_QUEUE_USED_LOW) queue.avail = high ? setHi(queue.avail) : setLo(queue.avail);
        else queue.used = high ? setHi(queue.used) : setLo(queue.used);
        return;
      }
      case VIRTIO_MMIO_MAGIC_VALUE:
      case VIRTIO_MMIO_VERSION:
      case VIRTIO_MMIO_DEVICE_ID:
      case VIRTIO_MMIO_VENDOR_ID:
      case VIRTIO_MMIO_DEVICE_FEATURES:
      case VIRTIO_MMIO_QUEUE_NUM_MAX:
      case VIRTIO_MMIO_INTERRUPT_STATUS:
      case VIRTIO_MMIO_CONFIG_GENERATION:
        this.#log.guestError(`virtio_mmio_write: write to read-only register (0x${offset.toString(16)})`);
        return;
      default:
        this.#log.guestError(`virtio_mmio_write: bad register offset (0x${offset.toString(16)})`);
    }
  }
}

defineType({
  name: TYPE_VIRTIO_MMIO,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: VirtioMmio,
  description: 'virtio-mmio transport (an empty slot until a virtio device is plugged)',
  properties: {
    forceLegacy: prop.bool(true, { description: 'legacy (Version 1) register layout, as QEMU 7.2' }),
  },
});
