/**
 * Whole-machine snapshots (QEMU migration/savevm.c qemu_savevm_state + ram.c, in memory): the CPUs,
 * every device that declares a vmstate, the armed timers in firing order, the virtual clock and RAM.
 *
 * Restoring a snapshot into the machine it came from, or into a new machine built with the same
 * configuration, gives a bit-identical continuation: the same instructions, output, registers, RAM
 * and virtual time as the original run had from the snapshot point (given the same calls: `run`
 * budgets and slices are part of the input). Translated code and TLBs are flushed on restore.
 *
 * Not in a snapshot (host side, as in QEMU): the chardevs' buffers and pending input, breakpoints and
 * hooks, the ROM blobs registered with `addRom` (configuration), a stop request made between runs.
 * @module
 */
import type { Machine, ShutdownInfo } from '../machine/machine.js';
import { CpuState } from '../hw/core/cpu.js';
import type { QObject } from '../qom/object.js';
import type { RamBlock } from '../memory/ram.js';
import type { QemuTimer } from '../util/timer.js';
import {
  loadVmState, saveVmState, vmStateOf, vmStateTimers, VmStateError, type VmSavedState, type VmStateDescription,
} from './vmstate.js';

/** Version of the {@link MachineSnapshot} layout. */
export const SNAPSHOT_VERSION = 1;
/** Granularity of saved RAM: pages of 4 KiB, all-zero pages omitted. */
export const SNAPSHOT_PAGE_SIZE = 4096;

/** A snapshot could not be taken or restored (wrong machine, running, unnamed timer…). */
export class SnapshotError extends VmStateError {
  override name = 'SnapshotError';
}

/** Saved RAM of one block: the indices of its non-zero pages and their bytes, page after page. */
export interface RamSnapshot {
  /** The block's name (`riscv_virt_board.ram`). */
  readonly name: string;
  /** The block's size in bytes. */
  readonly size: number;
  /** Indices of the saved pages, ascending; every other page is zero. */
  readonly pages: Uint32Array;
  /** `pages.length` × {@link SNAPSHOT_PAGE_SIZE} bytes. */
  readonly data: Uint8Array;
}

/** Saved state of one CPU. */
export interface CpuSnapshot {
  /** QOM path (`/machine/soc/hart0`). */
  readonly path: string;
  /** The execution engine's state ({@link CPU_EXEC_VMSTATE}: icount, halted…). */
  readonly exec: VmSavedState;
  /** The CPU's own vmstate (registers, CSRs). */
  readonly state: VmSavedState;
}

/** An armed virtual-clock timer. */
export interface TimerSnapshot {
  /** `<device path>:<field>` for a timer a vmstate declares, else the timer's {@link QemuTimer.id}. */
  readonly id: string;
  readonly expireNs: number;
}

/**
 * A machine's state (see the module comment). Everything but {@link ram} is plain JSON; `ram` holds
 * typed arrays (structured-clonable). `src/migration/format.ts` turns it into bytes.
 */
export interface MachineSnapshot {
  readonly format: 'softboard-snapshot';
  readonly version: number;
  /** Virtual ns per instruction of the machine that took it (checked on restore). */
  readonly nsPerInsn: number;
  /** The virtual clock (ns). */
  readonly clock: { readonly virtualNs: number };
  /** Instructions executed by all CPUs (also in each CPU's `exec`). */
  readonly icount: number;
  /** Machine-level requests pending at the snapshot. */
  readonly machine: { readonly shutdown: ShutdownInfo | null; readonly resetPending: boolean };
  readonly cpus: readonly CpuSnapshot[];
  /** Device states by QOM path, in tree order. */
  readonly devices: { readonly [path: string]: VmSavedState };
  /** Armed virtual-clock timers in firing order (equal deadlines keep their arming order). */
  readonly timers: readonly TimerSnapshot[];
  readonly ram: readonly RamSnapshot[];
}

/** What {@link Machine.snapshot}/{@link Machine.restore} give this module of the machine's private state. */
export interface MachineSnapshotAccess {
  /** A CPU is inside `run` (a device callback asked for the snapshot). */
  readonly running: boolean;
  readonly shutdown: ShutdownInfo | null;
  readonly resetPending: boolean;
  /** Sets the machine-level requests on restore. */
  setRequests(shutdown: ShutdownInfo | null, resetPending: boolean): void;
}

