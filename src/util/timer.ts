/**
 * Timers and timer lists (QEMU util/qemu-timer.c, include/qemu/timer.h).
 *
 * Each clock owns one {@link TimerList}: the armed timers sorted by expiry time, equal times in arming
 * order (QEMU timer_mod_ns_locked inserts after every timer expiring at or before the new one).
 *
 * Times are integer nanoseconds held in a JS `number`, not a `bigint`: the CPU loop reads the deadline and
 * advances the virtual clock at every run slice, and number arithmetic there costs nothing while BigInt
 * allocates. Integers up to 2^53 ns (104 days of guest time) are exact, so virtual time stays
 * deterministic; past that, times are still ordered but lose nanosecond precision.
 */
import type { QemuClock } from './clock.js';

/** Misuse of a clock, timer or bottom half (moving virtual time backwards, a non-finite expiry, …). */
export class ClockError extends Error {
  override readonly name = 'ClockError';
}

/** Timer scales: the unit of {@link QemuTimer.mod} (QEMU SCALE_NS/US/MS). */
export const SCALE_NS = 1;
export const SCALE_US = 1_000;
export const SCALE_MS = 1_000_000;

/** A timer callback; receives the timer's opaque value. */
export type TimerCallback<T> = (opaque: T) => void;

/**
 * A one-shot timer on one clock (QEMU QEMUTimer). Arm it with {@link mod}; when the clock reaches the
 * expiry time the callback runs once, with the clock reading exactly the expiry time (for the virtual
 * clock). A callback may re-arm its own timer: that is how periodic timers are written.
 */
export class QemuTimer<T = unknown> {
  /** Expiry in ns, or -1 when not armed (QEMU expire_time). */
  expireNs = -1;
  #id: string | undefined = undefined;
  private readonly list: TimerList;

  constructor(
    /** The clock this timer runs on. */
    readonly clock: QemuClock,
    private readonly cb: TimerCallback<T>,
    /** Passed to the callback. */
    readonly opaque: T,
    /** Unit of {@link mod} and {@link expireTime}, in ns ({@link SCALE_NS}, {@link SCALE_US}, {@link SCALE_MS}). */
    readonly scale: number = SCALE_NS,
  ) {
    this.list = clock.timers;
  }

