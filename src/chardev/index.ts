/** Character devices: backends, the frontend interface, the per-machine registry. */
export { Chardev, ChardevError, type ChardevEvent, type ChardevEmitterEvents } from './char.js';
export { CharBackend, type CharFrontendHandlers } from './char-fe.js';
export { NullChardev } from './char-null.js';
export { CallbackChardev } from './char-callback.js';
export { BufferChardev, type BufferChardevOptions, type WaitForOptions } from './char-buffer.js';
export { MuxChardev, type MuxChardevOptions } from './char-mux.js';
export { ChardevRegistry } from './registry.js';
