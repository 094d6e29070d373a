/**
 * The generic vmstate save/load: every field kind round-trips through JSON, versions and names are
 * checked, `since` fields and subsections follow QEMU's rules, bad values are refused with the field
 * named, arrays load in place, timers re-arm.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  loadVmState, saveVmState, vmStateOf, vmStateTimers, VmStateError, type VmSavedState, type VmStateDescription,
} from '../../src/migration/vmstate.js';
import { VirtualClock } from '../../src/util/clock.js';
import type { QemuTimer } from '../../src/util/timer.js';

class Inner {
  a = 0;
  b = new Uint16Array(3);
  static readonly vmstate: VmStateDescription<Inner> = {
    name: 'inner', version: 1,
    fields: [{ name: 'a', kind: 'u32' }, { name: 'b', kind: 'u16', array: 3 }],
  };
}

class Toy {
  u8 = 0; i32 = 0; n = 0; f = 0; flag = false; big = 0n; sbig = 0n; str = '';
  readonly words = new Uint32Array(4);
  readonly bigs: bigint[] = [0n, 0n];
  readonly inner = new Inner();
  readonly inners = [new Inner(), new Inner()];
  #hidden = 0;
  timer: QemuTimer<null> | null;
  extra = 0;
  loaded = 0;
  get hidden(): number { return this.#hidden; }
  constructor(clock: VirtualClock) {
    this.timer = clock.timerNew(() => {}, null);
  }
  static readonly vmstate: VmStateDescription<Toy> = {
    name: 'toy', version: 2, minimumVersion: 1,
    fields: [
      { name: 'u8', kind: 'u8' },
      { name: 'i32', kind: 'i32' },
      { name: 'n', kind: 'int' },
      { name: 'f', kind: 'f64' },
      { name: 'flag', kind: 'bool' },
      { name: 'big', kind: 'u64' },
      { name: 'sbig', kind: 'bigint' },
      { name: 'str', kind: 'string' },
      { name: 'words', kind: 'u32', array: true },
      { name: 'bigs', kind: 'u64', array: 2 },
      { name: 'inner', kind: 'struct', desc: Inner.vmstate },
      { name: 'inners', kind: 'struct', array: true, desc: Inner.vmstate },
      { name: 'hidden', kind: 'i32', get: (t) => t.#hidden, set: (t, v: number) => { t.#hidden = v; } },
      { name: 'timer', kind: 'timer' },
      { name: 'extra', kind: 'u8', since: 2 },
    ],
    subsections: [{
      name: 'toy/big-mode', version: 1, needed: (t) => t.u8 > 100,
      fields: [{ name: 'n', kind: 'int' }],
    }],
    postLoad: (t) => { t.loaded++; },
  };
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

describe('saveVmState / loadVmState', () => {
  it('round-trips every kind through JSON into another object', () => {
    fc.assert(fc.property(
      fc.record({
        u8: fc.integer({ min: 0, max: 255 }), i32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        n: fc.maxSafeInteger(), f: fc.double(), flag: fc.boolean(), big: u64, sbig: fc.bigInt(),
        str: fc.string(), words: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 4, maxLength: 4 }),
        bigs: fc.array(u64, { minLength: 2, maxLength: 2 }), a: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
        b: fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 3, maxLength: 3 }),
        hidden: fc.integer({ min: -5, max: 5 }), timer: fc.option(fc.integer({ min: 0, max: 2 ** 40 })),
        extra: fc.integer({ min: 0, max: 255 }),
      }),
      (v) => {
        const a = new Toy(new VirtualClock());
        Object.assign(a, { u8: v.u8, i32: v.i32, n: v.n, f: v.f, flag: v.flag, big: v.big, sbig: v.sbig, str: v.str, extra: v.extra });
        a.words.set(v.words);
        a.bigs.splice(0, 2, ...v.bigs);
        a.inner.a = v.a;
        a.inner.b.set(v.b);
        a.inners[1]!.a = (v.a ^ 1) >>> 0;
        Toy.vmstate.fields.find((f) => f.name === 'hidden')!.set!(a, v.hidden);
        if (v.timer !== null) a.timer!.modNs(v.timer);
        const json = JSON.parse(JSON.stringify(saveVmState(a, Toy.vmstate))) as VmSavedState;
        const b = new Toy(new VirtualClock());
        loadVmState(b, Toy.vmstate, json);
        expect(b.loaded).toBe(1);
        const { loaded: _l1, timer: ta, ...restA } = a;
        const { loaded: _l2, timer: tb, ...restB } = b;
        expect(restB).toEqual(restA);
        expect(b.hidden).toBe(v.hidden);
        expect(tb!.expireNs).toBe(ta!.expireNs);
        expect(Object.is(b.f, a.f)).toBe(true);
      }), { numRuns: 200 });
  });

  it('loads arrays and structs in place (readonly properties keep their objects)', () => {
    const a = new Toy(new VirtualClock());
    a.words[2] = 7;
    const b = new Toy(new VirtualClock());
    const { words, inner, inners } = b;
    loadVmState(b, Toy.vmstate, saveVmState(a, Toy.vmstate));
    expect(b.words).toBe(words);
    expect(b.inner).toBe(inner);
    expect(b.inners).toBe(inners);
    expect(b.words[2]).toBe(7);
  });

  it('disarms a timer saved unarmed', () => {
    const a = new Toy(new VirtualClock());
    const b = new Toy(new VirtualClock());
    b.timer!.modNs(50);
    loadVmState(b, Toy.vmstate, saveVmState(a, Toy.vmstate));
    expect(b.timer!.pending).toBe(false);
    const armed = new Toy(new VirtualClock());
    armed.timer!.modNs(9);
    const noTimer = new Toy(new VirtualClock());
    noTimer.timer = null;
    expect(() => loadVmState(noTimer, Toy.vmstate, saveVmState(armed, Toy.vmstate))).toThrow(/toy.timer: the saved timer is armed but this object has no timer/);
  });

  it('checks the name and the version range', () => {
    const t = new Toy(new VirtualClock());
    const s = saveVmState(t, Toy.vmstate);
    expect(() => loadVmState(t, Toy.vmstate, { ...s, version: 3 }, 'dev')).toThrow(/dev: saved 'toy' state has version 3, newer than this build's version 2/);
    expect(() => loadVmState(t, Toy.vmstate, { ...s, version: 0 }, 'dev')).toThrow(/version 0, older than the oldest this build loads \(1; current 2\)/);
    expect(() => loadVmState(t, Toy.vmstate, { ...s, name: 'uart' }, 'dev')).toThrow(/dev: saved state is of 'uart', expected 'toy'/);
    expect(() => loadVmState(t, Toy.vmstate, 'nope')).toThrow(VmStateError);
  });

  it('accepts an older version without the fields added since, and keeps their values', () => {
    const a = new Toy(new VirtualClock());
    a.extra = 9;
    a.u8 = 3;
    const s = saveVmState(a, Toy.vmstate);
    const { extra: _e, ...v1fields } = s.fields;
    const b = new Toy(new VirtualClock());
    b.extra = 42;
    loadVmState(b, Toy.vmstate, { ...s, version: 1, fields: v1fields });
    expect(b.extra).toBe(42);
    expect(b.u8).toBe(3);
    // In a version-2 state the field is required.
    expect(() => loadVmState(b, Toy.vmstate, { ...s, fields: v1fields })).toThrow(/toy.extra: missing from the saved 'toy' state \(version 2\)/);
  });

  it('saves a subsection only when needed, and refuses unknown ones', () => {
    const a = new Toy(new VirtualClock());
    expect(saveVmState(a, Toy.vmstate).subsections).toBeUndefined();
    a.u8 = 200;
    a.n = 77;
    const s = saveVmState(a, Toy.vmstate);
    expect(Object.keys(s.subsections ?? {})).toEqual(['toy/big-mode']);
    const b = new Toy(new VirtualClock());
    loadVmState(b, Toy.vmstate, s);
    expect(b.n).toBe(77);
    expect(() => loadVmState(b, Toy.vmstate, { ...s, subsections: { other: s.subsections!['toy/big-mode']! } })).toThrow(/unknown subsection 'other'/);
  });

  it('refuses bad values, naming the field', () => {
    const t = new Toy(new VirtualClock());
    const s = saveVmState(t, Toy.vmstate);
    const bad = (fields: Record<string, unknown>): unknown => ({ ...s, fields: { ...s.fields, ...fields } });
    expect(() => loadVmState(t, Toy.vmstate, bad({ u8: 256 }), 'd')).toThrow(/d.u8: expected u8 \(0..255\), got 256/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ i32: 1.5 }), 'd')).toThrow(/d.i32: expected i32/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ big: '-1' }), 'd')).toThrow(/d.big: expected u64/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ big: 5 }), 'd')).toThrow(/d.big: expected a decimal u64 string/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ words: [1, 2, 3] }), 'd')).toThrow(/d.words: the saved array has 3 elements, this object has 4/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ flag: 1 }), 'd')).toThrow(/d.flag: expected bool/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ timer: -2 }), 'd')).toThrow(/d.timer: expected a timer expiry/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ bogus: 1 }), 'd')).toThrow(/unknown field 'bogus'/);
    expect(() => loadVmState(t, Toy.vmstate, bad({ inner: { name: 'inner', version: 1, fields: { a: 1, b: [1, 2, 3, 4] } } }), 'd'))
      .toThrow(/d.inner.b: the saved array has 4 elements/);
  });

  it('refuses to save a property that does not hold its declared kind', () => {
    const t = new Toy(new VirtualClock());
    (t as unknown as { big: number }).big = 5;
    expect(() => saveVmState(t, Toy.vmstate, 'dev')).toThrow(/dev.big: expected a bigint \(u64\), got 5/);
    const wrongLen: VmStateDescription<Toy> = { name: 'x', version: 1, fields: [{ name: 'words', kind: 'u32', array: 5 }] };
    expect(() => saveVmState(t, wrongLen)).toThrow(/declared with 5 elements, has 4/);
  });

  it('lists the declared timers with stable ids', () => {
    const t = new Toy(new VirtualClock());
    expect(vmStateTimers(t, Toy.vmstate, 'p:').map((x) => x.id)).toEqual(['p:timer']);
    expect(vmStateOf(t)).toBe(Toy.vmstate);
    expect(vmStateOf({})).toBe(null);
  });
});
