/**
 * CFI flash (Intel/Sharp command set) through the memory API, configured as the virt board's banks
 * (QEMU virt_flash_create1: 256 KiB sectors, 4-byte bank of two x16 chips, IDs 0x89/0x18). Expected
 * answers are written from the CFI and Intel command-set specifications: x16 chips answer a query with
 * the byte in their low half, and both chips of the bank answer, so a 32-bit read of byte B is
 * 0x00BB00BB; query offsets are in bank-width units (address = offset × 4).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AddressSpace } from '../../../src/memory/address-space.js';
import { MemoryRegion } from '../../../src/memory/region.js';
import { PFlashCfi01 } from '../../../src/hw/block/pflash-cfi01.js';
import { Logger } from '../../../src/util/log.js';
import { loadVmState, saveVmState } from '../../../src/migration/vmstate.js';
import { createVirtMachine } from '../../../src/hw/riscv/virt.js';

const BASE = 0x2000_0000n;
const SECTOR = 256 * 1024;
const BANK = 32 * 1024 * 1024;

function flash(props: Record<string, unknown> = {}): { f: PFlashCfi01; as: AddressSpace; unimp: string[] } {
  const f = new PFlashCfi01();
  f.setProperties({
    sectorLength: BigInt(SECTOR), numBlocks: BANK / SECTOR, width: 4, deviceWidth: 2,
    id0: 0x89, id1: 0x18, regionName: 'test.flash0', ...props,
  });
  const unimp: string[] = [];
  f.setMachineContext({ log: new Logger({ mask: 'unimp', sink: (_c, t) => unimp.push(t) }) });
  f.realize();
  const root = MemoryRegion.container(null, 'system', 1n << 32n);
  root.addSubregion(BASE, f.region);
  return { f, as: new AddressSpace(root, 'test'), unimp };
}

/** Both x16 chips answering `v` (the bank's 32-bit view). */
const both = (v: number): bigint => BigInt((v & 0xffff) * 0x10001);
const rd = (as: AddressSpace, off: number, size: 1 | 2 | 4 | 8 = 4): bigint => as.read(BASE + BigInt(off), size);
const wr = (as: AddressSpace, off: number, v: number | bigint, size: 1 | 2 | 4 = 4): void => as.write(BASE + BigInt(off), BigInt(v), size);
/** Intel commands are written to both chips at once. */
const cmd = (as: AddressSpace, c: number, off = 0): void => wr(as, off, both(c));

