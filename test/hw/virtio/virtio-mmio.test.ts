import { describe, expect, it } from 'vitest';
import {
  TYPE_VIRTIO_MMIO, VirtioMmio, VIRTIO_MMIO_INT_VRING, type VirtioDevice,
} from '../../../src/hw/virtio/virtio-mmio.js';
import { createObject } from '../../../src/qom/index.js';
import { AddressSpace, MemoryRegion, type AccessSize } from '../../../src/memory/index.js';
import { LifecycleError } from '../../../src/util/errors.js';

const SLOT = 0x1000_1000n;

function rig(forceLegacy?: boolean) {
  const dev = createObject(VirtioMmio, forceLegacy === undefined ? {} : { forceLegacy });
  let level = false;
  dev.connectIrq(0, (l) => (level = l));
  dev.realize();
  dev.coldReset();
  const root = MemoryRegion.container(null, 'root', 0x2000_0000n);
  root.addSubregion(SLOT, dev.region);
  const as = new AddressSpace(root, 'test');
  const rd = (off: number): number => as.readNumber(SLOT + BigInt(off), 4);
  const wr = (off: number, v: number): void => as.writeNumber(SLOT + BigInt(off), v >>> 0, 4);
  return { dev, as, rd, wr, irq: () => level };
}

/** A toy backend: device id 3 (console), two queues of 64, an 8-byte config space. */
class ToyDevice implements VirtioDevice {
  readonly deviceId = 3;
  readonly hostFeatures = (1n << 0n) | (1n << 40n);
  config = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  features: bigint | null = null;
  notified: number[] = [];
  resets = 0;
  statuses: number[] = [];
  queueMaxSize(n: number): number {
    return n < 2 ? 64 : 0;
  }
  configRead(offset: number, size: AccessSize): number {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + (this.config[offset + i] ?? 0);
    return v;
  }
  configWrite(offset: number, value: number, size: AccessSize): void {
    for (let i = 0; i < size; i++) this.config[offset + i] = (value >>> (8 * i)) & 0xff;
  }
  setFeatures(f: bigint): void {
    this.features = f;
  }
  setStatus(s: number): void {
    this.statuses.push(s);
  }
  queueNotify(n: number): void {
    this.notified.push(n);
  }
  reset(): void {
    this.resets++;
  }
}

describe('virtio-mmio, empty slot', () => {
  it('is registered; 0x200-byte region', () => {
    expect(createObject(TYPE_VIRTIO_MMIO)).toBeInstanceOf(VirtioMmio);
    expect(rig().dev.region.size).toBe(0x200n);
  });

  // Values recorded from QEMU 7.2 (qemu-system-riscv64 -M virt -qtest stdio, slot 0x10001000).
  for (const [legacy, version] of [[true, 1], [false, 2]] as const) {
    it(`reads as QEMU 7.2 with force-legacy=${legacy}: magic, Version ${version}, DeviceID 0, vendor, zeros`, () => {
      const { as, rd, wr, irq } = rig(legacy);
      expect(rd(0x000)).toBe(0x74726976);
      expect(rd(0x004)).toBe(version);
      expect(rd(0x008)).toBe(0);
      expect(rd(0x00c)).toBe(0x554d4551);
      expect(as.readNumber(SLOT, 1)).toBe(0x76);
      expect(as.readNumber(SLOT + 1n, 1)).toBe(0);
      expect(as.readNumber(SLOT, 2)).toBe(0x6976);
      expect(as.readNumber(SLOT + 2n, 2)).toBe(0);
      expect(as.read(SLOT, 8)).toBe(BigInt(version) << 32n | 0x74726976n);
      expect(as.read(SLOT + 8n, 8)).toBe(0x554d4551_00000000n);
      for (const off of [0x010, 0x034, 0x044, 0x060, 0x070, 0x0fc, 0x100, 0x1fc]) expect(rd(off)).toBe(0);
      wr(0x070, 0xf);
      wr(0x000, 0);
      expect(rd(0x070)).toBe(0);
      expect(rd(0x000)).toBe(0x74726976);
      expect(irq()).toBe(false);
    });
  }

  it('defaults to the legacy layout, as QEMU 7.2 virt', () => {
    expect(rig().rd(0x004)).toBe(1);
  });
});

