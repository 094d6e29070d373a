import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ChardevRef, QObject, createMachineRoot, createObject, defineType, formatSize, parseSizeText, prop,
  typeProperties,
} from '../../src/qom/index.js';
import { SysBusDevice, TYPE_SYS_BUS_DEVICE } from '../../src/hw/core/sysbus.js';
import { LifecycleError, PropertyError } from '../../src/util/errors.js';

class PDev extends SysBusDevice {
  regShift!: number;
  w16!: number;
  w32!: number;
  off!: number;
  big!: bigint;
  flag!: boolean;
  label!: string | null;
  named!: string;
  mode!: 'fifo' | 'lifo';
  ram!: bigint;
  peer!: PDev | null;
  chardev!: ChardevRef | null;
  /** A non-property field that must not be touched by the property system. */
  other = 'mine';
}
defineType({
  name: 'pdev', parent: TYPE_SYS_BUS_DEVICE, instance: PDev,
  properties: {
    regShift: prop.u8(2, { description: 'register stride shift' }),
    w16: prop.u16(0x1234),
    w32: prop.u32(0xdeadbeef),
    off: prop.i32(-7),
    big: prop.u64(0x1_0000_0000n),
    flag: prop.bool(true),
    label: prop.string(),
    named: prop.string('dflt'),
    mode: prop.enum(['fifo', 'lifo']),
    ram: prop.size('128M'),
    peer: prop.link(PDev),
    chardev: prop.chardev(),
  },
});

const mk = (): PDev => createObject(PDev);
const err = (f: () => void): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
};

describe('property defaults', () => {
  it('every kind starts at its default, in the field of the same name', () => {
    const d = mk();
    expect(d.regShift).toBe(2);
    expect(d.w16).toBe(0x1234);
    expect(d.w32).toBe(0xdeadbeef);
    expect(d.off).toBe(-7);
    expect(d.big).toBe(4294967296n);
    expect(d.flag).toBe(true);
    expect(d.label).toBeNull();
    expect(d.named).toBe('dflt');
    expect(d.mode).toBe('fifo'); // first enum value
    expect(d.ram).toBe(134217728n); // 128 * 1024 * 1024
    expect(d.peer).toBeNull();
    expect(d.chardev).toBeNull();
    expect(d.other).toBe('mine');
  });

  it('rejects bad defaults when the type is declared', () => {
    expect(() => prop.u8(256)).toThrow(PropertyError);
    expect(() => prop.size('12Q')).toThrow(/invalid default 12Q/);
    expect(() => prop.enum(['a', 'b'], 'c' as 'a')).toThrow(PropertyError);
  });
});