describe('pflash-cfi01 (virt bank geometry)', () => {
  it('answers the CFI query: QRY, Intel command set, 16 MiB chips, 128 × 128 KiB blocks, 2 KiB write buffer', () => {
    const { f, as } = flash();
    cmd(as, 0x98, 0x55 * 4);
    expect(f.region.romdMode).toBe(false);
    const q = (o: number): bigint => rd(as, o * 4);
    expect([q(0x10), q(0x11), q(0x12)]).toEqual([both(0x51), both(0x52), both(0x59)]);
    expect([q(0x13), q(0x14), q(0x15)]).toEqual([both(1), both(0), both(0x31)]); // P_ID 0x0001, PRI at 0x31
    expect(q(0x27)).toBe(both(24)); // 2^24 bytes per chip: two chips make the 32 MiB bank
    expect([q(0x28), q(0x29)]).toEqual([both(2), both(0)]); // x8/x16 interface
    expect(q(0x2a)).toBe(both(11)); // 2^11-byte write buffer per chip
    expect(q(0x2c)).toBe(both(1)); // one erase region
    expect([q(0x2d), q(0x2e)]).toEqual([both(127), both(0)]); // 128 blocks
    expect([q(0x2f), q(0x30)]).toEqual([both(0), both(2)]); // 2 × 256 bytes... × 256 = 128 KiB per chip
    expect([q(0x31), q(0x32), q(0x33)]).toEqual([both(0x50), both(0x52), both(0x49)]); // "PRI"
    expect(q(0x52)).toBe(0n); // past the table
    // a 16-bit read sees one chip; an 8-byte read is split into two bank-wide reads
    expect(rd(as, 0x10 * 4, 2)).toBe(0x51n);
    expect(rd(as, 0x10 * 4, 8)).toBe((both(0x52) << 32n) | both(0x51));
    // the query mode stays through other writes until read array
    cmd(as, 0x12);
    expect(q(0x10)).toBe(both(0x51));
    cmd(as, 0xff);
    expect(f.region.romdMode).toBe(true);
    expect(q(0x10)).toBe(0n); // the (blank) array again
  });

  it('reads manufacturer and device IDs, then status, and reads the array in ROMD mode', () => {
    const { f, as } = flash();
    f.storage.set([0x11, 0x22, 0x33, 0x44], 0x100);
    cmd(as, 0x90);
    expect(rd(as, 0)).toBe(both(0x89));
    expect(rd(as, 4)).toBe(both(0x18));
    expect(rd(as, 8)).toBe(0n); // block lock status: not emulated
    cmd(as, 0x70);
    expect(rd(as, 0x100)).toBe(both(0x80)); // ready
    expect(rd(as, 0x100, 1)).toBe(0x80n);
    cmd(as, 0xff);
    expect(f.region.romdMode).toBe(true);
    expect(rd(as, 0x100)).toBe(0x44332211n);
    // 0x00 and 0xf0 also return to the array
    for (const c of [0x00, 0xf0]) {
      cmd(as, 0x90);
      // ID offsets are taken modulo 256 bank words (higher bits select a block's lock status)
      expect(rd(as, 0x400)).toBe(both(0x89));
      expect(rd(as, 0x100)).toBe(0n);
      cmd(as, c);
      expect(rd(as, 0x100)).toBe(0x44332211n);
    }
  });

  it('erases the addressed sector to 0xff and nothing else', () => {
    const { f, as } = flash();
    f.storage.fill(0x5a, 0, 5 * SECTOR);
    cmd(as, 0x20, 3 * SECTOR + 0x1234);
    cmd(as, 0xd0, 3 * SECTOR + 0x1234);
    expect(rd(as, 0)).toBe(both(0x80)); // status until read array
    cmd(as, 0xff);
    const s = f.storage;
    expect(s.subarray(3 * SECTOR, 4 * SECTOR).every((b) => b === 0xff)).toBe(true);
    expect(s[3 * SECTOR - 1]).toBe(0x5a);
    expect(s[4 * SECTOR]).toBe(0x5a);
    expect(rd(as, 3 * SECTOR + 8)).toBe(0xffff_ffffn);
  });

  it('programs words and buffers, little-endian, at any access size', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: BANK / 4 - 64 }), fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 1, maxLength: 16 }),
      fc.constantFrom(0x10, 0x40), fc.integer({ min: 0, max: 0xffff_ffff }),
      (word, data, prog, single) => {
        const { f, as } = flash();
        const off = word * 4;
        cmd(as, prog, off);
        wr(as, off, single);
        cmd(as, 0xff);
        expect(rd(as, off)).toBe(BigInt(single));
        // buffered write: count − 1 to each chip, the words, confirm
        const at = off + 4;
        cmd(as, 0xe8, at);
        expect(rd(as, at)).toBe(both(0x80)); // XSR: buffer available
        wr(as, at, both(data.length - 1));
        data.forEach((w, k) => wr(as, at + 4 * k, w));
        cmd(as, 0xd0, at);
        cmd(as, 0xff);
        data.forEach((w, k) => expect(rd(as, at + 4 * k)).toBe(BigInt(w)));
        const view = new DataView(f.storage.buffer, f.storage.byteOffset);
        expect(view.getUint32(at, true)).toBe(data[0]);
        // narrower program: a halfword
        cmd(as, 0x40, off);
        wr(as, off + 2, 0xbeef, 2);
        cmd(as, 0xff);
        expect(rd(as, off + 2, 2)).toBe(0xbeefn);
      }), { numRuns: 40 });
  });

  it('clears status, reports errors of a read-only flash, and logs unknown sequences', () => {
    const { f, as, unimp } = flash({ readOnly: true });
    f.storage.fill(0x77, 0, 16);
    cmd(as, 0x20, 0);
    cmd(as, 0xd0, 0);
    expect(rd(as, 0)).toBe(both(0xa0)); // ready + erase error
    cmd(as, 0x40, 0);
    wr(as, 0, 0);
    expect(rd(as, 0)).toBe(both(0xb0)); // + program error
    expect(f.storage[0]).toBe(0x77);
    cmd(as, 0x50); // clear status, back to the array
    expect(f.region.romdMode).toBe(true);
    expect(rd(as, 0)).toBe(0x77777777n);
    cmd(as, 0x70);
    expect(rd(as, 0)).toBe(0n);
    cmd(as, 0xff);
    expect(unimp).toEqual([]);
    cmd(as, 0x33); // not a command
    expect(unimp).toHaveLength(1);
    expect(unimp[0]).toMatch(/Unimplemented flash cmd sequence.*value 0x330033/);
    expect(f.region.romdMode).toBe(true);
    expect(rd(as, 0)).toBe(0x77777777n);
    cmd(as, 0x20, 0);
    cmd(as, 0x99, 0); // erase not confirmed
    expect(unimp).toHaveLength(2);
    expect(rd(as, 0)).toBe(0x77777777n);
  });

  it('reset: read-array mode and ready status; the contents stay', () => {
    const { f, as } = flash();
    f.storage[0] = 0x42;
    cmd(as, 0x50);
    cmd(as, 0x90);
    f.coldReset();
    expect(f.region.romdMode).toBe(true);
    expect(rd(as, 0, 1)).toBe(0x42n);
    cmd(as, 0x70);
    expect(rd(as, 0)).toBe(both(0x80));
  });

  it('snapshots its command state and comes back in the right mode', () => {
    const a = flash();
    cmd(a.as, 0x98);
    const saved = saveVmState(a.f, PFlashCfi01.vmstate);
    const b = flash();
    expect(b.f.region.romdMode).toBe(true);
    loadVmState(b.f, PFlashCfi01.vmstate, JSON.parse(JSON.stringify(saved)));
    expect(b.f.region.romdMode).toBe(false);
    expect(rd(b.as, 0x10 * 4)).toBe(both(0x51));
  });

  it('rejects incomplete configurations with the property named', () => {
    const bad = (props: Record<string, unknown>): () => void => () => {
      const f = new PFlashCfi01();
      f.setProperties({ sectorLength: 4096n, numBlocks: 4, width: 4, regionName: 'x', ...props });
      f.realize();
    };
    expect(bad({ sectorLength: 0n })).toThrow(/sector-length/);
    expect(bad({ numBlocks: 0 })).toThrow(/num-blocks/);
    expect(bad({ regionName: '' })).toThrow(/regionName/);
    expect(bad({ width: 3 })).toThrow(/width must be 1, 2 or 4/);
    expect(bad({ deviceWidth: 8 })).toThrow(/deviceWidth/);
  });
});

describe('virt board flash', () => {
  it('has two banks at 0x2000_0000 and 0x2200_0000 answering CFI queries as QEMU configures them', () => {
    const m = createVirtMachine({ bios: 'none' });
    expect(m.pflash).toHaveLength(2);
    for (const base of [0x2000_0000n, 0x2200_0000n]) {
      m.addressSpace.write(base + 0x55n * 4n, both(0x98), 4);
      expect(m.addressSpace.read(base + 0x10n * 4n, 4)).toBe(both(0x51));
      expect(m.addressSpace.read(base + 0x27n * 4n, 4)).toBe(both(24));
      m.addressSpace.write(base, both(0xff), 4);
      expect(m.addressSpace.read(base, 4)).toBe(0n);
    }
    m.pflash[1]!.storage.set([1, 2, 3, 4]);
    expect(m.addressSpace.read(0x2200_0000n, 4)).toBe(0x04030201n);
    expect(m.fdt.node('/flash@20000000')!.getPropString('compatible')).toBe('cfi-flash');
  });
});
