/**
 * softboard: an embeddable machine emulator in TypeScript, built on QEMU's architecture.
 * @packageDocumentation
 */
export * from './tcg/ir.js';
export * from './tcg/context.js';
export type { Backend, CompiledTb, TbRuntime } from './tcg/backend/backend.js';
export * from './util/size.js';
export * from './util/log.js';
export * from './util/clock.js';
export * from './util/timer.js';
export * from './util/bh.js';
export * from './util/main-loop.js';
export * from './chardev/index.js';
export * from './memory/index.js';
export * from './util/errors.js';
export * from './qom/index.js';
export * from './hw/core/irq.js';
export * from './hw/core/device.js';
export * from './hw/core/sysbus.js';
export * from './hw/core/loader.js';
export * from './hw/core/fdt.js';
export * from './gdbstub/index.js';
export * from './machine/machine.js';
export * from './hw/riscv/boot.js';
export * from './hw/riscv/virt.js';
export * from './hw/core/board.js';
export * from './hw/misc/peripheral-stub.js';
export * from './util/trace.js';
export { optimizeIr } from './tcg/optimize.js';
export { dumpIr } from './tcg/dump.js';
export { closureBackend } from './tcg/backend/closure.js';
export { interpreterBackend } from './tcg/backend/interpreter.js';
export { jsBackend, createJsBackend, jsBackendAvailable } from './tcg/backend/js.js';
export { wasmBackend, createWasmBackend } from './tcg/backend/wasm/index.js';
export * from './migration/index.js';
