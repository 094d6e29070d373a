import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SoftboardError } from '../../src/util/errors.js';
import { parseDuration, parseSize, SizeParseError } from '../../src/util/size.js';

const U64_MAX = 18446744073709551615n; // 2^64 - 1
/** Suffix letter k (B, K, M …) is 1024^k bytes. */
const SUFFIXES = ['B', 'K', 'M', 'G', 'T', 'P', 'E'] as const;
const unit = (k: number): bigint => 1024n ** BigInt(k);

/** Any casing of a suffix letter. */
const suffixArb = fc.tuple(fc.integer({ min: 0, max: SUFFIXES.length - 1 }), fc.boolean())
  .map(([k, lower]) => ({ k, text: lower ? SUFFIXES[k]!.toLowerCase() : SUFFIXES[k]! }));

/** Characters that fit in no size: not a digit, hex digit, '.' or suffix letter ('x' only after a lone 0). */
const junkArb = fc.constantFrom('Q', 'q', '!', '/', ' ', '\t', 'i', 'I', '#', ',', '_', 'z', '%', '-', '+', 'h', 'x');

describe('parseSize (QEMU qemu_strtosz)', () => {
  it('reads suffixes B K M G T P E as powers of 1024, any case', () => {
    expect(parseSize('128M')).toBe(134217728n);
    expect(parseSize('1G')).toBe(1073741824n);
    expect(parseSize('2k')).toBe(2048n);
    expect(parseSize('3T')).toBe(3298534883328n);
    expect(parseSize('1E')).toBe(1152921504606846976n);
    expect(parseSize('7B')).toBe(7n);
    expect(parseSize('7b')).toBe(7n);
  });

  it('reads plain numbers, hex, leading white space and +', () => {
    expect(parseSize('4096')).toBe(4096n);
    expect(parseSize('0x1000')).toBe(4096n);
    expect(parseSize('0X1000')).toBe(4096n);
    expect(parseSize('0x1E')).toBe(30n); // E and B are hex digits, not suffixes
    expect(parseSize('0x10b')).toBe(267n);
    expect(parseSize('08')).toBe(8n); // decimal, not octal
    expect(parseSize(' \t12')).toBe(12n);
    expect(parseSize('+12K')).toBe(12288n);
    expect(parseSize('18446744073709551615')).toBe(U64_MAX);
    expect(parseSize('0xffffffffffffffff')).toBe(U64_MAX);
    expect(parseSize(7)).toBe(7n);
    expect(parseSize(9n)).toBe(9n);
  });

  it('reads decimal fractions with a suffix, rounded to the nearest byte, half up', () => {
    expect(parseSize('1.5K')).toBe(1536n);
    expect(parseSize('.5K')).toBe(512n);
    expect(parseSize('1.K')).toBe(1024n);
    expect(parseSize('1.5e')).toBe(1729382256910270464n); // e is the EiB suffix, not an exponent
    expect(parseSize('0.1K')).toBe(102n); // 102.4
    expect(parseSize('1.0005K')).toBe(1025n); // 1024.512
    expect(parseSize('0.00048828125K')).toBe(1n); // exactly 0.5 byte: up
    expect(parseSize('0.000244140625K')).toBe(0n); // 0.25 byte: down
    expect(parseSize('15.5E')).toBe(17870283321406128128n);
    // a fraction that is zero needs no suffix
    expect(parseSize('1.')).toBe(1n);
    expect(parseSize('3.000')).toBe(3n);
  });

  it('applies the default suffix to numbers without one, hex included (qemu_strtosz_MiB)', () => {
    expect(parseSize('512', { defaultSuffix: 'M' })).toBe(536870912n);
    expect(parseSize('512K', { defaultSuffix: 'M' })).toBe(524288n);
    expect(parseSize('0x10', { defaultSuffix: 'M' })).toBe(16777216n);
    expect(parseSize('1.5', { defaultSuffix: 'M' })).toBe(1572864n);
    expect(parseSize('3B', { defaultSuffix: 'M' })).toBe(3n);
    expect(parseSize(5, { defaultSuffix: 'M' })).toBe(5n); // numbers are bytes
  });

  it('rejects what QEMU rejects, with a SizeParseError naming the input', () => {
    const bad = ['', ' ', 'abc', 'M', '.', '.K', '12Q', '1.5.3M', '0x', '0x.8', '0x1.8', '0x10M', '0x1p3', '1e3',
      'inf', 'nan', '1.3', '1.5B', '64KiB', '8MB', '1 M', '12 ', '12\n', '0b1000', '00x10', '+-1', '- 1'];
    for (const s of bad) {
      const e = (() => { try { parseSize(s); } catch (x) { return x; } return null; })();
      expect(e, JSON.stringify(s)).toBeInstanceOf(SizeParseError);
      expect(e, JSON.stringify(s)).toBeInstanceOf(SoftboardError);
      expect((e as SizeParseError).input).toBe(s);
      expect((e as SizeParseError).message).toContain(`'${s}'`);
    }
  });

  it('says why: junk, negative, fraction without suffix, hex with suffix, overflow', () => {
    expect(() => parseSize('12Q')).toThrow("invalid size '12Q': unexpected 'Q' after '12'; a size is a number");
    expect(() => parseSize('64KiB')).toThrow("unexpected 'iB' after '64K'; '64K' alone means 64 KiB");
    expect(() => parseSize('8mb')).toThrow("unexpected 'b' after '8m'; '8m' alone means 8 MiB");
    for (const s of ['-1', '-0', '-.5K', ' -1M', '-0x10']) expect(() => parseSize(s), s).toThrow(/negative/);
    expect(() => parseSize('1.5')).toThrow(/a fraction needs a K, M, G, T, P or E suffix/);
    expect(() => parseSize('0x10M')).toThrow(/hex size takes no suffix or fraction/);
    expect(() => parseSize('0x1.8')).toThrow(/hex size takes no suffix or fraction/);
    // the last: more nines than a double holds round the fraction up to 1, so 16E (QEMU alike)
    for (const s of ['16E', '18446744073709551616', '0x10000000000000000', '16384P', '15.99999999999999999999999E']) {
      expect(() => parseSize(s), s).toThrow(/larger than 2\^64-1 bytes/);
    }
    expect(() => parseSize(-1)).toThrow(/negative/);
    expect(() => parseSize(1.5)).toThrow(SizeParseError);
    expect(() => parseSize(1n << 64n)).toThrow(/2\^64/);
  });

  it('round trip: n with each suffix is n × 1024^k, in decimal and (bytes) in hex', () => {
    fc.assert(fc.property(suffixArb, fc.bigInt({ min: 0n, max: U64_MAX }), ({ k, text }, big) => {
      const n = big / unit(k); // every n up to the largest that fits
      expect(parseSize(`${n}${text}`)).toBe(n * unit(k));
      expect(parseSize(`0x${n.toString(16)}`)).toBe(n);
    }));
  });

  it('round trip: a terminating decimal fraction of a unit is exact', () => {
    // b / 1024^k written out exactly (b·5^10k / 10^10k), e.g. 1536 bytes = 1.5K
    fc.assert(fc.property(fc.integer({ min: 1, max: 6 }), fc.bigInt({ min: 0n, max: 1n << 40n }), (k, b) => {
      const places = 10 * k;
      const scaled = (b * 5n ** BigInt(places)).toString().padStart(places + 1, '0');
      const text = `${scaled.slice(0, -places)}.${scaled.slice(-places)}${SUFFIXES[k]}`;
      expect(parseSize(text)).toBe(b);
    }));
  });

  it('rejects junk before, inside or after a valid size', () => {
    const valid = fc.oneof(
      fc.tuple(fc.nat(), suffixArb).map(([n, s]) => `${BigInt(n) % (U64_MAX / unit(s.k) + 1n)}${s.text}`),
      fc.nat().map((n) => `0x${n.toString(16)}`),
      fc.tuple(fc.nat(1000), fc.nat(1000), fc.integer({ min: 1, max: 4 })).map(([i, f, k]) => `${i}.${f}${SUFFIXES[k]}`),
    );
    fc.assert(fc.property(valid, junkArb, fc.nat(), (s, junk, at) => {
      parseSize(s); // valid as generated
      expect(() => parseSize(s + junk), JSON.stringify(s + junk)).toThrow(SizeParseError);
      const cut = 1 + (at % s.length); // after the first character: junk inside or at the end
      const inner = s.slice(0, cut) + junk + s.slice(cut);
      if (!(junk === 'x' && s.slice(0, cut) === '0')) { // "0" + "x…" would make hex
        expect(() => parseSize(inner), JSON.stringify(inner)).toThrow(SizeParseError);
      }
      if (junk !== ' ' && junk !== '\t' && junk !== '+') {
        expect(() => parseSize(junk + s), JSON.stringify(junk + s)).toThrow(SizeParseError);
      }
    }));
  });

  it('rejects every value above 2^64-1, with each suffix', () => {
    fc.assert(fc.property(suffixArb, fc.bigInt({ min: 1n, max: U64_MAX }), ({ k, text }, extra) => {
      const n = U64_MAX / unit(k) + extra;
      expect(() => parseSize(`${n}${text}`)).toThrow(/larger than 2\^64-1 bytes/);
    }));
  });
});