describe('virtio-mmio with a backend', () => {
  it('modern layout: identification, 64-bit features with VERSION_1, negotiation at FEATURES_OK', () => {
    const { dev, rd, wr } = rig(false);
    const toy = new ToyDevice();
    dev.plug(toy);
    expect(() => dev.plug(new ToyDevice())).toThrow(LifecycleError);
    expect([rd(0x004), rd(0x008)]).toEqual([2, 3]);
    wr(0x014, 0);
    expect(rd(0x010)).toBe(1);
    wr(0x014, 1);
    expect(rd(0x010)).toBe((1 << 8) | 1); // bit 40 and VIRTIO_F_VERSION_1 (bit 32)
    wr(0x024, 0);
    wr(0x020, 1);
    wr(0x024, 1);
    wr(0x020, 1);
    expect(toy.features).toBe(null); // taken only when the driver sets FEATURES_OK
    wr(0x070, 1 | 2 | 8);
    expect(toy.features).toBe((1n << 32n) | 1n);
    expect(rd(0x070)).toBe(11);
  });

  it('modern layout: queue configuration, ready, notify, interrupt and ack', () => {
    const { dev, rd, wr, irq } = rig(false);
    const toy = new ToyDevice();
    dev.plug(toy);
    wr(0x030, 1);
    expect(rd(0x034)).toBe(64);
    wr(0x038, 32);
    wr(0x080, 0x1000);
    wr(0x084, 0x1);
    wr(0x090, 0x2000);
    wr(0x0a0, 0x3000);
    wr(0x044, 1);
    expect(rd(0x044)).toBe(1);
    expect(dev.queue(1)).toMatchObject({ num: 32, ready: true, desc: 0x1_0000_1000n, avail: 0x2000n, used: 0x3000n });
    wr(0x030, 5);
    expect(rd(0x034)).toBe(0);
    wr(0x050, 1);
    expect(toy.notified).toEqual([1]);
    dev.notify(VIRTIO_MMIO_INT_VRING);
    expect(irq()).toBe(true);
    expect(rd(0x060)).toBe(1);
    wr(0x064, 1);
    expect(irq()).toBe(false);
    expect(rd(0x040)).toBe(0); // QueuePFN is legacy-only
  });

  it('config space accesses of any size go to the backend', () => {
    const { dev, as } = rig(false);
    const toy = new ToyDevice();
    dev.plug(toy);
    expect(as.readNumber(SLOT + 0x100n, 4)).toBe(0x04030201);
    expect(as.readNumber(SLOT + 0x105n, 1)).toBe(6);
    as.writeNumber(SLOT + 0x102n, 0xbeef, 2);
    expect([...toy.config.slice(2, 4)]).toEqual([0xef, 0xbe]);
  });

  it('legacy layout: page size and PFN, status 0 resets the device', () => {
    const { dev, rd, wr } = rig(true);
    const toy = new ToyDevice();
    dev.plug(toy);
    wr(0x028, 4096);
    wr(0x030, 0);
    wr(0x038, 16);
    wr(0x040, 0x80123);
    expect(rd(0x040)).toBe(0x80123);
    expect(dev.queue(0).desc).toBe(0x80123n << 12n);
    wr(0x020, 7); // legacy: features are taken at once
    expect(toy.features).toBe(7n);
    wr(0x070, 7);
    const before = toy.resets;
    wr(0x070, 0);
    expect(toy.resets).toBe(before + 1);
    expect(rd(0x070)).toBe(0);
    expect(rd(0x040)).toBe(0);
    expect(rd(0x044)).toBe(0); // QueueReady is modern-only
  });

  it('registers refuse non-word accesses (read as 0)', () => {
    const { dev, as } = rig(false);
    dev.plug(new ToyDevice());
    expect(as.readNumber(SLOT, 1)).toBe(0);
    expect(as.readNumber(SLOT, 4)).toBe(0x74726976);
  });
});
