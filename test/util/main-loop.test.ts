import { describe, it, expect } from 'vitest';
import { MainLoop, type StepResult } from '../../src/util/main-loop.js';
import { ClockError } from '../../src/util/clock.js';

describe('MainLoop', () => {
  it('gives each machine its own clocks', () => {
    const m1 = new MainLoop(), m2 = new MainLoop();
    m1.virtual.advance(100);
    expect(m2.virtual.now()).toBe(0);
    expect(m1.clock('virtual')).toBe(m1.virtual);
    expect(m1.clock('realtime')).toBe(m1.realtime);
    expect(m1.clock('host')).toBe(m1.host);
    expect(() => m1.clock('bogus' as never)).toThrow(ClockError);
  });

  it('reads realtime and host time from the given sources', () => {
    const m = new MainLoop({ realtimeNow: () => 42, hostNow: () => 7 });
    expect(m.realtime.now()).toBe(42);
    expect(m.host.now()).toBe(7);
    const d = new MainLoop();
    const a = d.realtime.now(), b = d.realtime.now();
    expect(Number.isInteger(a)).toBe(true);
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('runPending runs BHs and expired timers until quiet', () => {
    let rt = 0;
    const m = new MainLoop({ realtimeNow: () => rt });
    const log: string[] = [];
    const bh2 = m.bhNew(() => log.push('bh2'));
    const t = m.timerNew('realtime', () => { log.push('rt'); bh2.schedule(); }, null);
    m.bhNew(() => log.push('bh1')).schedule();
    t.mod(10);
    expect(m.runPending()).toBe(true);
    expect(log).toEqual(['bh1']);
    rt = 10;
    m.runPending();
    expect(log).toEqual(['bh1', 'rt', 'bh2']);
    expect(m.runPending()).toBe(false);
  });

  it('runUntil bounds each step by the next timer and advances by what the step consumed', () => {
    const m = new MainLoop();
    const budgets: number[] = [];
    const fired: number[] = [];
    const t = m.timerNew('virtual', () => { fired.push(m.virtual.now()); t.mod(m.virtual.now() + 250); }, null);
    t.mod(250);
    const r = m.runUntil({ deadlineNs: 1000, sliceNs: 400 }, (budget) => { budgets.push(budget); return budget; });
    expect(r.reason).toBe('deadline');
    expect(r.virtualNs).toBe(1000);
    expect(fired).toEqual([250, 500, 750, 1000]);
    expect(budgets).toEqual([250, 250, 250, 250]);
    expect(r.steps).toBe(4);
  });

  it('caps steps by the slice and the deadline', () => {
    const m = new MainLoop();
    const budgets: number[] = [];
    m.runUntil({ deadlineNs: 1000, sliceNs: 300 }, (b) => { budgets.push(b); return b; });
    expect(budgets).toEqual([300, 300, 300, 100]);
  });

  it('warps virtual time to the next deadline while the CPU is halted', () => {
    const m = new MainLoop();
    let irq = false;
    m.timerNew('virtual', () => { irq = true; }, null).mod(5_000_000);
    const trace: Array<[number, StepResult]> = [];
    const r = m.runUntil({ predicate: () => trace.length >= 3 }, (budget) => {
      const res: StepResult = irq ? Math.min(budget, 10) : 'halted';
      trace.push([m.virtual.now(), res]);
      return res;
    });
    expect(r.reason).toBe('predicate');
    expect(trace).toEqual([[0, 'halted'], [5_000_000, 10], [5_000_010, 10]]);
  });

  it('returns idle when halted with nothing armed, and a halted run stops at the deadline', () => {
    const m = new MainLoop();
    const r = m.runUntil({}, () => 'halted');
    expect(r).toEqual({ reason: 'idle', virtualNs: 0, steps: 1 });
    const r2 = m.runUntil({ deadlineNs: 777 }, () => 'halted');
    expect(r2.reason).toBe('deadline');
    expect(m.virtual.now()).toBe(777);
  });

  it('runs BHs left by a halted step before warping time', () => {
    const m = new MainLoop();
    let woke = false;
    const wake = m.bhNew(() => { woke = true; });
    m.timerNew('virtual', () => {}, null).mod(1_000_000_000);
    let calls = 0;
    m.runUntil({ predicate: () => calls === 2 }, () => {
      calls++;
      if (calls === 1) { wake.schedule(); return 'halted'; }
      return 1;
    });
    expect(woke).toBe(true);
    expect(m.virtual.now()).toBe(1); // the second step (1 ns) ran with no warp to 1e9 before it
  });

  it('requestStop ends the run and kicks the CPU', () => {
    const m = new MainLoop();
    let kicks = 0;
    m.addKickListener(() => kicks++);
    const r = m.runUntil({}, (b) => { m.requestStop('poweroff'); return b; });
    expect(r.reason).toBe('stop-requested');
    expect(r.stopCause).toBe('poweroff');
    expect(r.steps).toBe(1);
    expect(kicks).toBeGreaterThanOrEqual(1);
    // The request is consumed.
    expect(m.runUntil({ maxSteps: 2 }, (b) => b).reason).toBe('max-steps');
  });

  it('kicks when a virtual timer becomes first or a BH is scheduled', () => {
    const m = new MainLoop();
    let kicks = 0;
    const off = m.addKickListener(() => kicks++);
    const a = m.timerNew('virtual', () => {}, null);
    a.mod(100);
    expect(kicks).toBe(1);
    m.timerNew('virtual', () => {}, null).mod(200);
    expect(kicks).toBe(1);
    m.bhNew(() => {}).schedule();
    expect(kicks).toBe(2);
    off();
    a.mod(1);
    expect(kicks).toBe(2);
  });

  it('is deterministic: two identical machines see identical timer traces', () => {
    const run = (): number[] => {
      const m = new MainLoop();
      const seen: number[] = [];
      const t = m.timerNew('virtual', () => { seen.push(m.virtual.now()); t.mod(m.virtual.now() + 333); }, null);
      t.mod(1);
      let k = 0;
      m.runUntil({ deadlineNs: 10_000, sliceNs: 97 }, (b) => ((k++ % 3 === 0) ? 'halted' : Math.min(b, 41)));
      return seen;
    };
    const a = run();
    expect(a.length).toBeGreaterThan(20);
    expect(run()).toEqual(a);
    expect(a.every((t, i) => i === 0 || t - a[i - 1]! === 333)).toBe(true);
  });

  it('rejects a bad step result and a bad slice', () => {
    const m = new MainLoop();
    expect(() => m.runUntil({}, () => -5)).toThrow(ClockError);
    expect(() => m.runUntil({ sliceNs: 0 }, () => 1)).toThrow(ClockError);
  });
});
