/**
 * Clocks (QEMU util/qemu-timer.c QEMUClock, include/qemu/timer.h QEMUClockType).
 *
 * - `virtual` ({@link VirtualClock}): guest time. It moves only when told: the CPU loop advances it from the
 *   number of executed instructions (icount) and warps it to the next deadline when the CPU is idle, so a
 *   run is deterministic. Devices (timers, RTC, CLINT mtime) use this clock.
 * - `realtime` ({@link HostClock}): monotonic host time (`performance.now()`), for things that must follow
 *   the wall (UI refresh, throttling), never for guest-visible time in a deterministic run.
 * - `host`: host wall-clock time since the Unix epoch (`Date.now()`), as QEMU_CLOCK_HOST (RTC base).
 *
 * All times are integer ns as `number` (see the note in timer.ts).
 */
import { ClockError, QemuTimer, SCALE_NS, TimerList, type TimerCallback } from './timer.js';

export { ClockError } from './timer.js';

/** Which clock (QEMU QEMUClockType). */
export type ClockType = 'realtime' | 'virtual' | 'host';

/** QEMU_CLOCK_REALTIME: monotonic host time. */
export const QEMU_CLOCK_REALTIME: ClockType = 'realtime';
/** QEMU_CLOCK_VIRTUAL: guest time, advanced by the CPU loop. */
export const QEMU_CLOCK_VIRTUAL: ClockType = 'virtual';
/** QEMU_CLOCK_HOST: host wall-clock time. */
export const QEMU_CLOCK_HOST: ClockType = 'host';

/** A clock and its timer list. */
export abstract class QemuClock {
  /** The armed timers of this clock. */
  readonly timers: TimerList;
  private readonly notifiers: Array<() => void> = [];

  constructor(readonly type: ClockType) {
    this.timers = new TimerList(() => {
      for (const fn of this.notifiers) fn();
    });
  }

  /** Current time in ns (QEMU qemu_clock_get_ns). */
  abstract now(): number;

  /**
   * Registers `fn` to be called whenever a timer becomes the first to expire on this clock, i.e. the
   * deadline may have moved earlier (QEMU timerlist_notify). The CPU loop uses this to cut its run slice
   * short. Returns a function that unregisters it.
   */
  addNotifier(fn: () => void): () => void {
    this.notifiers.push(fn);
    return () => {
      const i = this.notifiers.indexOf(fn);
      if (i >= 0) this.notifiers.splice(i, 1);
    };
  }

  /**
   * Nanoseconds until the first timer expires: 0 if one is already due, `Infinity` if none is armed
   * (QEMU timerlist_deadline_ns, which returns -1 for "none").
   */
  deadline(): number {
    const next = this.timers.nextExpire;
    if (next === Infinity) return Infinity;
    const d = next - this.now();
    return d > 0 ? d : 0;
  }

  /**
   * Fires every timer that has expired at the current time, in expiry order (QEMU timerlist_run_timers).
   * The time is read once, so a callback that re-arms for a later time does not run again here.
   * Returns true if any callback ran.
   */
  runTimers(): boolean {
    const now = this.now();
    let progress = false;
    for (let t = this.timers.popExpired(now); t !== null; t = this.timers.popExpired(now)) {
      t.fire();
      progress = true;
    }
    return progress;
  }

  /** Creates a timer on this clock (QEMU timer_new). */
  timerNew<T>(cb: TimerCallback<T>, opaque: T, scale: number = SCALE_NS): QemuTimer<T> {
    return new QemuTimer(this, cb, opaque, scale);
  }
}

/**
 * Guest time (QEMU_CLOCK_VIRTUAL under icount): starts at 0 and moves only by {@link advance} /
 * {@link advanceTo}, which fire the timers they pass in deadline order, each with the clock set to its
 * deadline (as QEMU qemu_clock_advance_virtual_time in qtest).
 */
export class VirtualClock extends QemuClock {
  private ns = 0;

  constructor() {
    super('virtual');
  }

  override now(): number {
    return this.ns;
  }

  /** Advances the clock by `deltaNs` (an integer >= 0), firing the timers that expire on the way. */
  advance(deltaNs: number): void {
    const target = this.ns + deltaNs;
    // Fast path for the CPU loop: nothing due before the target.
    if (deltaNs >= 0 && target < this.timers.nextExpire && Number.isInteger(deltaNs)) {
      this.ns = target;
      return;
    }
    this.advanceTo(target);
  }

  /**
   * Moves the clock to `targetNs`, firing every timer expiring at or before it in deadline order; before
   * each callback the clock reads that timer's deadline. Timers a callback arms within the window fire in
   * the same call (periodic timers). A callback may itself advance the clock further; time never goes back.
   * @throws {@link ClockError} if `targetNs` is before the current time or not a finite number.
   */
  advanceTo(targetNs: number): void {
    if (!(targetNs >= this.ns) || !Number.isFinite(targetNs)) {
      throw new ClockError(`virtual clock cannot move from ${this.ns} ns to ${targetNs} ns: time only moves forward`);
    }
    const tl = this.timers;
    for (let due = tl.nextExpire; due <= targetNs; due = tl.nextExpire) {
      const t = tl.popExpired(due)!;
      if (this.ns < due) this.ns = due;
      t.fire();
    }
    if (this.ns < targetNs) this.ns = Math.floor(targetNs);
  }

  /**
   * Sets the time without firing anything, backwards too: only for loading a snapshot, where every
   * device re-arms its timers from saved expiry times (QEMU vmstate_timers / timer_get).
   */
  restore(ns: number): void {
    if (!Number.isSafeInteger(ns) || ns < 0) {
      throw new ClockError(`virtual clock restore: expected a non-negative integer ns, got ${ns}`);
    }
    this.ns = ns;
  }

  /**
   * Moves the clock to the first timer deadline and fires what expires there; does nothing if no timer is
   * armed. Returns the new time. This is what an idle CPU (WFI) does in a deterministic run.
   */
  warpToNextDeadline(): number {
    const next = this.timers.nextExpire;
    if (next !== Infinity) this.advanceTo(Math.max(next, this.ns));
    return this.ns;
  }
}

/** A clock read from a host time source in ns (realtime: monotonic; host: since the Unix epoch). */
export class HostClock extends QemuClock {
  constructor(type: 'realtime' | 'host', private readonly source: () => number) {
    super(type);
  }

  override now(): number {
    return this.source();
  }
}

/** Default monotonic source: `performance.now()` (ms, fractional) in integer ns. */
export function realtimeNowNs(): number {
  return Math.floor(performance.now() * 1e6);
}

/**
 * Default wall-clock source: `Date.now()` in ns. About 1.7e18 ns today, above 2^53: exact to the
 * millisecond it comes from, not to the ns.
 */
export function hostNowNs(): number {
  return Date.now() * 1e6;
}
