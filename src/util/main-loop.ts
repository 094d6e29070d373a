/**
 * The per-machine main loop: clocks, timer lists and bottom halves, and the driver that interleaves them
 * with CPU execution (QEMU util/main-loop.c main_loop_wait, softmmu/icount.c for the virtual-time policy).
 *
 * There is no `setTimeout` here: nothing happens unless the embedding program calls {@link MainLoop.runUntil}
 * or {@link MainLoop.runPending}. Virtual time moves only by what the CPU executed (its `step` reports it)
 * and, when the CPU is idle, by jumping to the next timer deadline, so a run is deterministic.
 */
import { AioContext, type BhCallback, type QemuBh } from './bh.js';
import {
  ClockError, HostClock, hostNowNs, realtimeNowNs, VirtualClock, type ClockType, type QemuClock,
} from './clock.js';
import { SCALE_NS, type QemuTimer, type TimerCallback } from './timer.js';

/** Options of {@link MainLoop}. */
export interface MainLoopOptions {
  /** Monotonic host time in ns for the `realtime` clock. Default: `performance.now()`. */
  readonly realtimeNow?: () => number;
  /** Wall-clock time in ns since the Unix epoch for the `host` clock. Default: `Date.now()`. */
  readonly hostNow?: () => number;
}

/**
 * Result of one CPU run slice, returned by the `step` callback of {@link MainLoop.runUntil}:
 * - a number: the virtual ns the slice consumed; the loop advances the virtual clock by it (firing timers).
 *   A step that advanced the clock itself returns 0.
 * - `'halted'`: the CPU waits for an interrupt (WFI) and executed nothing; the loop jumps virtual time to
 *   the next timer deadline (or the run's deadline).
 */
export type StepResult = number | 'halted';

/**
 * Runs the CPU for at most `budgetNs` of virtual time (a positive integer, or `Infinity` only if the caller
 * gave neither a deadline nor a slice); see {@link StepResult}.
 */
export type StepFn = (budgetNs: number) => StepResult;

/** Options of {@link MainLoop.runUntil}. */
export interface RunUntilOptions {
  /** Stop when the virtual clock reaches this absolute time (ns). */
  readonly deadlineNs?: number;
  /** Stop as soon as this returns true. Checked before the first step and after every step. */
  readonly predicate?: () => boolean;
  /**
   * Longest virtual time given to one step, so the predicate is checked regularly even when no timer is
   * armed. Default 1 ms (1e6 ns).
   */
  readonly sliceNs?: number;
  /** Stop after this many steps. Default: no limit. */
  readonly maxSteps?: number;
}

/** Why {@link MainLoop.runUntil} returned. */
export type RunStopReason =
  /** The virtual clock reached `deadlineNs`. */
  | 'deadline'
  /** The predicate returned true. */
  | 'predicate'
  /** {@link MainLoop.requestStop} was called. */
  | 'stop-requested'
  /** The CPU is halted and no virtual timer is armed: only outside input can wake it. */
  | 'idle'
  /** `maxSteps` steps ran. */
  | 'max-steps';

/** Result of {@link MainLoop.runUntil}. */
export interface RunResult {
  readonly reason: RunStopReason;
  /** Virtual time when the run stopped (ns). */
  readonly virtualNs: number;
  /** Number of steps run. */
  readonly steps: number;
  /** The argument of {@link MainLoop.requestStop}, for `'stop-requested'`. */
  readonly stopCause?: string;
}

/** Upper bound on BH/timer rounds in one {@link MainLoop.runPending}, against a BH that reschedules itself forever. */
const MAX_PENDING_ROUNDS = 1000;

/** One machine's clocks, timers and bottom halves, and the run driver. */
export class MainLoop {
  /** Guest time. */
  readonly virtual: VirtualClock;
  /** Monotonic host time. */
  readonly realtime: HostClock;
  /** Host wall-clock time. */
  readonly host: HostClock;
  /** The bottom halves. */
  readonly aio = new AioContext();
  private readonly kickers: Array<() => void> = [];
  private stopCause: string | null = null;

  constructor(options: MainLoopOptions = {}) {
    this.virtual = new VirtualClock();
    this.realtime = new HostClock('realtime', options.realtimeNow ?? realtimeNowNs);
    this.host = new HostClock('host', options.hostNow ?? hostNowNs);
    const kick = (): void => this.kick();
    this.virtual.addNotifier(kick);
    this.aio.addNotifier(kick);
  }

  /** The clock of `type` (QEMU qemu_clock_get_ns's clock argument). */
  clock(type: ClockType): QemuClock {
    switch (type) {
      case 'virtual': return this.virtual;
      case 'realtime': return this.realtime;
      case 'host': return this.host;
      default: throw new ClockError(`unknown clock type '${String(type)}'; known: virtual, realtime, host`);
    }
  }

