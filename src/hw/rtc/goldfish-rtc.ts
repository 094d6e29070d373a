/**
 * Goldfish RTC (QEMU 7.2 hw/rtc/goldfish_rtc.c), the RISC-V virt board's real-time clock.
 *
 * Contract:
 * - One MMIO region of 0x24 bytes, 4-byte little-endian accesses:
 *   TIME_LOW (0x00, reading it latches TIME_HIGH), TIME_HIGH (0x04), ALARM_LOW (0x08, writing it arms
 *   the alarm), ALARM_HIGH (0x0c), IRQ_ENABLED (0x10), CLEAR_ALARM (0x14), ALARM_STATUS (0x18),
 *   CLEAR_INTERRUPT (0x1c). Time and alarm are nanoseconds since the Unix epoch.
 * - One IRQ output (sysbus IRQ 0, {@link GoldfishRtc.irqLine}): high while the alarm has fired
 *   (`irq_pending`) and IRQ_ENABLED is set.
 * - Clock: like QEMU's default `-rtc clock=host`, the time follows the machine's host clock
 *   (`rtcClock: 'host'`); `rtcClock: 'vm'` follows the virtual clock instead, so a run is
 *   deterministic, and `'rt'` the monotonic host clock. `base` gives the time at realize: `'utc'`
 *   (the host clock's wall time, whole seconds, as QEMU qemu_get_timedate) or a date
 *   `YYYY-MM-DDTHH:MM:SS` taken as UTC (as `-rtc base=`).
 * @module
 */
import { IrqLine } from '../core/irq.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../core/sysbus.js';
import { defineType, prop } from '../../qom/index.js';
import { MemoryRegion } from '../../memory/index.js';
import type { MainLoop } from '../../util/main-loop.js';
import type { QemuClock } from '../../util/clock.js';
import type { QemuTimer } from '../../util/timer.js';
import { Logger } from '../../util/log.js';
import { LifecycleError, PropertyError } from '../../util/errors.js';
import { VmStateError, type VmStateDescription } from '../../migration/vmstate.js';

/** QOM type name (QEMU TYPE_GOLDFISH_RTC). */
export const TYPE_GOLDFISH_RTC = 'goldfish_rtc';

const RTC_TIME_LOW = 0x00;
const RTC_TIME_HIGH = 0x04;
const RTC_ALARM_LOW = 0x08;
const RTC_ALARM_HIGH = 0x0c;
const RTC_IRQ_ENABLED = 0x10;
const RTC_CLEAR_ALARM = 0x14;
const RTC_ALARM_STATUS = 0x18;
const RTC_CLEAR_INTERRUPT = 0x1c;

/** Size of the MMIO region. */
export const GOLDFISH_RTC_SIZE = 0x24;

const U64 = (1n << 64n) - 1n;
const LO32 = 0xffff_ffffn;
const NS_PER_SECOND = 1_000_000_000;

/** What the RTC needs from its machine. */
export interface GoldfishRtcMachineContext {
  /** Owner of the host, virtual and realtime clocks. */
  readonly mainLoop: MainLoop;
  /** Where guest errors go (default: discarded). */
  readonly log?: Logger;
}

/** Parses `base`: `'utc'` → null (now), or `YYYY-MM-DDTHH:MM:SS` (UTC) → ns since the epoch. */
function parseBase(base: string): bigint | null {
  if (base === 'utc') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2}))?$/.exec(base);
  if (!m) {
    throw new PropertyError(`goldfish_rtc.base must be 'utc' or a date like 2006-06-17T16:01:21, got '${base}'`, TYPE_GOLDFISH_RTC, 'base');
  }
  const n = (i: number): number => Number(m[i] ?? '0');
  const ms = Date.UTC(n(1), n(2) - 1, n(3), n(4), n(5), n(6));
  return BigInt(ms) * 1_000_000n;
}