describe('setting and parsing', () => {
  it('integers: typed values, decimal and hex strings, sign for i32', () => {
    const d = mk();
    d.setProperty('regShift', 3);
    expect(d.regShift).toBe(3);
    d.setProperty('regShift', '0xff');
    expect(d.regShift).toBe(255);
    d.setProperty('regShift', 7n);
    expect(d.getProperty('regShift')).toBe(7);
    d.setProperty('w16', '65535');
    expect(d.w16).toBe(65535);
    d.setProperty('w32', '0xFFFFFFFF');
    expect(d.w32).toBe(4294967295);
    d.setProperty('off', '-0x80000000');
    expect(d.off).toBe(-2147483648);
    d.setProperty('off', ' 12 ');
    expect(d.off).toBe(12);
    d.setProperty('big', '0xffffffffffffffff');
    expect(d.big).toBe(18446744073709551615n);
    d.setProperty('big', 5);
    expect(d.big).toBe(5n);
  });

  it('bool: on/off, true/false, yes/no', () => {
    const d = mk();
    for (const [s, v] of [['off', false], ['on', true], ['false', false], ['true', true], ['no', false], ['yes', true]] as const) {
      d.setProperty('flag', s);
      expect(d.flag).toBe(v);
    }
    d.setProperty('flag', false);
    expect(d.getPropertyString('flag')).toBe('off');
  });

  it('string, enum, chardev', () => {
    const d = mk();
    d.setProperty('label', 'hello, world');
    expect(d.label).toBe('hello, world');
    d.setProperty('label', null);
    expect(d.label).toBeNull();
    d.setProperty('mode', 'lifo');
    expect(d.mode).toBe('lifo');
    d.setProperty('chardev', 'serial0');
    expect(d.chardev).toBe('serial0');
    const backend = { id: 'ring1', write: () => 0 };
    d.setProperty('chardev', backend);
    expect(d.chardev).toBe(backend);
    expect(d.getPropertyString('chardev')).toBe('ring1');
  });

  it('size: numbers, bigints and K/M/G/T suffixes as powers of 1024', () => {
    const d = mk();
    const cases: Array<[unknown, bigint]> = [
      ['4K', 4096n], ['4k', 4096n], ['1G', 1073741824n], ['2T', 2199023255552n], ['1.5K', 1536n],
      ['512', 512n], ['0x1000', 4096n], [65536, 65536n], [3n, 3n], ['1E', 1152921504606846976n], ['7B', 7n],
      // as QEMU qemu_strtosz: fractions round to the nearest byte (102.4 → 102), 0x1E is hex 30, not 1 EiB
      ['0.1K', 102n], ['0x1E', 30n], [' 2K', 2048n],
    ];
    for (const [input, bytes] of cases) {
      d.setProperty('ram', input);
      expect(d.ram, String(input)).toBe(bytes);
    }
    d.setProperty('ram', '256M');
    expect(d.getPropertyString('ram')).toBe('256M');
  });

  it('kebab-case names are aliases of camelCase ones (QEMU reg-shift)', () => {
    const d = mk();
    d.setProperty('reg-shift', '1');
    expect(d.regShift).toBe(1);
    expect(d.getProperty('reg-shift')).toBe(1);
    expect(d.hasProperty('reg-shift')).toBe(true);
  });

  it('links: an object, an absolute path or a partial path', () => {
    const m = createMachineRoot();
    const a = mk();
    const b = mk();
    m.addPeripheral(a, 'a');
    m.addPeripheral(b, 'b');
    a.setProperty('peer', b);
    expect(a.peer).toBe(b);
    a.setProperty('peer', '/machine/peripheral/a');
    expect(a.peer).toBe(a);
    a.setProperty('peer', 'b');
    expect(a.peer).toBe(b);
    expect(a.getPropertyString('peer')).toBe('/machine/peripheral/b');
    a.setProperty('peer', null);
    expect(a.peer).toBeNull();
  });

  it('createObject sets properties given to it', () => {
    const d = createObject(PDev, { regShift: '4', ram: '1M', mode: 'lifo' });
    expect([d.regShift, d.ram, d.mode]).toEqual([4, 1048576n, 'lifo']);
  });
});

