import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Fdt, FdtError, FdtNode, cells, parseFdt, readCells, readStrings, str, strList, u32, u64 } from '../../../src/hw/core/fdt.js';

const REFERENCE_DTS = '/work/shared/reference/qemu-riscv64-virt.dts';

const hasDtc = (() => {
  try { execFileSync('dtc', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
})();
const tmp = mkdtempSync(join(tmpdir(), 'softboard-fdt-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let seq = 0;
/** Runs dtc on bytes through a temporary file, returns its stdout. */
function dtc(input: Uint8Array | string, from: 'dtb' | 'dts', to: 'dtb' | 'dts'): Buffer {
  const f = join(tmp, `in${seq++}.${from}`);
  writeFileSync(f, input);
  return execFileSync('dtc', ['-q', '-I', from, '-O', to, f], { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A plain-data view of a tree, for equality checks. */
type Plain = { name: string; props: [string, number[]][]; children: Plain[] };
function plain(n: FdtNode): Plain {
  return { name: n.name, props: [...n.properties].map(([k, v]) => [k, [...v]]), children: n.children.map(plain) };
}

/** A small board description in the shape of QEMU's riscv virt tree. */
function sampleTree(): Fdt {
  const fdt = new Fdt();
  const root = fdt.root;
  root.setPropU32('#address-cells', 2).setPropU32('#size-cells', 2);
  root.setPropString('compatible', 'riscv-virtio').setPropString('model', 'riscv-virtio,qemu');
  fdt.addPath('/chosen').setPropString('stdout-path', '/soc/serial@10000000');
  const mem = root.addNode('memory@80000000');
  mem.setPropString('device_type', 'memory').setProp('reg', new Uint8Array([...u64(0x80000000n), ...u64(0x8000000n)]));
  const cpus = root.addNode('cpus');
  cpus.setProp('#address-cells', u32(1)).setPropU32('#size-cells', 0).setPropU32('timebase-frequency', 10_000_000);
  const cpu = cpus.addNode('cpu@0');
  const cpuPh = fdt.allocPhandle();
  cpu.setPropU32('phandle', cpuPh).setPropString('device_type', 'cpu').setPropU32('reg', 0);
  cpu.setPropString('riscv,isa', 'rv64imafdc').setPropString('mmu-type', 'riscv,sv48');
  const intc = cpu.addNode('interrupt-controller');
  const intcPh = fdt.allocPhandle();
  intc.setPropU32('#interrupt-cells', 1).setPropEmpty('interrupt-controller').setPropString('compatible', 'riscv,cpu-intc').setPropU32('phandle', intcPh);
  const uart = fdt.addPath('/soc/serial@10000000');
  uart.setPropU32('interrupts', 10).setPropU32('clock-frequency', 0x384000);
  uart.setPropCells('reg', [0, 0x10000000, 0, 0x100]).setPropString('compatible', 'ns16550a');
  fdt.node('/soc')!.setPropStringList('compatible', ['simple-bus']).setPropEmpty('ranges');
  return fdt;
}

describe('value encoders', () => {
  it('encode big-endian cells, 64-bit pairs and NUL-terminated strings', () => {
    expect([...u32(0x12345678)]).toEqual([0x12, 0x34, 0x56, 0x78]);
    expect([...u64(0x0102030405060708n)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...cells([1, 0xffffffff])]).toEqual([0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff]);
    expect([...str('ab')]).toEqual([0x61, 0x62, 0]);
    expect([...strList(['a', '', 'b'])]).toEqual([0x61, 0, 0, 0x62, 0]);
    expect(readStrings(strList(['qemu,platform', 'simple-bus']))).toEqual(['qemu,platform', 'simple-bus']);
    expect(readCells(cells([7, 8]))).toEqual([7, 8]);
  });
  it('reject values that do not fit', () => {
    expect(() => u32(-1)).toThrow(FdtError);
    expect(() => u32(2 ** 32)).toThrow(FdtError);
    expect(() => u32(1.5)).toThrow(FdtError);
    expect(() => u64(-1n)).toThrow(FdtError);
    expect(() => u64(1n << 64n)).toThrow(FdtError);
    expect(() => str('a\0b')).toThrow(/NUL/);
    expect(() => readCells(new Uint8Array(3))).toThrow(/cells/);
    expect(() => readStrings(new Uint8Array([0x61]))).toThrow(/NUL-terminated/);
  });
});

describe('Fdt builder', () => {
  it('builds nodes reachable by path, with typed property access', () => {
    const fdt = sampleTree();
    const uart = fdt.node('/soc/serial@10000000')!;
    expect(uart.path).toBe('/soc/serial@10000000');
    expect(uart.getPropCells('reg')).toEqual([0, 0x10000000, 0, 0x100]);
    expect(uart.getPropString('compatible')).toBe('ns16550a');
    expect(fdt.node('/cpus')!.getPropU32('timebase-frequency')).toBe(10_000_000);
    expect(fdt.node('/')).toBe(fdt.root);
    expect(fdt.root.path).toBe('/');
    expect(fdt.node('/soc/nothing')).toBeUndefined();
    expect(() => fdt.node('soc')).toThrow(/not absolute/);
  });
  it('replaces a property in place and keeps insertion order', () => {
    const n = new Fdt().root.addNode('x');
    n.setPropU32('a', 1).setPropU32('b', 2).setPropU32('a', 3);
    expect([...n.properties.keys()]).toEqual(['a', 'b']);
    expect(n.getPropU32('a')).toBe(3);
    expect(n.removeProp('a')).toBe(true);
    expect(n.getProp('a')).toBeUndefined();
  });
  it('rejects invalid or duplicate names', () => {
    const fdt = new Fdt();
    fdt.root.addNode('uart@1000');
    expect(() => fdt.root.addNode('uart@1000')).toThrow(/already exists/);
    expect(() => fdt.root.addNode('')).toThrow(FdtError);
    expect(() => fdt.root.addNode('a/b')).toThrow(/invalid node name/);
    expect(() => fdt.root.addNode('a b')).toThrow(/invalid node name/);
    expect(() => fdt.root.addNode('a@b@c')).toThrow(/invalid node name/);
    expect(() => fdt.root.setPropU32('bad name', 1)).toThrow(/invalid property name/);
    expect(() => fdt.root.setPropU32('', 1)).toThrow(/invalid property name/);
    expect(() => fdt.root.setPropCells('phandle', [1, 2])).toThrow(/one cell/);
  });
  it('allocates phandles above every phandle already used', () => {
    const fdt = new Fdt();
    expect(fdt.allocPhandle()).toBe(1);
    fdt.root.addNode('a').setPropU32('phandle', 7);
    expect(fdt.allocPhandle()).toBe(8);
    expect(fdt.allocPhandle()).toBe(9);
  });
  it('addPath creates missing parents and returns existing nodes', () => {
    const fdt = new Fdt();
    const n = fdt.addPath('/a/b/c@1');
    expect(n.path).toBe('/a/b/c@1');
    expect(fdt.addPath('/a/b')).toBe(n.parent);
    expect(fdt.root.removeNode('a')).toBe(true);
    expect(fdt.node('/a/b')).toBeUndefined();
  });
});

describe('DTB serialization', () => {
  it('writes a v17 header, an 8-aligned reservation map and a deduplicated strings block', () => {
    const fdt = sampleTree();
    fdt.addReservation(0x80000000n, 0x200000n);
    fdt.bootCpuId = 3;
    const blob = fdt.toBlob();
    const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    const h = (i: number): number => dv.getUint32(i * 4);
    expect(h(0)).toBe(0xd00dfeed);
    expect(h(1)).toBe(blob.length);
    expect(h(5)).toBe(17);
    expect(h(6)).toBe(16);
    expect(h(7)).toBe(3);
    expect(h(4) % 8).toBe(0);
    expect(dv.getBigUint64(h(4))).toBe(0x80000000n);
    expect(dv.getBigUint64(h(4) + 8)).toBe(0x200000n);
    expect(dv.getBigUint64(h(4) + 16)).toBe(0n); // terminator
    expect(h(2) % 4).toBe(0);
    const strings = new TextDecoder().decode(blob.subarray(h(3), h(3) + h(8))).split('\0');
    expect(strings.filter((s) => s === 'compatible')).toHaveLength(1); // used by 4 nodes, stored once
    expect(strings.filter((s) => s === 'reg')).toHaveLength(1);
    expect(h(2) + h(9)).toBeLessThanOrEqual(h(3)); // struct block before strings
    expect(dv.getUint32(h(2) + h(9) - 4)).toBe(9); // FDT_END closes the structure block
  });

  it('round-trips through parseFdt', () => {
    const fdt = sampleTree();
    fdt.addReservation(0x1000n, 0x2000n);
    const back = parseFdt(fdt.toBlob());
    expect(plain(back.root)).toEqual(plain(fdt.root));
    expect(back.reservations).toEqual([{ address: 0x1000n, size: 0x2000n }]);
    expect(back.toBlob()).toEqual(fdt.toBlob());
    expect(back.allocPhandle()).toBe(3); // the parser learns the phandles in use
  });

  const nameChars = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789,._+-'.split(''));
  const nodeName = fc.tuple(fc.string({ unit: nameChars, minLength: 1, maxLength: 12 }), fc.option(fc.nat(0xfffffff)))
    .map(([n, unit]) => (unit === null ? n : `${n}@${unit.toString(16)}`));
  const propName = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789,._+?#-'.split('')), minLength: 1, maxLength: 20 })
    // dtc treats these specially (phandles; 'name' is the legacy node-name property it drops).
    .filter((n) => n !== 'phandle' && n !== 'linux,phandle' && n !== 'name');
  const value = fc.uint8Array({ maxLength: 24 });
  type Spec = { props: [string, Uint8Array][]; kids: [string, Spec][] };
  const treeAt = (depth: number): fc.Arbitrary<Spec> => fc.record({
    props: fc.uniqueArray(fc.tuple(propName, value), { maxLength: 5, selector: (p) => p[0] }),
    kids: depth === 0 ? fc.constant([]) : fc.uniqueArray(fc.tuple(nodeName, treeAt(depth - 1)), { maxLength: 3, selector: (k) => k[0] }),
  });
  const tree = treeAt(3);
  const build = (spec: Spec, n: FdtNode): void => {
    for (const [k, v] of spec.props) n.setProp(k, v);
    for (const [name, kid] of spec.kids) build(kid, n.addNode(name));
  };

  it('property: any tree round-trips, and re-serializes to the same bytes', () => {
    fc.assert(fc.property(tree, fc.array(fc.tuple(fc.bigInt(0n, (1n << 64n) - 1n), fc.bigInt(0n, (1n << 64n) - 1n)), { maxLength: 3 }), (spec, rsv) => {
      const fdt = new Fdt();
      build(spec, fdt.root);
      for (const [a, s] of rsv) fdt.addReservation(a, s === 0n && a === 0n ? 1n : s);
      const blob = fdt.toBlob();
      const back = parseFdt(blob);
      expect(plain(back.root)).toEqual(plain(fdt.root));
      expect(back.reservations).toEqual(fdt.reservations);
      expect(back.toBlob()).toEqual(blob);
    }), { numRuns: 200 });
  });

  it.skipIf(!hasDtc)('property: dtc reads our blobs into the same trees (dtb → dtc → dtb → parseFdt)', () => {
    fc.assert(fc.property(tree, (spec) => {
      const fdt = new Fdt();
      build(spec, fdt.root);
      const viaDtc = dtc(fdt.toBlob(), 'dtb', 'dtb');
      expect(plain(parseFdt(new Uint8Array(viaDtc)).root)).toEqual(plain(fdt.root));
    }), { numRuns: 15 });
  });

  it('property: a corrupted blob parses or throws FdtError, nothing else', () => {
    const blob = sampleTree().toBlob();
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(blob.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), fc.nat(blob.length), (edits, cut) => {
      const b = blob.slice(0, Math.max(cut, 8));
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      try { parseFdt(b); } catch (e) { expect(e).toBeInstanceOf(FdtError); }
    }), { numRuns: 500 });
  });
});

describe('parseFdt errors', () => {
  const good = (): Uint8Array => sampleTree().toBlob();
  const set32 = (b: Uint8Array, off: number, v: number): Uint8Array => { new DataView(b.buffer).setUint32(off, v); return b; };
  it('names what is wrong', () => {
    expect(() => parseFdt(new Uint8Array(10))).toThrow(/too short/);
    expect(() => parseFdt(set32(good(), 0, 0x12345678))).toThrow(/bad device tree magic 0x12345678/);
    expect(() => parseFdt(good().subarray(0, 100))).toThrow(/totalsize/);
    expect(() => parseFdt(set32(good(), 20, 15))).toThrow(/version 15/);
    const b = good();
    const offStruct = new DataView(b.buffer).getUint32(8);
    expect(() => parseFdt(set32(b, offStruct, 0x77))).toThrow(/unknown structure token 0x77 at offset/);
    expect(() => parseFdt(set32(good(), 32, 0))).toThrow(/name offset/); // empty strings block
  });
});

describe.skipIf(!hasDtc)('against dtc', () => {
  it('dtc accepts the blob and prints the nodes and values built', () => {
    const fdt = sampleTree();
    fdt.addReservation(0x80000000n, 0x10000n);
    const dts = dtc(fdt.toBlob(), 'dtb', 'dts').toString();
    expect(dts).toContain('/memreserve/\t0x0000000080000000 0x0000000000010000;');
    expect(dts).toMatch(/serial@10000000 \{[^}]*reg = <0x00 0x10000000 0x00 0x100>;[^}]*compatible = "ns16550a";/s);
    expect(dts).toMatch(/memory@80000000 \{[^}]*reg = <0x00 0x80000000 0x00 0x8000000>;/s);
    expect(dts).toMatch(/interrupt-controller \{[^}]*interrupt-controller;[^}]*phandle = <0x02>;/s);
    expect(dts).toContain('timebase-frequency = <0x989680>;');
    expect(dts).toContain('stdout-path = "/soc/serial@10000000";');
  });

  it('reads QEMU\'s virt device tree (compiled by dtc) as dtc sees it', () => {
    const dtb = dtc(readFileSync(REFERENCE_DTS), 'dts', 'dtb');
    const fdt = parseFdt(new Uint8Array(dtb.buffer, dtb.byteOffset, dtb.byteLength));
    // What the reference dts says:
    expect(fdt.node('/soc/serial@10000000')!.getPropCells('interrupts')).toEqual([0x0a]);
    expect(fdt.node('/soc/serial@10000000')!.getPropCells('reg')).toEqual([0, 0x10000000, 0, 0x100]);
    expect(fdt.node('/cpus')!.getPropU32('timebase-frequency')).toBe(10_000_000);
    expect(fdt.node('/chosen')!.getPropString('stdout-path')).toBe('/soc/serial@10000000');
    expect(fdt.node('/platform-bus@4000000')!.getPropStringList('compatible')).toEqual(['qemu,platform', 'simple-bus']);
    expect(fdt.node('/fw-cfg@10100000')!.getProp('dma-coherent')).toEqual(new Uint8Array(0));
    // Re-serialized, dtc prints exactly what it prints for its own blob.
    const ours = dtc(fdt.toBlob(), 'dtb', 'dts').toString();
    expect(ours).toBe(dtc(dtb, 'dtb', 'dts').toString());
    expect(ours).toContain('cpu@0 {');
  });
});
