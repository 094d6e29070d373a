/**
 * A minimal ELF writer for the loader tests: builds ELF32/ELF64 little-endian executables from a
 * description, written from the gABI layout independently of the parser under test.
 */
export interface SegSpec {
  paddr: bigint;
  vaddr?: bigint;
  data: Uint8Array;
  memsz?: bigint;
  flags?: number;
  type?: number;
  /** Override p_offset (to make broken files). */
  offset?: bigint;
}
export interface SymSpec { name: string; value: bigint; size?: bigint; type?: number; bind?: number; shndx?: number }
export interface ElfSpec {
  cls?: 32 | 64;
  machine?: number;
  entry?: bigint;
  etype?: number;
  segs?: SegSpec[];
  syms?: SymSpec[];
}

export function makeElf(spec: ElfSpec): Uint8Array {
  const is64 = (spec.cls ?? 64) === 64;
  const ehsize = is64 ? 64 : 52, phentsize = is64 ? 56 : 32, shentsize = is64 ? 64 : 40, symsize = is64 ? 24 : 16;
  const segs = spec.segs ?? [];
  const chunks: { off: number; bytes: Uint8Array }[] = [];
  let off = ehsize + segs.length * phentsize;
  const segOffs = segs.map((s) => { const o = off; chunks.push({ off: o, bytes: s.data }); off += s.data.length; return o; });
  let shoff = 0, shnum = 0;
  let symtab: Uint8Array | undefined, strtab: Uint8Array | undefined, symOff = 0, strOff = 0;
  if (spec.syms) {
    const names: number[] = [0];
    const nameOffs = spec.syms.map((s) => { const o = names.length; names.push(...new TextEncoder().encode(s.name), 0); return o; });
    strtab = new Uint8Array(names);
    symtab = new Uint8Array((spec.syms.length + 1) * symsize);
    const dv = new DataView(symtab.buffer);
    spec.syms.forEach((s, i) => {
      const p = (i + 1) * symsize;
      const info = ((s.bind ?? 1) << 4) | (s.type ?? 2);
      const shndx = s.shndx ?? 1;
      if (is64) {
        dv.setUint32(p, nameOffs[i]!, true); dv.setUint8(p + 4, info); dv.setUint16(p + 6, shndx, true);
        dv.setBigUint64(p + 8, s.value, true); dv.setBigUint64(p + 16, s.size ?? 0n, true);
      } else {
        dv.setUint32(p, nameOffs[i]!, true); dv.setUint32(p + 4, Number(s.value), true); dv.setUint32(p + 8, Number(s.size ?? 0n), true);
        dv.setUint8(p + 12, info); dv.setUint16(p + 14, shndx, true);
      }
    });
    off = (off + 7) & ~7;
    symOff = off; chunks.push({ off, bytes: symtab }); off += symtab.length;
    strOff = off; chunks.push({ off, bytes: strtab }); off += strtab.length;
    off = (off + 7) & ~7;
    shoff = off; shnum = 3; off += shnum * shentsize;
  }
  const out = new Uint8Array(off);
  for (const c of chunks) out.set(c.bytes, c.off);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  dv.setUint16(16, spec.etype ?? 2, true);
  dv.setUint16(18, spec.machine ?? 243, true);
  dv.setUint32(20, 1, true);
  const word = (o: number, v: bigint): void => { if (is64) dv.setBigUint64(o, v, true); else dv.setUint32(o, Number(v), true); };
  const w = is64 ? 8 : 4;
  word(24, spec.entry ?? 0n);
  word(24 + w, BigInt(ehsize));
  word(24 + 2 * w, BigInt(shoff));
  dv.setUint16(24 + 3 * w + 4, ehsize, true);
  dv.setUint16(24 + 3 * w + 6, phentsize, true);
  dv.setUint16(24 + 3 * w + 8, segs.length, true);
  dv.setUint16(24 + 3 * w + 10, shentsize, true);
  dv.setUint16(24 + 3 * w + 12, shnum, true);
  segs.forEach((s, i) => {
    const p = ehsize + i * phentsize;
    const o = s.offset ?? BigInt(segOffs[i]!);
    const memsz = s.memsz ?? BigInt(s.data.length);
    const flags = s.flags ?? 5;
    if (is64) {
      dv.setUint32(p, s.type ?? 1, true); dv.setUint32(p + 4, flags, true);
      dv.setBigUint64(p + 8, o, true); dv.setBigUint64(p + 16, s.vaddr ?? s.paddr, true); dv.setBigUint64(p + 24, s.paddr, true);
      dv.setBigUint64(p + 32, BigInt(s.data.length), true); dv.setBigUint64(p + 40, memsz, true);
    } else {
      dv.setUint32(p, s.type ?? 1, true); dv.setUint32(p + 4, Number(o), true); dv.setUint32(p + 8, Number(s.vaddr ?? s.paddr), true);
      dv.setUint32(p + 12, Number(s.paddr), true); dv.setUint32(p + 16, s.data.length, true); dv.setUint32(p + 20, Number(memsz), true);
      dv.setUint32(p + 24, flags, true);
    }
  });
  if (shnum) {
    // [0] null, [1] .symtab (link 2), [2] .strtab
    const sh = (i: number, type: number, o: number, size: number, link: number, entsize: number): void => {
      const p = shoff + i * shentsize;
      dv.setUint32(p + 4, type, true);
      if (is64) {
        dv.setBigUint64(p + 24, BigInt(o), true); dv.setBigUint64(p + 32, BigInt(size), true);
        dv.setUint32(p + 40, link, true); dv.setBigUint64(p + 56, BigInt(entsize), true);
      } else {
        dv.setUint32(p + 16, o, true); dv.setUint32(p + 20, size, true); dv.setUint32(p + 24, link, true); dv.setUint32(p + 36, entsize, true);
      }
    };
    sh(1, 2, symOff, symtab!.length, 2, symsize);
    sh(2, 3, strOff, strtab!.length, 0, 0);
  }
  return out;
}
