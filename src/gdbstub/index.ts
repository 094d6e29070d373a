/**
 * The gdb remote stub (GDB Remote Serial Protocol), browser-safe: the protocol core ({@link GdbStub}),
 * the target interface it drives ({@link GdbTarget}) and the RISC-V adapter ({@link RiscvGdbTarget}).
 * Put it on a TCP port with `startGdbServer` from `softboard/node`.
 * @module
 */
export * from './packet.js';
export * from './target.js';
export * from './stub.js';
export * from './riscv.js';