  /** Creates a timer on the clock of `type` (QEMU timer_new). */
  timerNew<T>(type: ClockType, cb: TimerCallback<T>, opaque: T, scale: number = SCALE_NS): QemuTimer<T> {
    return this.clock(type).timerNew(cb, opaque, scale);
  }

  /** Creates a bottom half (QEMU qemu_bh_new). */
  bhNew(cb: BhCallback, name = ''): QemuBh {
    return this.aio.bhNew(cb, name);
  }

  /**
   * Registers `fn`, called when the running CPU should end its slice early so the loop can re-evaluate:
   * a virtual timer became the first to expire, a BH was scheduled, or a stop was requested (QEMU
   * qemu_cpu_kick / cpu_exit). The CPU loop sets an exit flag it checks at TB boundaries. Returns a
   * function that unregisters `fn`.
   */
  addKickListener(fn: () => void): () => void {
    this.kickers.push(fn);
    return () => {
      const i = this.kickers.indexOf(fn);
      if (i >= 0) this.kickers.splice(i, 1);
    };
  }

  /** Calls the kick listeners. */
  kick(): void {
    for (const fn of this.kickers) fn();
  }

  /**
   * Asks {@link runUntil} to return at its next check with reason `'stop-requested'` (QEMU
   * qemu_system_shutdown_request and friends), and kicks the CPU. `cause` is reported in the result.
   */
  requestStop(cause = 'stop'): void {
    this.stopCause = cause;
    this.kick();
  }

  /** Runs the bottom halves scheduled so far, once (QEMU aio_bh_poll). Returns true if any ran. */
  runBottomHalves(): boolean {
    return this.aio.poll();
  }

  /**
   * Runs everything that is due now: bottom halves, then expired timers of every clock, repeated until
   * nothing more is due (what one QEMU main_loop_wait with a zero timeout does, repeated). Returns true if
   * anything ran. Stops after 1000 rounds if callbacks keep scheduling work for "now".
   */
  runPending(): boolean {
    let any = false;
    for (let round = 0; round < MAX_PENDING_ROUNDS; round++) {
      let progress = this.aio.poll();
      progress = this.virtual.runTimers() || progress;
      progress = this.realtime.runTimers() || progress;
      progress = this.host.runTimers() || progress;
      if (!progress) break;
      any = true;
    }
    return any;
  }

  /**
   * Drives the machine: repeatedly runs pending work, checks the stop conditions, then calls `step` with
   * the virtual time left before the next virtual timer, the deadline or the slice, whichever is first.
   * When the CPU is halted, virtual time jumps to the next timer deadline (QEMU icount with sleep=off).
   * Synchronous: the embedder calls it again (after awaiting input, say) to continue.
   */
  runUntil(options: RunUntilOptions, step: StepFn): RunResult {
    const { deadlineNs, predicate, maxSteps = Infinity } = options;
    const sliceNs = options.sliceNs ?? 1_000_000;
    if (!(sliceNs > 0)) throw new ClockError(`runUntil: sliceNs must be positive, got ${sliceNs}`);
    const vc = this.virtual;
    let steps = 0;
    for (;;) {
      this.runPending();
      if (this.stopCause !== null) {
        const stopCause = this.stopCause;
        this.stopCause = null;
        return { reason: 'stop-requested', virtualNs: vc.now(), steps, stopCause };
      }
      if (predicate?.()) return { reason: 'predicate', virtualNs: vc.now(), steps };
      const now = vc.now();
      if (deadlineNs !== undefined && now >= deadlineNs) return { reason: 'deadline', virtualNs: now, steps };
      if (steps >= maxSteps) return { reason: 'max-steps', virtualNs: now, steps };

      let budget = Math.min(vc.deadline(), sliceNs);
      if (deadlineNs !== undefined) budget = Math.min(budget, deadlineNs - now);
      if (budget <= 0) budget = 1; // a timer was armed for "now" by a callback after runPending gave up
      const r = step(budget);
      steps++;
      if (r === 'halted') {
        // Work the step left behind (a BH, a timer due now) may wake the CPU: run it before warping.
        if (this.runPending() || this.stopCause !== null) continue;
        let next = vc.timers.nextExpire;
        if (deadlineNs !== undefined && deadlineNs < next) next = deadlineNs;
        if (next === Infinity) {
          if (predicate?.()) return { reason: 'predicate', virtualNs: vc.now(), steps };
          return { reason: 'idle', virtualNs: vc.now(), steps };
        }
        vc.advanceTo(Math.max(next, vc.now()));
      } else if (r > 0) {
        vc.advance(r);
      } else if (!(r === 0)) {
        throw new ClockError(`runUntil: step returned ${String(r)}; expected ns >= 0 or 'halted'`);
      }
    }
  }
}
