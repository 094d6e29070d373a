import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  type AccessSize, AddressSpace, type Endianness, MemoryAccessError, MemoryRegion, type MemoryRegionOps, MemTxError,
} from '../../src/memory/index.js';

const SIZES: AccessSize[] = [1, 2, 4, 8];
const BASE = 0x1000n;
const DEV_SIZE = 64;

/**
 * A device whose registers are plain bytes, stored in its own byte order: a read of n bytes at a
 * returns bytes[a..a+n) as an n-byte integer in the device's endianness. Whatever the splitting, an
 * access through the bus must then behave like a byte-level memory (see the model below).
 */
function byteDevice(devBE: boolean, opts: Pick<MemoryRegionOps, 'valid' | 'impl' | 'endianness'>) {
  const mem = new Uint8Array(DEV_SIZE + 8);
  const calls: { addr: number; size: number; write: boolean; value: bigint }[] = [];
  const ops: MemoryRegionOps = {
    ...opts,
    read(addr, size) {
      let v = 0n;
      for (let i = 0; i < size; i++) v |= BigInt(mem[addr + i]!) << BigInt(8 * (devBE ? size - 1 - i : i));
      calls.push({ addr, size, write: false, value: v });
      // ≤ 4-byte pieces as numbers (what devices do), 8-byte ones as bigint
      return size === 8 ? v : Number(v);
    },
    write(addr, value, size) {
      expect(typeof value).toBe(size === 8 ? 'bigint' : 'number');
      const v = BigInt(value);
      calls.push({ addr, size, write: true, value: v });
      for (let i = 0; i < size; i++) mem[addr + i] = Number((v >> BigInt(8 * (devBE ? size - 1 - i : i))) & 0xffn);
    },
  };
  return { mem, calls, ops };
}

function leBytes(v: bigint, n: number, be: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Number((v >> BigInt(8 * i)) & 0xffn));
  return be ? out.reverse() : out;
}
function fromBytes(b: ArrayLike<number>, be: boolean): bigint {
  let v = 0n;
  const n = b.length;
  for (let i = 0; i < n; i++) v |= BigInt(b[i]!) << BigInt(8 * (be ? n - 1 - i : i));
  return v;
}

const optSize = fc.option(fc.constantFrom<AccessSize>(...SIZES), { nil: undefined });

const configArb = fc.record({
  endianness: fc.constantFrom<Endianness | undefined>('little', 'big', 'native', undefined),
  targetBE: fc.boolean(),
  implMin: optSize,
  implMax: optSize,
  validMin: optSize,
  validMax: optSize,
  validUnaligned: fc.boolean(),
  /** accepts(): refuse accesses at these offsets */
  refuse: fc.array(fc.integer({ min: 0, max: DEV_SIZE - 1 }), { maxLength: 3 }),
});

const accessArb = fc.record({
  write: fc.boolean(),
  off: fc.integer({ min: 0, max: DEV_SIZE - 8 }),
  size: fc.constantFrom<AccessSize>(...SIZES),
  value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  be: fc.boolean(),
  numberApi: fc.boolean(),
});

