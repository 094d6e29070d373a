import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { AioContext } from '../../src/util/bh.js';
import { ClockError } from '../../src/util/timer.js';

describe('bottom halves', () => {
  it('run in scheduling order, once each, however often scheduled', () => {
    const ctx = new AioContext();
    const log: string[] = [];
    const a = ctx.bhNew(() => log.push('a')), b = ctx.bhNew(() => log.push('b')), c = ctx.bhNew(() => log.push('c'));
    b.schedule(); a.schedule(); b.schedule(); c.schedule();
    expect(ctx.hasPending).toBe(true);
    expect(ctx.poll()).toBe(true);
    expect(log).toEqual(['b', 'a', 'c']);
    expect(ctx.poll()).toBe(false);
    expect(ctx.hasPending).toBe(false);
  });

  it('runs a BH scheduled from a BH at the next poll (as util/async.c aio_bh_poll)', () => {
    const ctx = new AioContext();
    const log: string[] = [];
    const second = ctx.bhNew(() => log.push('second'));
    const first = ctx.bhNew(() => { log.push('first'); second.schedule(); first.schedule(); });
    first.schedule();
    ctx.poll();
    expect(log).toEqual(['first']);
    ctx.poll();
    expect(log).toEqual(['first', 'second', 'first']);
  });

  it('runs in the same poll a BH that was still waiting in it', () => {
    const ctx = new AioContext();
    const log: string[] = [];
    const b = ctx.bhNew(() => log.push('b'));
    const a = ctx.bhNew(() => { log.push('a'); b.schedule(); });
    a.schedule(); b.schedule();
    ctx.poll();
    expect(log).toEqual(['a', 'b']);
    expect(ctx.poll()).toBe(false);
  });

  it('cancel and delete prevent the run; a deleted BH cannot be rescheduled', () => {
    const ctx = new AioContext();
    const log: string[] = [];
    const a = ctx.bhNew(() => log.push('a'), 'a');
    const b = ctx.bhNew(() => log.push('b'), 'b');
    a.schedule(); b.schedule();
    a.cancel(); b.delete();
    expect(a.scheduled).toBe(false);
    expect(ctx.poll()).toBe(false);
    expect(log).toEqual([]);
    a.schedule();
    ctx.poll();
    expect(log).toEqual(['a']);
    expect(() => b.schedule()).toThrow(ClockError);
    expect(() => b.schedule()).toThrow(/'b'/);
  });

  it('a BH can cancel a later one of the same poll', () => {
    const ctx = new AioContext();
    const log: string[] = [];
    const b = ctx.bhNew(() => log.push('b'));
    const a = ctx.bhNew(() => { log.push('a'); b.cancel(); });
    a.schedule(); b.schedule();
    ctx.poll();
    expect(log).toEqual(['a']);
  });

  it('oneshot BHs run once', () => {
    const ctx = new AioContext();
    let n = 0;
    ctx.scheduleOneshot(() => n++);
    ctx.poll(); ctx.poll();
    expect(n).toBe(1);
  });

  it('keeps the rest of a poll when a callback throws', () => {
    const ctx = new AioContext();
    const log: string[] = [];
    const a = ctx.bhNew(() => { throw new Error('boom'); });
    const b = ctx.bhNew(() => log.push('b'));
    a.schedule(); b.schedule();
    expect(() => ctx.poll()).toThrow('boom');
    expect(ctx.poll()).toBe(true);
    expect(log).toEqual(['b']);
  });

  it('notifies on schedule', () => {
    const ctx = new AioContext();
    let n = 0;
    ctx.addNotifier(() => n++);
    ctx.bhNew(() => {}).schedule();
    expect(n).toBe(1);
  });

  it('matches a FIFO-set model under random schedule/cancel/poll', () => {
    type Cmd = { k: 'sched' | 'cancel'; i: number } | { k: 'poll' };
    const N = 4;
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({ k: fc.constantFrom('sched' as const, 'cancel' as const), i: fc.nat(N - 1) }),
      fc.constant({ k: 'poll' as const }),
    );
    fc.assert(fc.property(fc.array(cmd, { maxLength: 40 }), (cmds) => {
      const ctx = new AioContext();
      const got: number[] = [];
      const bhs = Array.from({ length: N }, (_, i) => ctx.bhNew(() => got.push(i)));
      // Model: queue of ids in first-scheduling order (position kept across cancel, as BH_PENDING),
      // plus the set of armed ids.
      let queue: number[] = [];
      const armed = new Set<number>();
      const want: number[] = [];
      for (const c of cmds) {
        if (c.k === 'sched') {
          bhs[c.i]!.schedule();
          if (!queue.includes(c.i)) queue.push(c.i);
          armed.add(c.i);
        } else if (c.k === 'cancel') {
          bhs[c.i]!.cancel();
          armed.delete(c.i);
        } else {
          ctx.poll();
          for (const id of queue) if (armed.delete(id)) want.push(id);
          queue = [];
        }
      }
      expect(got).toEqual(want);
    }));
  });
});
