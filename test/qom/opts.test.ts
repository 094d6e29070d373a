import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DeviceOption, formatDeviceOption, parseDeviceOption, parseQemuOpts } from '../../src/qom/index.js';
import { OptionParseError } from '../../src/util/errors.js';

describe('parseDeviceOption', () => {
  it('reads the implied driver, the id and the properties', () => {
    expect(parseDeviceOption('pl011,chardev=serial0,id=uart0')).toEqual({
      driver: 'pl011', id: 'uart0', props: { chardev: 'serial0' },
    });
    expect(parseDeviceOption('virtio-net-device')).toEqual({ driver: 'virtio-net-device', props: {} });
    expect(parseDeviceOption('driver=pl011,id=u')).toEqual({ driver: 'pl011', id: 'u', props: {} });
    expect(parseDeviceOption('id=u,driver=pl011')).toEqual({ driver: 'pl011', id: 'u', props: {} });
  });

  it('has no id key when none is given (exactOptionalPropertyTypes)', () => {
    expect('id' in parseDeviceOption('pl011,x=1')).toBe(false);
  });

  it('turns ",," into a comma inside values and the driver', () => {
    expect(parseDeviceOption('loader,file=a,,b.bin,addr=0x80000000').props).toEqual({ file: 'a,b.bin', addr: '0x80000000' });
    expect(parseDeviceOption('x,v=a,,,w=1').props).toEqual({ v: 'a,', w: '1' });
    expect(parseDeviceOption('x,v=,,,,').props).toEqual({ v: ',,' });
    expect(parseDeviceOption('odd,,name,k=v')).toEqual({ driver: 'odd,name', props: { k: 'v' } });
  });

  it('keeps "=" inside values, allows empty values and a trailing comma', () => {
    expect(parseDeviceOption('x,cmd=a=b=c,empty=,').props).toEqual({ cmd: 'a=b=c', empty: '' });
  });

  it('a bare name is a flag set to on', () => {
    expect(parseDeviceOption('x,verbose,n=2').props).toEqual({ verbose: 'on', n: '2' });
  });

  it('accepts the JSON form', () => {
    expect(parseDeviceOption('{"driver":"pl011","id":"uart0","chardev":"s0","regShift":2,"on":true}')).toEqual({
      driver: 'pl011', id: 'uart0', props: { chardev: 's0', regShift: '2', on: 'on' },
    });
  });

  it('rejects malformed arguments with an OptionParseError naming the problem', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /missing driver/],
      ['id=u', /missing driver/],
      [',x=1', /empty driver/],
      ['pl011,=3', /empty option name at offset 6/],
      ['pl011,x=1,x=2', /option 'x' given twice/],
      ['pl011,id=9lives', /invalid id '9lives'/],
      ['pl011,id=a,,b', /invalid id 'a,b'/],
      ['{"driver":', /invalid JSON/],
      ['{"driver":"x","p":[1]}', /must be a string, number or boolean/],
    ];
    for (const [text, re] of bad) {
      let caught: unknown;
      try {
        parseDeviceOption(text);
      } catch (e) {
        caught = e;
      }
      expect(caught, text).toBeInstanceOf(OptionParseError);
      expect((caught as Error).message, text).toMatch(re);
    }
  });

  it('parseQemuOpts keeps order and duplicates', () => {
    expect(parseQemuOpts('a=1,b,a=2')).toEqual([['a', '1'], ['b', 'on'], ['a', '2']]);
    expect(parseQemuOpts('virt,accel=tcg', 'type')).toEqual([['type', 'virt'], ['accel', 'tcg']]);
  });
});

describe('formatDeviceOption', () => {
  it('escapes commas and uses driver= when the driver holds "="', () => {
    expect(formatDeviceOption({ driver: 'pl011', id: 'uart0', props: { chardev: 'a,b' } })).toBe('pl011,id=uart0,chardev=a,,b');
    expect(formatDeviceOption({ driver: 'a=b', props: {} })).toBe('driver=a=b');
    expect(formatDeviceOption({ driver: 'a,b=c', props: {} })).toBe('a,,b=c');
  });
  it('refuses names it cannot write', () => {
    expect(() => formatDeviceOption({ driver: 'x', props: { 'a,b': '1' } })).toThrow(OptionParseError);
    expect(() => formatDeviceOption({ driver: 'x', props: { id: '1' } })).toThrow(OptionParseError);
    expect(() => formatDeviceOption({ driver: '', props: {} })).toThrow(OptionParseError);
  });

  it('format then parse gives back the option (property)', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', ',', '=', ' ', '.', '0', 'é', '{'), maxLength: 12 });
    const key = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/).filter((k) => k !== 'id' && k !== 'driver');
    const ident = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,8}$/);
    const option = fc.record(
      {
        driver: text.filter((d) => d !== '' && !d.trimStart().startsWith('{')),
        id: ident,
        props: fc.dictionary(key, text, { maxKeys: 5 }),
      },
      { requiredKeys: ['driver', 'props'] },
    );
    fc.assert(fc.property(option, (opt: DeviceOption) => {
      const back = parseDeviceOption(formatDeviceOption(opt));
      expect(back).toEqual(opt);
    }), { numRuns: 500 });
  });
});
