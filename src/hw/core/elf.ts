/**
 * ELF parser for the loaders: ELF32/ELF64 little-endian executables, their PT_LOAD segments and their
 * symbol table. Validation follows what QEMU include/hw/elf_ops.h (load_elf) checks, made stricter:
 * every offset and size is bounds-checked against the file, so a truncated or hostile file gives an
 * {@link ElfError} naming the field and the numbers, never an out-of-range read.
 *
 * Nothing here touches guest memory: {@link parseElf} returns an {@link ElfImage}; `loader.ts` writes it.
 */

import { ElfError } from '../../util/errors.js';

export { ElfError };

/** `e_machine` values softboard cares about (ELF gABI / psABI numbers). */
export const EM_ARM = 40;
/** AArch64 (`e_machine` = 183). */
export const EM_AARCH64 = 183;
/** RISC-V (`e_machine` = 243), both RV32 and RV64 (the ELF class tells which). */
export const EM_RISCV = 243;

/** Program header types used here. */
const PT_LOAD = 1;
/** `p_flags` bit: executable segment. */
export const PF_X = 1;
/** `p_flags` bit: writable segment. */
export const PF_W = 2;
/** `p_flags` bit: readable segment. */
export const PF_R = 4;

const ET_EXEC = 2, ET_DYN = 3;
const SHT_SYMTAB = 2, SHT_STRTAB = 3;
/** `e_phnum` value meaning "the real count is in section header 0's sh_info" (gABI). */
const PN_XNUM = 0xffff;

/** Symbol types (`st_info & 0xf`). */
export const STT_NOTYPE = 0;
/** Data object symbol. */
export const STT_OBJECT = 1;
/** Function symbol. */
export const STT_FUNC = 2;
/** Section symbol. */
export const STT_SECTION = 3;
/** Source file symbol. */
export const STT_FILE = 4;

/** Symbol binding (`st_info >> 4`): local. */
export const STB_LOCAL = 0;
/** Symbol binding: global. */
export const STB_GLOBAL = 1;
/** Symbol binding: weak. */
export const STB_WEAK = 2;

/** One PT_LOAD segment. `data` is a view into the input bytes (filesz long); the rest up to memsz is zeros. */
export interface ElfSegment {
  /** Index of the segment's program header in the file (as in error messages and `readelf -l`). */
  readonly index: number;
  readonly paddr: bigint;
  readonly vaddr: bigint;
  /** The file-backed bytes (`p_filesz`). A view into the parsed buffer, not a copy. */
  readonly data: Uint8Array;
  /** Size in memory (`p_memsz` ≥ data.length); the tail beyond data.length is zero-filled by the loader. */
  readonly memsz: bigint;
  /** `p_flags`: {@link PF_R} | {@link PF_W} | {@link PF_X}. */
  readonly flags: number;
}

/** One named entry of `.symtab`. */
export interface ElfSymbol {
  readonly name: string;
  readonly value: bigint;
  readonly size: bigint;
  /** {@link STT_NOTYPE}, {@link STT_OBJECT}, {@link STT_FUNC}, … */
  readonly type: number;
  /** {@link STB_LOCAL}, {@link STB_GLOBAL}, {@link STB_WEAK}. */
  readonly bind: number;
}

/** A parsed ELF executable. */
export interface ElfImage {
  readonly class: 32 | 64;
  /** `e_machine`, e.g. {@link EM_RISCV}. */
  readonly machine: number;
  /** `e_flags` (on RISC-V: RVC and float ABI bits). */
  readonly flags: number;
  /** `e_entry`, a virtual address. */
  readonly entry: bigint;
  /** PT_LOAD segments with a non-zero memsz, in file order. */
  readonly segments: readonly ElfSegment[];
  /**
   * Named symbols of `.symtab` (empty if the file is stripped). When a name occurs more than once
   * (local labels in several objects), a global/weak definition wins over a local one, else the first.
   */
  readonly symbols: ReadonlyMap<string, ElfSymbol>;
  /** Address-bearing symbols (no section/file symbols, no undefined ones) sorted by value, for {@link symbolAt}. */
  readonly symbolsByAddr: readonly ElfSymbol[];
}

/** Options of {@link parseElf}. */
export interface ParseElfOptions {
  /** Reject files whose `e_machine` is not this one (or not one of these). */
  readonly machine?: number | readonly number[];
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);

