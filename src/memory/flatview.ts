/**
 * FlatView: a region tree flattened into sorted, non-overlapping ranges (QEMU system/memory.c,
 * render_memory_region, flatview_simplify, and the MemoryRegionSection of include/exec/memory.h).
 */
import type { MemoryRegion } from './region.js';

const SIZE_2_64 = 1n << 64n;

/**
 * A piece of one region as seen at some addresses of an address space (QEMU MemoryRegionSection).
 * `mr` is never an alias or a container: aliases are resolved while rendering.
 */
export interface MemoryRegionSection {
  readonly mr: MemoryRegion;
  /** Offset in `mr` of the first byte of the section. */
  readonly offsetWithinRegion: bigint;
  /** Address of the first byte of the section. */
  readonly offsetWithinAddressSpace: bigint;
  readonly size: bigint;
  /** Writes are refused (ROM, or a read-only container/alias/RAM above it). */
  readonly readonly: boolean;
  /** ROM devices: reads come from the RAM backing (ROMD mode) at the time of rendering. */
  readonly romd: boolean;
}

/** One range of a {@link FlatView}. */
export interface FlatRange {
  /** First address. */
  readonly start: bigint;
  /** One past the last address (may be 2^64). */
  readonly end: bigint;
  readonly mr: MemoryRegion;
  /** Offset in `mr` of `start`. */
  readonly offsetInRegion: bigint;
  readonly readonly: boolean;
  readonly romd: boolean;
  /** The same range as a section (one shared object: compare sections by identity within one view). */
  readonly section: MemoryRegionSection;
}

interface RawRange {
  start: bigint;
  end: bigint;
  mr: MemoryRegion;
  offsetInRegion: bigint;
  readonly: boolean;
  romd: boolean;
}

function min(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/**
 * Renders `mr` into `view` (QEMU render_memory_region). Ranges already in `view` obscure `mr`: the
 * caller renders higher-priority siblings first, and subregions before their container's own memory.
 */
function render(view: RawRange[], mr: MemoryRegion, base: bigint, clipStart: bigint, clipEnd: bigint, readonly: boolean): void {
  if (!mr.enabled) return;
  base += mr.addr;
  readonly ||= mr.readonly;
  const cs = max(base, clipStart);
  const ce = min(base + mr.size, clipEnd);
  if (cs >= ce) return;

  const target = mr.aliasTarget;
  if (target) {
    // The alias window starts at base; the target's offset aliasOffset lands there. render() adds the
    // target's own addr back, hence the subtraction (as QEMU does).
    render(view, target, base - target.addr - mr.aliasOffset, cs, ce, readonly);
    return;
  }

  for (const sub of mr.subregions) render(view, sub, base, cs, ce, readonly);

  if (!mr.terminates) return;

  let offsetInRegion = cs - base;
  let b = cs;
  let remain = ce - cs;
  const romd = mr.romdMode;
  let i = 0;
  // Fill the gaps the view leaves in [cs, ce).
  for (; i < view.length && remain > 0n; ++i) {
    const r = view[i]!;
    if (b >= r.end) continue;
    if (b < r.start) {
      const now = min(remain, r.start - b);
      view.splice(i, 0, { start: b, end: b + now, mr, offsetInRegion, readonly, romd });
      ++i;
      b += now;
      offsetInRegion += now;
      remain -= now;
    }
    const now = min(b + remain, view[i]!.end) - b;
    b += now;
    offsetInRegion += now;
    remain -= now;
  }
  if (remain > 0n) view.splice(i, 0, { start: b, end: b + remain, mr, offsetInRegion, readonly, romd });
}

/** QEMU can_merge (dirty log masks and nonvolatile are not modelled). */
function canMerge(a: RawRange, b: RawRange): boolean {
  return a.end === b.start && a.mr === b.mr && a.offsetInRegion + (a.end - a.start) === b.offsetInRegion &&
    a.readonly === b.readonly && a.romd === b.romd;
}

/**
 * Sorted, non-overlapping ranges an address space decodes to. Immutable: an address space renders a new
 * one when its map changes.
 */
export class FlatView {
  readonly ranges: readonly FlatRange[];
  private readonly starts: bigint[];

  private constructor(ranges: FlatRange[]) {
    this.ranges = ranges;
    this.starts = ranges.map((r) => r.start);
  }

  /** Flattens the tree under `root` (QEMU generate_memory_topology). */
  static render(root: MemoryRegion | null): FlatView {
    const raw: RawRange[] = [];
    if (root) render(raw, root, 0n, 0n, SIZE_2_64, false);
    // flatview_simplify: merge neighbours that continue the same region.
    const merged: RawRange[] = [];
    for (const r of raw) {
      const last = merged[merged.length - 1];
      if (last && canMerge(last, r)) last.end = r.end;
      else merged.push({ ...r });
    }
    return new FlatView(merged.map((r) => {
      const section: MemoryRegionSection = {
        mr: r.mr, offsetWithinRegion: r.offsetInRegion, offsetWithinAddressSpace: r.start,
        size: r.end - r.start, readonly: r.readonly, romd: r.romd,
      };
      return { start: r.start, end: r.end, mr: r.mr, offsetInRegion: r.offsetInRegion, readonly: r.readonly, romd: r.romd, section };
    }));
  }

  /** Index of the last range starting at or before `addr`, or -1. */
  indexBefore(addr: bigint): number {
    const s = this.starts;
    let lo = 0, hi = s.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid]! <= addr) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** The range containing `addr`, or undefined if nothing is mapped there. */
  lookup(addr: bigint): FlatRange | undefined {
    const i = this.indexBefore(addr);
    if (i < 0) return undefined;
    const r = this.ranges[i]!;
    return addr < r.end ? r : undefined;
  }

  /** First address at or after `addr` that is mapped, or null. */
  nextMapped(addr: bigint): bigint | null {
    const i = this.indexBefore(addr);
    if (i >= 0 && addr < this.ranges[i]!.end) return addr;
    const n = this.ranges[i + 1];
    return n ? n.start : null;
  }

  /** Text dump in the style of QEMU's `info mtree -f`. */
  dump(): string {
    const hex = (v: bigint): string => v.toString(16).padStart(16, '0');
    return this.ranges.map((r) => {
      const kind = r.mr.kind === 'ram' ? (r.readonly ? 'rom' : 'ram') : r.mr.kind === 'rom-device' ? (r.romd ? 'romd' : 'rom-device') : 'i/o';
      const off = r.offsetInRegion !== 0n ? ` @${hex(r.offsetInRegion)}` : '';
      return `  ${hex(r.start)}-${hex(r.end - 1n)} (prio ${r.mr.priority}, ${kind}): ${r.mr.name}${off}`;
    }).join('\n');
  }
}
