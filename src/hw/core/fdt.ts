/**
 * Flattened device tree: build a tree in memory, serialize it to a DTB blob, parse a blob back.
 * Format: Devicetree Specification v0.4 ch. 5 (version 17, last compatible version 16; big-endian
 * structure block, strings block, memory reservation map). The API plays the role of QEMU's
 * softmmu/device_tree.c helpers (qemu_fdt_add_subnode, qemu_fdt_setprop_cell(s), _string,
 * qemu_fdt_alloc_phandle …) that boards such as hw/riscv/virt.c use to describe themselves.
 *
 * ```ts
 * const fdt = new Fdt();
 * const cpus = fdt.root.addNode('cpus');
 * cpus.setProp('#address-cells', u32(1));
 * fdt.addPath('/soc/serial@10000000').setPropCells('reg', [0, 0x10000000, 0, 0x100]);
 * const blob = fdt.toBlob();
 * ```
 */

import { SoftboardError } from '../../util/errors.js';

/**
 * A malformed device tree blob, or an invalid node/property name or value given to the builder.
 * (Defined here: `src/util/errors.ts` has no FdtError yet; it may move there.)
 */
export class FdtError extends SoftboardError {
  override name = 'FdtError';
}

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1, FDT_END_NODE = 2, FDT_PROP = 3, FDT_NOP = 4, FDT_END = 9;
const HEADER_SIZE = 40;
/** The version written, and the oldest version whose readers can read it. */
export const FDT_VERSION = 17;
/** `last_comp_version` written in the header. */
export const FDT_LAST_COMP_VERSION = 16;

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

// Devicetree spec 2.2.1 (node names) and 2.2.4 (property names).
const NODE_NAME = /^[0-9A-Za-z,._+-]+(@[0-9A-Za-z,._+-]*)?$/;
const PROP_NAME = /^[0-9A-Za-z,._+?#-]+$/;

function checkU32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new FdtError(`${what}: ${v} is not a 32-bit unsigned cell`);
  return v;
}

// ---- value encoders ----

/** A single big-endian 32-bit cell. */
export function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, checkU32(v, 'u32'));
  return b;
}

/** A 64-bit value as two big-endian cells (high first), as `reg` pairs with #address-cells = 2. */
export function u64(v: bigint | number): Uint8Array {
  const x = BigInt(v);
  if (x < 0n || x > 0xffffffffffffffffn) throw new FdtError(`u64: ${v} is not a 64-bit unsigned value`);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, x);
  return b;
}

/** A list of 32-bit cells (`<a b c>` in dts). */
export function cells(values: readonly number[]): Uint8Array {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint32(i * 4, checkU32(v, `cell ${i}`)));
  return b;
}

/** A NUL-terminated string. */
export function str(s: string): Uint8Array {
  return strList([s]);
}

/** A list of NUL-terminated strings (`"a", "b"` in dts, e.g. `compatible`). */
export function strList(list: readonly string[]): Uint8Array {
  const parts = list.map((s) => {
    if (s.includes('\0')) throw new FdtError(`string property value ${JSON.stringify(s)} contains a NUL character`);
    return enc.encode(s);
  });
  const b = new Uint8Array(parts.reduce((n, p) => n + p.length + 1, 0));
  let o = 0;
  for (const p of parts) { b.set(p, o); o += p.length + 1; }
  return b;
}

// ---- value decoders ----

/** Reads a property value as 32-bit big-endian cells. Throws if its length is not a multiple of 4. */
export function readCells(value: Uint8Array, what = 'property'): number[] {
  if (value.length % 4 !== 0) throw new FdtError(`${what} is ${value.length} bytes, not a whole number of cells`);
  const dv = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: value.length / 4 }, (_, i) => dv.getUint32(i * 4));
}

/** Reads a property value as NUL-terminated strings. Throws if it does not end in NUL. */
export function readStrings(value: Uint8Array, what = 'property'): string[] {
  if (value.length === 0 || value[value.length - 1] !== 0) throw new FdtError(`${what} is not a NUL-terminated string list`);
  return dec.decode(value.subarray(0, value.length - 1)).split('\0');
}

/** One node of the tree. Properties keep their insertion order, children too (as dtc and libfdt do). */
export class FdtNode {
  private readonly props = new Map<string, Uint8Array>();
  private readonly kids: FdtNode[] = [];

  /** @internal use {@link FdtNode.addNode} or {@link Fdt.addPath}. */
  constructor(readonly name: string, readonly parent: FdtNode | undefined, private readonly owner: Fdt) {}

  /** The full path (`/` for the root, `/soc/serial@10000000` …). */
  get path(): string {
    if (!this.parent) return '/';
    const p = this.parent.path;
    return (p === '/' ? '' : p) + '/' + this.name;
  }

