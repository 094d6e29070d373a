/** Timer ids (src/util/timer.ts): what a machine snapshot names board timers by. */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/util/clock.js';
import { ClockError } from '../../src/util/timer.js';

describe('QemuTimer.id', () => {
  it('finds a timer by id, armed or not, and renames or clears it', () => {
    const c = new VirtualClock();
    const t = c.timerNew(() => {}, null);
    expect(c.timers.byId('a')).toBeUndefined();
    t.id = 'a';
    expect(c.timers.byId('a')).toBe(t);
    t.id = 'b';
    expect(c.timers.byId('a')).toBeUndefined();
    expect(c.timers.byId('b')).toBe(t);
    t.id = undefined;
    expect(c.timers.byId('b')).toBeUndefined();
  });

  it('is unique per clock, not across clocks', () => {
    const c = new VirtualClock();
    const t1 = c.timerNew(() => {}, null);
    const t2 = c.timerNew(() => {}, null);
    t1.id = 'x';
    expect(() => { t2.id = 'x'; }).toThrow(ClockError);
    expect(t2.id).toBeUndefined();
    const other = new VirtualClock().timerNew(() => {}, null);
    other.id = 'x';
    expect(c.timers.byId('x')).toBe(t1);
  });
});
