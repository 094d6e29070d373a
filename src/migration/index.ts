/**
 * Snapshots: vmstate descriptions (vmstate.ts), whole-machine snapshots (snapshot.ts, used by
 * `Machine.snapshot()`/`restore()`), and their binary form (format.ts).
 * @module
 */
export * from './vmstate.js';
export * from './snapshot.js';
export * from './format.js';