  /** Child nodes, in order. */
  get children(): readonly FdtNode[] { return this.kids; }

  /** Properties (name → raw value), in order. */
  get properties(): ReadonlyMap<string, Uint8Array> { return this.props; }

  /** Adds a child. Throws {@link FdtError} if the name is invalid or a child of that name exists. */
  addNode(name: string): FdtNode {
    if (!NODE_NAME.test(name)) throw new FdtError(`invalid node name ${JSON.stringify(name)} under ${this.path} (allowed: 0-9 a-z A-Z , . _ + - and one @unit-address)`);
    if (this.child(name)) throw new FdtError(`node ${this.path === '/' ? '' : this.path}/${name} already exists`);
    const n = new FdtNode(name, this, this.owner);
    this.kids.push(n);
    return n;
  }

  /** The child called `name`, or undefined. */
  child(name: string): FdtNode | undefined {
    return this.kids.find((k) => k.name === name);
  }

  /** @internal adds a child without validating its name (the parser reads foreign blobs as they are). */
  attach(name: string): FdtNode {
    const n = new FdtNode(name, this, this.owner);
    this.kids.push(n);
    return n;
  }

  /** @internal sets a property without validation or copy (the parser). */
  setRaw(name: string, value: Uint8Array): void { this.props.set(name, value); }

  /** Removes a child (and its subtree). Returns whether it existed. */
  removeNode(name: string): boolean {
    const i = this.kids.findIndex((k) => k.name === name);
    if (i < 0) return false;
    this.kids.splice(i, 1);
    return true;
  }

  /** Sets a property to raw bytes (copied). Replaces an existing value in place, keeping its position. */
  setProp(name: string, value: Uint8Array): this {
    if (!PROP_NAME.test(name)) throw new FdtError(`invalid property name ${JSON.stringify(name)} in ${this.path} (allowed: 0-9 a-z A-Z , . _ + ? # -)`);
    if (name === 'phandle' || name === 'linux,phandle') {
      if (value.length !== 4) throw new FdtError(`${this.path}: ${name} must be one cell, got ${value.length} bytes`);
      this.owner.notePhandle(readCells(value)[0]!);
    }
    this.props.set(name, value.slice());
    return this;
  }
  /** One 32-bit cell. */
  setPropU32(name: string, v: number): this { return this.setProp(name, u32(v)); }
  /** A 64-bit value as two cells. */
  setPropU64(name: string, v: bigint | number): this { return this.setProp(name, u64(v)); }
  /** A list of 32-bit cells. */
  setPropCells(name: string, values: readonly number[]): this { return this.setProp(name, cells(values)); }
  /** A NUL-terminated string. */
  setPropString(name: string, s: string): this { return this.setProp(name, str(s)); }
  /** A string list. */
  setPropStringList(name: string, list: readonly string[]): this { return this.setProp(name, strList(list)); }
  /** An empty (boolean) property such as `interrupt-controller`. */
  setPropEmpty(name: string): this { return this.setProp(name, new Uint8Array(0)); }
  /** Raw bytes (same as {@link FdtNode.setProp}). */
  setPropBytes(name: string, bytes: Uint8Array): this { return this.setProp(name, bytes); }

  /** A property's raw value, or undefined. */
  getProp(name: string): Uint8Array | undefined { return this.props.get(name); }
  /** A one-cell property's value, or undefined if absent; throws if it is not exactly one cell. */
  getPropU32(name: string): number | undefined {
    const v = this.props.get(name);
    if (v === undefined) return undefined;
    if (v.length !== 4) throw new FdtError(`${this.path}: ${name} is ${v.length} bytes, not one cell`);
    return readCells(v)[0];
  }
  /** A property as cells, or undefined. */
  getPropCells(name: string): number[] | undefined {
    const v = this.props.get(name);
    return v === undefined ? undefined : readCells(v, `${this.path}: ${name}`);
  }
  /** A string property (the first string of a list), or undefined. */
  getPropString(name: string): string | undefined { return this.getPropStringList(name)?.[0]; }
  /** A string-list property, or undefined. */
  getPropStringList(name: string): string[] | undefined {
    const v = this.props.get(name);
    return v === undefined ? undefined : readStrings(v, `${this.path}: ${name}`);
  }
  /** Removes a property. Returns whether it existed. */
  removeProp(name: string): boolean { return this.props.delete(name); }
}

/** A memory reservation map entry (address and size of a region the OS must not use). */
export interface FdtReservation {
  readonly address: bigint;
  readonly size: bigint;
}

/** A device tree under construction (or parsed from a blob). */
export class Fdt {
  /** The root node `/`. */
  readonly root: FdtNode = new FdtNode('', undefined, this);
  /** The memory reservation map. */
  readonly reservations: FdtReservation[] = [];
  /** `boot_cpuid_phys` of the header. */
  bootCpuId = 0;
  private maxPhandle = 0;

