/**
 * Bottom halves: callbacks deferred to the main loop (QEMU util/async.c, QEMUBH and aio_bh_poll).
 *
 * A device that must not do work inside an MMIO access (or wants to coalesce many requests into one run)
 * schedules a BH; the main loop runs it between CPU run slices.
 *
 * Semantics, as util/async.c:
 * - Scheduling an already scheduled BH does nothing (BH_PENDING): it runs once.
 * - {@link AioContext.poll} runs the BHs scheduled before it started. A BH scheduled while a poll runs
 *   (by another BH, say) runs in the next poll, unless it was still waiting in the current one.
 * - {@link QemuBh.cancel} unschedules; {@link QemuBh.delete} unschedules for good.
 * One difference: QEMU pushes scheduled BHs on a LIFO list, so the run order is the reverse of scheduling;
 * softboard runs them in scheduling order (deterministic and easier to reason about; no QEMU device
 * depends on either order).
 */
import { ClockError } from './timer.js';

/** A bottom-half callback. */
export type BhCallback = () => void;

/** A bottom half (QEMU QEMUBH). Create with {@link AioContext.bhNew}. */
export class QemuBh {
  /** @internal In the context's queue (QEMU BH_PENDING). */
  queued = false;
  /** @internal Should run when reached (QEMU BH_SCHEDULED). */
  armed = false;
  /** @internal Deleted (QEMU BH_DELETED). */
  deleted = false;

  constructor(
    private readonly ctx: AioContext,
    /** @internal */
    readonly cb: BhCallback,
    /** A name for debugging. */
    readonly name = '',
    /** @internal Delete after one run (QEMU BH_ONESHOT). */
    readonly oneshot = false,
  ) {}

  /** True if scheduled and not yet run or cancelled. */
  get scheduled(): boolean {
    return this.armed;
  }

  /**
   * Schedules the BH to run at the next poll (QEMU qemu_bh_schedule). Idempotent while scheduled.
   * @throws {@link ClockError} if the BH was deleted.
   */
  schedule(): void {
    if (this.deleted) throw new ClockError(`bottom half '${this.name}' was deleted and cannot be scheduled`);
    this.armed = true;
    this.ctx.enqueue(this);
  }

  /** Unschedules the BH if it has not run yet (QEMU qemu_bh_cancel). */
  cancel(): void {
    this.armed = false;
  }

  /** Unschedules the BH and releases it; it can no longer be scheduled (QEMU qemu_bh_delete). */
  delete(): void {
    this.armed = false;
    this.deleted = true;
  }
}

/**
 * The set of bottom halves of one machine (QEMU AioContext, the BH part). The {@link MainLoop} owns one.
 */
export class AioContext {
  private queue: QemuBh[] = [];
  private readonly notifiers: Array<() => void> = [];

  /** Creates a bottom half running `cb` (QEMU aio_bh_new / qemu_bh_new). */
  bhNew(cb: BhCallback, name = ''): QemuBh {
    return new QemuBh(this, cb, name);
  }

  /** Schedules `cb` to run once at the next poll (QEMU aio_bh_schedule_oneshot). */
  scheduleOneshot(cb: BhCallback, name = ''): void {
    const bh = new QemuBh(this, cb, name, true);
    bh.schedule();
  }

  /**
   * Registers `fn` to be called whenever a BH is scheduled, so a running CPU can leave its slice early
   * (QEMU aio_notify, and icount_notify_exit under icount). Returns a function that unregisters it.
   */
  addNotifier(fn: () => void): () => void {
    this.notifiers.push(fn);
    return () => {
      const i = this.notifiers.indexOf(fn);
      if (i >= 0) this.notifiers.splice(i, 1);
    };
  }

  /** True if some BH is scheduled (QEMU aio_compute_timeout returning 0). */
  get hasPending(): boolean {
    for (const bh of this.queue) if (bh.armed) return true;
    return false;
  }

  /** @internal Adds `bh` to the queue unless it is already there (QEMU aio_bh_enqueue). */
  enqueue(bh: QemuBh): void {
    if (!bh.queued) {
      bh.queued = true;
      this.queue.push(bh);
    }
    for (const fn of this.notifiers) fn();
  }

  /**
   * Runs the BHs scheduled before this call, in scheduling order (QEMU aio_bh_poll). BHs scheduled by
   * them run at the next poll. Returns true if any callback ran. An exception from a callback propagates
   * after the not-yet-run BHs of this poll are put back at the head of the queue, so none is lost.
   */
  poll(): boolean {
    const slice = this.queue;
    if (slice.length === 0) return false;
    this.queue = [];
    let progress = false;
    let i = 0;
    try {
      for (; i < slice.length; i++) {
        const bh = slice[i]!;
        bh.queued = false;
        const run = bh.armed && !bh.deleted;
        bh.armed = false;
        if (run) {
          progress = true;
          if (bh.oneshot) bh.deleted = true;
          bh.cb();
        }
      }
    } finally {
      if (i < slice.length - 1) {
        // A callback threw: keep the rest of the slice ahead of what was scheduled since.
        this.queue = slice.slice(i + 1).concat(this.queue);
      }
    }
    return progress;
  }
}
