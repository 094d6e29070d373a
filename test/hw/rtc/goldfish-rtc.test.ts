import { describe, expect, it } from 'vitest';
import { GoldfishRtc, TYPE_GOLDFISH_RTC } from '../../../src/hw/rtc/goldfish-rtc.js';
import { createObject } from '../../../src/qom/index.js';
import { AddressSpace, MemoryAccessError, MemoryRegion } from '../../../src/memory/index.js';
import { MainLoop } from '../../../src/util/main-loop.js';
import { PropertyError } from '../../../src/util/errors.js';

const TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c, IRQ_ENABLED = 0x10;
const CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c;

/** 2020-01-01T00:00:00Z in ns since the epoch. */
const Y2020 = 1_577_836_800n * 1_000_000_000n;

function rig(props: Record<string, unknown> = { rtcClock: 'vm', base: '2020-01-01T00:00:00' }, hostNow?: () => number) {
  const loop = new MainLoop(hostNow ? { hostNow } : {});
  const rtc = createObject(GoldfishRtc, props);
  rtc.setMachineContext({ mainLoop: loop });
  let level = false;
  rtc.connectIrq(0, (l) => (level = l));
  rtc.realize();
  const root = MemoryRegion.container(null, 'root', 0x200000);
  root.addSubregion(0x101000, rtc.region);
  const as = new AddressSpace(root, 'test');
  const rd = (off: number): number => as.readNumber(0x101000n + BigInt(off), 4);
  const wr = (off: number, v: number): void => as.writeNumber(0x101000n + BigInt(off), v >>> 0, 4);
  const time = (): bigint => {
    const lo = BigInt(rd(TIME_LOW));
    return (BigInt(rd(TIME_HIGH)) << 32n) | lo;
  };
  const setAlarm = (t: bigint): void => {
    wr(ALARM_HIGH, Number(t >> 32n));
    wr(ALARM_LOW, Number(t & 0xffff_ffffn));
  };
  return { loop, rtc, as, rd, wr, time, setAlarm, irq: () => level, vc: loop.virtual };
}

describe('goldfish_rtc', () => {
  it('is registered, 0x24 bytes, word accesses only', () => {
    expect(createObject(TYPE_GOLDFISH_RTC)).toBeInstanceOf(GoldfishRtc);
    const { as, rtc } = rig();
    expect(rtc.region.size).toBe(0x24n);
    expect(() => as.readNumber(0x101000n, 1)).toThrow(MemoryAccessError);
  });

  it('on the virtual clock, counts ns from the base date; TIME_LOW latches TIME_HIGH', () => {
    const { time, vc, rd } = rig();
    expect(time()).toBe(Y2020);
    vc.advanceTo(123_456_789);
    expect(time()).toBe(Y2020 + 123_456_789n);
    const hi = rd(TIME_HIGH);
    vc.advanceTo(2 ** 40); // TIME_HIGH stays latched until TIME_LOW is read again
    expect(rd(TIME_HIGH)).toBe(hi);
    expect(time()).toBe(Y2020 + 2n ** 40n);
  });

  it('fires the alarm at the exact virtual time and raises the IRQ when enabled', () => {
    const { time, vc, setAlarm, rd, wr, irq } = rig();
    vc.advanceTo(1_000);
    wr(IRQ_ENABLED, 1);
    setAlarm(time() + 5_000n);
    expect(rd(ALARM_STATUS)).toBe(1);
    vc.advanceTo(5_999);
    expect(irq()).toBe(false);
    vc.advanceTo(6_000);
    expect(irq()).toBe(true);
    expect(rd(ALARM_STATUS)).toBe(0);
    wr(CLEAR_INTERRUPT, 0);
    expect(irq()).toBe(false);
  });

  it('an alarm in the past fires at once; IRQ_ENABLED gates the line', () => {
    const { time, setAlarm, wr, rd, irq } = rig();
    setAlarm(time() - 1n);
    expect(irq()).toBe(false); // pending but not enabled
    expect(rd(ALARM_STATUS)).toBe(0);
    wr(IRQ_ENABLED, 1);
    expect(irq()).toBe(true);
    expect(rd(IRQ_ENABLED)).toBe(1);
    wr(IRQ_ENABLED, 0);
    expect(irq()).toBe(false);
  });

  it('CLEAR_ALARM cancels a running alarm', () => {
    const { time, vc, setAlarm, wr, rd, irq } = rig();
    wr(IRQ_ENABLED, 1);
    setAlarm(time() + 100n);
    wr(CLEAR_ALARM, 0);
    expect(rd(ALARM_STATUS)).toBe(0);
    vc.advanceTo(1_000_000);
    expect(irq()).toBe(false);
  });

  it('reads back the alarm and lets the guest set the time', () => {
    const { setAlarm, rd, wr, time, vc } = rig();
    setAlarm(Y2020 + 0x1234_5678_9n);
    expect((BigInt(rd(ALARM_HIGH)) << 32n) | BigInt(rd(ALARM_LOW))).toBe(Y2020 + 0x1234_5678_9n);
    wr(TIME_HIGH, 7);
    wr(TIME_LOW, 9);
    expect(time()).toBe((7n << 32n) | 9n);
    vc.advanceTo(50);
    expect(time()).toBe(((7n << 32n) | 9n) + 50n);
  });

  it('by default follows the host clock from the host wall time (whole seconds, as QEMU)', () => {
    let host = 1_700_000_000_250_000_000; // .25 s past a second
    const { time, setAlarm, wr, irq, loop } = rig({}, () => host);
    expect(time()).toBe(1_700_000_000_000_000_000n);
    host += 3_000_000_000;
    expect(time()).toBe(1_700_000_003_000_000_000n);
    wr(IRQ_ENABLED, 1);
    setAlarm(time() + 1_000_000_000n);
    host += 999_000_000;
    loop.runPending();
    expect(irq()).toBe(false);
    host += 2_000_000;
    loop.runPending();
    expect(irq()).toBe(true);
  });

  it('reset clears alarm and interrupt state but not the time', () => {
    const { rtc, time, setAlarm, wr, irq, vc } = rig();
    wr(IRQ_ENABLED, 1);
    setAlarm(0n);
    expect(irq()).toBe(true);
    vc.advanceTo(10);
    rtc.coldReset();
    expect(irq()).toBe(false);
    expect(time()).toBe(Y2020 + 10n);
  });

  it('rejects a malformed base', () => {
    const loop = new MainLoop();
    const rtc = createObject(GoldfishRtc, { base: 'yesterday' });
    rtc.setMachineContext({ mainLoop: loop });
    expect(() => rtc.realize()).toThrow(PropertyError);
  });
});
