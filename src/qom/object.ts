/**
 * QOM objects: the root class {@link QObject}, creation, casts, properties and the composition tree
 * with paths (after QEMU qom/object.c and qom/container.c).
 *
 * Lifecycle of every object: constructed → initialized (property defaults, `instanceInit` hooks,
 * `onInit`) → configured (properties set) → … → finalized. Devices add realize/unrealize
 * (src/hw/core/device.ts). An object made with {@link createObject} is initialized at once; one made
 * with `new` is initialized on its first QOM use (property access, tree operation, realize), so a
 * constructor must not read property fields.
 *
 * There is no global root: each machine makes its own with {@link createObjectRoot} (or
 * `createMachineRoot` in ./container.ts), so two machines never share a tree.
 * @module
 */
import { LifecycleError, ObjectTreeError, PropertyError, QomTypeError } from '../util/errors.js';
import type { Prop, PropKind } from './property.js';
import { didYouMean } from './suggest.js';
import {
  type ObjectClass, type PropertyEntry, type QObjectConstructor, type TypeImpl, type TypeRef,
  TYPE_INTERFACE, TYPE_OBJECT, getTypeOfClass, listTypes, registerType, typeOfRef,
} from './type.js';

/**
 * The type being constructed by {@link createObject}, read (and cleared) by the QObject constructor
 * before any subclass code runs. Only set during one synchronous `new`, so it is not shared state
 * between machines.
 */
let constructing: TypeImpl | null = null;

/** Module-private access to QObject internals (assigned in QObject's static block). */
let initInstance!: (obj: QObject) => void;
let markRoot!: (obj: QObject) => void;

/** Description of one property, as listed by {@link QObject.listProperties}. */
export interface PropertyInfo {
  /** Property (and field) name, camelCase. */
  readonly name: string;
  /** Property kind (`u8`, `size`, `link`, …). */
  readonly kind: PropKind;
  /** The accepted values in words, e.g. `0..255`. */
  readonly accepts: string;
  /** The default, formatted as a string (empty for none). */
  readonly defaultValue: string;
  readonly description: string;
  /** Type that declared the property. */
  readonly declaredBy: string;
}

/** Root class of every QOM object (QEMU Object). */
export class QObject {
  readonly #type: TypeImpl;
  #parent: QObject | null = null;
  #name: string | null = null;
  readonly #children = new Map<string, QObject>();
  #initialized = false;
  #finalized = false;
  #isRoot = false;
  /** How to name this object in errors once it is finalized and detached. */
  #deadLabel = '';

  static {
    initInstance = (obj) => obj.#ensureInit();
    markRoot = (obj) => {
      obj.#isRoot = true;
    };
  }

  constructor() {
    const pending = constructing;
    constructing = null;
    const impl = pending !== null && pending.instanceClass === new.target ? pending : getTypeOfClass(new.target);
    if (impl.abstract) throw new QomTypeError(abstractMessage(impl));
    this.#type = impl;
  }

  // ---- type ------------------------------------------------------------------------------------

