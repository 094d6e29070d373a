/**
 * Node-only parts of softboard: files, sockets, stdio.
 * @packageDocumentation
 */
export * from './chardev-stdio.js';
export * from './chardev-socket.js';
export { ChardevError, ChardevRegistry } from '../chardev/index.js';
export * from './gdbserver.js';
export * from './files.js';
export * from './snapshot-file.js';
export * from './gdb-machine.js';