/** Bounds-checked little-endian reader over the file. */
class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly is64: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get length(): number { return this.bytes.length; }
  private check(off: number, size: number, what: string): void {
    if (off < 0 || off + size > this.bytes.length) {
      throw new ElfError(`${what} at file offset ${hex(off)} (${size} bytes) is past the end of the file (${hex(this.bytes.length)} bytes)`);
    }
  }
  u8(off: number, what: string): number { this.check(off, 1, what); return this.view.getUint8(off); }
  u16(off: number, what: string): number { this.check(off, 2, what); return this.view.getUint16(off, true); }
  u32(off: number, what: string): number { this.check(off, 4, what); return this.view.getUint32(off, true); }
  u64(off: number, what: string): bigint { this.check(off, 8, what); return this.view.getBigUint64(off, true); }
  /** A word of the file's class (Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword). */
  word(off: number, what: string): bigint { return this.is64 ? this.u64(off, what) : BigInt(this.u32(off, what)); }
}

/** Converts a file offset/size to a number, rejecting anything beyond the file. */
function fileRange(r: Reader, off: bigint, size: bigint, what: string): [number, number] {
  if (off + size > BigInt(r.length)) {
    throw new ElfError(`${what} at file offset ${hex(off)} (${hex(size)} bytes) extends past the end of the file (${hex(r.length)} bytes)`);
  }
  return [Number(off), Number(size)];
}

/**
 * Parses an ELF executable (QEMU include/hw/elf_ops.h load_elf does the same checks while loading).
 * Accepts ELF32 and ELF64, little-endian, ET_EXEC or ET_DYN. Throws {@link ElfError} on anything it
 * cannot load safely: bad magic/class/byte order/version, a machine not in `opts.machine`, header tables
 * or segments outside the file, `p_filesz > p_memsz`, segments wrapping the address space or overlapping
 * each other (by physical or virtual address), a broken symbol table.
 */
