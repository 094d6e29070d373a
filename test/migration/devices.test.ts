/**
 * Device vmstates on their own: a virtio-mmio transport with a backend (queues configured by the
 * driver, interrupt status, the backend's own state) saved and loaded into another transport.
 */
import { describe, expect, it } from 'vitest';
import { VirtioMmio, VIRTIO_MMIO_INT_VRING, type VirtioDevice } from '../../src/hw/virtio/virtio-mmio.js';
import { createObject } from '../../src/qom/index.js';
import { AddressSpace, MemoryRegion, type AccessSize } from '../../src/memory/index.js';
import { loadVmState, saveVmState, VmStateError, type VmStateDescription } from '../../src/migration/vmstate.js';

/** A backend with one counter of state, declared for snapshots. */
class CountingDevice implements VirtioDevice {
  static readonly vmstate: VmStateDescription<CountingDevice> = { name: 'counting', version: 1, fields: [{ name: 'count', kind: 'u32' }] };
  readonly deviceId = 5;
  readonly hostFeatures = 1n;
  count = 0;
  queueMaxSize(n: number): number { return n < 2 ? 64 : 0; }
  configRead(_o: number, _s: AccessSize): number { return 0; }
  configWrite(): void {}
  setFeatures(): void {}
  queueNotify(): void { this.count++; }
  reset(): void { this.count = 0; }
}

function transport(): { dev: VirtioMmio; be: CountingDevice; wr: (off: number, v: number) => void; rd: (off: number) => number; irq: () => boolean } {
  const dev = createObject(VirtioMmio, { forceLegacy: false });
  let level = false;
  dev.connectIrq(0, (l) => (level = l));
  dev.realize();
  dev.coldReset();
  const be = new CountingDevice();
  dev.plug(be);
  const root = MemoryRegion.container(null, 'root', 0x1000n);
  root.addSubregion(0n, dev.region);
  const as = new AddressSpace(root, 'test');
  return {
    dev, be, irq: () => level,
    wr: (off, v) => as.writeNumber(BigInt(off), v >>> 0, 4),
    rd: (off) => as.readNumber(BigInt(off), 4),
  };
}

describe('virtio-mmio vmstate', () => {
  it('carries queues, registers, interrupt status and the backend state', () => {
    const a = transport();
    a.wr(0x030, 1); // QueueSel 1
    a.wr(0x038, 32); // QueueNum
    a.wr(0x080, 0x1000); a.wr(0x084, 0x2); // desc = 0x2_0000_1000
    a.wr(0x090, 0x3000); a.wr(0x0a0, 0x4000);
    a.wr(0x044, 1); // QueueReady
    a.wr(0x070, 0x7); // Status
    a.wr(0x050, 1); a.wr(0x050, 0); // two notifications
    a.dev.notify(VIRTIO_MMIO_INT_VRING);
    expect(a.irq()).toBe(true);
    const saved = JSON.parse(JSON.stringify(saveVmState(a.dev, VirtioMmio.vmstate))) as unknown;

    const b = transport();
    expect(b.irq()).toBe(false);
    loadVmState(b.dev, VirtioMmio.vmstate, saved);
    expect(b.irq()).toBe(true); // postLoad re-drives the line
    expect(b.be.count).toBe(2);
    expect(b.dev.queue(1)).toEqual({ num: 32, ready: true, desc: 0x2_0000_1000n, avail: 0x3000n, used: 0x4000n, align: 0, pfn: 0 });
    expect(b.rd(0x044)).toBe(1); // QueueSel was restored too: queue 1 is selected and ready
    expect(b.rd(0x070)).toBe(7);
    expect(b.rd(0x060)).toBe(VIRTIO_MMIO_INT_VRING);
    expect(saveVmState(b.dev, VirtioMmio.vmstate)).toEqual(saved);
  });

  it('refuses a backend state for a slot whose backend declares none', () => {
    const a = transport();
    const saved = saveVmState(a.dev, VirtioMmio.vmstate);
    const empty = createObject(VirtioMmio, { forceLegacy: false });
    empty.realize();
    expect(() => loadVmState(empty, VirtioMmio.vmstate, saved)).toThrow(VmStateError);
  });
});