describe('MMIO dispatch: access_with_adjusted_size and adjust_endianness', () => {
  it('random access sequences through split/combine equal a byte-level model; invalid ones are rejected', () => {
    fc.assert(
      fc.property(configArb, fc.array(accessArb, { minLength: 1, maxLength: 25 }), (cfg, accesses) => {
        // impl min must not exceed impl max (the region API rejects that)
        let implMin = cfg.implMin, implMax = cfg.implMax;
        if ((implMin ?? 1) > (implMax ?? 4)) [implMin, implMax] = [undefined, undefined];
        let validMin = cfg.validMin, validMax = cfg.validMax;
        if (validMax !== undefined && (validMin ?? 1) > validMax) validMin = undefined;
        const devBE = cfg.endianness === 'big' || ((cfg.endianness === 'native' || cfg.endianness === undefined) && cfg.targetBE);
        const opts: Pick<MemoryRegionOps, 'valid' | 'impl' | 'endianness'> = {
          valid: {
            unaligned: cfg.validUnaligned,
            accepts: (addr) => !cfg.refuse.includes(addr),
            ...(validMin !== undefined ? { min: validMin } : {}),
            ...(validMax !== undefined ? { max: validMax } : {}),
          },
          impl: { ...(implMin !== undefined ? { min: implMin } : {}), ...(implMax !== undefined ? { max: implMax } : {}) },
          ...(cfg.endianness !== undefined ? { endianness: cfg.endianness } : {}),
        };
        const dev = byteDevice(devBE, opts);
        const root = MemoryRegion.container(null, 'root', 0x10000n);
        root.addSubregion(BASE, MemoryRegion.io(null, 'dev', BigInt(DEV_SIZE), dev.ops));
        const as = new AddressSpace(root, 'sys', { bigEndian: cfg.targetBE });
        const model = new Uint8Array(DEV_SIZE + 8);
        const pieceMin = implMin ?? 1, pieceMax = implMax ?? 4;

        for (const acc of accesses) {
          const { off, size, be } = acc;
          const valid = !cfg.refuse.includes(off) && (cfg.validUnaligned || off % size === 0) &&
            (validMax === undefined || (size <= validMax && size >= (validMin ?? 0)));
          const addr = BASE + BigInt(off);
          dev.calls.length = 0;
          const useNum = acc.numberApi && size <= 4;
          const piece = Math.max(Math.min(size, pieceMax), pieceMin);
          if (!acc.write) {
            const doRead = (): bigint => (useNum ? BigInt(as.readNumber(addr, size as 1 | 2 | 4, be)) : as.read(addr, size, be));
            if (!valid) {
              expect(doRead).toThrow(MemoryAccessError);
              try { doRead(); } catch (e) { expect((e as MemoryAccessError).reason).toBe('invalid'); }
              expect(dev.calls).toHaveLength(0);
              continue;
            }
            expect(doRead()).toBe(fromBytes(model.subarray(off, off + size), be));
          } else {
            const v = acc.value & ((1n << BigInt(8 * size)) - 1n);
            const doWrite = (): void => (useNum ? as.writeNumber(addr, Number(v), size as 1 | 2 | 4, be) : as.write(addr, acc.value, size, be));
            if (!valid) {
              expect(doWrite).toThrow(/rejected by the region/);
              expect(dev.calls).toHaveLength(0);
              continue;
            }
            doWrite();
            // the value's bytes in access order; a piece wider than the access is padded with zeros (QEMU)
            model.set(leBytes(v, size, be), off);
            for (let i = size; i < piece; i++) model[off + i] = 0;
          }
          // every device call has an implemented size, and together they cover the access in order
          for (const [k, c] of dev.calls.entries()) {
            expect(c.size).toBe(piece);
            expect(c.size >= pieceMin && c.size <= pieceMax).toBe(true);
            expect(c.addr).toBe(off + k * piece);
          }
          expect(dev.calls).toHaveLength(Math.max(1, size / piece));
          expect(Array.from(dev.mem.subarray(0, DEV_SIZE + 8))).toEqual(Array.from(model));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('splits in the order QEMU does: low address first; big-endian devices get the high half first', () => {
    const log: string[] = [];
    const mk = (endianness: Endianness) => MemoryRegion.io(null, endianness, 0x10n, {
      endianness,
      impl: { max: 2 },
      read: (a, s) => { log.push(`r${a}/${s}`); return a === 0 ? 0x1122 : 0x3344; },
      write: (a, v, s) => { log.push(`w${a}/${s}=${v.toString(16)}`); },
    });
    const root = MemoryRegion.container(null, 'root', 0x100n);
    root.addSubregion(0x0n, mk('little'));
    root.addSubregion(0x10n, mk('big'));
    const as = new AddressSpace(root, 'as');
    // LE device: piece at offset 0 is the low half
    expect(as.read(0x0n, 4)).toBe(0x33441122n);
    // BE device: piece at offset 0 is the high half of a BE value, then the whole is swapped for the LE bus
    expect(as.read(0x10n, 4)).toBe(0x44332211n);
    as.write(0x0n, 0xaabbccddn, 4);
    as.write(0x10n, 0xaabbccddn, 4);
    expect(log).toEqual(['r0/2', 'r2/2', 'r0/2', 'r2/2', 'w0/2=ccdd', 'w2/2=aabb', 'w0/2=ddcc', 'w2/2=bbaa']);
  });

  it('widens a narrow access to impl.min and extracts the bytes at the access address', () => {
    const seen: number[] = [];
    const dev = MemoryRegion.io(null, 'wide', 0x10n, {
      impl: { min: 4 },
      read: (a) => { seen.push(a); return 0xddccbbaa; },
      write: () => {},
    });
    const root = MemoryRegion.container(null, 'root', 0x100n);
    root.addSubregion(0n, dev);
    const as = new AddressSpace(root, 'as');
    expect(as.read(0x4n, 1)).toBe(0xaan);
    expect(as.read(0x4n, 2)).toBe(0xbbaan);
    expect(seen).toEqual([4, 4]);
  });

  it('turns a device MemTxError into a device-error access error; other exceptions pass through', () => {
    const dev = MemoryRegion.io(null, 'bad', 0x10n, {
      read: (a) => { if (a === 4) throw new MemTxError(); if (a === 8) throw new RangeError('bug'); return 7; },
      write: () => { throw new MemTxError(); },
    });
    const root = MemoryRegion.container(null, 'root', 0x100n);
    root.addSubregion(0x40n, dev);
    const as = new AddressSpace(root, 'sys');
    expect(as.read(0x40n, 4)).toBe(7n);
    let err: unknown;
    try { as.read(0x44n, 4); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(MemoryAccessError);
    expect((err as MemoryAccessError).reason).toBe('device-error');
    expect((err as MemoryAccessError).addr).toBe(0x44n);
    expect((err as MemoryAccessError).message).toMatch(/read of 4 bytes at 0x44 in address space 'sys' \(region 'bad'\)/);
    expect(() => as.read(0x48n, 4)).toThrow(RangeError);
    expect(() => as.write(0x40n, 1n, 8)).toThrow(/bus error/);
  });

  it('logs invalid accesses as guest errors with the reason, as QEMU LOG_INVALID_MEM', () => {
    const msgs: string[] = [];
    const dev = MemoryRegion.io(null, 'uart', 0x10n, { valid: { min: 1, max: 1 }, read: () => 0, write: () => {} });
    const root = MemoryRegion.container(null, 'root', 0x100n);
    root.addSubregion(0n, dev);
    const as = new AddressSpace(root, 'sys', { log: { guestError: (m) => msgs.push(m) } });
    expect(() => as.read(0x4n, 4)).toThrow(MemoryAccessError);
    expect(() => as.write(0x5n, 0n, 2)).toThrow(MemoryAccessError);
    expect(msgs).toEqual([
      "Invalid read at addr 0x4, size 4, region 'uart', reason: invalid size (min:1 max:1)",
      "Invalid write at addr 0x5, size 2, region 'uart', reason: unaligned",
    ]);
  });
});
