/**
 * The memory API: regions, address spaces, flat views, RAM blocks (QEMU system/memory.c, physmem.c).
 * @module
 */
export * from './ops.js';
export * from './errors.js';
export * from './ram.js';
export { MemoryRegion, type MemoryRegionKind, type RamOptions, type RegionObserver } from './region.js';
export * from './flatview.js';
export * from './address-space.js';
