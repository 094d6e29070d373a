/**
 * MemoryRegion: the nodes of the guest physical memory map (QEMU system/memory.c, include/exec/memory.h,
 * docs/devel/memory.rst).
 *
 * A region is RAM, ROM (read-only RAM), a ROM device (RAM-backed reads, device writes), MMIO (device
 * callbacks), an alias (a window into another region) or a pure container. Containers, and also RAM
 * and MMIO regions, hold subregions at offsets with priorities; an `AddressSpace` flattens a tree into a
 * `FlatView`. Every change that can alter the flattened map notifies the address spaces that can see
 * the region (through its containers and through aliases pointing at it), which re-render at the end of
 * their transaction (QEMU memory_region_transaction_begin/commit).
 */
import { MemoryRegionError } from './errors.js';
import type { AccessSize, MemoryRegionOps } from './ops.js';
import { type RamAllocator, RamBlock } from './ram.js';

/** What a region is. */
export type MemoryRegionKind = 'ram' | 'rom-device' | 'io' | 'alias' | 'container';

const SIZE_2_64 = 1n << 64n;
const ACCESS_SIZES: readonly number[] = [1, 2, 4, 8];

/** @internal Something that renders regions and wants to hear about changes (an AddressSpace). */
export interface RegionObserver {
  regionChanged(): void;
}

/** Options for RAM-backed regions. */
export interface RamOptions {
  /** Where the bytes come from (default: one ArrayBuffer per block). */
  allocator?: RamAllocator;
}

function toSize(what: string, v: bigint | number): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : -1n;
  // QEMU memory_region_init: a size of UINT64_MAX means 2^64 (the whole address space).
  if (b === SIZE_2_64 - 1n) return SIZE_2_64;
  if (b < 0n || b > SIZE_2_64) throw new MemoryRegionError(`${what}: size ${v} must be in 0..2^64`);
  return b;
}

function toOffset(what: string, v: bigint | number): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : -1n;
  if (b < 0n || b >= SIZE_2_64) throw new MemoryRegionError(`${what}: offset ${v} must be in 0..2^64-1`);
  return b;
}

function checkOps(name: string, ops: MemoryRegionOps): void {
  const chk = (field: string, v: number | undefined): void => {
    if (v !== undefined && !ACCESS_SIZES.includes(v)) {
      throw new MemoryRegionError(`region '${name}': ops.${field} must be 1, 2, 4 or 8, got ${v}`);
    }
  };
  chk('valid.min', ops.valid?.min);
  chk('valid.max', ops.valid?.max);
  chk('impl.min', ops.impl?.min);
  chk('impl.max', ops.impl?.max);
  const vmin = ops.valid?.min ?? 1, vmax = ops.valid?.max;
  if (vmax !== undefined && vmin > vmax) throw new MemoryRegionError(`region '${name}': ops.valid.min ${vmin} > valid.max ${vmax}`);
  const imin = ops.impl?.min ?? 1, imax = ops.impl?.max ?? 4;
  if (imin > imax) throw new MemoryRegionError(`region '${name}': ops.impl.min ${imin} > impl.max ${imax}`);
  if (typeof ops.read !== 'function' || typeof ops.write !== 'function') {
    throw new MemoryRegionError(`region '${name}': ops.read and ops.write must be functions`);
  }
}

interface RegionInit {
  owner: unknown;
  name: string;
  kind: MemoryRegionKind;
  size: bigint;
  ram?: RamBlock;
  ops?: MemoryRegionOps;
  alias?: MemoryRegion;
  aliasOffset?: bigint;
  readonly?: boolean;
}

/**
 * A node of the guest physical memory map (QEMU MemoryRegion). Create one with the static factories
 * ({@link MemoryRegion.ram}, {@link MemoryRegion.rom}, {@link MemoryRegion.romDevice},
 * {@link MemoryRegion.io}, {@link MemoryRegion.alias}, {@link MemoryRegion.container}) and map it with
 * {@link MemoryRegion.addSubregion} on a container.
 */
