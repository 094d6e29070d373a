/**
 * Device state descriptions and their generic save/load (QEMU include/migration/vmstate.h,
 * migration/vmstate.c: VMStateDescription, VMStateField, vmstate_save_state, vmstate_load_state).
 *
 * A device declares once, next to its state, what a snapshot must carry:
 * ```ts
 * static readonly vmstate: VmStateDescription<Ns16550a> = {
 *   name: 'ns16550a', version: 1,
 *   fields: [{ name: 'ier', kind: 'u8' }, { name: 'fifoTimeout', kind: 'timer', get: (s) => s.#fifoTimeout }],
 *   postLoad: (s) => s.update(),
 * };
 * ```
 * {@link saveVmState} turns an object into a plain JSON-able {@link VmSavedState} (bigints as decimal
 * strings, typed arrays as number arrays, timers as their expiry in ns or -1), and {@link loadVmState}
 * writes one back, checking the description's name and version (QEMU version_id /
 * minimum_version_id), each value's kind and range, and the length of every array, and throwing a
 * {@link VmStateError} that names the device, the field and what was expected.
 *
 * Arrays, typed arrays and nested structs are loaded IN PLACE (the object keeps its own arrays, which
 * may be `readonly`); their length must match. A field whose property is not reachable by name
 * (an ES `#private` field, a Map, a derived value) gives `get`/`set` accessors instead.
 * @module
 */
import type { QemuTimer } from '../util/timer.js';
import { SoftboardError } from '../util/errors.js';

/** A snapshot could not be taken or loaded: version mismatch, bad value, different configuration. */
export class VmStateError extends SoftboardError {
  override name = 'VmStateError';
}

/** A JSON value (what saved states are made of). */
export type VmJson = null | boolean | number | string | readonly VmJson[] | { readonly [key: string]: VmJson };

/**
 * Scalar kinds. Numbers: `u8` `u16` `u32` `i8` `i16` `i32` (range-checked), `int` (any safe integer,
 * e.g. a time in ns), `f64` (any number; -0 and non-finite values are saved as strings). `bool`. Bigints:
 * `u64` (0..2^64-1) and `bigint` (any, signed), saved as decimal strings. `string`.
 */
export type VmScalarKind = 'u8' | 'u16' | 'u32' | 'i8' | 'i16' | 'i32' | 'int' | 'f64' | 'bool' | 'u64' | 'bigint' | 'string';

/** Field kinds: a scalar, a nested struct, a {@link QemuTimer} (its expiry), or custom save/load. */
export type VmFieldKind = VmScalarKind | 'struct' | 'timer' | 'custom';

/** One field of a {@link VmStateDescription} (QEMU VMStateField). */
export interface VmStateField<T = any> {
  /** Key in the saved state, and the property read and written unless {@link get}/{@link set} are given. */
  readonly name: string;
  readonly kind: VmFieldKind;
  /**
   * The property is an array (a JS array or a typed array) of `kind` elements (scalars, structs or
   * timers), loaded in place. A number also fixes the length the declaration expects.
   */
  readonly array?: true | number;
  /** Description of a `struct` field (or of each element of a struct array). */
  readonly desc?: VmStateDescription<any>;
  /** The field exists since this version of the description (QEMU VMSTATE_*_V); older states leave it as is. */
  readonly since?: number;
  /** Reads the property (for `#private` fields and derived values); arrays/structs are then loaded into what it returns. */
  readonly get?: (obj: T) => unknown;
  /** Writes a scalar (or timer-less) value when {@link get} is given. */
  readonly set?: (obj: T, value: any) => void;
  /** `custom`: produces the saved value. */
  readonly save?: (obj: T) => VmJson;
  /** `custom`: applies a saved value (validate it and throw {@link VmStateError} if bad). */
  readonly load?: (obj: T, value: VmJson) => void;
}

/** How an object's state is saved and loaded (QEMU VMStateDescription). */
export interface VmStateDescription<T = any> {
  /** Stable name of the state (the QOM type name for a device); checked on load. */
  readonly name: string;
  /** Current version: bump it when the fields change (and mark new fields with `since`). */
  readonly version: number;
  /** Oldest saved version this build can load (default: {@link version}). */
  readonly minimumVersion?: number;
  readonly fields: readonly VmStateField<T>[];
  /** Optional parts saved only when {@link VmStateSubsection.needed} says so (QEMU subsections). */
  readonly subsections?: readonly VmStateSubsection<T>[];
  /**
   * Restore order within a machine: lower first (default 0). Interrupt controllers use 1, so that the
   * lines other devices re-drive in their `postLoad` reach them before their own state is loaded; CPUs
   * are loaded after every device.
   */
  readonly order?: number;
  /** Called before saving (QEMU pre_save). */
  readonly preSave?: (obj: T) => void;
  /** Called before loading (QEMU pre_load). */
  readonly preLoad?: (obj: T) => void;
  /**
   * Called after loading (QEMU post_load), with the version of the saved state: recompute derived
   * state, re-drive output lines (`update()`).
   */
  readonly postLoad?: (obj: T, version: number) => void;
}