/** Goldfish RTC. */
export class GoldfishRtc extends SysBusDevice {
  /**
   * Snapshot state (QEMU goldfish_rtc_vmstate). As QEMU's pre_save/post_load, the tick offset travels
   * relative to the virtual clock, so an RTC on the host clock keeps its time across a restore in
   * another process; on `vm` it is exact.
   */
  static readonly vmstate: VmStateDescription<GoldfishRtc> = {
    name: TYPE_GOLDFISH_RTC, version: 1,
    fields: [
      {
        name: 'tickOffsetVm', kind: 'custom',
        save: (s) => ((s.tickOffset + s.clockDelta()) & U64).toString(),
        load: (s, v) => {
          if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new VmStateError(`goldfish_rtc.tickOffsetVm: expected a decimal string, got ${JSON.stringify(v)}`);
          s.tickOffset = (BigInt(v) - s.clockDelta()) & U64;
        },
      },
      { name: 'alarmNext', kind: 'u64' },
      { name: 'alarmRunning', kind: 'u32' },
      { name: 'irqPending', kind: 'u32' },
      { name: 'irqEnabled', kind: 'u32' },
      { name: 'timeHigh', kind: 'u32' },
      { name: 'timer', kind: 'timer', get: (s) => s.#timer },
    ],
    postLoad: (s) => s.update(),
  };

  /** Clock the time follows: `host` (default), `vm` (virtual, deterministic) or `rt` (QOM property `rtc-clock`). */
  declare readonly rtcClock: 'host' | 'vm' | 'rt';
  /** Time at realize: `utc` (now) or `YYYY-MM-DDTHH:MM:SS` (QOM property `base`). */
  declare readonly base: string;

  /** The interrupt output (sysbus IRQ 0). */
  readonly irqLine = new IrqLine(undefined, 'goldfish_rtc.irq');
  /** The MMIO region (0x24 bytes, sysbus region 0). */
  readonly region: MemoryRegion;

  #ctx: GoldfishRtcMachineContext | null = null;
  #log = new Logger();
  #clock: QemuClock | null = null;
  #timer: QemuTimer<null> | null = null;

  /** RTC ns minus clock ns (QEMU tick_offset), mod 2^64. */
  private tickOffset = 0n;
  private alarmNext = 0n;
  private alarmRunning = 0;
  private irqPending = 0;
  private irqEnabled = 0;
  private timeHigh = 0;

  constructor() {
    super();
    this.region = MemoryRegion.io(this, TYPE_GOLDFISH_RTC, GOLDFISH_RTC_SIZE, {
      read: (addr) => this.read(addr),
      write: (addr, value) => this.write(addr, Number(value) >>> 0),
      endianness: 'little',
      valid: { min: 4, max: 4 },
    });
  }

  protected override onInit(): void {
    this.initMmio(this.region);
    this.initIrq(this.irqLine);
  }

  /** Gives the device its machine's clocks and log. Call before {@link realize}. */
  setMachineContext(ctx: GoldfishRtcMachineContext): void {
    this.assertLive('setting the machine context');
    if (this.realized) throw new LifecycleError(`${this.toString()}: the machine context must be set before realize`);
    this.#ctx = ctx;
  }

  protected override onRealize(): void {
    const ctx = this.#ctx;
    if (!ctx) throw new LifecycleError(`${this.toString()}: no machine context; call setMachineContext({ mainLoop, log }) before realize`);
    const fixed = parseBase(this.base);
    this.#log = ctx.log ?? new Logger();
    const loop = ctx.mainLoop;
    this.#clock = this.rtcClock === 'vm' ? loop.virtual : this.rtcClock === 'rt' ? loop.realtime : loop.host;
    this.#timer = this.#clock.timerNew(() => this.interrupt(), null);
    // QEMU goldfish_rtc_realize: whole seconds of the wall time, minus the clock's reading.
    const startNs = fixed ?? BigInt(Math.floor(loop.host.now() / NS_PER_SECOND)) * 1_000_000_000n;
    this.tickOffset = (startNs - BigInt(this.#clock.now())) & U64;
    this.reset();
  }

  protected override onUnrealize(): void {
    this.#timer?.del();
    this.#timer = null;
  }

  /** QEMU goldfish_rtc_reset: alarm and interrupt state cleared; the time keeps running. */
  protected override reset(): void {
    this.#timer?.del();
    this.alarmNext = 0n;
    this.alarmRunning = 0;
    this.irqPending = 0;
    this.irqEnabled = 0;
    this.update();
  }

  /** The RTC time in ns since the Unix epoch (QEMU goldfish_rtc_get_count). */
  getCount(): bigint {
    return (this.tickOffset + BigInt(this.#clock!.now())) & U64;
  }

  /** The RTC's clock minus the virtual clock, in ns (0 for `vm`). */
  private clockDelta(): bigint {
    const c = this.#clock;
    const v = this.#ctx?.mainLoop.virtual;
    return c && v ? BigInt(c.now()) - BigInt(v.now()) : 0n;
  }

  /** QEMU goldfish_rtc_update. */
  private update(): void {
    this.irqLine.set((this.irqPending & this.irqEnabled) !== 0);
  }

  /** QEMU goldfish_rtc_interrupt: the alarm fired. */
  private interrupt(): void {
    this.alarmRunning = 0;
    this.irqPending = 1;
    this.update();
  }

  private clearAlarm(): void {
    this.#timer!.del();
    this.alarmRunning = 0;
  }

  /** QEMU goldfish_rtc_set_alarm. */
  private setAlarm(): void {
    const ticks = this.getCount();
    const event = this.alarmNext;
    if (event <= ticks) {
      this.clearAlarm();
      this.interrupt();
      return;
    }
    // Expiry in the clock's own time: event - tick_offset (as QEMU).
    const expire = (event - this.tickOffset) & U64;
    if (event - ticks > 1n << 62n) this.#timer!.del(); // more than a century away: never
    else this.#timer!.modNs(Number(expire));
    this.alarmRunning = 1;
  }

  private read(addr: number): number {
    switch (addr) {
      case RTC_TIME_LOW: {
        const r = this.getCount();
        this.timeHigh = Number(r >> 32n);
        return Number(r & LO32);
      }
      case RTC_TIME_HIGH:
        return this.timeHigh;
      case RTC_ALARM_LOW:
        return Number(this.alarmNext & LO32);
      case RTC_ALARM_HIGH:
        return Number(this.alarmNext >> 32n);
      case RTC_IRQ_ENABLED:
        return this.irqEnabled;
      case RTC_ALARM_STATUS:
        return this.alarmRunning;
      default:
        this.#log.guestError(`goldfish_rtc_read: offset 0x${addr.toString(16)} is UNIMP.`);
        return 0;
    }
  }

  private write(addr: number, value: number): void {
    const v = BigInt(value);
    switch (addr) {
      case RTC_TIME_LOW: {
        const cur = this.getCount();
        this.tickOffset = (this.tickOffset + ((cur & ~LO32) | v) - cur) & U64;
        return;
      }
      case RTC_TIME_HIGH: {
        const cur = this.getCount();
        this.tickOffset = (this.tickOffset + ((v << 32n) | (cur & LO32)) - cur) & U64;
        return;
      }
      case RTC_ALARM_LOW:
        this.alarmNext = (this.alarmNext & ~LO32) | v;
        this.setAlarm();
        return;
      case RTC_ALARM_HIGH:
        this.alarmNext = (v << 32n) | (this.alarmNext & LO32);
        return;
      case RTC_IRQ_ENABLED:
        this.irqEnabled = value & 1;
        this.update();
        return;
      case RTC_CLEAR_ALARM:
        this.clearAlarm();
        return;
      case RTC_CLEAR_INTERRUPT:
        this.irqPending = 0;
        this.update();
        return;
      default:
        this.#log.guestError(`goldfish_rtc_write: offset 0x${addr.toString(16)} is UNIMP.`);
    }
  }
}

defineType({
  name: TYPE_GOLDFISH_RTC,
  parent: TYPE_SYS_BUS_DEVICE,
  instance: GoldfishRtc,
  description: 'Goldfish real-time clock with alarm',
  properties: {
    rtcClock: prop.enum(['host', 'vm', 'rt'] as const, 'host', { description: 'clock the RTC follows (host, vm = virtual, rt)' }),
    base: prop.string('utc', { description: "start time: 'utc' (now) or YYYY-MM-DDTHH:MM:SS" }),
  },
});
