import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EM_AARCH64, EM_RISCV, ElfError, STB_GLOBAL, STB_LOCAL, STT_FUNC, STT_OBJECT, parseElf, symbolAt } from '../../../src/hw/core/elf.js';
import { makeElf } from './elf-writer.js';

const FIX = join(__dirname, '../../fixtures/riscv');
const fixture = (n: string): Uint8Array => new Uint8Array(readFileSync(join(FIX, n)));
const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const hasReadelf = (() => {
  try { execFileSync('riscv64-unknown-elf-readelf', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

describe('parseElf: well-formed files', () => {
  for (const cls of [32, 64] as const) {
    it(`reads ELF${cls} headers, PT_LOAD segments and symbols`, () => {
      const elf = makeElf({
        cls, entry: 0x80000010n,
        segs: [
          { paddr: 0x80000000n, data: bytes(1, 2, 3, 4), flags: 5 },
          { paddr: 0x80001000n, vaddr: 0xc0001000n, data: bytes(9), memsz: 0x100n, flags: 6 },
          { paddr: 0x90000000n, data: bytes(7, 7), type: 4 /* PT_NOTE: ignored */ },
          { paddr: 0x80002000n, data: bytes(), memsz: 0n }, // empty: dropped
        ],
        syms: [
          { name: 'main', value: 0x80000010n, size: 8n, type: STT_FUNC },
          { name: 'buf', value: 0x80001000n, size: 0x100n, type: STT_OBJECT, bind: STB_LOCAL },
        ],
      });
      const img = parseElf(elf, { machine: EM_RISCV });
      expect(img.class).toBe(cls);
      expect(img.machine).toBe(EM_RISCV);
      expect(img.entry).toBe(0x80000010n);
      expect(img.segments.map((s) => [s.index, s.paddr, s.vaddr, [...s.data], s.memsz, s.flags])).toEqual([
        [0, 0x80000000n, 0x80000000n, [1, 2, 3, 4], 4n, 5],
        [1, 0x80001000n, 0xc0001000n, [9], 0x100n, 6],
      ]);
      expect(img.symbols.get('main')).toEqual({ name: 'main', value: 0x80000010n, size: 8n, type: STT_FUNC, bind: STB_GLOBAL });
      expect(img.symbols.get('buf')?.bind).toBe(STB_LOCAL);
    });
  }

  it('prefers a global symbol over a local one of the same name', () => {
    const img = parseElf(makeElf({
      segs: [{ paddr: 0x1000n, data: bytes(0) }],
      syms: [{ name: 'x', value: 1n, bind: STB_LOCAL }, { name: 'x', value: 2n, bind: STB_GLOBAL }, { name: 'x', value: 3n, bind: STB_LOCAL }],
    }));
    expect(img.symbols.get('x')?.value).toBe(2n);
  });

  it('symbolAt finds the covering symbol or the nearest label below', () => {
    const img = parseElf(makeElf({
      segs: [{ paddr: 0x1000n, data: new Uint8Array(0x100) }],
      syms: [
        { name: 'f', value: 0x1000n, size: 0x20n },
        { name: 'g', value: 0x1040n, size: 0x10n },
        { name: 'label', value: 0x1080n, size: 0n, type: 0 },
        { name: 'undef', value: 0x1090n, shndx: 0 }, // undefined symbols have no address
      ],
    }));
    expect(symbolAt(img, 0x1000n)).toEqual({ symbol: img.symbols.get('f'), offset: 0n });
    expect(symbolAt(img, 0x101fn)?.symbol.name).toBe('f');
    expect(symbolAt(img, 0x1020n)).toBeUndefined(); // past f, before g, no label
    expect(symbolAt(img, 0x1048n)).toEqual({ symbol: img.symbols.get('g'), offset: 8n });
    expect(symbolAt(img, 0x10a0n)).toEqual({ symbol: img.symbols.get('label'), offset: 0x20n });
    expect(symbolAt(img, 0xfffn)).toBeUndefined();
  });

  it('property: any set of disjoint segments parses back as written (ELF32 and ELF64)', () => {
    const seg = fc.record({ gap: fc.bigInt(0n, 0x10000n), data: fc.uint8Array({ maxLength: 64 }), bss: fc.bigInt(0n, 0x1000n), flags: fc.integer({ min: 0, max: 7 }) });
    fc.assert(fc.property(fc.constantFrom(32 as const, 64 as const), fc.array(seg, { maxLength: 6 }), fc.bigInt(0n, 0x7000_0000n), (cls, specs, base) => {
      let addr = base;
      const segs = specs.filter((s) => s.data.length > 0 || s.bss > 0n).map((s) => {
        addr += s.gap;
        const r = { paddr: addr, data: s.data, memsz: BigInt(s.data.length) + s.bss, flags: s.flags };
        addr += r.memsz;
        return r;
      });
      const img = parseElf(makeElf({ cls, segs, entry: base }));
      expect(img.segments.map((s) => [s.paddr, [...s.data], s.memsz, s.flags])).toEqual(segs.map((s) => [s.paddr, [...s.data], s.memsz, s.flags]));
    }), { numRuns: 200 });
  });

  it('property: a corrupted or truncated file parses or throws ElfError, nothing else', () => {
    const good = fixture('hello.elf');
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(good.length), (edits, cut) => {
      const b = good.slice(0, cut);
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      try { parseElf(b); } catch (e) { expect(e).toBeInstanceOf(ElfError); }
    }), { numRuns: 1000 });
  });
});

describe('parseElf: errors name what is wrong', () => {
  const good = (): Uint8Array => makeElf({ segs: [{ paddr: 0x80000000n, data: bytes(1, 2) }] });
  it('rejects what is not a loadable little-endian ELF', () => {
    expect(() => parseElf(bytes(1, 2, 3))).toThrow(/too short/);
    expect(() => parseElf(new Uint8Array(64))).toThrow(/not an ELF file \(bad magic 00 00 00 00\)/);
    const be = good(); be[5] = 2;
    expect(() => parseElf(be)).toThrow(/big-endian/);
    const cls = good(); cls[4] = 3;
    expect(() => parseElf(cls)).toThrow(/unknown ELF class 3/);
    expect(() => parseElf(makeElf({ etype: 1, segs: [] }))).toThrow(/ELF type 1 is not loadable/);
    expect(() => parseElf(good().subarray(0, 40))).toThrow(/too short for an ELF64 header/);
  });
  it('rejects the wrong machine', () => {
    expect(() => parseElf(good(), { machine: EM_AARCH64 })).toThrow(/ELF machine 243 does not match this CPU \(expected 183\)/);
    expect(parseElf(good(), { machine: [EM_AARCH64, EM_RISCV] }).machine).toBe(EM_RISCV);
  });
  it('rejects segments beyond the file, larger on file than in memory, overlapping or wrapping', () => {
    expect(() => parseElf(makeElf({ segs: [{ paddr: 0x80000000n, data: bytes(1) }, { paddr: 0x80200000n, data: bytes(1), offset: 0x1000n, memsz: 0x1000n }] })))
      .toThrow(/^segment 1 at 0x80200000 \(0x1 bytes at file offset 0x1000\) extends past the end of the file \(0x\w+ bytes\)$/);
    expect(() => parseElf(makeElf({ segs: [{ paddr: 0x80000000n, data: bytes(1, 2, 3), memsz: 2n }] })))
      .toThrow(/segment 0 at 0x80000000: file size 0x3 is larger than its memory size 0x2/);
    expect(() => parseElf(makeElf({ segs: [{ paddr: 0x80000000n, data: bytes(1), memsz: 0x1000n }, { paddr: 0x80000800n, data: bytes(2) }] })))
      .toThrow(/segment 1 at paddr 0x80000800 \(0x1 bytes\) overlaps segment 0 at 0x80000000 \(0x1000 bytes\)/);
    expect(() => parseElf(makeElf({ segs: [{ paddr: 0x1000n, vaddr: 0x5000n, data: bytes(1) }, { paddr: 0x2000n, vaddr: 0x5000n, data: bytes(2) }] })))
      .toThrow(/overlaps segment 0/);
    expect(() => parseElf(makeElf({ cls: 32, segs: [{ paddr: 0xfffff000n, data: bytes(1), memsz: 0x2000n }] })))
      .toThrow(/wraps around the 32-bit address space/);
  });
  it('rejects header tables outside the file', () => {
    const b = good();
    new DataView(b.buffer).setBigUint64(32, 0x10000n, true); // e_phoff
    expect(() => parseElf(b)).toThrow(/program header table \(1 entries\) at file offset 0x10000/);
    const c = good();
    new DataView(c.buffer).setUint16(54, 8, true); // e_phentsize
    expect(() => parseElf(c)).toThrow(/e_phentsize 8 is smaller than an Elf64_Phdr/);
  });
  it('rejects a broken symbol table', () => {
    const b = makeElf({ segs: [{ paddr: 0x1000n, data: bytes(0) }], syms: [{ name: 'a', value: 1n }] });
    const dv = new DataView(b.buffer);
    const shoff = Number(dv.getBigUint64(40, true));
    dv.setUint32(shoff + 64 + 40, 7, true); // .symtab sh_link → a section that does not exist
    expect(() => parseElf(b)).toThrow(/links to string table section 7, which does not exist/);
  });
});

describe.skipIf(!hasReadelf)('parseElf on the committed fixtures, against readelf', () => {
  for (const name of ['hello.elf', 'hello-rv32.elf', 'isa-rv64i.elf', 'traps-rv32.elf']) {
    it(`${name}: segments and symbols as readelf lists them`, () => {
      const file = join(FIX, name);
      const img = parseElf(fixture(name), { machine: EM_RISCV });
      expect(img.class).toBe(name.includes('rv32') ? 32 : 64);
      const hdr = execFileSync('riscv64-unknown-elf-readelf', ['-hlW', file], { encoding: 'utf8' });
      expect(img.entry).toBe(BigInt(/Entry point address:\s+(0x[0-9a-f]+)/.exec(hdr)![1]!));
      const loads = [...hdr.matchAll(/^\s+LOAD\s+(0x\w+) (0x\w+) (0x\w+) (0x\w+) (0x\w+)/gm)]
        .map((m) => ({ vaddr: BigInt(m[2]!), paddr: BigInt(m[3]!), filesz: BigInt(m[4]!), memsz: BigInt(m[5]!) }))
        .filter((l) => l.memsz > 0n);
      expect(img.segments.map((s) => ({ vaddr: s.vaddr, paddr: s.paddr, filesz: BigInt(s.data.length), memsz: s.memsz }))).toEqual(loads);
      const syms = execFileSync('riscv64-unknown-elf-readelf', ['-sW', file], { encoding: 'utf8' });
      const rows = [...syms.matchAll(/^\s+\d+: ([0-9a-f]+)\s+(\d+) (\w+)\s+(\w+)\s+\w+\s+(\w+) (\S+)$/gm)];
      const globals = rows.filter((r) => r[4] === 'GLOBAL');
      expect(globals.length).toBeGreaterThan(5);
      for (const r of globals) {
        expect(img.symbols.get(r[6]!)?.value, r[6]).toBe(BigInt('0x' + r[1]!));
      }
      expect(img.symbols.get('_start')?.value).toBe(img.entry);
      const puts = img.symbols.get('uart_puts')!;
      expect(symbolAt(img, puts.value + 4n)).toEqual({ symbol: puts, offset: 4n });
    });
  }
});

const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf';
describe.skipIf(!hasReadelf || !existsSync(OPENSBI))('parseElf on Debian\'s OpenSBI', () => {
  it('fw_jump.elf: entry and PT_LOAD segments as readelf lists them', () => {
    const img = parseElf(new Uint8Array(readFileSync(OPENSBI)), { machine: EM_RISCV });
    const hdr = execFileSync('riscv64-unknown-elf-readelf', ['-hlW', OPENSBI], { encoding: 'utf8' });
    expect(img.entry).toBe(BigInt(/Entry point address:\s+(0x[0-9a-f]+)/.exec(hdr)![1]!));
    const loads = [...hdr.matchAll(/^\s+LOAD\s+(0x\w+) (0x\w+) (0x\w+) (0x\w+) (0x\w+)/gm)]
      .map((m) => ({ paddr: BigInt(m[3]!), filesz: BigInt(m[4]!), memsz: BigInt(m[5]!) })).filter((l) => l.memsz > 0n);
    expect(loads.length).toBeGreaterThan(0);
    expect(img.segments.map((s) => ({ paddr: s.paddr, filesz: BigInt(s.data.length), memsz: s.memsz }))).toEqual(loads);
  });
});
