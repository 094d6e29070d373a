import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseDuration, parseSize, SizeParseError } from '../../src/util/size.js';

describe('parseSize', () => {
  it('reads suffixes as powers of 1024', () => {
    expect(parseSize('128M')).toBe(128n * 1024n * 1024n);
    expect(parseSize('1G')).toBe(1n << 30n);
    expect(parseSize('2k')).toBe(2048n);
    expect(parseSize('3T')).toBe(3n << 40n);
    expect(parseSize('64KiB')).toBe(64n << 10n);
    expect(parseSize('8MB')).toBe(8n << 20n);
    expect(parseSize('1E')).toBe(1n << 60n);
  });

  it('reads plain numbers, hex and exact fractions', () => {
    expect(parseSize('4096')).toBe(4096n);
    expect(parseSize('0x1000')).toBe(4096n);
    expect(parseSize('0x10M')).toBe(16n << 20n);
    expect(parseSize('1.5K')).toBe(1536n);
    expect(parseSize(' 12 ')).toBe(12n);
    expect(parseSize(7)).toBe(7n);
    expect(parseSize(9n)).toBe(9n);
  });

  it('applies the default suffix to bare numbers only', () => {
    expect(parseSize('512', { defaultSuffix: 'M' })).toBe(512n << 20n);
    expect(parseSize('512K', { defaultSuffix: 'M' })).toBe(512n << 10n);
  });

  it('rejects bad input with a SizeParseError naming it', () => {
    for (const bad of ['', 'abc', '12Q', '-1', '1.5.3M', '0x', 'M', '0.1K', '1.3']) {
      expect(() => parseSize(bad), bad).toThrow(SizeParseError);
    }
    expect(() => parseSize('12Q')).toThrow(/'12Q'/);
    expect(() => parseSize('16E')).toThrow(/2\^64/);
    expect(() => parseSize(-1)).toThrow(SizeParseError);
    expect(() => parseSize(1.5)).toThrow(SizeParseError);
  });

  it('agrees with n * 1024^k for every suffix', () => {
    const suffixes = ['', 'K', 'M', 'G', 'T'] as const;
    fc.assert(fc.property(fc.nat(1_000_000), fc.integer({ min: 0, max: 4 }), fc.boolean(), (n, k, lower) => {
      const sfx = lower ? suffixes[k]!.toLowerCase() : suffixes[k]!;
      expect(parseSize(`${n}${sfx}`)).toBe(BigInt(n) * 1024n ** BigInt(k));
      expect(parseSize(`0x${n.toString(16)}${sfx}`)).toBe(BigInt(n) * 1024n ** BigInt(k));
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