export class MemoryRegion {
  /** The object (device, board) the region belongs to; opaque to the memory API. */
  readonly owner: unknown;
  readonly name: string;
  readonly kind: MemoryRegionKind;
  /** RAM backing of `ram` and `rom-device` regions. */
  readonly ram?: RamBlock;
  /** Device callbacks of `io` and `rom-device` regions. */
  readonly ops?: MemoryRegionOps;
  /** Target of an `alias` region. */
  readonly aliasTarget?: MemoryRegion;

  private _size: bigint;
  private _addr = 0n;
  private _priority = 0;
  private _parent: MemoryRegion | null = null;
  private readonly _subregions: MemoryRegion[] = [];
  private _enabled = true;
  private _readonly: boolean;
  private _romdMode = true;
  private _aliasOffset: bigint;
  /** @internal aliases whose target is this region (for change propagation). */
  readonly _aliasedBy = new Set<MemoryRegion>();
  /** @internal address spaces rooted at this region. */
  readonly _observers = new Set<RegionObserver>();

  private constructor(init: RegionInit) {
    this.owner = init.owner;
    this.name = init.name;
    this.kind = init.kind;
    this._size = init.size;
    this._readonly = init.readonly ?? false;
    this._aliasOffset = init.aliasOffset ?? 0n;
    if (init.ram) this.ram = init.ram;
    if (init.ops) this.ops = init.ops;
    if (init.alias) {
      this.aliasTarget = init.alias;
      init.alias._aliasedBy.add(this);
    }
  }

  // ---- factories ---------------------------------------------------------------------------------

  /** Guest RAM of `size` bytes (QEMU memory_region_init_ram). */
  static ram(owner: unknown, name: string, size: bigint | number, opts: RamOptions = {}): MemoryRegion {
    const s = toSize(`RAM region '${name}'`, size);
    return new MemoryRegion({ owner, name, kind: 'ram', size: s, ram: new RamBlock(name, s, opts.allocator) });
  }

  /**
   * Read-only RAM (QEMU memory_region_init_rom: a RAM region with `readonly` set). Guest stores are
   * discarded (the CPU view, as QEMU's TLB_DISCARD_WRITE) and logged as guest errors; loaders fill it
   * with `AddressSpace.writeBytes(addr, data, { rom: true })` (QEMU address_space_write_rom).
   */
  static rom(owner: unknown, name: string, size: bigint | number, opts: RamOptions = {}): MemoryRegion {
    const s = toSize(`ROM region '${name}'`, size);
    return new MemoryRegion({ owner, name, kind: 'ram', size: s, ram: new RamBlock(name, s, opts.allocator), readonly: true });
  }

  /**
   * A ROM device (QEMU memory_region_init_rom_device): in ROMD mode (the initial mode) reads come straight
   * from the RAM backing; writes always go to `ops`. With {@link setRomdMode}(false) reads go to `ops` too
   * (flash in command mode).
   */
  static romDevice(owner: unknown, name: string, size: bigint | number, ops: MemoryRegionOps, opts: RamOptions = {}): MemoryRegion {
    const s = toSize(`ROM device '${name}'`, size);
    checkOps(name, ops);
    return new MemoryRegion({ owner, name, kind: 'rom-device', size: s, ram: new RamBlock(name, s, opts.allocator), ops });
  }

  /** An MMIO region whose accesses call `ops` (QEMU memory_region_init_io). */
  static io(owner: unknown, name: string, size: bigint | number, ops: MemoryRegionOps): MemoryRegion {
    const s = toSize(`I/O region '${name}'`, size);
    checkOps(name, ops);
    return new MemoryRegion({ owner, name, kind: 'io', size: s, ops });
  }