/** The execution-engine part of every CPU (QEMU vmstate_cpu_common: halted, plus the icount). */
export const CPU_EXEC_VMSTATE: VmStateDescription<CpuState> = {
  name: 'cpu-exec', version: 1,
  fields: [
    { name: 'icount', kind: 'int', get: (c) => c.tcg.icount, set: (c, v: number) => { c.tcg.icount = v; } },
    { name: 'halted', kind: 'bool', get: (c) => c.tcg.halted, set: (c, v: boolean) => { c.tcg.halted = v; } },
    { name: 'exitRequest', kind: 'bool', get: (c) => c.tcg.exitRequest, set: (c, v: boolean) => { c.tcg.exitRequest = v; } },
    { name: 'interruptRequest', kind: 'bool', get: (c) => c.tcg.interruptRequest, set: (c, v: boolean) => { c.tcg.interruptRequest = v; } },
    {
      // After a store into the running TB the next TB is one instruction and skips the interrupt check:
      // it changes where interrupts are taken, so it is state (TS `private`, reached by element access).
      name: 'oneInsnNext', kind: 'bool',
      get: (c) => c.tcg['oneInsnNext'], set: (c, v: boolean) => { c.tcg['oneInsnNext'] = v; },
    },
  ],
};

// ---- save -------------------------------------------------------------------------------------------

/** Takes a snapshot of `m` (between runs). Called by {@link Machine.snapshot}. */
export function takeSnapshot(m: Machine, access: MachineSnapshotAccess): MachineSnapshot {
  if (access.running) throw new SnapshotError('cannot snapshot a machine while a CPU runs: call snapshot() between runs, not from a device callback');
  if (m.mainLoop.aio.hasPending) throw new SnapshotError('cannot snapshot with bottom halves scheduled: run the machine (or mainLoop.runBottomHalves()) first');
  const cpus = snapshotCpus(m);
  const timerIds = new Map<QemuTimer, string>();
  const cpuStates: CpuSnapshot[] = cpus.map(({ cpu, path, desc }) => {
    for (const { id, timer } of vmStateTimers(cpu, desc)) timerIds.set(timer, `${path}:${id}`);
    return { path, exec: saveVmState(cpu, CPU_EXEC_VMSTATE, path), state: saveVmState(cpu, desc, path) };
  });
  const devices: Record<string, VmSavedState> = {};
  for (const { obj, path, desc } of statefulDevices(m)) {
    devices[path] = saveVmState(obj, desc, path);
    for (const { id, timer } of vmStateTimers(obj, desc)) timerIds.set(timer, `${path}:${id}`);
  }
  const timers: TimerSnapshot[] = [];
  const seen = new Set<string>();
  for (const t of m.mainLoop.virtual.timers.snapshot()) {
    const id = timerIds.get(t) ?? t.id;
    if (id === undefined) {
      throw new SnapshotError(`an armed virtual-clock timer (expiring at ${t.expireNs} ns) has no snapshot id: declare it in its device's vmstate (kind 'timer') or set its 'id'`);
    }
    if (seen.has(id)) throw new SnapshotError(`two armed timers have the snapshot id '${id}'`);
    seen.add(id);
    timers.push({ id, expireNs: t.expireNs });
  }
  return {
    format: 'softboard-snapshot',
    version: SNAPSHOT_VERSION,
    nsPerInsn: m.nsPerInsn,
    clock: { virtualNs: m.mainLoop.virtual.now() },
    icount: m.instructions,
    machine: { shutdown: access.shutdown, resetPending: access.resetPending },
    cpus: cpuStates,
    devices,
    timers,
    ram: ramBlocks(m).map(saveRam),
  };
}

// ---- restore ----------------------------------------------------------------------------------------

/**
 * Restores `s` into `m`: the same machine, or one built with the same configuration. Called by
 * {@link Machine.restore}. Everything that can be checked without changing the machine (format,
 * CPUs, device paths and types, RAM blocks, timer ids) is checked first; a failure while loading a
 * device's fields leaves the machine in an unspecified state (restore another snapshot or reset it).
 * @throws SnapshotError / VmStateError naming what does not match.
 */
