import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FINISHER_FAIL, FINISHER_PASS, FINISHER_RESET, SifiveTest, TYPE_SIFIVE_TEST } from '../../../src/hw/misc/sifive-test.js';
import { createObject } from '../../../src/qom/index.js';
import { AddressSpace, MemoryAccessError, MemoryRegion } from '../../../src/memory/index.js';
import { Logger } from '../../../src/util/log.js';

function rig() {
  const dev = createObject(SifiveTest);
  const messages: string[] = [];
  dev.setMachineContext({ log: new Logger({ mask: 'guest_errors', sink: (_c, m) => messages.push(m) }) });
  dev.realize();
  const root = MemoryRegion.container(null, 'root', 0x200000n);
  root.addSubregion(0x100000, dev.region);
  const as = new AddressSpace(root, 'test');
  const events: string[] = [];
  dev.events.on('shutdown', (code, kind) => events.push(`shutdown ${kind} ${code}`));
  dev.events.on('reset', () => events.push('reset'));
  return { dev, as, events, messages };
}

describe('sifive_test', () => {
  it('is a sysbus device with one 4 KiB region', () => {
    const dev = createObject(TYPE_SIFIVE_TEST) as SifiveTest;
    expect(dev.mmioCount).toBe(1);
    expect(dev.region.size).toBe(0x1000n);
  });

  it('PASS, FAIL with a code, and RESET emit events (never exit)', () => {
    const { as, events } = rig();
    as.writeNumber(0x100000n, FINISHER_PASS, 4);
    as.writeNumber(0x100000n, (42 << 16) | FINISHER_FAIL, 4);
    as.writeNumber(0x100000n, FINISHER_RESET, 4);
    as.writeNumber(0x100000n, FINISHER_PASS, 2);
    expect(events).toEqual(['shutdown pass 0', 'shutdown fail 42', 'reset', 'shutdown pass 0']);
  });

  it('decodes any 32-bit value as status | code << 16', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }), (code, status) => {
        const { as, events, messages } = rig();
        as.writeNumber(0x100000n, ((code << 16) | status) >>> 0, 4);
        const expected =
          status === FINISHER_PASS ? ['shutdown pass 0']
          : status === FINISHER_FAIL ? [`shutdown fail ${code}`]
          : status === FINISHER_RESET ? ['reset']
          : [];
        expect(events).toEqual(expected);
        expect(messages.length).toBe(expected.length === 0 ? 1 : 0);
      }),
      { numRuns: 200 },
    );
  });

  it('ignores other offsets (guest error), reads 0, and refuses byte accesses as QEMU', () => {
    const { as, events, messages } = rig();
    as.writeNumber(0x100004n, FINISHER_PASS, 4);
    expect(events).toEqual([]);
    expect(messages[0]).toContain('addr=0x4');
    expect(as.readNumber(0x100000n, 4)).toBe(0);
    expect(() => as.writeNumber(0x100000n, 0x55, 1)).toThrow(MemoryAccessError);
    expect(() => as.read(0x100000n, 8)).toThrow(MemoryAccessError);
  });
});