describe('parseDuration', () => {
  it('reads units into nanoseconds', () => {
    expect(parseDuration('10ms')).toBe(10_000_000n);
    expect(parseDuration('1s')).toBe(1_000_000_000n);
    expect(parseDuration('250us')).toBe(250_000n);
    expect(parseDuration('250µs')).toBe(250_000n);
    expect(parseDuration('100ns')).toBe(100n);
    expect(parseDuration('100')).toBe(100n);
    expect(parseDuration('1.5ms')).toBe(1_500_000n);
    expect(parseDuration('2min')).toBe(120_000_000_000n);
    expect(parseDuration('1h')).toBe(3_600_000_000_000n);
    expect(parseDuration(42)).toBe(42n);
    expect(parseDuration(42n)).toBe(42n);
  });

  it('rejects bad durations', () => {
    for (const bad of ['', 'ms', '10 parsecs', '-5ms', '1.5ns', '0.0001us', '1e3']) {
      expect(() => parseDuration(bad), bad).toThrow(SizeParseError);
    }
    expect(() => parseDuration(-1)).toThrow(/negative/);
    expect(() => parseDuration(0.5)).toThrow(SizeParseError);
  });

  it('scales integers by the unit', () => {
    const units: Array<[string, bigint]> = [['ns', 1n], ['us', 1000n], ['ms', 1_000_000n], ['s', 1_000_000_000n]];
    fc.assert(fc.property(fc.nat(), fc.integer({ min: 0, max: 3 }), (n, u) => {
      const [name, mul] = units[u]!;
      expect(parseDuration(`${n}${name}`)).toBe(BigInt(n) * mul);
    }));
  });
});