export function restoreSnapshot(m: Machine, s: MachineSnapshot, access: MachineSnapshotAccess): void {
  if (access.running) throw new SnapshotError('cannot restore a snapshot while a CPU runs: call restore() between runs');
  if (s === null || typeof s !== 'object' || s.format !== 'softboard-snapshot') throw new SnapshotError('not a softboard machine snapshot');
  if (s.version !== SNAPSHOT_VERSION) throw new SnapshotError(`snapshot layout version ${s.version} is not supported (this build reads ${SNAPSHOT_VERSION})`);
  if (s.nsPerInsn !== m.nsPerInsn) {
    throw new SnapshotError(`the snapshot was taken with ${s.nsPerInsn} ns per instruction, this machine has ${m.nsPerInsn} (icountShift differs)`);
  }
  if (!Number.isSafeInteger(s.clock?.virtualNs) || s.clock.virtualNs < 0) throw new SnapshotError(`bad virtual time in the snapshot: ${String(s.clock?.virtualNs)}`);

  // -- check the configuration before touching anything --
  const cpus = snapshotCpus(m);
  if (s.cpus.length !== cpus.length) throw new SnapshotError(`the snapshot has ${s.cpus.length} CPUs, this machine ${cpus.length}`);
  cpus.forEach((c, i) => {
    const sc = s.cpus[i]!;
    if (sc.path !== c.path) throw new SnapshotError(`snapshot CPU ${i} is '${sc.path}', this machine's is '${c.path}'`);
    if (sc.state?.name !== c.desc.name) throw new SnapshotError(`snapshot CPU ${i} (${c.path}) is a '${String(sc.state?.name)}', this machine's a '${c.desc.name}'`);
  });
  const devs = new Map(statefulDevices(m).map((d) => [d.path, d]));
  for (const [path, st] of Object.entries(s.devices)) {
    const d = devs.get(path);
    if (!d) throw new SnapshotError(`the snapshot has state for '${path}' (${String(st?.name)}), which this machine does not have (devices: ${[...devs.keys()].join(', ')})`);
    if (st?.name !== d.desc.name) throw new SnapshotError(`'${path}' is a '${d.desc.name}' here, the snapshot saved a '${String(st?.name)}'`);
  }
  for (const path of devs.keys()) {
    if (!Object.hasOwn(s.devices, path)) throw new SnapshotError(`the snapshot has no state for '${path}' (${devs.get(path)!.desc.name})`);
  }
  const blocks = new Map(ramBlocks(m).map((b) => [b.name, b]));
  for (const r of s.ram) {
    const b = blocks.get(r.name);
    if (!b) throw new SnapshotError(`the snapshot has RAM block '${r.name}', which this machine does not have (blocks: ${[...blocks.keys()].join(', ')})`);
    if (b.size !== r.size) throw new SnapshotError(`RAM block '${r.name}' is ${b.size} bytes here, ${r.size} in the snapshot`);
    if (r.data.length !== r.pages.length * SNAPSHOT_PAGE_SIZE) throw new SnapshotError(`RAM block '${r.name}': ${r.pages.length} pages but ${r.data.length} bytes of data`);
    const n = Math.ceil(r.size / SNAPSHOT_PAGE_SIZE);
    for (let i = 0; i < r.pages.length; i++) {
      if (r.pages[i]! >= n || (i > 0 && r.pages[i]! <= r.pages[i - 1]!)) throw new SnapshotError(`RAM block '${r.name}': bad page index ${r.pages[i]} at ${i}`);
    }
  }
  for (const name of blocks.keys()) {
    if (!s.ram.some((r) => r.name === name)) throw new SnapshotError(`the snapshot has no RAM block '${name}'`);
  }
  const timersById = new Map<string, QemuTimer>();
  for (const c of cpus) for (const { id, timer } of vmStateTimers(c.cpu, c.desc)) timersById.set(`${c.path}:${id}`, timer);
  for (const d of devs.values()) for (const { id, timer } of vmStateTimers(d.obj, d.desc)) timersById.set(`${d.path}:${id}`, timer);
  const vc = m.mainLoop.virtual;
  const timerOf = (id: string): QemuTimer | undefined => timersById.get(id) ?? vc.timers.byId(id);
  for (const t of s.timers) {
    if (!timerOf(t.id)) throw new SnapshotError(`the snapshot has an armed timer '${t.id}' that this machine does not have`);
    if (!Number.isSafeInteger(t.expireNs) || t.expireNs < 0) throw new SnapshotError(`timer '${t.id}': bad expiry ${t.expireNs}`);
  }

  // -- load --
  vc.restore(s.clock.virtualNs);
  for (const t of vc.timers.snapshot()) t.del();
  for (const r of s.ram) loadRam(blocks.get(r.name)!, r);
  // Devices by restore order (interrupt controllers after the devices driving their inputs), then CPUs.
  const order = Object.keys(s.devices)
    .map((path, i) => ({ path, i, o: devs.get(path)!.desc.order ?? 0 }))
    .sort((a, b) => a.o - b.o || a.i - b.i);
  for (const { path } of order) {
    const d = devs.get(path)!;
    loadVmState(d.obj, d.desc, s.devices[path], path);
  }
  cpus.forEach((c, i) => {
    const sc = s.cpus[i]!;
    loadVmState(c.cpu, c.desc, sc.state, c.path);
    loadVmState(c.cpu, CPU_EXEC_VMSTATE, sc.exec, c.path);
  });
  // The timers, re-armed in the saved order so that equal deadlines fire as they would have.
  for (const t of vc.timers.snapshot()) t.del();
  for (const t of s.timers) timerOf(t.id)!.modNs(t.expireNs);
  access.setRequests(s.machine?.shutdown ?? null, s.machine?.resetPending === true);
  // Translated code may come from the old RAM contents; TLB entries from the old page tables.
  m.tbCache.flush();
  for (const c of cpus) c.cpu.tlbFlush();
}

