/**
 * The binary form of a {@link MachineSnapshot} (what `src/node/snapshot-file.ts` writes to disk; in a
 * browser, store the bytes in IndexedDB or download them).
 *
 * Layout (little-endian):
 * ```
 * 0   8 bytes   magic "SBSNAP\r\n" (the CR LF catches text-mode mangling, as PNG's signature)
 * 8   u32       format version (1)
 * 12  u32       JSON length J
 * 16  J bytes   UTF-8 JSON: the snapshot without RAM data; each `ram` entry holds name, size, pageCount
 * …   per RAM block, in the JSON's order: pageCount × u32 page indices, then pageCount × 4096 bytes
 * end u32       length of everything before it (detects truncation and trailing garbage)
 * ```
 * All-zero pages are not stored (see {@link RamSnapshot}). Nothing is compressed.
 * @module
 */
import { SNAPSHOT_PAGE_SIZE, SnapshotError, type MachineSnapshot, type RamSnapshot } from './snapshot.js';

/** The bytes a snapshot file starts with. */
export const SNAPSHOT_MAGIC = Uint8Array.of(0x53, 0x42, 0x53, 0x4e, 0x41, 0x50, 0x0d, 0x0a);
/** Version of the binary layout. */
export const SNAPSHOT_FORMAT_VERSION = 1;

const HEADER = 16;

/** Encodes a snapshot into bytes (see the module comment). */
export function encodeSnapshot(s: MachineSnapshot): Uint8Array {
  const { ram, ...rest } = s;
  const json = new TextEncoder().encode(JSON.stringify({
    ...rest,
    ram: ram.map((r) => ({ name: r.name, size: r.size, pageCount: r.pages.length })),
  }));
  let total = HEADER + json.length + 4;
  for (const r of ram) total += r.pages.length * (4 + SNAPSHOT_PAGE_SIZE);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out.set(SNAPSHOT_MAGIC, 0);
  dv.setUint32(8, SNAPSHOT_FORMAT_VERSION, true);
  dv.setUint32(12, json.length, true);
  out.set(json, HEADER);
  let o = HEADER + json.length;
  for (const r of ram) {
    for (let i = 0; i < r.pages.length; i++, o += 4) dv.setUint32(o, r.pages[i]!, true);
    out.set(r.data.subarray(0, r.pages.length * SNAPSHOT_PAGE_SIZE), o);
    o += r.pages.length * SNAPSHOT_PAGE_SIZE;
  }
  dv.setUint32(o, o, true);
  return out;
}

/**
 * Decodes bytes made by {@link encodeSnapshot}. RAM data is copied out of `bytes`.
 * @throws SnapshotError if the bytes are not a snapshot, of another format version, truncated or
 *   inconsistent.
 */
export function decodeSnapshot(bytes: Uint8Array): MachineSnapshot {
  if (bytes.length < HEADER + 4 || !SNAPSHOT_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new SnapshotError('not a softboard snapshot (bad magic)');
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== SNAPSHOT_FORMAT_VERSION) {
    throw new SnapshotError(`snapshot file format version ${version} is not supported (this build reads ${SNAPSHOT_FORMAT_VERSION})`);
  }
  const jlen = dv.getUint32(12, true);
  if (HEADER + jlen + 4 > bytes.length) throw new SnapshotError(`truncated snapshot: ${bytes.length} bytes, the header announces ${jlen} bytes of JSON`);
  let meta: Omit<MachineSnapshot, 'ram'> & { ram?: unknown };
  try {
    meta = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER, HEADER + jlen))) as typeof meta;
  } catch (e) {
    throw new SnapshotError(`corrupt snapshot: its JSON part does not parse (${(e as Error).message})`, { cause: e });
  }
  if (meta === null || typeof meta !== 'object' || !Array.isArray(meta.ram)) throw new SnapshotError('corrupt snapshot: no RAM list');
  let o = HEADER + jlen;
  const ram: RamSnapshot[] = [];
  for (const e of meta.ram as Array<{ name?: unknown; size?: unknown; pageCount?: unknown }>) {
    const { name, size, pageCount } = e ?? {};
    if (typeof name !== 'string' || !Number.isSafeInteger(size) || !Number.isSafeInteger(pageCount) || (pageCount as number) < 0) {
      throw new SnapshotError(`corrupt snapshot: bad RAM entry ${JSON.stringify(e)}`);
    }
    const n = pageCount as number;
    const need = n * (4 + SNAPSHOT_PAGE_SIZE);
    if (o + need + 4 > bytes.length) throw new SnapshotError(`truncated snapshot: RAM block '${name}' needs ${need} bytes at offset ${o}, the file has ${bytes.length}`);
    const pages = new Uint32Array(n);
    for (let i = 0; i < n; i++, o += 4) pages[i] = dv.getUint32(o, true);
    const data = bytes.slice(o, o + n * SNAPSHOT_PAGE_SIZE);
    o += n * SNAPSHOT_PAGE_SIZE;
    ram.push({ name, size: size as number, pages, data });
  }
  if (o + 4 !== bytes.length || dv.getUint32(o, true) !== o) {
    throw new SnapshotError(`corrupt snapshot: ${bytes.length} bytes, but its contents end at ${o + 4}`);
  }
  return { ...(meta as Omit<MachineSnapshot, 'ram'>), ram };
}
