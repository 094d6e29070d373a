import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  AddressSpace, DIRTY_CODE, DIRTY_MIGRATION, MemoryAccessError, type MemoryListener, MemoryRegion,
  type MemoryRegionSection, type MemoryRegionOps, sectionIsDirectRead, sectionIsDirectWrite,
} from '../../src/memory/index.js';

function regDevice(size: number): { ops: MemoryRegionOps; regs: Uint8Array; writes: string[] } {
  const regs = new Uint8Array(size + 8);
  const writes: string[] = [];
  return {
    regs, writes,
    ops: {
      read: (a, s) => { let v = 0; for (let i = s - 1; i >= 0; i--) v = v * 256 + regs[a + i]!; return v; },
      write: (a, v, s) => {
        writes.push(`${a}/${s}`);
        let x = BigInt(v);
        for (let i = 0; i < s; i++) { regs[a + i] = Number(x & 0xffn); x >>= 8n; }
      },
    },
  };
}

function machine() {
  const msgs: string[] = [];
  const root = MemoryRegion.container(null, 'system', 1n << 32n);
  const rom = MemoryRegion.rom(null, 'mrom', 0x1000n);
  const ram = MemoryRegion.ram(null, 'ram', 0x10000n);
  const dev = regDevice(0x100);
  const io = MemoryRegion.io(null, 'dev', 0x100n, dev.ops);
  root.addSubregion(0x1000n, rom);
  root.addSubregion(0x8000_0000n, ram);
  root.addSubregion(0x8001_0000n, io); // right after RAM: accesses can straddle
  const as = new AddressSpace(root, 'cpu-memory', { log: { guestError: (m) => msgs.push(m) } });
  return { root, rom, ram, io, dev, as, msgs };
}

