/**
 * The binary snapshot format: encode/decode round-trips, zero pages take no space, and corrupt or
 * foreign bytes are refused with a SnapshotError.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot, SNAPSHOT_MAGIC } from '../../src/migration/format.js';
import { SNAPSHOT_PAGE_SIZE, SnapshotError, type MachineSnapshot, type RamSnapshot } from '../../src/migration/snapshot.js';
import { bootGuest } from './helpers.js';

/** A snapshot with made-up RAM blocks (the format does not care what the JSON part holds). */
function fake(ram: RamSnapshot[]): MachineSnapshot {
  return {
    format: 'softboard-snapshot', version: 1, nsPerInsn: 4, clock: { virtualNs: 12 }, icount: 3,
    machine: { shutdown: null, resetPending: false }, cpus: [], devices: { '/machine/x': { name: 'x', version: 1, fields: { a: '1' } } },
    timers: [{ id: 't', expireNs: 5 }], ram,
  };
}

const ramArb: fc.Arbitrary<RamSnapshot> = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }),
  pages: fc.uniqueArray(fc.integer({ min: 0, max: 63 }), { maxLength: 5 }).map((a) => Uint32Array.from(a.sort((x, y) => x - y))),
  fill: fc.integer({ min: 1, max: 255 }),
}).map(({ name, pages, fill }) => {
  const data = new Uint8Array(pages.length * SNAPSHOT_PAGE_SIZE);
  for (let i = 0; i < data.length; i += 97) data[i] = (fill + i) & 0xff;
  return { name, size: 64 * SNAPSHOT_PAGE_SIZE, pages, data };
});

describe('snapshot format', () => {
  it('round-trips, with pages stored as given', () => {
    fc.assert(fc.property(fc.array(ramArb, { maxLength: 3 }), (ram) => {
      const s = fake(ram);
      const bytes = encodeSnapshot(s);
      const pages = ram.reduce((n, r) => n + r.pages.length, 0);
      expect(bytes.length).toBeLessThan(pages * (SNAPSHOT_PAGE_SIZE + 4) + 2000);
      const d = decodeSnapshot(bytes);
      // RAM bytes compared as buffers (a deep equality walks them byte by byte, slowly).
      const strip = (x: MachineSnapshot): unknown => ({ ...x, ram: x.ram.map((r) => ({ ...r, data: r.data.length })) });
      expect(strip(d)).toEqual(strip(s));
      d.ram.forEach((r, i) => expect(Buffer.from(r.data).equals(Buffer.from(s.ram[i]!.data))).toBe(true));
    }), { numRuns: 50 });
  });

  it('stores a real machine compactly (zero pages omitted) and decodes it to the same snapshot', () => {
    const m = bootGuest();
    m.run({ instructions: 30_000 });
    const s = m.snapshot();
    const bytes = encodeSnapshot(s);
    // 16 MiB RAM + 2 × 32 MiB flash + the ROM, of which a handful of pages are non-zero.
    expect(bytes.length).toBeLessThan(64 * 1024);
    expect(decodeSnapshot(bytes)).toEqual(s);
  });

  it('refuses what is not a snapshot, or is damaged', () => {
    const bytes = encodeSnapshot(fake([]));
    expect(() => decodeSnapshot(new TextEncoder().encode('hello world, not a snapshot'))).toThrow(/bad magic/);
    expect(() => decodeSnapshot(bytes.subarray(0, bytes.length - 1))).toThrow(SnapshotError);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(() => decodeSnapshot(longer)).toThrow(/contents end at/);
    const v2 = bytes.slice();
    v2[8] = 2;
    expect(() => decodeSnapshot(v2)).toThrow(/format version 2 is not supported/);
    const badJson = bytes.slice();
    badJson[SNAPSHOT_MAGIC.length + 8] = 0x21; // the JSON's opening '{' becomes '!'
    expect(() => decodeSnapshot(badJson)).toThrow(/does not parse/);
    const withPages = encodeSnapshot(fake([{ name: 'r', size: 8192, pages: Uint32Array.of(1), data: new Uint8Array(4096) }]));
    expect(() => decodeSnapshot(withPages.subarray(0, withPages.length - 100))).toThrow(/truncated snapshot: RAM block 'r'/);
  });
});
