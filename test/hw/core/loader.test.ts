import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EM_RISCV, ElfError, PF_R, PF_W, PF_X, loadElf, loadElfFile, loadRaw, parseElf } from '../../../src/hw/core/loader.js';
import { makeElf } from './elf-writer.js';

const FIX = join(__dirname, '../../fixtures/riscv');
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);

/** A sparse byte-addressed memory that records every write. */
class Mem {
  readonly bytes = new Map<bigint, number>();
  readonly writes: [bigint, number][] = [];
  write = (addr: bigint, data: Uint8Array): void => {
    this.writes.push([addr, data.length]);
    data.forEach((b, i) => this.bytes.set(addr + BigInt(i), b));
  };
  read(addr: bigint, n: number): number[] {
    return Array.from({ length: n }, (_, i) => this.bytes.get(addr + BigInt(i)) ?? -1);
  }
}

describe('loadElf', () => {
  it('writes file bytes at paddr, zero-fills up to memsz and reports the range', () => {
    const mem = new Mem();
    // Pre-fill the bss area with garbage: the loader must overwrite it with zeros.
    for (let i = 0; i < 0x20; i++) mem.bytes.set(0x80001000n + BigInt(i), 0xaa);
    const img = parseElf(makeElf({
      entry: 0x80000000n,
      segs: [
        { paddr: 0x80000000n, data: bytes(0x13, 0, 0, 0), flags: PF_R | PF_X },
        { paddr: 0x80001000n, data: bytes(1, 2), memsz: 0x20n, flags: PF_R | PF_W },
      ],
    }));
    const r = loadElf(img, mem.write);
    expect(r).toEqual({ entry: 0x80000000n, lowAddr: 0x80000000n, highAddr: 0x80001020n });
    expect(mem.read(0x80000000n, 4)).toEqual([0x13, 0, 0, 0]);
    expect(mem.read(0x80001000n, 0x20)).toEqual([1, 2, ...new Array(0x1e).fill(0)]);
    expect(mem.read(0x80001020n, 1)).toEqual([-1]); // nothing past memsz
  });

  it('zero-fills a large bss in bounded chunks', () => {
    const sizes: number[] = [];
    let nonZero = 0, total = 0n;
    const img = parseElf(makeElf({ segs: [{ paddr: 0x1000n, data: bytes(5), memsz: 0x123457n }] }));
    const r = loadElf(img, (addr, d) => {
      sizes.push(d.length);
      if (addr > 0x1000n) { total += BigInt(d.length); nonZero += d.filter((b) => b !== 0).length; }
    });
    expect(total).toBe(0x123456n);
    expect(nonZero).toBe(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(0x10000);
    expect(r.highAddr).toBe(0x1000n + 0x123457n);
  });

  it('loads by vaddr on request', () => {
    const mem = new Mem();
    const img = parseElf(makeElf({ entry: 0xffffffc000000000n, segs: [{ paddr: 0x80200000n, vaddr: 0xffffffc000000000n, data: bytes(7), flags: PF_X }] }));
    const r = loadElf(img, mem.write, { useVaddr: true });
    expect(mem.read(0xffffffc000000000n, 1)).toEqual([7]);
    expect(r).toEqual({ entry: 0xffffffc000000000n, lowAddr: 0xffffffc000000000n, highAddr: 0xffffffc000000001n });
  });

  it('translates a virtual entry point to the physical load address (as QEMU elf_ops.h)', () => {
    const img = parseElf(makeElf({
      entry: 0xffffffc000000010n,
      segs: [{ paddr: 0x80200000n, vaddr: 0xffffffc000000000n, data: new Uint8Array(0x100), flags: PF_R | PF_X }],
    }));
    expect(loadElf(img, () => {}).entry).toBe(0x80200010n);
    // Not in an executable segment: left alone.
    const data = parseElf(makeElf({
      entry: 0xffffffc000000010n,
      segs: [{ paddr: 0x80200000n, vaddr: 0xffffffc000000000n, data: new Uint8Array(0x100), flags: PF_R | PF_W }],
    }));
    expect(loadElf(data, () => {}).entry).toBe(0xffffffc000000010n);
  });

  it('lets the board\'s write error through and rejects an image with nothing to load', () => {
    const img = parseElf(makeElf({ segs: [{ paddr: 0x4000_0000n, data: bytes(1) }] }));
    expect(() => loadElf(img, (a) => { throw new RangeError(`0x${a.toString(16)} is not RAM`); })).toThrow('0x40000000 is not RAM');
    expect(() => loadElf(parseElf(makeElf({ segs: [] })), () => {})).toThrow(ElfError);
  });

  it('property: memory after loading holds each segment then zeros, nothing else', () => {
    const seg = fc.record({ gap: fc.bigInt(0n, 64n), data: fc.uint8Array({ minLength: 1, maxLength: 32 }), bss: fc.bigInt(0n, 40n) });
    fc.assert(fc.property(fc.array(seg, { minLength: 1, maxLength: 5 }), (specs) => {
      let addr = 0x80000000n;
      const segs = specs.map((s) => {
        addr += s.gap;
        const r = { paddr: addr, data: s.data, memsz: BigInt(s.data.length) + s.bss };
        addr += r.memsz;
        return r;
      });
      const mem = new Mem();
      const r = loadElf(parseElf(makeElf({ segs })), mem.write);
      const model = new Map<bigint, number>();
      for (const s of segs) for (let i = 0n; i < s.memsz; i++) model.set(s.paddr + i, i < BigInt(s.data.length) ? s.data[Number(i)]! : 0);
      expect(mem.bytes).toEqual(model);
      expect(r.lowAddr).toBe(segs[0]!.paddr);
      expect(r.highAddr).toBe(addr);
    }), { numRuns: 200 });
  });
});

const hasObjcopy = (() => {
  try { execFileSync('riscv64-unknown-elf-objcopy', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

describe.skipIf(!hasObjcopy)('loadElfFile on the fixtures, against objcopy -O binary', () => {
  for (const name of ['hello.elf', 'isa-rv32c.elf', 'traps.elf']) {
    it(`${name} lands in memory as objcopy lays it out`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'softboard-loader-'));
      try {
        const bin = join(dir, 'out.bin');
        execFileSync('riscv64-unknown-elf-objcopy', ['-O', 'binary', join(FIX, name), bin]);
        const image = new Uint8Array(readFileSync(bin));
        const mem = new Mem();
        const r = loadElfFile(new Uint8Array(readFileSync(join(FIX, name))), mem.write, { machine: EM_RISCV });
        expect(r.lowAddr).toBe(0x80000000n);
        expect(r.entry).toBe(r.image.symbols.get('_start')!.value);
        // objcopy's image spans the file-backed bytes; loaded memory matches it wherever the ELF wrote.
        const got = mem.read(r.lowAddr, image.length);
        const holes = got.filter((b) => b === -1).length;
        got.forEach((b, i) => { if (b !== -1) expect(b, `byte ${i}`).toBe(image[i]); });
        expect(holes).toBeLessThan(image.length / 2);
        expect(r.highAddr).toBeGreaterThanOrEqual(r.lowAddr + BigInt(image.length));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('loadRaw', () => {
  it('writes the bytes at the address and reports the range', () => {
    const mem = new Mem();
    expect(loadRaw(bytes(1, 2, 3), 0x80200000n, mem.write)).toEqual({ entry: 0x80200000n, lowAddr: 0x80200000n, highAddr: 0x80200003n });
    expect(mem.read(0x80200000n, 3)).toEqual([1, 2, 3]);
    expect(mem.writes).toEqual([[0x80200000n, 3]]);
  });
  it('writes nothing for an empty image', () => {
    const mem = new Mem();
    expect(loadRaw(new Uint8Array(0), 0x1000n, mem.write)).toEqual({ entry: 0x1000n, lowAddr: 0x1000n, highAddr: 0x1000n });
    expect(mem.writes).toEqual([]);
  });
});