describe('AddressSpace accesses', () => {
  it('RAM reads back what was written, in both byte orders and all sizes', () => {
    const { as, ram } = machine();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xfff8 }), fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8),
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.boolean(),
        (off, size, value, be) => {
          const addr = 0x8000_0000n + BigInt(off);
          const v = value & ((1n << BigInt(size * 8)) - 1n);
          as.write(addr, value, size, be);
          expect(as.read(addr, size, be)).toBe(v);
          // byte layout: little-endian unless be
          const bytes = Array.from(ram.ram!.bytes.subarray(off, off + size));
          const le = Array.from({ length: size }, (_, i) => Number((v >> BigInt(8 * i)) & 0xffn));
          expect(bytes).toEqual(be ? le.reverse() : le);
          if (size <= 4) expect(as.readNumber(addr, size as 1 | 2 | 4, be)).toBe(Number(v));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('unmapped addresses throw MemoryAccessError(unassigned) naming the address space', () => {
    const { as } = machine();
    let err: unknown;
    try { as.read(0x4000_0000n, 4); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(MemoryAccessError);
    const e = err as MemoryAccessError;
    expect([e.addr, e.size, e.isWrite, e.reason]).toEqual([0x4000_0000n, 4, false, 'unassigned']);
    expect(e.message).toBe("read of 4 bytes at 0x40000000 in address space 'cpu-memory': no region mapped there");
    expect(() => as.write(0x10n, 1n, 1)).toThrow(MemoryAccessError);
    expect(as.translate(0x10n)).toBeNull();
  });

  it('ROM: CPU writes are discarded and logged; writeBytes reports them; { rom: true } loads it', () => {
    const { as, rom, msgs } = machine();
    as.writeBytes(0x1000n, new Uint8Array([1, 2, 3, 4]), { rom: true });
    expect(as.read(0x1000n, 4)).toBe(0x04030201n);
    as.write(0x1000n, 0xffn, 1);
    as.writeNumber(0x1002n, 0xffff, 2);
    expect(as.read(0x1000n, 4)).toBe(0x04030201n);
    expect(msgs).toEqual([
      "write of 1 byte at 0x1000 to read-only region 'mrom' ignored",
      "write of 2 bytes at 0x1002 to read-only region 'mrom' ignored",
    ]);
    expect(() => as.writeBytes(0x1000n, new Uint8Array([9]))).toThrow(/rejected by the region/);
    expect(rom.ram!.bytes[0]).toBe(1);
    const s = as.translate(0x1000n)!;
    expect([s.readonly, sectionIsDirectRead(s), sectionIsDirectWrite(s)]).toEqual([true, true, false]);
    // setReadonly(false) turns the ROM into RAM
    rom.setReadonly(false);
    as.write(0x1000n, 0xffn, 1);
    expect(as.read(0x1000n, 1)).toBe(0xffn);
  });

  it('ROM device: ROMD-mode reads come from RAM, writes always reach the device; I/O mode reads the device', () => {
    const writes: string[] = [];
    const flash = MemoryRegion.romDevice(null, 'flash', 0x1000n, {
      read: (a) => 0x50 + a,
      write: (a, v, s) => { writes.push(`${a}=${v}/${s}`); },
    });
    const root = MemoryRegion.container(null, 'root', 0x100000n);
    root.addSubregion(0x20000n, flash);
    const as = new AddressSpace(root, 'as');
    as.writeBytes(0x20000n, new Uint8Array([0xaa, 0xbb]), { rom: true });
    expect(as.read(0x20000n, 2)).toBe(0xbbaan);
    as.write(0x20000n, 0x98n, 1);
    expect(writes).toEqual(['0=152/1']);
    expect(as.read(0x20000n, 1)).toBe(0xaan);
    expect(sectionIsDirectRead(as.translate(0x20000n)!)).toBe(true);
    flash.setRomdMode(false);
    expect(as.read(0x20003n, 1)).toBe(0x53n);
    expect(sectionIsDirectRead(as.translate(0x20000n)!)).toBe(false);
    // address_space_write_rom skips a ROM device in I/O mode
    as.writeBytes(0x20000n, new Uint8Array([1]), { rom: true });
    expect(flash.ram!.bytes[0]).toBe(0xaa);
    expect(() => MemoryRegion.ram(null, 'x', 16n).setRomdMode(true)).toThrow(/not a ROM device/);
  });

  it('an access straddling RAM and a device is done in parts, like QEMU subpages', () => {
    const { as, dev } = machine();
    as.writeBytes(0x8000_fffen, new Uint8Array([0x11, 0x22]));
    dev.regs.set([0x33, 0x44], 0);
    expect(as.read(0x8000_fffen, 4)).toBe(0x44332211n);
    as.write(0x8000_fffcn, 0x0102030405060708n, 8);
    expect(Array.from(as.readBytes(0x8000_fffcn, 8))).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    expect(dev.writes).toEqual(['0/4']);
    // a straddling access into a hole fails as a whole
    expect(() => as.read(0x8001_00fen, 4)).toThrow(MemoryAccessError);
  });

  it('bulk transfers cross regions, cut device pieces by alignment, and read holes as zero', () => {
    const { as, dev } = machine();
    dev.writes.length = 0;
    const data = Uint8Array.from({ length: 0x20 }, (_, i) => i + 1);
    as.writeBytes(0x8000_fff3n, data);
    // 13 bytes of RAM, then the device from offset 0: pieces of at most 4 (valid.max unset), aligned
    expect(dev.writes).toEqual(['0/4', '4/4', '8/4', '12/4', '16/2', '18/1']);
    expect(Array.from(as.readBytes(0x8000_fff3n, 0x20))).toEqual(Array.from(data));
    // 0x8001_0100.. is a hole: the part before is read, the hole is zero, then the error names the hole
    let err: MemoryAccessError | undefined;
    const buf = new Uint8Array(8).fill(0xee);
    try { as.readInto(0x8001_00fcn, buf); } catch (e) { err = e as MemoryAccessError; }
    expect(err?.addr).toBe(0x8001_0100n);
    expect(err?.reason).toBe('unassigned');
    expect(Array.from(buf)).toEqual([0, 0, 0, 0, 0, 0, 0, 0].map((z, i) => (i < 4 ? dev.regs[0xfc + i]! : z)));
    expect(as.rwBytes(0x8001_00fcn, new Uint8Array(8), false)).not.toBe(0);
    // loaders: { rom: true } skips MMIO and holes silently
    as.writeBytes(0x8001_00f0n, new Uint8Array(0x40), { rom: true });
  });

  it('marks RAM pages dirty and calls onRamWrite before setting the bits', () => {
    const { as, ram } = machine();
    const blk = ram.ram!;
    blk.clearDirty(DIRTY_CODE | DIRTY_MIGRATION);
    const seen: [number, number, boolean][] = [];
    as.onRamWrite = (b, off, len) => { expect(b).toBe(blk); seen.push([off, len, b.getDirty(DIRTY_CODE, off, len)]); };
    as.write(0x8000_1ffen, 0x1234_5678n, 4); // crosses pages 1 and 2
    as.writeBytes(0x8000_5000n, new Uint8Array(10));
    as.read(0x8000_7000n, 4);
    expect(seen).toEqual([[0x1ffe, 4, false], [0x5000, 10, false]]);
    expect(Array.from(blk.dirty.subarray(0, 8))).toEqual([0, 3, 3, 0, 0, 3, 0, 0]);
    expect(blk.getDirty(DIRTY_CODE, 0x7000, 1)).toBe(false);
  });
});

describe('AddressSpace listeners and transactions', () => {
  function recorder(log: string[]): MemoryListener {
    const s = (x: MemoryRegionSection): string => `${x.mr.name}@${x.offsetWithinAddressSpace.toString(16)}+${x.size.toString(16)}`;
    return {
      begin: () => log.push('begin'),
      regionAdd: (x) => log.push(`add ${s(x)}`),
      regionDel: (x) => log.push(`del ${s(x)}`),
      commit: () => log.push('commit'),
    };
  }

  it('replays the map to a new listener and reports adds/deletes on changes (QEMU MemoryListener)', () => {
    const root = MemoryRegion.container(null, 'root', 0x100000n);
    const a = MemoryRegion.ram(null, 'a', 0x1000n);
    const b = MemoryRegion.ram(null, 'b', 0x1000n);
    root.addSubregion(0x0n, a);
    const as = new AddressSpace(root, 'as');
    const log: string[] = [];
    const remove = as.addListener(recorder(log));
    expect(log).toEqual(['begin', 'add a@0+1000', 'commit']);
    log.length = 0;
    root.addSubregion(0x800n, b); // b covers the top half of a
    expect(log).toEqual(['begin', 'del a@0+1000', 'add a@0+800', 'add b@800+1000', 'commit']);
    log.length = 0;
    b.setEnabled(false);
    expect(log).toEqual(['begin', 'del a@0+800', 'del b@800+1000', 'add a@0+1000', 'commit']);
    log.length = 0;
    b.setEnabled(false); // no change, no notification
    expect(log).toEqual([]);
    remove();
    expect(log).toEqual(['begin', 'del a@0+1000', 'commit']);
    log.length = 0;
    a.setEnabled(false);
    expect(log).toEqual([]);
  });

  it('a transaction batches changes into one commit and keeps the old view until it ends', () => {
    const root = MemoryRegion.container(null, 'root', 0x100000n);
    const a = MemoryRegion.ram(null, 'a', 0x1000n);
    const b = MemoryRegion.ram(null, 'b', 0x1000n);
    root.addSubregion(0x0n, a);
    const as = new AddressSpace(root, 'as');
    const log: string[] = [];
    as.addListener(recorder(log));
    log.length = 0;
    as.transaction(() => {
      a.setAddress(0x4000n);
      root.addSubregion(0x0n, b);
      expect(as.translate(0x10n)!.mr).toBe(a); // old map during the transaction
      expect(log).toEqual([]);
    });
    expect(log).toEqual(['begin', 'del a@0+1000', 'add b@0+1000', 'add a@4000+1000', 'commit']);
    expect(as.translate(0x10n)!.mr).toBe(b);
    expect(() => as.commitTransaction()).toThrow(/without beginTransaction/);
  });

  it('changes reach every address space that sees the region, also through aliases', () => {
    const ram = MemoryRegion.ram(null, 'ram', 0x1000n);
    const inner = MemoryRegion.container(null, 'inner', 0x2000n);
    inner.addSubregion(0n, ram);
    const cpuRoot = MemoryRegion.container(null, 'cpu', 0x100000n);
    cpuRoot.addSubregion(0x10000n, inner);
    const dmaRoot = MemoryRegion.container(null, 'dma', 0x100000n);
    dmaRoot.addSubregion(0x0n, MemoryRegion.alias(null, 'dma-window', inner, 0n, 0x2000n));
    const cpu = new AddressSpace(cpuRoot, 'cpu');
    const dma = new AddressSpace(dmaRoot, 'dma');
    let commits = 0;
    dma.addListener({ commit: () => commits++ });
    commits = 0;
    expect(cpu.translate(0x10010n)!.mr).toBe(ram);
    expect(dma.translate(0x10n)!.mr).toBe(ram);
    ram.setAddress(0x1000n);
    expect(commits).toBe(1);
    expect(cpu.translate(0x10010n)).toBeNull();
    expect(cpu.translate(0x11010n)!.mr).toBe(ram);
    expect(dma.translate(0x1010n)!.mr).toBe(ram);
    // DMA writes through one space are visible through the other
    dma.write(0x1010n, 0xabn, 1);
    expect(cpu.read(0x11010n, 1)).toBe(0xabn);
  });

  it('two machines built in one process do not see each other', () => {
    const mk = () => {
      const root = MemoryRegion.container(null, 'sys', 0x100000n);
      const ram = MemoryRegion.ram(null, 'ram', 0x1000n);
      root.addSubregion(0n, ram);
      return new AddressSpace(root, 'sys');
    };
    const m1 = mk(), m2 = mk();
    let c1 = 0;
    m1.addListener({ commit: () => c1++ });
    c1 = 0;
    m1.write(0x10n, 5n, 1);
    m2.root.addSubregion(0x8000n, MemoryRegion.ram(null, 'extra', 0x100n));
    expect(m2.read(0x10n, 1)).toBe(0n);
    expect(c1).toBe(0);
    expect(m1.translate(0x8000n)).toBeNull();
  });
});

describe('AddressSpace against a byte model', () => {
  // 0x000-0x0ff RAM, 0x100-0x13f a byte-register device, 0x140-0x17f hole, 0x180-0x1ff ROM
  const kindAt = (a: number): 'ram' | 'dev' | 'hole' | 'rom' | 'out' =>
    a < 0x100 ? 'ram' : a < 0x140 ? 'dev' : a < 0x180 ? 'hole' : a < 0x200 ? 'rom' : 'out';

  const opArb = fc.oneof(
    fc.record({ op: fc.constant('readBytes' as const), addr: fc.integer({ min: 0, max: 0x1f0 }), len: fc.integer({ min: 0, max: 0x60 }) }),
    fc.record({ op: fc.constant('writeBytes' as const), addr: fc.integer({ min: 0, max: 0x1f0 }), data: fc.uint8Array({ maxLength: 0x60 }), rom: fc.boolean() }),
    fc.record({ op: fc.constant('read' as const), addr: fc.integer({ min: 0, max: 0x1f8 }), size: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8), be: fc.boolean() }),
    fc.record({ op: fc.constant('write' as const), addr: fc.integer({ min: 0, max: 0x1f8 }), size: fc.constantFrom<1 | 2 | 4 | 8>(1, 2, 4, 8), be: fc.boolean(), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  );

  it('random single and bulk accesses across RAM, device, hole and ROM', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        const root = MemoryRegion.container(null, 'root', 0x10000n);
        const dev = regDevice(0x40);
        root.addSubregion(0x0n, MemoryRegion.ram(null, 'ram', 0x100n));
        // misaligned device accesses are fine for this device (it is a byte array)
        root.addSubregion(0x100n, MemoryRegion.io(null, 'dev', 0x40n, { ...dev.ops, valid: { unaligned: true } }));
        root.addSubregion(0x180n, MemoryRegion.rom(null, 'rom', 0x80n));
        const as = new AddressSpace(root, 'as');
        const model = new Uint8Array(0x200);
        const range = (a: number, n: number) => Array.from({ length: n }, (_, i) => kindAt(a + i));
        for (const o of ops) {
          if (o.op === 'readBytes') {
            const ks = range(o.addr, o.len);
            const want = Array.from({ length: o.len }, (_, i) => (ks[i] === 'hole' || ks[i] === 'out' ? 0 : model[o.addr + i]!));
            const buf = new Uint8Array(o.len).fill(0x5a);
            const fails = ks.some((k) => k === 'hole' || k === 'out');
            if (fails) expect(() => as.readInto(BigInt(o.addr), buf)).toThrow(MemoryAccessError);
            else as.readInto(BigInt(o.addr), buf);
            expect(Array.from(buf)).toEqual(want);
          } else if (o.op === 'writeBytes') {
            const ks = range(o.addr, o.data.length);
            const fails = !o.rom && ks.some((k) => k !== 'ram' && k !== 'dev');
            const run = () => as.writeBytes(BigInt(o.addr), o.data, { rom: o.rom });
            if (fails) expect(run).toThrow(MemoryAccessError);
            else run();
            ks.forEach((k, i) => {
              if (k === 'ram' || (k === 'dev' && !o.rom) || (k === 'rom' && o.rom)) model[o.addr + i] = o.data[i]!;
            });
          } else if (o.op === 'read') {
            const ks = range(o.addr, o.size);
            if (ks.some((k) => k === 'hole' || k === 'out')) {
              expect(() => as.read(BigInt(o.addr), o.size, o.be)).toThrow(/no region mapped/);
              continue;
            }
            const bytes = Array.from(model.subarray(o.addr, o.addr + o.size));
            if (o.be) bytes.reverse();
            const want = bytes.reduceRight((v, b) => (v << 8n) | BigInt(b), 0n);
            expect(as.read(BigInt(o.addr), o.size, o.be)).toBe(want);
          } else {
            const ks = range(o.addr, o.size);
            if (ks.some((k) => k === 'hole' || k === 'out')) {
              expect(() => as.write(BigInt(o.addr), o.value, o.size, o.be)).toThrow(/no region mapped/);
              continue; // nothing written at all
            }
            as.write(BigInt(o.addr), o.value, o.size, o.be);
            const bytes = Array.from({ length: o.size }, (_, i) => Number((o.value >> BigInt(8 * i)) & 0xffn));
            if (o.be) bytes.reverse();
            ks.forEach((k, i) => { if (k !== 'rom') model[o.addr + i] = bytes[i]!; });
          }
          // the whole map agrees with the model after every step
          expect(Array.from(as.readBytes(0n, 0x140))).toEqual(Array.from(model.subarray(0, 0x140)));
          expect(Array.from(as.readBytes(0x180n, 0x80))).toEqual(Array.from(model.subarray(0x180, 0x200)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