  /**
   * A window of `size` bytes onto `target` starting at `offset` in the target (QEMU
   * memory_region_init_alias). The target need not be mapped itself.
   */
  static alias(owner: unknown, name: string, target: MemoryRegion, offset: bigint | number, size: bigint | number): MemoryRegion {
    if (!(target instanceof MemoryRegion)) throw new MemoryRegionError(`alias '${name}': target is not a MemoryRegion`);
    return new MemoryRegion({
      owner, name, kind: 'alias', size: toSize(`alias '${name}'`, size), alias: target,
      aliasOffset: toOffset(`alias '${name}'`, offset),
    });
  }

  /** A region that only holds subregions (QEMU memory_region_init). Unmapped holes read as unassigned. */
  static container(owner: unknown, name: string, size: bigint | number): MemoryRegion {
    return new MemoryRegion({ owner, name, kind: 'container', size: toSize(`container '${name}'`, size) });
  }

  // ---- state -------------------------------------------------------------------------------------

  /** Size in bytes (2^64 for a region covering the whole address space). */
  get size(): bigint {
    return this._size;
  }
  /** Offset of the region in its container (QEMU mr->addr). */
  get addr(): bigint {
    return this._addr;
  }
  /** Priority among its siblings; higher wins where siblings overlap. */
  get priority(): number {
    return this._priority;
  }
  /** The container this region is mapped in, or null. */
  get parent(): MemoryRegion | null {
    return this._parent;
  }
  /** Subregions in rendering order: priority descending, and among equal priorities the most recently added first. */
  get subregions(): readonly MemoryRegion[] {
    return this._subregions;
  }
  get enabled(): boolean {
    return this._enabled;
  }
  /** Whether writes are refused (ROM, or RAM made read-only); inherited by everything below a read-only container or alias. */
  get readonly(): boolean {
    return this._readonly;
  }
  /** ROM devices: true when reads come from the RAM backing. */
  get romdMode(): boolean {
    return this._romdMode;
  }
  /** Alias regions: offset of the window in the target. */
  get aliasOffset(): bigint {
    return this._aliasOffset;
  }
  /** True for regions that themselves provide memory (RAM, ROM, ROM devices, MMIO): QEMU mr->terminates. */
  get terminates(): boolean {
    return this.kind === 'ram' || this.kind === 'io' || this.kind === 'rom-device';
  }
  /** True for read-only RAM regions. */
  get isRom(): boolean {
    return this.kind === 'ram' && this._readonly;
  }

  /** Absolute address of offset 0 of the region, following its containers (QEMU memory_region_to_absolute_addr). */
  absoluteAddress(): bigint {
    let a = this._addr;
    for (let p = this._parent; p; p = p._parent) a += p._addr;
    return a;
  }

  // ---- changes -----------------------------------------------------------------------------------

  /**
   * Maps `sub` at `offset` inside this region (QEMU memory_region_add_subregion_overlap). Where
   * siblings overlap the higher priority wins; for equal priorities the region added last wins, as
   * QEMU inserts a new subregion before its equal-priority siblings.
   */
  addSubregion(offset: bigint | number, sub: MemoryRegion, priority = 0): void {
    const off = toOffset(`subregion '${sub.name}' of '${this.name}'`, offset);
    if (!Number.isInteger(priority)) throw new MemoryRegionError(`subregion '${sub.name}': priority ${priority} is not an integer`);
    if (sub._parent) {
      throw new MemoryRegionError(`region '${sub.name}' is already mapped in '${sub._parent.name}'; remove it first`);
    }
    if (sub === this || sub.reaches(this)) {
      throw new MemoryRegionError(`adding '${sub.name}' to '${this.name}' would make the region tree cyclic`);
    }
    sub._addr = off;
    sub._priority = priority;
    this.insertSorted(sub);
    this.changed();
  }

  /** Unmaps `sub` (QEMU memory_region_del_subregion). */
  removeSubregion(sub: MemoryRegion): void {
    const i = this._subregions.indexOf(sub);
    if (i < 0 || sub._parent !== this) throw new MemoryRegionError(`region '${sub.name}' is not a subregion of '${this.name}'`);
    this._subregions.splice(i, 1);
    sub._parent = null;
    this.changed();
  }

