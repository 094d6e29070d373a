/** A toy machine for the loop's tests: RAM at `ramBase`, optional MMIO, one toy CPU. */
import { AddressSpace } from '../../../src/memory/address-space.js';
import { MemoryRegion } from '../../../src/memory/region.js';
import type { MemoryRegionOps } from '../../../src/memory/ops.js';
import type { TcgBackendName } from '../../../src/hw/core/cpu.js';
import { TbCache } from '../../../src/accel/tcg/tb-cache.js';
import { TIER_TLB_LAYOUT } from '../../../src/accel/tcg/tlb.js';
import { createAutoBackend } from '../../../src/tcg/backend/tiered.js';
import { createObject } from '../../../src/qom/object.js';
import { ToyCpu, type ToyTranslateOptions } from './toy-cpu.js';
import { toBytes } from './isa.js';

export interface ToyMachineOptions {
  ramBase?: bigint;
  ramSize?: number;
  backend?: TcgBackendName;
  translate?: ToyTranslateOptions;
  /** MMIO region mapped at this address (size 0x1000). */
  mmio?: { base: bigint; ops: MemoryRegionOps };
  maxTbs?: number;
  tlbBits?: number;
  slowState?: boolean;
  /** Share this TB cache (multi-CPU tests). */
  cache?: TbCache;
  /**
   * Run hot code in the wasm tier: `auto` promoting TBs after this many runs, with RAM, env and the TLB
   * in the tier's memory (overrides `backend`).
   */
  tierThreshold?: number;
}

export interface ToyMachine {
  cpu: ToyCpu;
  as: AddressSpace;
  ram: MemoryRegion;
  ramBytes: Uint8Array;
  ramBase: bigint;
  /** Writes words at a guest physical address through the address space (as a loader/DMA would). */
  load(addr: bigint, words: readonly number[]): void;
}

export function toyMachine(opts: ToyMachineOptions = {}): ToyMachine {
  const ramBase = opts.ramBase ?? 0x80000000n;
  const ramSize = opts.ramSize ?? 0x10000;
  const root = MemoryRegion.container(null, 'system', 1n << 64n);
  const tiered = opts.tierThreshold !== undefined ? createAutoBackend({ tierLayout: TIER_TLB_LAYOUT, threshold: opts.tierThreshold }) : null;
  const allocator = tiered?.wasmTier?.memory.ramAllocator;
  const ram = MemoryRegion.ram(null, 'ram', ramSize, allocator ? { allocator } : {});
  root.addSubregion(ramBase, ram);
  if (opts.mmio) root.addSubregion(opts.mmio.base, MemoryRegion.io(null, 'mmio', 0x1000, opts.mmio.ops));
  const as = new AddressSpace(root, 'cpu-memory');
  const cpu = createObject(ToyCpu);
  cpu.setAddressSpace(as);
  cpu.configureTcg({
    backend: tiered ?? opts.backend ?? 'closure',
    ...(opts.maxTbs !== undefined ? { maxTbs: opts.maxTbs } : {}),
    ...(opts.tlbBits !== undefined ? { tlbBits: opts.tlbBits } : {}),
    ...(opts.cache ? { cache: opts.cache } : {}),
  });
  cpu.realize();
  cpu.coldReset();
  if (opts.slowState) cpu.useSlowState();
  cpu.translateOptions = opts.translate ?? {};
  return {
    cpu, as, ram, ramBytes: ram.ram!.bytes, ramBase,
    load: (addr, words) => as.writeBytes(addr, toBytes(words)),
  };
}