/** A subsection: a description saved only when needed (QEMU VMStateDescription.needed). */
export interface VmStateSubsection<T = any> extends VmStateDescription<T> {
  /** Save this subsection? Default: always. */
  readonly needed?: (obj: T) => boolean;
}

/** The saved state of one object: plain JSON. */
export interface VmSavedState {
  readonly name: string;
  readonly version: number;
  readonly fields: { readonly [name: string]: VmJson };
  readonly subsections?: { readonly [name: string]: VmSavedState };
}

/** The description an object's class declares (`static readonly vmstate`), or null. */
export function vmStateOf(obj: object): VmStateDescription | null {
  const d = (obj.constructor as { vmstate?: unknown }).vmstate;
  return d !== undefined && d !== null && typeof d === 'object' ? (d as VmStateDescription) : null;
}

// ---- save -------------------------------------------------------------------------------------------

/**
 * Saves `obj` as described by `desc`: a JSON-able object (QEMU vmstate_save_state).
 * @param where names the object in error messages (a QOM path, say).
 * @throws VmStateError if a property does not hold what its field declares.
 */
export function saveVmState<T>(obj: T, desc: VmStateDescription<T>, where: string = desc.name): VmSavedState {
  desc.preSave?.(obj);
  const fields: Record<string, VmJson> = {};
  for (const f of desc.fields) fields[f.name] = saveField(obj, f, `${where}.${f.name}`);
  const subs: Record<string, VmSavedState> = {};
  let anySub = false;
  for (const s of desc.subsections ?? []) {
    if (s.needed && !s.needed(obj)) continue;
    subs[s.name] = saveVmState(obj, s, `${where}/${s.name}`);
    anySub = true;
  }
  return anySub ? { name: desc.name, version: desc.version, fields, subsections: subs } : { name: desc.name, version: desc.version, fields };
}

function readProp<T>(obj: T, f: VmStateField<T>): unknown {
  return f.get ? f.get(obj) : (obj as Record<string, unknown>)[f.name];
}

function saveField<T>(obj: T, f: VmStateField<T>, where: string): VmJson {
  if (f.kind === 'custom') {
    if (!f.save) throw new VmStateError(`${where}: a custom field needs save() and load()`);
    return f.save(obj);
  }
  const v = readProp(obj, f);
  if (f.array !== undefined) {
    const arr = asArrayLike(v, where);
    if (typeof f.array === 'number' && arr.length !== f.array) {
      throw new VmStateError(`${where}: declared with ${f.array} elements, has ${arr.length}`);
    }
    const out: VmJson[] = [];
    for (let i = 0; i < arr.length; i++) out.push(saveElement(arr[i], f, `${where}[${i}]`));
    return out;
  }
  return saveElement(v, f, where);
}

function saveElement(v: unknown, f: VmStateField, where: string): VmJson {
  switch (f.kind) {
    case 'struct':
      if (!f.desc) throw new VmStateError(`${where}: a struct field needs desc`);
      if (v === null || typeof v !== 'object') throw new VmStateError(`${where}: expected an object for struct '${f.desc.name}', got ${describe(v)}`);
      return saveVmState(v, f.desc, where) as unknown as VmJson;
    case 'timer':
      if (v === null || v === undefined) return -1;
      return (v as QemuTimer).expireNs;
    case 'custom':
      throw new VmStateError(`${where}: custom fields cannot be arrays`);
    default:
      return encodeScalar(v, f.kind, where);
  }
}