  /** QOM type name of this object (QEMU object_get_typename). */
  get typeName(): string {
    return this.#type.name;
  }
  /** Class data of this object's type (QEMU object_get_class). */
  get objectClass(): ObjectClass {
    return this.#type.klass;
  }
  /** True if this object's type is `type`, derives from it, or implements interface `type`. */
  isA(type: TypeRef<any>): boolean {
    return this.#type.isA(typeOfRef(type));
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  #ensureInit(): void {
    if (this.#initialized) return;
    this.#initialized = true;
    const fields = this as unknown as Record<string, unknown>;
    // as QEMU object_initialize_with_type: property defaults, then instance_init root → leaf
    for (const e of this.#type.props.values()) fields[e.name] = e.prop.defaultValue;
    for (const t of this.#type.ancestors) t.info.instanceInit?.(this);
    this.onInit();
  }

  /**
   * Throws {@link LifecycleError} if the object is finalized, and initializes it on first use.
   * Subclasses call this at the top of every public operation.
   */
  protected assertLive(operation: string): void {
    if (this.#finalized) throw new LifecycleError(`${this.#deadLabel}: ${operation} after finalize`);
    this.#ensureInit();
  }

  /** Runs the `TypeInfo` hook `kind` of every type of this object, root first or leaf first. */
  protected runTypeHooks(kind: 'realize' | 'unrealize' | 'reset', order: 'rootFirst' | 'leafFirst'): void {
    const types = order === 'rootFirst' ? this.#type.ancestors : [...this.#type.ancestors].reverse();
    for (const t of types) t.info[kind]?.(this);
  }

  /** Hook run once when the object is initialized (after property defaults and `instanceInit`). */
  protected onInit(): void {}
  /** Hook run once when the object is finalized (after children are finalized). */
  protected onFinalize(): void {}

  /**
   * Why properties cannot be set now, or null if they can. Devices return a reason while realized.
   */
  protected propertiesFrozenReason(): string | null {
    return null;
  }

  /** True once {@link finalize} has run; the object can no longer be used. */
  get finalized(): boolean {
    return this.#finalized;
  }

  /**
   * Destroys the object (QEMU object_unparent + finalize): finalizes its children (last added
   * first), detaches it from its parent, then runs the finalize hooks (child types first, then
   * `onFinalize`). Any later use throws {@link LifecycleError}.
   */
  finalize(): void {
    this.assertLive('finalize');
    try {
      for (const child of [...this.#children.values()].reverse()) child.finalize();
      this.#deadLabel = this.toString();
      this.unparent();
      for (const t of [...this.#type.ancestors].reverse()) t.info.finalize?.(this);
      this.onFinalize();
    } finally {
      this.#deadLabel ||= this.toString();
      this.#finalized = true;
    }
  }

  // ---- properties ------------------------------------------------------------------------------

  #findProp(name: string): PropertyEntry {
    const props = this.#type.props;
    const e = props.get(name) ?? (name.includes('-') ? props.get(kebabToCamel(name)) : undefined);
    if (e) return e;
    const names = [...props.keys()];
    let hint = didYouMean(kebabToCamel(name), names);
    if (hint === '') hint = names.length === 0 ? ' (it has no properties)' : names.length <= 16 ? ` (properties: ${names.join(', ')})` : '';
    throw new PropertyError(`${this.typeName} has no property '${name}'${hint}`, this.typeName, name);
  }

  /** True if the object's type has a property of that name (camelCase or kebab-case). */
  hasProperty(name: string): boolean {
    const props = this.#type.props;
    return props.has(name) || (name.includes('-') && props.has(kebabToCamel(name)));
  }

  /**
   * Sets a property (QEMU object_property_set / qdev_prop_set_*). `name` is the camelCase name or
   * its kebab-case alias (`reg-shift`); `value` is a value of the property's type or a string to
   * parse (`'on'`, `'0x10'`, `'128M'`, a path for links). Bad name or value: {@link PropertyError},
   * e.g. `ns16550a.regShift must be 0..255, got 300`. On a realized device: {@link LifecycleError}.
   */
  setProperty(name: string, value: unknown): void {
    this.assertLive(`setting property '${name}'`);
    const e = this.#findProp(name);
    const frozen = this.propertiesFrozenReason();
    if (frozen !== null) {
      throw new LifecycleError(`${this.typeName}.${e.name} cannot be set: ${frozen} (${this.toString()})`);
    }
    const r = e.prop.coerce(value, this);
    if (!r.ok) {
      const what = r.expected ?? `must be ${e.prop.accepts}`;
      throw new PropertyError(`${this.typeName}.${e.name} ${what}, got ${describeValue(value)}`, this.typeName, e.name);
    }
    (this as unknown as Record<string, unknown>)[e.name] = r.value;
  }

  /** Sets several properties in order (see {@link setProperty}). */
  setProperties(props: Readonly<Record<string, unknown>>): void {
    for (const [k, v] of Object.entries(props)) this.setProperty(k, v);
  }

  /** Current value of a property (QEMU object_property_get). Unknown name: {@link PropertyError}. */
  getProperty(name: string): unknown {
    this.assertLive(`reading property '${name}'`);
    return (this as unknown as Record<string, unknown>)[this.#findProp(name).name];
  }

  /** Current value of a property formatted as a string, in the form {@link setProperty} parses. */
  getPropertyString(name: string): string {
    this.assertLive(`reading property '${name}'`);
    const e = this.#findProp(name);
    return e.prop.format((this as unknown as Record<string, unknown>)[e.name]);
  }

  /** Every property of this object's type, inherited ones first. */
  listProperties(): PropertyInfo[] {
    return typePropertyInfo(this.#type);
  }

  // ---- composition tree ------------------------------------------------------------------------

  /** Parent in the composition tree, or null. */
  get parent(): QObject | null {
    return this.#parent;
  }
  /** Name of this object in its parent (QEMU object_get_canonical_path_component), or null. */
  get name(): string | null {
    return this.#name;
  }
  /** True for a tree root made by {@link createObjectRoot}. */
  get isRoot(): boolean {
    return this.#isRoot;
  }
  /** Topmost ancestor (this object if it has no parent). */
  get root(): QObject {
    let o: QObject = this;
    while (o.#parent) o = o.#parent;
    return o;
  }
  /**
   * Canonical path from the root, e.g. `/machine/peripheral/uart0` (`/` for the root itself), or
   * null if the object is not in a tree under a root (QEMU object_get_canonical_path).
   */
  get path(): string | null {
    const parts: string[] = [];
    let o: QObject = this;
    while (o.#parent) {
      parts.push(o.#name ?? '');
      o = o.#parent;
    }
    if (!o.#isRoot) return null;
    return '/' + parts.reverse().join('/');
  }
  /** Children by name, in the order they were added. */
  get children(): ReadonlyMap<string, QObject> {
    return this.#children;
  }
  /** The child of that name, or undefined. */
  child(name: string): QObject | undefined {
    return this.#children.get(name);
  }

  /**
   * Adds `child` under this object (QEMU object_property_add_child). A name ending in `[*]` gets the
   * first free index: `device[*]` → `device[0]`, `device[1]`, ….
   * @returns the name the child got.
   * @throws ObjectTreeError on a duplicate name, a child that already has a parent, or a cycle.
   */
  addChild(name: string, child: QObject): string {
    this.assertLive(`adding child '${name}'`);
    child.assertLive(`adding it as child '${name}' of ${this.toString()}`);
    if (typeof name !== 'string' || name === '' || name.includes('/')) {
      throw new ObjectTreeError(`invalid child name '${String(name)}' under ${this.toString()}: must be non-empty without '/'`);
    }
    if (child.#parent) {
      throw new ObjectTreeError(`cannot add ${child.toString()} as '${name}' under ${this.toString()}: it already has a parent`);
    }
    if (child.#isRoot) throw new ObjectTreeError(`cannot add root ${child.toString()} as a child of ${this.toString()}`);
    for (let o: QObject | null = this; o; o = o.#parent) {
      if (o === child) throw new ObjectTreeError(`cannot add ${child.toString()} under its own descendant ${this.toString()}`);
    }
    let full = name;
    if (name.endsWith('[*]')) {
      const base = name.slice(0, -3);
      for (let i = 0; ; i++) {
        full = `${base}[${i}]`;
        if (!this.#children.has(full) && !this.hasProperty(full)) break;
      }
    } else if (this.#children.has(name)) {
      throw new ObjectTreeError(`${this.toString()} already has a child '${name}'`);
    } else if (this.hasProperty(name)) {
      throw new ObjectTreeError(`${this.toString()} already has a property '${name}', cannot add a child of that name`);
    }
    this.#children.set(full, child);
    child.#parent = this;
    child.#name = full;
    return full;
  }

  /** Removes this object from its parent (without finalizing it). No-op if it has no parent. */
  unparent(): void {
    const p = this.#parent;
    if (!p || this.#name === null) return;
    p.#children.delete(this.#name);
    this.#parent = null;
    this.#name = null;
  }

  /** `pl011 at /machine/peripheral/uart0`, or `pl011 (not in a tree)`. */
  toString(): string {
    if (this.#finalized) return this.#deadLabel;
    const p = this.path;
    if (p !== null) return `${this.typeName} at ${p}`;
    return this.#name !== null ? `${this.typeName} '${this.#name}' (not under a root)` : `${this.typeName} (not in a tree)`;
  }
}

function abstractMessage(t: TypeImpl): string {
  const concrete = listTypes(t.name);
  const list = concrete.length === 0 ? '' : concrete.length <= 12 ? ` (concrete subtypes: ${concrete.join(', ')})` : '';
  return `cannot instantiate abstract type '${t.name}'${list}`;
}

/** `reg-shift` → `regShift`. */
export function kebabToCamel(name: string): string {
  return name.replace(/-([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

function typePropertyInfo(t: TypeImpl): PropertyInfo[] {
  return [...t.props.values()].map((e) => ({
    name: e.name,
    kind: e.prop.kind,
    accepts: e.prop.accepts,
    defaultValue: e.prop.defaultValue === null ? '' : e.prop.format(e.prop.defaultValue),
    description: e.prop.description,
    declaredBy: e.declaredBy,
  }));
}

/** The properties of a type (inherited first), e.g. for `-device pl011,help`. */
export function typeProperties(type: TypeRef<any>): PropertyInfo[] {
  return typePropertyInfo(typeOfRef(type));
}

/** Formats a value for "got …" in error messages. */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string': return `'${v}'`;
    case 'number': case 'boolean': case 'bigint': return String(v);
    case 'undefined': return 'undefined';
    case 'function': return 'a function';
    case 'symbol': return v.toString();
    default:
      if (v === null) return 'null';
      if (v instanceof QObject) return v.toString();
      if (Array.isArray(v)) return 'an array';
      return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  }
}

/**
 * Creates and initializes an object of a non-abstract type (QEMU object_new_with_props), then sets
 * `props` in order. A registered class may be passed instead of a name, giving a typed result.
 * @throws QomTypeError for an unknown or abstract type; PropertyError for a bad property.
 */
export function createObject<T extends QObject>(type: QObjectConstructor<T>, props?: Readonly<Record<string, unknown>>): T;
export function createObject<T extends QObject = QObject>(type: string, props?: Readonly<Record<string, unknown>>): T;
export function createObject(type: TypeRef<any>, props?: Readonly<Record<string, unknown>>): QObject {
  const impl = typeOfRef(type);
  if (impl.abstract) throw new QomTypeError(abstractMessage(impl));
  const cls = impl.instanceClass as unknown as new () => QObject;
  constructing = impl;
  let obj: QObject;
  try {
    obj = new cls();
  } finally {
    constructing = null;
  }
  initInstance(obj);
  if (props) {
    try {
      obj.setProperties(props);
    } catch (e) {
      obj.finalize();
      throw e;
    }
  }
  return obj;
}

/**
 * `obj` if its type is `type`, derives from it or implements it, else null (QEMU object_dynamic_cast).
 * An unknown type name throws {@link QomTypeError} (a typo should not silently cast to null).
 */
export function objectDynamicCast<T extends QObject>(obj: QObject | null | undefined, type: QObjectConstructor<T>): T | null;
export function objectDynamicCast<T extends QObject = QObject>(obj: QObject | null | undefined, type: string): T | null;
export function objectDynamicCast(obj: QObject | null | undefined, type: TypeRef<any>): QObject | null {
  const t = typeOfRef(type);
  return obj != null && obj.isA(t.name) ? obj : null;
}

/** Like {@link objectDynamicCast} but throws {@link QomTypeError} instead of returning null (QEMU OBJECT_CHECK). */
export function objectCheck<T extends QObject>(obj: QObject | null | undefined, type: QObjectConstructor<T>): T;
export function objectCheck<T extends QObject = QObject>(obj: QObject | null | undefined, type: string): T;
export function objectCheck(obj: QObject | null | undefined, type: TypeRef<any>): QObject {
  const t = typeOfRef(type);
  if (obj == null) throw new QomTypeError(`expected an object of type '${t.name}', got ${describeValue(obj)}`);
  if (!obj.isA(t.name)) throw new QomTypeError(`${obj.toString()} is not a '${t.name}'`);
  return obj;
}

/** Adds `child` under `parent` as `name` (QEMU object_property_add_child); see {@link QObject.addChild}. */
export function objectPropertyAddChild(parent: QObject, name: string, child: QObject): string {
  return parent.addChild(name, child);
}

/** A child or a set link property of `obj` named `part`. */
function step(obj: QObject, part: string): QObject | undefined {
  const c = obj.child(part);
  if (c) return c;
  if (!obj.hasProperty(part)) return undefined;
  const info = obj.listProperties().find((p) => p.name === part);
  if (info?.kind !== 'link') return undefined;
  const v = obj.getProperty(part);
  return v instanceof QObject ? v : undefined;
}

/**
 * Finds an object by path (QEMU object_resolve_path).
 * - Absolute (`/machine/peripheral/uart0`): from the topmost ancestor of `from`, following
 *   children and link properties; empty components are skipped.
 * - Partial (`uart0`, `peripheral/uart0`): the unique object under `from` whose path ends with
 *   those components; several matches throw {@link ObjectTreeError}.
 * With `type`, a found object that is not of that type counts as not found.
 * @returns the object, or null if not found.
 */
export function resolvePath(from: QObject, path: string, type?: TypeRef<any>): QObject | null {
  const t = type === undefined ? undefined : typeOfRef(type);
  const parts = path.split('/').filter((p) => p !== '');
  const ok = (o: QObject | undefined): QObject | null => (o && (!t || o.isA(t.name)) ? o : null);
  if (path.startsWith('/')) {
    let o: QObject | undefined = from.root;
    for (const p of parts) {
      o = step(o, p);
      if (!o) return null;
    }
    return ok(o);
  }
  if (parts.length === 0) throw new ObjectTreeError(`empty partial path under ${from.toString()}`);
  const matches: QObject[] = [];
  const visit = (o: QObject): void => {
    for (const c of o.children.values()) {
      // does c's path end with parts? walk back up from c
      let x: QObject | null = c;
      let i = parts.length - 1;
      while (i >= 0 && x && x.name === parts[i]) {
        x = x.parent;
        i--;
      }
      if (i < 0 && ok(c)) matches.push(c);
      visit(c);
    }
  };
  visit(from);
  if (matches.length > 1) {
    throw new ObjectTreeError(`partial path '${path}' is ambiguous under ${from.toString()}: ${matches.map((m) => m.path ?? m.toString()).join(', ')}`);
  }
  return matches[0] ?? null;
}

/** A container object (QEMU TYPE_CONTAINER): an object whose only purpose is to hold children. */
export class Container extends QObject {}

/** Name of the container type. */
export const TYPE_CONTAINER = 'container';

registerType({ name: TYPE_OBJECT, instance: QObject, description: 'base of every QOM object' });
registerType({ name: TYPE_INTERFACE, abstract: true, description: 'base of every QOM interface' });
registerType({ name: TYPE_CONTAINER, parent: TYPE_OBJECT, instance: Container, description: 'holds child objects' });

/** Creates the root of a new object tree (its path is `/`). Each machine has its own. */
export function createObjectRoot(): Container {
  const root = createObject(Container);
  markRoot(root);
  return root;
}

/**
 * Returns the container at `path` under `root`, creating missing containers on the way
 * (QEMU container_get).
 */
export function containerGet(root: QObject, path: string): QObject {
  let o = root.root;
  for (const part of path.split('/').filter((p) => p !== '')) {
    let c = o.child(part);
    if (!c) {
      c = createObject(Container);
      o.addChild(part, c);
    }
    o = c;
  }
  return o;
}
