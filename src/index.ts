/**
 * softboard: an embeddable machine emulator in TypeScript, built on QEMU's architecture.
 * @packageDocumentation
 */
export * from './tcg/ir.js';
export * from './tcg/context.js';
export type { Backend, CompiledTb, TbRuntime } from './tcg/backend/backend.js';