// ---- helpers ------------------------------------------------------------------------------------------

interface StatefulObject {
  readonly obj: QObject;
  readonly path: string;
  readonly desc: VmStateDescription;
}

function snapshotCpus(m: Machine): Array<{ cpu: CpuState; path: string; desc: VmStateDescription }> {
  return m.cpus.map((c, i) => {
    if (!(c instanceof CpuState)) throw new SnapshotError(`CPU ${i} is not a CpuState: it cannot be snapshotted`);
    const path = c.path;
    if (path === null) throw new SnapshotError(`CPU ${i} is not in the machine's QOM tree (no path)`);
    const desc = vmStateOf(c);
    if (!desc) throw new SnapshotError(`CPU ${i} (${path}, ${c.typeName}) declares no vmstate`);
    return { cpu: c, path, desc };
  });
}

/** Every object of the QOM tree (CPUs excepted) whose class declares a vmstate, in tree order. */
function statefulDevices(m: Machine): StatefulObject[] {
  const cpus = new Set<unknown>(m.cpus);
  const out: StatefulObject[] = [];
  const visit = (o: QObject): void => {
    const desc = cpus.has(o) ? null : vmStateOf(o);
    const path = o.path;
    if (desc && path !== null) out.push({ obj: o, path, desc });
    for (const c of o.children.values()) visit(c);
  };
  visit(m.qom.root);
  return out;
}

/** The RAM blocks mapped in the machine's address space (RAM, ROM, ROM devices), each once. */
function ramBlocks(m: Machine): RamBlock[] {
  const seen = new Set<RamBlock>();
  const byName = new Map<string, RamBlock>();
  for (const r of m.addressSpace.flatView.ranges) {
    const b = r.mr.ram;
    if (!b || seen.has(b)) continue;
    seen.add(b);
    if (byName.has(b.name)) throw new SnapshotError(`two RAM blocks are named '${b.name}': snapshots need unique names`);
    byName.set(b.name, b);
  }
  return [...byName.values()];
}

function saveRam(b: RamBlock): RamSnapshot {
  if (!b.allocated) return { name: b.name, size: b.size, pages: new Uint32Array(0), data: new Uint8Array(0) };
  const bytes = b.bytes;
  const P = SNAPSHOT_PAGE_SIZE;
  const n = Math.ceil(b.size / P);
  const words = bytes.byteOffset % 4 === 0 ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.length >> 2) : null;
  const idx: number[] = [];
  for (let p = 0; p < n; p++) {
    const start = p * P, end = Math.min(b.size, start + P);
    if (!isZeroPage(bytes, words, start, end)) idx.push(p);
  }
  const data = new Uint8Array(idx.length * P);
  for (let i = 0; i < idx.length; i++) {
    const start = idx[i]! * P;
    data.set(bytes.subarray(start, Math.min(b.size, start + P)), i * P);
  }
  return { name: b.name, size: b.size, pages: Uint32Array.from(idx), data };
}

function isZeroPage(bytes: Uint8Array, words: Int32Array | null, start: number, end: number): boolean {
  if (words !== null && end - start === SNAPSHOT_PAGE_SIZE) {
    // OR the page's words together (no branch per word; 1024 words a page, a multiple of 8).
    let acc = 0;
    for (let w = start >> 2, e = end >> 2; w < e; w += 8) {
      acc |= words[w]! | words[w + 1]! | words[w + 2]! | words[w + 3]! | words[w + 4]! | words[w + 5]! | words[w + 6]! | words[w + 7]!;
    }
    return acc === 0;
  }
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

function loadRam(b: RamBlock, r: RamSnapshot): void {
  if (r.pages.length === 0 && !b.allocated) return;
  const bytes = b.bytes;
  bytes.fill(0);
  const P = SNAPSHOT_PAGE_SIZE;
  for (let i = 0; i < r.pages.length; i++) {
    const start = r.pages[i]! * P;
    const len = Math.min(P, b.size - start);
    bytes.set(r.data.subarray(i * P, i * P + len), start);
  }
  // Written behind the TLB's back: mark every page written (the code cache is flushed by the caller).
  if (b.size > 0) b.setDirty(0, b.size);
}
