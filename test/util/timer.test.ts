import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ClockError, HostClock, VirtualClock } from '../../src/util/clock.js';
import { QemuTimer, SCALE_MS, SCALE_US, timerNew } from '../../src/util/timer.js';

describe('virtual clock timers', () => {
  it('fire in deadline order with the clock at each deadline', () => {
    const vc = new VirtualClock();
    const log: Array<[string, number]> = [];
    const mk = (name: string) => timerNew(vc, (n: string) => log.push([n, vc.now()]), name);
    const a = mk('a'), b = mk('b'), c = mk('c');
    c.mod(300); a.mod(100); b.mod(200);
    vc.advance(250);
    expect(log).toEqual([['a', 100], ['b', 200]]);
    expect(vc.now()).toBe(250);
    expect(c.pending).toBe(true);
    expect(a.pending).toBe(false);
    expect(a.expireTime).toBe(-1);
    vc.advanceTo(300);
    expect(log.at(-1)).toEqual(['c', 300]);
  });

  it('keeps arming order for equal deadlines, and re-arming moves a timer to the back', () => {
    const vc = new VirtualClock();
    const log: string[] = [];
    const ts = ['a', 'b', 'c'].map((n) => timerNew(vc, (x: string) => log.push(x), n));
    for (const t of ts) t.mod(50);
    ts[0]!.mod(50); // re-armed last: now after b and c
    vc.advance(50);
    expect(log).toEqual(['b', 'c', 'a']);
  });

  it('supports periodic timers that re-arm from their callback', () => {
    const vc = new VirtualClock();
    const times: number[] = [];
    const t: QemuTimer<null> = timerNew(vc, () => { times.push(vc.now()); t.mod(vc.now() + 30); }, null);
    t.mod(10);
    vc.advance(100);
    expect(times).toEqual([10, 40, 70, 100]);
    expect(t.expireTime).toBe(130);
    expect(vc.deadline()).toBe(30);
  });

  it('lets a callback delete a timer due at the same time', () => {
    const vc = new VirtualClock();
    const log: string[] = [];
    const b = timerNew(vc, () => log.push('b'), null);
    const a = timerNew(vc, () => { log.push('a'); b.del(); }, null);
    a.mod(5); b.mod(5);
    vc.advance(10);
    expect(log).toEqual(['a']);
    expect(b.pending).toBe(false);
  });

  it('reports deadline() as ns to the first timer, 0 when due, Infinity when none', () => {
    const vc = new VirtualClock();
    expect(vc.deadline()).toBe(Infinity);
    const t = timerNew(vc, () => {}, null);
    t.mod(1000);
    expect(vc.deadline()).toBe(1000);
    vc.advance(400);
    expect(vc.deadline()).toBe(600);
    t.mod(100); // in the past
    expect(vc.deadline()).toBe(0);
    t.del();
    expect(vc.deadline()).toBe(Infinity);
  });

  it('fires a timer armed in the past at the next run, without moving time back', () => {
    const vc = new VirtualClock();
    vc.advance(1000);
    const seen: number[] = [];
    const t = timerNew(vc, () => seen.push(vc.now()), null);
    t.mod(-5);
    expect(t.expireTime).toBe(0);
    expect(vc.runTimers()).toBe(true);
    expect(seen).toEqual([1000]);
    expect(vc.runTimers()).toBe(false);
  });

  it('honours the timer scale and modAnticipate', () => {
    const vc = new VirtualClock();
    const seen: number[] = [];
    const t = timerNew(vc, () => seen.push(vc.now()), null, SCALE_US);
    t.mod(3);
    expect(t.expireTime).toBe(3000);
    t.modAnticipate(5); // later: ignored
    expect(t.expireTime).toBe(3000);
    t.modAnticipate(2); // earlier: taken
    expect(t.expireTime).toBe(2000);
    expect(t.expired(2)).toBe(true);
    expect(t.expired(1)).toBe(false);
    vc.advance(SCALE_MS);
    expect(seen).toEqual([2000]);
  });

  it('notifies when the first deadline moves earlier only', () => {
    const vc = new VirtualClock();
    let n = 0;
    const off = vc.addNotifier(() => n++);
    const a = timerNew(vc, () => {}, null), b = timerNew(vc, () => {}, null);
    a.mod(100); expect(n).toBe(1);
    b.mod(200); expect(n).toBe(1);
    b.mod(50); expect(n).toBe(2);
    off();
    a.mod(1); expect(n).toBe(2);
  });

  it('refuses to go back in time or to non-finite times', () => {
    const vc = new VirtualClock();
    vc.advance(10);
    expect(() => vc.advanceTo(5)).toThrow(ClockError);
    expect(() => vc.advance(-1)).toThrow(ClockError);
    expect(() => vc.advanceTo(Infinity)).toThrow(ClockError);
    expect(() => timerNew(vc, () => {}, null).mod(NaN)).toThrow(ClockError);
    expect(vc.now()).toBe(10);
  });

  it('keeps time integral and restores a snapshot time without firing', () => {
    const vc = new VirtualClock();
    vc.advance(2.5);
    expect(vc.now()).toBe(2);
    let fired = 0;
    timerNew(vc, () => fired++, null).mod(10);
    vc.restore(100);
    expect(fired).toBe(0);
    expect(vc.now()).toBe(100);
    vc.restore(5); // snapshots may go back
    expect(vc.deadline()).toBe(5);
    expect(() => vc.restore(-1)).toThrow(ClockError);
    expect(() => vc.restore(0.5)).toThrow(ClockError);
  });

  it('warps to the next deadline', () => {
    const vc = new VirtualClock();
    expect(vc.warpToNextDeadline()).toBe(0);
    let fired = false;
    timerNew(vc, () => { fired = true; }, null).mod(12345);
    expect(vc.warpToNextDeadline()).toBe(12345);
    expect(fired).toBe(true);
  });

  it('host clocks read their source and fire expired timers', () => {
    let t = 500;
    const rt = new HostClock('realtime', () => t);
    const seen: number[] = [];
    const timer = rt.timerNew(() => seen.push(rt.now()), null);
    timer.mod(1000);
    expect(rt.deadline()).toBe(500);
    expect(rt.runTimers()).toBe(false);
    t = 1200;
    expect(rt.runTimers()).toBe(true);
    expect(seen).toEqual([1200]);
  });

  it('matches a sorted-list model under random mods, dels and advances', () => {
    const N = 5;
    type Cmd =
      | { k: 'mod'; i: number; rel: number }
      | { k: 'del'; i: number }
      | { k: 'adv'; d: number }
      | { k: 'per'; i: number; p: number };
    const cmd: fc.Arbitrary<Cmd> = fc.oneof(
      fc.record({ k: fc.constant('mod' as const), i: fc.nat(N - 1), rel: fc.integer({ min: -5, max: 40 }) }),
      fc.record({ k: fc.constant('del' as const), i: fc.nat(N - 1) }),
      fc.record({ k: fc.constant('adv' as const), d: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ k: fc.constant('per' as const), i: fc.nat(N - 1), p: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(fc.property(fc.array(cmd, { maxLength: 60 }), (cmds) => {
      // Implementation.
      const vc = new VirtualClock();
      const period = new Array<number>(N).fill(0);
      const got: Array<[number, number]> = [];
      const timers = Array.from({ length: N }, (_, i) => timerNew(vc, (id: number) => {
        got.push([id, vc.now()]);
        if (period[id]! > 0) timers[id]!.mod(vc.now() + period[id]!);
      }, i));
      // Model: armed entries (id, expire, seq); fire the minimum (expire, seq) while <= target.
      let now = 0, seq = 0;
      const armed = new Map<number, { expire: number; seq: number }>();
      const want: Array<[number, number]> = [];
      const modelMod = (i: number, e: number): void => { armed.set(i, { expire: Math.max(e, 0), seq: seq++ }); };
      for (const c of cmds) {
        if (c.k === 'mod') {
          timers[c.i]!.mod(vc.now() + c.rel);
          modelMod(c.i, now + c.rel);
        } else if (c.k === 'del') {
          timers[c.i]!.del();
          armed.delete(c.i);
        } else if (c.k === 'per') {
          period[c.i] = c.p;
        } else {
          vc.advance(c.d);
          const target = now + c.d;
          for (;;) {
            const due = [...armed.entries()].filter(([, v]) => v.expire <= target)
              .sort((x, y) => x[1].expire - y[1].expire || x[1].seq - y[1].seq);
            const first = due[0];
            if (!first) break;
            const [id, v] = first;
            armed.delete(id);
            now = Math.max(now, v.expire);
            want.push([id, now]);
            if (period[id]! > 0) modelMod(id, now + period[id]!);
          }
          now = target;
        }
        expect(vc.now()).toBe(now);
        for (let i = 0; i < N; i++) expect(timers[i]!.expireTime).toBe(armed.get(i)?.expire ?? -1);
        const next = Math.min(...[...armed.values()].map((v) => v.expire));
        expect(vc.deadline()).toBe(next === Infinity ? Infinity : Math.max(0, next - now));
      }
      expect(got).toEqual(want);
    }), { numRuns: 300 });
  });
});