  /**
   * A stable name for snapshots (`/machine/soc/hart0/stimer`), for a timer no device's vmstate
   * declares: a machine snapshot saves every armed virtual-clock timer by id, in firing order, and
   * finds it again with {@link TimerList.byId}. Unique per clock.
   * @throws {@link ClockError} if another timer of the clock has that id.
   */
  get id(): string | undefined {
    return this.#id;
  }
  set id(v: string | undefined) {
    if (v === this.#id) return;
    if (v !== undefined) this.list.addName(v, this);
    if (this.#id !== undefined) this.list.removeName(this.#id);
    this.#id = v;
  }

  /** True if the timer is armed (QEMU timer_pending). */
  get pending(): boolean {
    return this.expireNs >= 0;
  }

  /** Expiry time in ns, or -1 if not armed (QEMU timer_expire_time_ns). */
  get expireTime(): number {
    return this.expireNs;
  }

  /**
   * Arms (or re-arms) the timer to fire when its clock reaches `expire` (absolute, in units of
   * {@link scale}). A time in the past fires at the next run of the clock's timers. Negative times are
   * treated as 0, as QEMU timer_mod. Non-integer ns are rounded down.
   */
  mod(expire: number): void {
    this.modNs(expire * this.scale);
  }

  /** {@link mod} in nanoseconds, whatever the scale (QEMU timer_mod_ns). */
  modNs(expireNs: number): void {
    if (!Number.isFinite(expireNs)) {
      throw new ClockError(`timer on clock '${this.clock.type}': expiry time must be finite, got ${expireNs}`);
    }
    this.list.remove(this);
    this.list.insert(this, expireNs > 0 ? Math.floor(expireNs) : 0);
  }

  /**
   * Arms the timer for `expire`, unless it is already armed to fire earlier (QEMU timer_mod_anticipate).
   */
  modAnticipate(expire: number): void {
    const ns = expire * this.scale;
    if (this.expireNs < 0 || this.expireNs > ns) this.modNs(ns);
  }

  /** Disarms the timer (QEMU timer_del). Safe to call when not armed, and from its own callback. */
  del(): void {
    this.list.remove(this);
  }

  /** True if the timer is armed and expires at or before `currentTime` (in scale units) (QEMU timer_expired). */
  expired(currentTime: number): boolean {
    return this.expireNs >= 0 && this.expireNs <= currentTime * this.scale;
  }

  /** @internal Runs the callback (the list has already disarmed the timer). */
  fire(): void {
    this.cb(this.opaque);
  }
}

/**
 * The armed timers of one clock, soonest first (QEMU QEMUTimerList). Small by nature (tens of timers), so a
 * sorted array beats a heap here, and keeps equal deadlines in arming order for free.
 */
export class TimerList {
  private readonly active: QemuTimer<any>[] = [];
  /** Expiry of the first timer in ns, or `Infinity` if none: the hot-path check for "anything due?". */
  nextExpire = Infinity;

  constructor(
    /** Called when a timer becomes the new head (its deadline moved earlier): QEMU timerlist_notify. */
    private readonly notify: () => void,
  ) {}

  private readonly named = new Map<string, QemuTimer<any>>();

  /** The timer of this clock whose {@link QemuTimer.id} is `id`, armed or not. */
  byId(id: string): QemuTimer<any> | undefined {
    return this.named.get(id);
  }

  /** @internal */
  addName(id: string, t: QemuTimer<any>): void {
    const other = this.named.get(id);
    if (other !== undefined && other !== t) throw new ClockError(`two timers of one clock cannot both have the id '${id}'`);
    this.named.set(id, t);
  }

  /** @internal */
  removeName(id: string): void {
    this.named.delete(id);
  }

  /** Number of armed timers. */
  get length(): number {
    return this.active.length;
  }

  /** The armed timers in expiry order (a copy; for debugging and tests). */
  snapshot(): QemuTimer<any>[] {
    return this.active.slice();
  }

  /** @internal Inserts a disarmed timer after every timer expiring at or before `expireNs`. */
  insert(t: QemuTimer<any>, expireNs: number): void {
    const a = this.active;
    let i = a.length;
    while (i > 0 && a[i - 1]!.expireNs > expireNs) i--;
    t.expireNs = expireNs;
    if (i === a.length) a.push(t);
    else a.splice(i, 0, t);
    if (i === 0) {
      this.nextExpire = expireNs;
      this.notify();
    }
  }

  /** @internal Disarms `t` if armed. */
  remove(t: QemuTimer<any>): void {
    if (t.expireNs < 0) return;
    t.expireNs = -1;
    const a = this.active;
    const i = a.indexOf(t);
    if (i < 0) return;
    a.splice(i, 1);
    if (i === 0) this.nextExpire = a.length > 0 ? a[0]!.expireNs : Infinity;
  }

  /**
   * @internal Removes and returns the first timer if it expires at or before `nowNs`, disarmed;
   * null otherwise.
   */
  popExpired(nowNs: number): QemuTimer<any> | null {
    if (this.nextExpire > nowNs) return null;
    const a = this.active;
    const t = a.shift()!;
    t.expireNs = -1;
    this.nextExpire = a.length > 0 ? a[0]!.expireNs : Infinity;
    return t;
  }
}

/** Creates a timer on `clock` (QEMU timer_new / timer_new_ns). Same as `new QemuTimer(...)`. */
export function timerNew<T>(clock: QemuClock, cb: TimerCallback<T>, opaque: T, scale: number = SCALE_NS): QemuTimer<T> {
  return new QemuTimer(clock, cb, opaque, scale);
}