export function parseElf(bytes: Uint8Array, opts: ParseElfOptions = {}): ElfImage {
  if (bytes.length < 16) throw new ElfError(`file too short for an ELF header (${bytes.length} bytes)`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new ElfError(`not an ELF file (bad magic ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')})`);
  }
  const cls = bytes[4];
  if (cls !== 1 && cls !== 2) throw new ElfError(`unknown ELF class ${cls} (expected 1 = ELF32 or 2 = ELF64)`);
  const data = bytes[5];
  if (data === 2) throw new ElfError('big-endian ELF files are not supported (EI_DATA = ELFDATA2MSB)');
  if (data !== 1) throw new ElfError(`unknown ELF byte order EI_DATA = ${data}`);
  if (bytes[6] !== 1) throw new ElfError(`unknown ELF version EI_VERSION = ${bytes[6]}`);
  const is64 = cls === 2;
  const r = new Reader(bytes, is64);
  const ehsize = is64 ? 64 : 52;
  if (bytes.length < ehsize) throw new ElfError(`file too short for an ELF${is64 ? 64 : 32} header (${bytes.length} < ${ehsize} bytes)`);

  const type = r.u16(16, 'e_type');
  if (type !== ET_EXEC && type !== ET_DYN) {
    throw new ElfError(`ELF type ${type} is not loadable (expected ET_EXEC = 2 or ET_DYN = 3)`);
  }
  const machine = r.u16(18, 'e_machine');
  if (opts.machine !== undefined) {
    const ok = typeof opts.machine === 'number' ? [opts.machine] : opts.machine;
    if (!ok.includes(machine)) {
      throw new ElfError(`ELF machine ${machine} does not match this CPU (expected ${ok.join(' or ')})`);
    }
  }
  const w = is64 ? 8 : 4;
  const entry = r.word(24, 'e_entry');
  const phoff = r.word(24 + w, 'e_phoff');
  const shoff = r.word(24 + 2 * w, 'e_shoff');
  const eflags = r.u32(24 + 3 * w, 'e_flags');
  const phentsize = r.u16(24 + 3 * w + 6, 'e_phentsize');
  let phnum = r.u16(24 + 3 * w + 8, 'e_phnum');
  const shentsize = r.u16(24 + 3 * w + 10, 'e_shentsize');
  let shnum = r.u16(24 + 3 * w + 12, 'e_shnum');
  const phMin = is64 ? 56 : 32, shMin = is64 ? 64 : 40;

  // Section header table (needed first for PN_XNUM and the symbol table).
  let shBase = 0;
  if (shoff !== 0n) {
    if (shentsize < shMin) throw new ElfError(`e_shentsize ${shentsize} is smaller than an Elf${is64 ? 64 : 32}_Shdr (${shMin})`);
    // gABI extended numbering: e_shnum = 0 means the count is in section 0's sh_size.
    if (shnum === 0) {
      fileRange(r, shoff, BigInt(shentsize), 'section header 0');
      shnum = Number(r.word(Number(shoff) + 8 + 3 * w, 'sh_size of section 0'));
    }
    [shBase] = fileRange(r, shoff, BigInt(shnum) * BigInt(shentsize), `section header table (${shnum} entries)`);
  } else {
    shnum = 0;
  }
  if (phnum === PN_XNUM) {
    if (shnum === 0) throw new ElfError('e_phnum is PN_XNUM but there is no section header 0 holding the real count');
    phnum = r.u32(shBase + 12 + 4 * w, 'sh_info of section 0');
  }

  // Program headers → PT_LOAD segments.
  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    if (phentsize < phMin) throw new ElfError(`e_phentsize ${phentsize} is smaller than an Elf${is64 ? 64 : 32}_Phdr (${phMin})`);
    fileRange(r, phoff, BigInt(phnum) * BigInt(phentsize), `program header table (${phnum} entries)`);
  }
  const addrLimit = 1n << BigInt(is64 ? 64 : 32);
  for (let i = 0; i < phnum; i++) {
    const p = Number(phoff) + i * phentsize;
    const what = `program header ${i}`;
    const ptype = r.u32(p, `${what} p_type`);
    if (ptype !== PT_LOAD) continue;
    let offset: bigint, vaddr: bigint, paddr: bigint, filesz: bigint, memsz: bigint, flags: number;
    if (is64) {
      flags = r.u32(p + 4, what);
      offset = r.u64(p + 8, what); vaddr = r.u64(p + 16, what); paddr = r.u64(p + 24, what);
      filesz = r.u64(p + 32, what); memsz = r.u64(p + 40, what);
    } else {
      offset = BigInt(r.u32(p + 4, what)); vaddr = BigInt(r.u32(p + 8, what)); paddr = BigInt(r.u32(p + 12, what));
      filesz = BigInt(r.u32(p + 16, what)); memsz = BigInt(r.u32(p + 20, what)); flags = r.u32(p + 24, what);
    }
    const seg = `segment ${i} at ${hex(paddr)}`;
    if (filesz > memsz) {
      throw new ElfError(`${seg}: file size ${hex(filesz)} is larger than its memory size ${hex(memsz)}`);
    }
    if (memsz === 0n) continue;
    if (offset + filesz > BigInt(bytes.length)) {
      throw new ElfError(`${seg} (${hex(filesz)} bytes at file offset ${hex(offset)}) extends past the end of the file (${hex(bytes.length)} bytes)`);
    }
    if (paddr + memsz > addrLimit || vaddr + memsz > addrLimit) {
      throw new ElfError(`${seg} (${hex(memsz)} bytes, vaddr ${hex(vaddr)}) wraps around the ${is64 ? 64 : 32}-bit address space`);
    }
    const o = Number(offset);
    segments.push({ index: i, paddr, vaddr, memsz, flags, data: bytes.subarray(o, o + Number(filesz)) });
  }
  checkOverlaps(segments, 'paddr');
  checkOverlaps(segments, 'vaddr');

  const symbols = readSymbols(r, shBase, shnum, shentsize, w);
  const map = new Map<string, RawSymbol>();
  for (const s of symbols) {
    if (s.name === '' || s.type === STT_SECTION || s.type === STT_FILE) continue;
    const prev = map.get(s.name);
    if (prev === undefined || (prev.bind === STB_LOCAL && s.bind !== STB_LOCAL)) map.set(s.name, s);
  }
  const byAddr = symbols
    .filter((s) => s.name !== '' && s.type !== STT_SECTION && s.type !== STT_FILE && s.shndx !== 0)
    .map(({ shndx: _, ...s }) => s)
    .sort(byAddrOrder);
  return {
    class: is64 ? 64 : 32, machine, flags: eflags, entry, segments,
    symbols: new Map([...map].map(([k, { shndx: _, ...s }]) => [k, s])), symbolsByAddr: byAddr,
  };
}

/** Ascending by value; at equal values the preferred name (sized, then non-local) sorts last, where {@link symbolAt} looks first. */
function byAddrOrder(a: ElfSymbol, b: ElfSymbol): number {
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  const rank = (s: ElfSymbol): number => (s.size > 0n ? 2 : 0) + (s.bind !== STB_LOCAL ? 1 : 0);
  return rank(a) - rank(b);
}

