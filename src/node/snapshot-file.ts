/**
 * Snapshot files for Node: a machine's state written to / read from disk in the binary format of
 * src/migration/format.ts (all-zero RAM pages omitted).
 * @module
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Machine } from '../machine/machine.js';
import { decodeSnapshot, encodeSnapshot } from '../migration/format.js';
import { SnapshotError, type MachineSnapshot } from '../migration/snapshot.js';

/**
 * Saves `machine`'s state (between runs) to `path`. The file is written next to its final name and
 * renamed, so a crash never leaves half a snapshot under `path`.
 * @returns the number of bytes written.
 * @throws SnapshotError if the state cannot be saved or the file cannot be written.
 */
export function saveSnapshotFile(machine: Machine, path: string): number {
  const bytes = encodeSnapshot(machine.snapshot());
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new SnapshotError(`could not write snapshot file '${path}': ${(e as Error).message}`, { cause: e });
  }
  return bytes.length;
}

/**
 * Reads a snapshot file without applying it.
 * @throws SnapshotError if the file cannot be read or is not a snapshot.
 */
export function readSnapshotFile(path: string): MachineSnapshot {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new SnapshotError(`could not read snapshot file '${path}': ${why}`, { cause: e });
  }
  try {
    return decodeSnapshot(bytes);
  } catch (e) {
    if (e instanceof SnapshotError) throw new SnapshotError(`${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

/**
 * Restores `machine` (built with the configuration of the one that saved the file) from `path`.
 * @throws SnapshotError / VmStateError naming the file problem or the configuration mismatch.
 */
export function loadSnapshotFile(machine: Machine, path: string): void {
  machine.restore(readSnapshotFile(path));
}
