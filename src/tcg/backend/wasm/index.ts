/** The WebAssembly TCG backend (see ./backend.ts). */
export {
  createWasmBackend, wasmBackend, WasmEnvAllocationError,
  type WasmBackend, type WasmBackendOptions, type WasmBackendStats, type WasmEnv, type WasmEnvRuntime,
} from './backend.js';
export { envFootprint, generateTb, IMPORT_MODULE, type GeneratedTb, type TbImports } from './codegen.js';
export { ByteWriter, Code, ModuleBuilder, Opc, ValType, BLOCK_VOID, type FuncBody, type FuncType } from './encoder.js';