  /** The node at an absolute path (`/`, `/cpus/cpu@0`), or undefined. */
  node(path: string): FdtNode | undefined {
    if (!path.startsWith('/')) throw new FdtError(`device tree path ${JSON.stringify(path)} is not absolute`);
    let n: FdtNode | undefined = this.root;
    for (const part of path.split('/').filter((p) => p !== '')) {
      n = n.child(part);
      if (!n) return undefined;
    }
    return n;
  }

  /** The node at `path`, creating it and any missing parents (as QEMU's qemu_fdt_add_path). */
  addPath(path: string): FdtNode {
    if (!path.startsWith('/')) throw new FdtError(`device tree path ${JSON.stringify(path)} is not absolute`);
    let n = this.root;
    for (const part of path.split('/').filter((p) => p !== '')) n = n.child(part) ?? n.addNode(part);
    return n;
  }

  /**
   * A fresh phandle: one above the largest in use (set through a `phandle` property or allocated), as
   * QEMU's qemu_fdt_alloc_phandle. The caller sets it on the node (`setPropU32('phandle', p)`).
   */
  allocPhandle(): number {
    if (this.maxPhandle >= 0xfffffffe) throw new FdtError('out of phandles');
    return ++this.maxPhandle;
  }

  /** @internal records a phandle value set on some node so that allocPhandle never reuses it. */
  notePhandle(p: number): void {
    if (p > this.maxPhandle && p !== 0xffffffff) this.maxPhandle = p;
  }

  /** Adds a memory reservation map entry. */
  addReservation(address: bigint, size: bigint): void {
    if (address < 0n || size < 0n || address > 0xffffffffffffffffn || size > 0xffffffffffffffffn) {
      throw new FdtError(`reservation ${address}+${size} is out of the 64-bit range`);
    }
    this.reservations.push({ address, size });
  }

  /**
   * Serializes to a DTB: header (version 17, last compatible 16), memory reservation map, structure
   * block, strings block (each property name stored once), in the order dtc writes them.
   */
  toBlob(): Uint8Array {
    const strings: number[] = [];
    const strOff = new Map<string, number>();
    const nameOff = (name: string): number => {
      let o = strOff.get(name);
      if (o === undefined) {
        o = strings.length;
        strOff.set(name, o);
        strings.push(...enc.encode(name), 0);
      }
      return o;
    };
    const st = new ByteWriter();
    const emit = (n: FdtNode): void => {
      st.u32(FDT_BEGIN_NODE);
      st.bytes(enc.encode(n.name)); st.u8(0); st.align4();
      for (const [name, value] of n.properties) {
        st.u32(FDT_PROP); st.u32(value.length); st.u32(nameOff(name));
        st.bytes(value); st.align4();
      }
      for (const k of n.children) emit(k);
      st.u32(FDT_END_NODE);
    };
    emit(this.root);
    st.u32(FDT_END);
    const struct = st.finish();
    const rsvSize = (this.reservations.length + 1) * 16;
    const offRsv = HEADER_SIZE; // 40 is already 8-aligned, as the reservation map needs
    const offStruct = offRsv + rsvSize;
    const offStrings = offStruct + struct.length;
    const total = offStrings + strings.length;
    const out = new Uint8Array(total);
    const dv = new DataView(out.buffer);
    [FDT_MAGIC, total, offStruct, offStrings, offRsv, FDT_VERSION, FDT_LAST_COMP_VERSION, this.bootCpuId, strings.length, struct.length]
      .forEach((v, i) => dv.setUint32(i * 4, v));
    this.reservations.forEach((r, i) => {
      dv.setBigUint64(offRsv + i * 16, r.address);
      dv.setBigUint64(offRsv + i * 16 + 8, r.size);
    });
    out.set(struct, offStruct);
    out.set(strings, offStrings);
    return out;
  }
}

class ByteWriter {
  private buf = new Uint8Array(1024);
  private len = 0;
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const b = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  u8(v: number): void { this.grow(1); this.buf[this.len++] = v; }
  u32(v: number): void {
    this.grow(4);
    this.buf[this.len] = v >>> 24; this.buf[this.len + 1] = v >>> 16; this.buf[this.len + 2] = v >>> 8; this.buf[this.len + 3] = v;
    this.len += 4;
  }
  bytes(b: Uint8Array): void { this.grow(b.length); this.buf.set(b, this.len); this.len += b.length; }
  align4(): void { while (this.len % 4 !== 0) this.u8(0); }
  finish(): Uint8Array { return this.buf.slice(0, this.len); }
}

