/**
 * Run by snapshot-file.test.ts in a child Node process (after esbuild bundles it): builds a new
 * machine, loads the snapshot file given as argv[2], runs the steps of argv[3] (JSON) and prints what
 * {@link observe} sees, as JSON, on stdout.
 */
import { loadSnapshotFile } from '../../src/node/snapshot-file.js';
import { bootGuest, observe, runSteps, type RunStep } from './helpers.js';

const [path, stepsJson] = process.argv.slice(2);
if (path === undefined || stepsJson === undefined) throw new Error('usage: child-restore <snapshot file> <steps json>');
const m = bootGuest();
loadSnapshotFile(m, path);
const reasons = runSteps(m, JSON.parse(stepsJson) as RunStep[]);
process.stdout.write(JSON.stringify({ reasons, ...observe(m, 0) }));
