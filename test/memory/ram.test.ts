import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AddressSpace, ArenaRamAllocator, DIRTY_ALL, DIRTY_CODE, DIRTY_MIGRATION, MemoryRegion, RAM_PAGE_SIZE,
  RamAllocationError, RamBlock, type RamAllocator,
} from '../../src/memory/index.js';

describe('RamBlock', () => {
  it('starts all dirty and tracks flags per 4 KiB page like a per-page model', () => {
    const pages = 8;
    const opArb = fc.record({
      op: fc.constantFrom('set', 'clear', 'get', 'testAndClear', 'includesClean'),
      flag: fc.constantFrom(DIRTY_CODE, DIRTY_MIGRATION, DIRTY_ALL),
      start: fc.integer({ min: 0, max: pages * RAM_PAGE_SIZE - 1 }),
      len: fc.integer({ min: 0, max: 3 * RAM_PAGE_SIZE }),
    });
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const b = new RamBlock('ram', pages * RAM_PAGE_SIZE);
        const model = Array.from({ length: pages }, () => DIRTY_ALL);
        for (const o of ops) {
          const len = Math.min(o.len, b.size - o.start);
          const p0 = Math.floor(o.start / RAM_PAGE_SIZE), p1 = Math.ceil((o.start + len) / RAM_PAGE_SIZE);
          const ps = model.slice(p0, p1);
          switch (o.op) {
            case 'set': b.setDirty(o.start, len, o.flag); for (let p = p0; p < p1; p++) model[p]! |= o.flag; break;
            case 'clear': b.clearDirty(o.flag, o.start, len); for (let p = p0; p < p1; p++) model[p]! &= ~o.flag; break;
            case 'get': expect(b.getDirty(o.flag, o.start, len)).toBe(ps.some((d) => d & o.flag)); break;
            case 'includesClean': expect(b.includesClean(o.flag, o.start, len)).toBe(ps.some((d) => !(d & o.flag))); break;
            case 'testAndClear':
              expect(b.testAndClearDirty(o.flag, o.start, len)).toBe(ps.some((d) => d & o.flag));
              for (let p = p0; p < p1; p++) model[p]! &= ~o.flag;
              break;
          }
          expect(Array.from(b.dirty)).toEqual(model);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('rejects ranges outside the block', () => {
    const b = new RamBlock('ram', 0x2000);
    expect(() => b.setDirty(0x1fff, 2)).toThrow(RangeError);
    expect(() => b.getDirty(DIRTY_CODE, -1, 1)).toThrow(/outside/);
  });

  it('allocates lazily through its allocator; 2 GiB blocks work', () => {
    let calls = 0;
    const counting: RamAllocator = { allocate: (n) => { calls++; return new Uint8Array(n); } };
    const big = MemoryRegion.ram(null, 'big', 2n ** 31n, { allocator: counting });
    expect(big.ram!.allocated).toBe(false);
    expect(calls).toBe(0);
    const root = MemoryRegion.container(null, 'root', 1n << 40n);
    root.addSubregion(0x8000_0000n, big);
    const as = new AddressSpace(root, 'as');
    as.write(0x8000_0000n + 2n ** 31n - 8n, 0x0123456789abcdefn, 8);
    expect(as.read(0xffff_fff8n, 8)).toBe(0x0123456789abcdefn);
    expect(calls).toBe(1);
    expect(big.ram!.size).toBe(2 ** 31);
    expect(() => new RamBlock('huge', 2 ** 33)).toThrow(RamAllocationError);
    expect(() => MemoryRegion.ram(null, 'bad', 1.5)).toThrow();
  });

  it('an arena allocator puts all blocks of a machine in one buffer, page aligned', () => {
    const buffer = new ArrayBuffer(0x10000);
    const arena = new ArenaRamAllocator(buffer);
    const a = MemoryRegion.ram(null, 'a', 0x1800n, { allocator: arena });
    const b = MemoryRegion.rom(null, 'b', 0x1000n, { allocator: arena });
    expect(a.ram!.bytes.buffer).toBe(buffer);
    expect(b.ram!.bytes.byteOffset).toBe(0x2000);
    a.ram!.bytes[0x17ff] = 7;
    expect(new Uint8Array(buffer)[0x17ff]).toBe(7);
    const c = MemoryRegion.ram(null, 'c', 0x10000n, { allocator: arena });
    expect(() => c.ram!.bytes).toThrow(/'c' \(65536 bytes\) does not fit in the arena: 53248 bytes left/);
  });
});