/**
 * Parses a DTB (versions 16 and 17) into an {@link Fdt}. Every offset, size and token is checked
 * against the blob; names are read as they are (a blob from elsewhere may use names the builder would
 * reject). Throws {@link FdtError} naming the offset of whatever is wrong.
 */
export function parseFdt(blob: Uint8Array): Fdt {
  if (blob.length < HEADER_SIZE) throw new FdtError(`blob too short for a device tree header (${blob.length} < ${HEADER_SIZE} bytes)`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const h = (i: number): number => dv.getUint32(i * 4);
  if (h(0) !== FDT_MAGIC) throw new FdtError(`bad device tree magic 0x${h(0).toString(16)} (expected 0xd00dfeed)`);
  const [total, offStruct, offStrings, offRsv, version, lastComp, bootCpu, sizeStrings] = [h(1), h(2), h(3), h(4), h(5), h(6), h(7), h(8)];
  if (version < 16 || lastComp > FDT_VERSION) throw new FdtError(`unsupported device tree version ${version} (last compatible ${lastComp}); need 16 or 17`);
  if (total > blob.length) throw new FdtError(`header totalsize ${total} is larger than the blob (${blob.length} bytes)`);
  const sizeStruct = version >= 17 ? h(9) : total - offStruct;
  const within = (off: number, size: number, what: string): void => {
    if (off + size > total || off < (version >= 17 ? HEADER_SIZE : HEADER_SIZE - 4)) throw new FdtError(`${what} (offset ${off}, ${size} bytes) lies outside the blob (totalsize ${total})`);
  };
  within(offStruct, sizeStruct, 'structure block');
  within(offStrings, sizeStrings, 'strings block');
  if (offRsv % 8 !== 0) throw new FdtError(`memory reservation map offset ${offRsv} is not 8-byte aligned`);

  const fdt = new Fdt();
  fdt.bootCpuId = bootCpu;
  for (let o = offRsv; ; o += 16) {
    within(o, 16, 'memory reservation entry');
    const address = dv.getBigUint64(o), size = dv.getBigUint64(o + 8);
    if (address === 0n && size === 0n) break;
    fdt.reservations.push({ address, size });
  }

  const end = offStruct + sizeStruct;
  let p = offStruct;
  const tok = (): number => {
    if (p + 4 > end) throw new FdtError(`structure block ends without FDT_END (at offset ${p})`);
    const t = dv.getUint32(p); p += 4; return t;
  };
  const cstr = (from: number, limit: number, what: string): [string, number] => {
    let e = from;
    while (e < limit && blob[e] !== 0) e++;
    if (e >= limit) throw new FdtError(`${what} at offset ${from} is not NUL-terminated`);
    return [dec.decode(blob.subarray(from, e)), e];
  };
  const stack: FdtNode[] = [];
  let root: FdtNode | undefined;
  for (;;) {
    const at = p;
    const t = tok();
    if (t === FDT_NOP) continue;
    if (t === FDT_BEGIN_NODE) {
      const [name, e] = cstr(p, end, 'node name');
      p = (e + 4) & ~3;
      const parent = stack[stack.length - 1];
      let n: FdtNode;
      if (!parent) {
        if (root) throw new FdtError(`second root node at offset ${at}`);
        n = root = fdt.root;
      } else {
        if (parent.child(name)) throw new FdtError(`duplicate node ${parent.path === '/' ? '' : parent.path}/${name} at offset ${at}`);
        n = parent.attach(name);
      }
      stack.push(n);
    } else if (t === FDT_END_NODE) {
      if (!stack.pop()) throw new FdtError(`FDT_END_NODE without a node at offset ${at}`);
    } else if (t === FDT_PROP) {
      const node = stack[stack.length - 1];
      if (!node) throw new FdtError(`property outside any node at offset ${at}`);
      const len = tok(), nameoff = tok();
      if (p + len > end) throw new FdtError(`property at offset ${at} (${len} bytes) runs past the structure block`);
      if (nameoff >= sizeStrings) throw new FdtError(`property at offset ${at} has name offset ${nameoff} outside the strings block (${sizeStrings} bytes)`);
      const [name] = cstr(offStrings + nameoff, offStrings + sizeStrings, 'property name');
      const value = blob.slice(p, p + len);
      if ((name === 'phandle' || name === 'linux,phandle') && len === 4) fdt.notePhandle(readCells(value)[0]!);
      node.setRaw(name, value);
      p = (p + len + 3) & ~3;
    } else if (t === FDT_END) {
      if (stack.length !== 0) throw new FdtError(`FDT_END at offset ${at} inside node ${stack[stack.length - 1]!.path}`);
      break;
    } else {
      throw new FdtError(`unknown structure token 0x${t.toString(16)} at offset ${at}`);
    }
  }
  if (!root) throw new FdtError('device tree has no root node');
  return fdt;
}
