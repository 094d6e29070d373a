/** The WebAssembly TCG backend (see ./backend.ts). */
export {
  createWasmBackend, wasmBackend, WasmEnvAllocationError,
  type WasmBackend, type WasmBackendOptions, type WasmBackendStats, type WasmEnv, type WasmEnvRuntime,
} from './backend.js';
export {
  envFootprint, generateTb, generateTierModule, IMPORT_MODULE, type GeneratedTb, type TbImports, type TierCodegen, type TierMember,
} from './codegen.js';
export { ByteWriter, Code, ModuleBuilder, Opc, ValType, BLOCK_VOID, type FuncBody, type FuncType } from './encoder.js';
export { createWasmTcgMemory, WasmTcgMemory, WasmTcgMemoryError } from './tcg-memory.js';
export {
  createWasmTier, isTierCode, TIER_BATCH_SIZE, TIER_MAX_REGION,
  type TierCode, type TierGraph, type TierRuntime, type TierTlbLayout, type WasmTier, type WasmTierStats,
} from './tier.js';