describe('property errors', () => {
  const cases: Array<[string, unknown, string]> = [
    ['regShift', 300, 'pdev.regShift must be 0..255, got 300'],
    ['regShift', -1, 'pdev.regShift must be 0..255, got -1'],
    ['regShift', 1.5, 'pdev.regShift must be 0..255, got 1.5'],
    ['regShift', 'three', "pdev.regShift must be 0..255, got 'three'"],
    ['regShift', true, 'pdev.regShift must be 0..255, got true'],
    ['w16', '0x10000', "pdev.w16 must be 0..65535, got '0x10000'"],
    ['w32', 2 ** 32, 'pdev.w32 must be 0..0xffffffff, got 4294967296'],
    ['off', '2147483648', "pdev.off must be -2147483648..2147483647, got '2147483648'"],
    ['big', -1n, 'pdev.big must be 0..0xffffffffffffffff, got -1'],
    ['big', 2 ** 60, `pdev.big must be 0..0xffffffffffffffff, got ${2 ** 60}`], // unsafe number: inexact
    ['flag', 'maybe', "pdev.flag must be on/off (or true/false, yes/no), got 'maybe'"],
    ['flag', 1, 'pdev.flag must be on/off (or true/false, yes/no), got 1'],
    ['named', null, 'pdev.named must be a string, got null'],
    ['label', 5, 'pdev.label must be a string, got 5'],
    ['mode', 'stack', "pdev.mode must be one of fifo, lifo, got 'stack'"],
    ['ram', '12Q', "pdev.ram must be a size 0..0xffffffffffffffff in bytes, optionally with a K, M, G, T, P or E suffix (unexpected 'Q' after '12'), got '12Q'"],
    ['ram', '16E', "pdev.ram must be a size 0..0xffffffffffffffff in bytes, optionally with a K, M, G, T, P or E suffix (larger than 2^64-1 bytes), got '16E'"],
    ['ram', '1.5', "pdev.ram must be a size 0..0xffffffffffffffff in bytes, optionally with a K, M, G, T, P or E suffix (a fraction needs a K, M, G, T, P or E suffix), got '1.5'"],
    ['ram', '0x10M', "pdev.ram must be a size 0..0xffffffffffffffff in bytes, optionally with a K, M, G, T, P or E suffix (a hex size takes no suffix or fraction), got '0x10M'"],
    ['ram', '-1K', "pdev.ram must be a size 0..0xffffffffffffffff in bytes, optionally with a K, M, G, T, P or E suffix (negative sizes are not allowed), got '-1K'"],
    ['ram', '64KiB', "pdev.ram must be a size 0..0xffffffffffffffff in bytes, optionally with a K, M, G, T, P or E suffix (unexpected 'iB' after '64K'; '64K' alone means 64 KiB), got '64KiB'"],
    ['ram', -1, "pdev.ram must be a size 0..0xffffffffffffffff in bytes, optionally with a K, M, G, T, P or E suffix, got -1"],
    ['chardev', '', "pdev.chardev must be a chardev id or a chardev object, got ''"],
    ['chardev', 5, 'pdev.chardev must be a chardev id or a chardev object, got 5'],
  ];
  for (const [name, value, message] of cases) {
    it(`${name} = ${String(value)}`, () => {
      const d = mk();
      const before = d.getProperty(name);
      const e = err(() => d.setProperty(name, value));
      expect(e).toBeInstanceOf(PropertyError);
      expect(e.message).toBe(message);
      expect((e as PropertyError).property).toBe(name);
      expect((e as PropertyError).typeName).toBe('pdev');
      expect(d.getProperty(name)).toBe(before); // unchanged
    });
  }

  it('links: wrong type, missing path', () => {
    const m = createMachineRoot();
    const d = mk();
    m.addPeripheral(d, 'd');
    const plain = createObject(QObject);
    expect(err(() => d.setProperty('peer', plain)).message).toBe("pdev.peer must be a 'pdev' object, got object (not in a tree)");
    expect(err(() => d.setProperty('peer', '/machine/nothing')).message)
      .toBe("pdev.peer must be a path to a 'pdev' object (not found from container at /), got '/machine/nothing'");
    expect(err(() => d.setProperty('peer', '/machine')).message)
      .toBe("pdev.peer must be a path to a 'pdev' object (it is a container), got '/machine'");
  });

  it('unknown property names suggest the closest', () => {
    const d = mk();
    const e = err(() => d.setProperty('regShfit', 1));
    expect(e).toBeInstanceOf(PropertyError);
    expect(e.message).toBe("pdev has no property 'regShfit' (did you mean 'regShift'?)");
    expect(err(() => d.getProperty('zzzzzzzzzz')).message).toMatch(/^pdev has no property 'zzzzzzzzzz' \(properties: regShift, w16, /);
    expect(err(() => createObject(QObject).setProperty('x', 1)).message).toBe("object has no property 'x' (it has no properties)");
  });

  it('cannot be set after realize, but can be read; settable again after unrealize', () => {
    const d = mk();
    d.setProperty('regShift', 1);
    d.realize();
    const e = err(() => d.setProperty('regShift', 2));
    expect(e).toBeInstanceOf(LifecycleError);
    expect(e.message).toBe('pdev.regShift cannot be set: the device is realized (pdev (not in a tree))');
    expect(d.getProperty('regShift')).toBe(1);
    d.unrealize();
    d.setProperty('regShift', 2);
    expect(d.regShift).toBe(2);
  });

  it('every kind is frozen while realized, even to a valid value', () => {
    const d = mk();
    d.realize();
    const valid: Record<string, unknown> = {
      regShift: 1, w16: 1, w32: 1, off: 1, big: 1n, flag: false, label: 'x', named: 'y', mode: 'lifo', ram: '4K',
      peer: null, chardev: 'serial1',
    };
    for (const p of typeProperties('pdev')) {
      expect(p.name in valid, p.name).toBe(true);
      const before = d.getProperty(p.name);
      expect(() => d.setProperty(p.name, valid[p.name]), p.name).toThrow(LifecycleError);
      expect(d.getProperty(p.name)).toBe(before);
    }
  });

  it('a bad property in createObject is reported', () => {
    expect(() => createObject('pdev', { regShift: 999 })).toThrow('pdev.regShift must be 0..255, got 999');
  });
});

describe('property metadata', () => {
  it('lists properties with kind, accepted values and formatted default', () => {
    const info = typeProperties('pdev');
    expect(info.map((p) => p.name)).toEqual(['regShift', 'w16', 'w32', 'off', 'big', 'flag', 'label', 'named', 'mode', 'ram', 'peer', 'chardev']);
    expect(info[0]).toEqual({ name: 'regShift', kind: 'u8', accepts: '0..255', defaultValue: '2', description: 'register stride shift', declaredBy: 'pdev' });
    expect(info.find((p) => p.name === 'ram')?.defaultValue).toBe('128M');
    expect(info.find((p) => p.name === 'peer')?.accepts).toBe("a 'pdev' object or its path");
  });

  it('rejects property names that collide with class members or parents', () => {
    class Clash extends SysBusDevice {}
    defineType({ name: 'p-clash', parent: TYPE_SYS_BUS_DEVICE, instance: Clash, properties: { realize: prop.bool() } as object });
    expect(() => createObject('p-clash')).toThrow("type 'p-clash': property 'realize' collides with a member of class Clash");
    class Dup extends PDev {}
    defineType({ name: 'p-dup', parent: 'pdev', instance: Dup, properties: { regShift: prop.u8() } });
    expect(() => createObject('p-dup')).toThrow("type 'p-dup': property 'regShift' is already declared by type 'pdev'");
  });
});

describe('size and integer text (properties)', () => {
  it('formatSize then parseSizeText is the identity', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), (v) => parseSizeText(formatSize(v)) === v));
  });
  it('a value with a suffix is the value times 1024^k', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 100000 }), fc.integer({ min: 0, max: 4 }), (n, k) => {
      const s = `${n}${'BKMGT'[k]}`;
      return parseSizeText(s) === BigInt(n) * 1024n ** BigInt(k);
    }));
  });
  it('u32 accepts exactly 0..2^32-1 in decimal and hex', () => {
    const d = mk();
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 33n), max: 1n << 33n }), fc.boolean(), (v, asHex) => {
      const text = asHex ? `${v < 0n ? '-' : ''}0x${(v < 0n ? -v : v).toString(16)}` : String(v);
      const inRange = v >= 0n && v <= 0xffffffffn;
      try {
        d.setProperty('w32', text);
      } catch (e) {
        return !inRange && e instanceof PropertyError;
      }
      return inRange && d.w32 === Number(v);
    }));
  });
});