function checkOverlaps(segs: readonly ElfSegment[], key: 'paddr' | 'vaddr'): void {
  const sorted = [...segs].sort((a, b) => (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!, b = sorted[i]!;
    if (a[key] + a.memsz > b[key]) {
      const [x, y] = a.index < b.index ? [a, b] : [b, a];
      throw new ElfError(`segment ${y.index} at ${key} ${hex(y[key])} (${hex(y.memsz)} bytes) overlaps segment ${x.index} at ${hex(x[key])} (${hex(x.memsz)} bytes)`);
    }
  }
}

type RawSymbol = ElfSymbol & { shndx: number };

function readSymbols(r: Reader, shBase: number, shnum: number, shentsize: number, w: number): RawSymbol[] {
  const is64 = w === 8;
  const out: RawSymbol[] = [];
  for (let i = 0; i < shnum; i++) {
    const sh = shBase + i * shentsize;
    if (r.u32(sh + 4, `section ${i} sh_type`) !== SHT_SYMTAB) continue;
    const off = r.word(sh + 8 + 2 * w, `section ${i} sh_offset`);
    const size = r.word(sh + 8 + 3 * w, `section ${i} sh_size`);
    const link = r.u32(sh + 8 + 4 * w, `section ${i} sh_link`);
    const entsize = Number(r.word(sh + 16 + 4 * w + w, `section ${i} sh_entsize`));
    const min = is64 ? 24 : 16;
    if (entsize < min) throw new ElfError(`symbol table (section ${i}) has sh_entsize ${entsize}, smaller than an Elf${is64 ? 64 : 32}_Sym (${min})`);
    const [symOff, symSize] = fileRange(r, off, size, `symbol table (section ${i})`);
    if (link === 0 || link >= shnum) throw new ElfError(`symbol table (section ${i}) links to string table section ${link}, which does not exist (${shnum} sections)`);
    const ss = shBase + link * shentsize;
    if (r.u32(ss + 4, `section ${link} sh_type`) !== SHT_STRTAB) throw new ElfError(`symbol table (section ${i}) links to section ${link}, which is not a string table`);
    const [strOff, strSize] = fileRange(r, r.word(ss + 8 + 2 * w, 'sh_offset'), r.word(ss + 8 + 3 * w, 'sh_size'), `string table (section ${link})`);
    const strtab = r.bytes.subarray(strOff, strOff + strSize);
    const dec = new TextDecoder();
    const n = Math.floor(symSize / entsize);
    for (let k = 1; k < n; k++) { // symbol 0 is the reserved null symbol
      const p = symOff + k * entsize;
      const nameOff = r.u32(p, `symbol ${k} st_name`);
      let info: number, shndx: number, value: bigint, ssize: bigint;
      if (is64) {
        info = r.u8(p + 4, 'st_info'); shndx = r.u16(p + 6, 'st_shndx');
        value = r.u64(p + 8, 'st_value'); ssize = r.u64(p + 16, 'st_size');
      } else {
        value = BigInt(r.u32(p + 4, 'st_value')); ssize = BigInt(r.u32(p + 8, 'st_size'));
        info = r.u8(p + 12, 'st_info'); shndx = r.u16(p + 14, 'st_shndx');
      }
      if (nameOff >= strtab.length && nameOff !== 0) {
        throw new ElfError(`symbol ${k} name offset ${hex(nameOff)} is outside its string table (${hex(strtab.length)} bytes)`);
      }
      let end = nameOff;
      while (end < strtab.length && strtab[end] !== 0) end++;
      if (end === strtab.length && nameOff < strtab.length) {
        throw new ElfError(`symbol ${k} name at string table offset ${hex(nameOff)} is not NUL-terminated`);
      }
      out.push({ name: dec.decode(strtab.subarray(nameOff, end)), value, size: ssize, type: info & 0xf, bind: info >> 4, shndx });
    }
    break; // one SHT_SYMTAB per file (gABI)
  }
  return out;
}

/** Result of {@link symbolAt}: the symbol containing an address and the offset into it. */
export interface SymbolHit {
  readonly symbol: ElfSymbol;
  readonly offset: bigint;
}

/**
 * The symbol for `addr`, for traces and breakpoints ("pc 0x80000124 = trap_handler+0x14"): the nearest
 * symbol at or below `addr` that is either a label (size 0, as assembly labels are: it reaches up to
 * whatever comes next) or a sized symbol with `value ≤ addr < value + size`. Undefined below every symbol.
 */
export function symbolAt(image: ElfImage, addr: bigint): SymbolHit | undefined {
  const syms = image.symbolsByAddr;
  let lo = 0, hi = syms.length; // binary search: lo = number of symbols with value <= addr
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (syms[mid]!.value <= addr) lo = mid + 1; else hi = mid;
  }
  // Sized symbols that end below addr are skipped; a few suffice since symbols rarely nest deeply.
  for (let i = lo - 1; i >= 0 && i >= lo - 256; i--) {
    const s = syms[i]!;
    if (s.size === 0n || addr < s.value + s.size) return { symbol: s, offset: addr - s.value };
  }
  return undefined;
}
