/**
 * Image loaders: ELF executables and raw binaries into guest memory (QEMU hw/core/loader.c load_elf /
 * load_image_targphys, include/hw/elf_ops.h). Loaders write through a callback and know nothing of the
 * memory API: the board passes `(addr, data) => addressSpace.writeBytes(addr, data, { rom: true })` and
 * reports a write outside RAM itself; the loader's result gives the address range it covered.
 */
import { ElfError, PF_X, parseElf, type ElfImage, type ParseElfOptions } from './elf.js';

export { ElfError, parseElf, symbolAt, EM_AARCH64, EM_ARM, EM_RISCV, PF_R, PF_W, PF_X, STT_NOTYPE, STT_OBJECT, STT_FUNC, STB_LOCAL, STB_GLOBAL, STB_WEAK } from './elf.js';
export type { ElfImage, ElfSegment, ElfSymbol, ParseElfOptions, SymbolHit } from './elf.js';

/** Writes `data` to guest address `addr`. May throw (e.g. the board's "not RAM" error); loaders let it through. */
export type LoadWriter = (addr: bigint, data: Uint8Array) => void;

/** Where an image went: its entry point and the range `[lowAddr, highAddr)` it occupies. */
export interface LoadResult {
  /** Entry point (for ELF loaded by physical address, `e_entry` translated as QEMU does, see {@link loadElf}). */
  readonly entry: bigint;
  /** Lowest address written. */
  readonly lowAddr: bigint;
  /** One past the highest address written (exclusive end, including zero-filled bss). */
  readonly highAddr: bigint;
}

/** Options of {@link loadElf}. */
export interface LoadElfOptions {
  /** Load each segment at its virtual address (`p_vaddr`) instead of its physical one (`p_paddr`, the default as QEMU). */
  readonly useVaddr?: boolean;
}

/** Zero-fill is written in chunks of this many bytes so a large bss never allocates its whole size. */
const ZERO_CHUNK = 0x10000;

/**
 * Writes every PT_LOAD segment of `image` through `write`, then zero-fills from `filesz` up to `memsz`.
 *
 * As QEMU's load_elf: segments go to their physical address unless `useVaddr`; when they do and the
 * executable segment holding `e_entry` has `p_vaddr != p_paddr`, the returned entry is translated to the
 * physical address (the entry in the header is virtual). An image with no loadable bytes is an error.
 */
export function loadElf(image: ElfImage, write: LoadWriter, opts: LoadElfOptions = {}): LoadResult {
  if (image.segments.length === 0) throw new ElfError('ELF file has no loadable (PT_LOAD) segment');
  const useVaddr = opts.useVaddr === true;
  let low: bigint | undefined, high = 0n, entry = image.entry;
  const zeros = new Uint8Array(ZERO_CHUNK);
  for (const seg of image.segments) {
    const addr = useVaddr ? seg.vaddr : seg.paddr;
    if (seg.data.length > 0) write(addr, seg.data);
    let fill = BigInt(seg.data.length);
    while (fill < seg.memsz) {
      const n = seg.memsz - fill < BigInt(ZERO_CHUNK) ? Number(seg.memsz - fill) : ZERO_CHUNK;
      write(addr + fill, n === ZERO_CHUNK ? zeros : zeros.subarray(0, n));
      fill += BigInt(n);
    }
    if (low === undefined || addr < low) low = addr;
    if (addr + seg.memsz > high) high = addr + seg.memsz;
    // elf_ops.h: "the entry pointer in the ELF header is a virtual address, if the text segments
    // paddr and vaddr differ we need to adjust the entry".
    if (!useVaddr && seg.vaddr !== seg.paddr && (seg.flags & PF_X) !== 0 &&
        image.entry >= seg.vaddr && image.entry < seg.vaddr + BigInt(seg.data.length)) {
      entry = image.entry - seg.vaddr + seg.paddr;
    }
  }
  return { entry, lowAddr: low ?? 0n, highAddr: high };
}

/** Parses and loads in one step ({@link parseElf} then {@link loadElf}); returns the image too, for its symbols. */
export function loadElfFile(bytes: Uint8Array, write: LoadWriter, opts: LoadElfOptions & ParseElfOptions = {}): LoadResult & { readonly image: ElfImage } {
  const image = parseElf(bytes, opts);
  return { ...loadElf(image, write, opts), image };
}

/**
 * Loads a raw binary at `addr` (QEMU load_image_targphys). The entry is `addr`. An empty image writes
 * nothing and covers the empty range `[addr, addr)`.
 */
export function loadRaw(bytes: Uint8Array, addr: bigint, write: LoadWriter): LoadResult {
  if (addr < 0n) throw new RangeError(`loadRaw: negative load address ${addr}`);
  if (bytes.length > 0) write(addr, bytes);
  return { entry: addr, lowAddr: addr, highAddr: addr + BigInt(bytes.length) };
}