  /** Enables or disables the region; a disabled region and everything below it are not rendered. */
  setEnabled(enabled: boolean): void {
    if (enabled === this._enabled) return;
    this._enabled = enabled;
    this.changed();
  }

  /**
   * Moves the region within its container (QEMU memory_region_set_address: the region is removed and
   * re-added, so it then wins ties against equal-priority siblings).
   */
  setAddress(offset: bigint | number): void {
    const off = toOffset(`region '${this.name}'`, offset);
    if (off === this._addr) return;
    const p = this._parent;
    this._addr = off;
    if (p) {
      p._subregions.splice(p._subregions.indexOf(this), 1);
      p.insertSorted(this);
    }
    this.changed();
  }

  /** Moves an alias window within its target (QEMU memory_region_set_alias_offset). */
  setAliasOffset(offset: bigint | number): void {
    if (this.kind !== 'alias') throw new MemoryRegionError(`region '${this.name}' is not an alias`);
    const off = toOffset(`alias '${this.name}'`, offset);
    if (off === this._aliasOffset) return;
    this._aliasOffset = off;
    this.changed();
  }

  /** Makes the region (and what renders below it) read-only or writable (QEMU memory_region_set_readonly). */
  setReadonly(readonly: boolean): void {
    if (readonly === this._readonly) return;
    this._readonly = readonly;
    this.changed();
  }

  /** ROM devices: switch between ROMD mode (reads from RAM) and I/O mode (QEMU memory_region_rom_device_set_romd). */
  setRomdMode(romd: boolean): void {
    if (this.kind !== 'rom-device') throw new MemoryRegionError(`region '${this.name}' is not a ROM device`);
    if (romd === this._romdMode) return;
    this._romdMode = romd;
    this.changed();
  }

  /** Changes the size (QEMU memory_region_set_size). RAM-backed regions cannot be resized. */
  setSize(size: bigint | number): void {
    if (this.ram) throw new MemoryRegionError(`region '${this.name}': RAM-backed regions cannot be resized`);
    const s = toSize(`region '${this.name}'`, size);
    if (s === this._size) return;
    this._size = s;
    this.changed();
  }

  // ---- internals ---------------------------------------------------------------------------------

  /** QEMU memory_region_update_container_subregions: before the first sibling of lower or equal priority. */
  private insertSorted(sub: MemoryRegion): void {
    const list = this._subregions;
    let i = 0;
    while (i < list.length && sub._priority < list[i]!._priority) i++;
    list.splice(i, 0, sub);
    sub._parent = this;
  }

  /** True if `target` is this region or below it (through subregions and alias targets). */
  private reaches(target: MemoryRegion): boolean {
    const seen = new Set<MemoryRegion>();
    const stack: MemoryRegion[] = [this];
    while (stack.length) {
      const mr = stack.pop()!;
      if (mr === target) return true;
      if (seen.has(mr)) continue;
      seen.add(mr);
      if (mr.aliasTarget) stack.push(mr.aliasTarget);
      for (const s of mr._subregions) stack.push(s);
    }
    return false;
  }

  /** Tells every address space that can see this region that the map changed. */
  private changed(): void {
    const seen = new Set<MemoryRegion>();
    const spaces = new Set<RegionObserver>();
    const stack: MemoryRegion[] = [this];
    while (stack.length) {
      const mr = stack.pop()!;
      if (seen.has(mr)) continue;
      seen.add(mr);
      for (const o of mr._observers) spaces.add(o);
      if (mr._parent) stack.push(mr._parent);
      for (const a of mr._aliasedBy) stack.push(a);
    }
    for (const s of spaces) s.regionChanged();
  }

  toString(): string {
    return `MemoryRegion(${this.kind} '${this.name}', size 0x${this._size.toString(16)})`;
  }
}

/** @internal */
export function isAccessSize(n: number): n is AccessSize {
  return n === 1 || n === 2 || n === 4 || n === 8;
}