function encodeScalar(v: unknown, kind: VmScalarKind, where: string): VmJson {
  switch (kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw new VmStateError(`${where}: expected bool, got ${describe(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new VmStateError(`${where}: expected string, got ${describe(v)}`);
      return v;
    case 'f64':
      if (typeof v !== 'number') throw new VmStateError(`${where}: expected a number, got ${describe(v)}`);
      // JSON has no -0, NaN or Infinity: those travel as strings.
      return Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v);
    case 'u64': case 'bigint':
      if (typeof v !== 'bigint') throw new VmStateError(`${where}: expected a bigint (${kind}), got ${describe(v)}`);
      checkBig(v, kind, where);
      return v.toString();
    default: {
      const n = typeof v === 'boolean' ? Number(v) : v;
      if (typeof n !== 'number') throw new VmStateError(`${where}: expected ${kind}, got ${describe(v)}`);
      checkInt(n, kind, where);
      return n;
    }
  }
}

// ---- load -------------------------------------------------------------------------------------------

/**
 * Loads a state saved by {@link saveVmState} into `obj` (QEMU vmstate_load_state), then runs
 * `postLoad`.
 * @param where names the object in error messages.
 * @throws VmStateError on a name or version mismatch, a missing or unknown field or subsection, a value
 *   of the wrong kind or out of range, or an array of the wrong length.
 */
export function loadVmState<T>(obj: T, desc: VmStateDescription<T>, data: unknown, where: string = desc.name): void {
  const saved = checkSaved(data, desc, where);
  desc.preLoad?.(obj);
  loadFields(obj, desc, saved, where);
  desc.postLoad?.(obj, saved.version);
}

function checkSaved(data: unknown, desc: VmStateDescription, where: string): VmSavedState {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new VmStateError(`${where}: saved state of '${desc.name}' must be an object, got ${describe(data)}`);
  }
  const s = data as Partial<VmSavedState>;
  if (s.name !== desc.name) {
    throw new VmStateError(`${where}: saved state is of '${String(s.name)}', expected '${desc.name}'`);
  }
  if (typeof s.version !== 'number' || !Number.isInteger(s.version)) {
    throw new VmStateError(`${where}: saved state of '${desc.name}' has no integer version`);
  }
  const min = desc.minimumVersion ?? desc.version;
  if (s.version > desc.version) {
    throw new VmStateError(`${where}: saved '${desc.name}' state has version ${s.version}, newer than this build's version ${desc.version}`);
  }
  if (s.version < min) {
    throw new VmStateError(`${where}: saved '${desc.name}' state has version ${s.version}, older than the oldest this build loads (${min}; current ${desc.version})`);
  }
  if (s.fields === null || typeof s.fields !== 'object') throw new VmStateError(`${where}: saved state of '${desc.name}' has no fields`);
  return s as VmSavedState;
}

function loadFields<T>(obj: T, desc: VmStateDescription<T>, saved: VmSavedState, where: string): void {
  const known = new Set<string>();
  for (const f of desc.fields) {
    known.add(f.name);
    const w = `${where}.${f.name}`;
    if (!Object.hasOwn(saved.fields, f.name)) {
      if (f.since !== undefined && f.since > saved.version) continue;
      throw new VmStateError(`${w}: missing from the saved '${desc.name}' state (version ${saved.version})`);
    }
    loadField(obj, f, saved.fields[f.name]!, w);
  }
  for (const k of Object.keys(saved.fields)) {
    if (!known.has(k)) throw new VmStateError(`${where}: saved '${desc.name}' state has an unknown field '${k}'`);
  }
  const subs = saved.subsections;
  if (subs === undefined) return;
  if (subs === null || typeof subs !== 'object') throw new VmStateError(`${where}: bad subsections in the saved '${desc.name}' state`);
  for (const [name, data] of Object.entries(subs)) {
    const sd = desc.subsections?.find((s) => s.name === name);
    if (!sd) throw new VmStateError(`${where}: saved '${desc.name}' state has an unknown subsection '${name}'`);
    loadVmState(obj, sd, data, `${where}/${name}`);
  }
}

function loadField<T>(obj: T, f: VmStateField<T>, value: VmJson, where: string): void {
  if (f.kind === 'custom') {
    if (!f.load) throw new VmStateError(`${where}: a custom field needs save() and load()`);
    f.load(obj, value);
    return;
  }
  if (f.array !== undefined) {
    const target = asArrayLike(readProp(obj, f), where) as ArrayLike<unknown> & { [i: number]: unknown };
    if (!Array.isArray(value)) throw new VmStateError(`${where}: expected an array, got ${describe(value)}`);
    if (value.length !== target.length) {
      throw new VmStateError(`${where}: the saved array has ${value.length} elements, this object has ${target.length} (a different configuration?)`);
    }
    const isTyped = ArrayBuffer.isView(target);
    for (let i = 0; i < value.length; i++) {
      const ew = `${where}[${i}]`;
      const v = value[i] as VmJson;
      switch (f.kind) {
        case 'struct':
          loadStruct(target[i], f, v, ew);
          break;
        case 'timer':
          loadTimer(target[i] as QemuTimer | null, v, ew);
          break;
        default: {
          let d = decodeScalar(v, f.kind, ew);
          if (isTyped && typeof d === 'boolean') d = d ? 1 : 0;
          target[i] = d;
        }
      }
    }
    return;
  }
  switch (f.kind) {
    case 'struct':
      loadStruct(readProp(obj, f), f, value, where);
      return;
    case 'timer':
      loadTimer(readProp(obj, f) as QemuTimer | null, value, where);
      return;
    default: {
      const d = decodeScalar(value, f.kind, where);
      if (f.set) f.set(obj, d);
      else if (f.get) throw new VmStateError(`${where}: a scalar field with get() needs set()`);
      else (obj as Record<string, unknown>)[f.name] = d;
    }
  }
}

function loadStruct(target: unknown, f: VmStateField, value: VmJson, where: string): void {
  if (!f.desc) throw new VmStateError(`${where}: a struct field needs desc`);
  if (target === null || typeof target !== 'object') throw new VmStateError(`${where}: no object to load struct '${f.desc.name}' into`);
  loadVmState(target, f.desc, value, where);
}

function loadTimer(t: QemuTimer | null | undefined, value: VmJson, where: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < -1) {
    throw new VmStateError(`${where}: expected a timer expiry (ns, or -1 when not armed), got ${describe(value)}`);
  }
  if (t === null || t === undefined) {
    if (value >= 0) throw new VmStateError(`${where}: the saved timer is armed but this object has no timer (not realized?)`);
    return;
  }
  if (value < 0) t.del();
  else t.modNs(value);
}

function decodeScalar(v: VmJson, kind: VmScalarKind, where: string): unknown {
  switch (kind) {
    case 'bool':
      if (typeof v !== 'boolean') throw new VmStateError(`${where}: expected bool, got ${describe(v)}`);
      return v;
    case 'string':
      if (typeof v !== 'string') throw new VmStateError(`${where}: expected string, got ${describe(v)}`);
      return v;
    case 'f64':
      if (typeof v === 'number') return v;
      if (v === 'Infinity' || v === '-Infinity' || v === 'NaN' || v === '-0') return Number(v);
      throw new VmStateError(`${where}: expected a number, got ${describe(v)}`);
    case 'u64': case 'bigint': {
      if (typeof v !== 'string' || !/^-?\d+$/.test(v)) throw new VmStateError(`${where}: expected a decimal ${kind} string, got ${describe(v)}`);
      const b = BigInt(v);
      checkBig(b, kind, where);
      return b;
    }
    default:
      if (typeof v !== 'number') throw new VmStateError(`${where}: expected ${kind}, got ${describe(v)}`);
      checkInt(v, kind, where);
      return v;
  }
}

// ---- timers -------------------------------------------------------------------------------------------

/**
 * The timers `obj`'s description declares (kind `timer`, in fields, arrays, nested structs and
 * subsections), each with a stable id: the field path (`fifoTimeout`, `timers[1]`, `sub/field`)
 * after `prefix`. Null timers (an unrealized device) are skipped.
 */
export function vmStateTimers<T>(obj: T, desc: VmStateDescription<T>, prefix = ''): Array<{ id: string; timer: QemuTimer }> {
  const out: Array<{ id: string; timer: QemuTimer }> = [];
  const visit = (o: unknown, d: VmStateDescription, p: string): void => {
    for (const f of d.fields) {
      if (f.kind !== 'timer' && f.kind !== 'struct') continue;
      const v = readProp(o, f);
      const items: Array<[unknown, string]> = f.array !== undefined
        ? Array.from(asArrayLike(v, `${p}${f.name}`), (x, i): [unknown, string] => [x, `${p}${f.name}[${i}]`])
        : [[v, `${p}${f.name}`]];
      for (const [x, id] of items) {
        if (x === null || x === undefined) continue;
        if (f.kind === 'timer') out.push({ id, timer: x as QemuTimer });
        else if (f.desc) visit(x, f.desc, `${id}.`);
      }
    }
    for (const s of d.subsections ?? []) visit(o, s, `${p}${s.name}/`);
  };
  visit(obj, desc, prefix);
  return out;
}

// ---- helpers ------------------------------------------------------------------------------------------

const INT_RANGE: Record<string, [number, number]> = {
  u8: [0, 0xff], u16: [0, 0xffff], u32: [0, 0xffff_ffff],
  i8: [-0x80, 0x7f], i16: [-0x8000, 0x7fff], i32: [-0x8000_0000, 0x7fff_ffff],
  int: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function checkInt(n: number, kind: string, where: string): void {
  const r = INT_RANGE[kind];
  if (!r) throw new VmStateError(`${where}: unknown field kind '${kind}'`);
  if (!Number.isInteger(n) || n < r[0] || n > r[1]) {
    throw new VmStateError(`${where}: expected ${kind} (${r[0]}..${r[1]}), got ${n}`);
  }
}

const U64_MAX = (1n << 64n) - 1n;

function checkBig(b: bigint, kind: 'u64' | 'bigint', where: string): void {
  if (kind === 'u64' && (b < 0n || b > U64_MAX)) throw new VmStateError(`${where}: expected u64 (0..2^64-1), got ${b}`);
}

function asArrayLike(v: unknown, where: string): ArrayLike<unknown> {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return v as unknown as ArrayLike<unknown>;
  throw new VmStateError(`${where}: expected an array or typed array, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object') return v.constructor?.name ?? 'an object';
  return String(v);
}
